"""A recall letter says what the screen found and what the case is: a disorder a case opened
by hand suspects, on a card the screen did not flag, is never called positive; a card not yet
reviewed is never quoted (no letter, except a case opened by hand: suspected, no value); and
once the diagnosis is recorded no new recall letter (which asks for a card or a referral by a
deadline) is issued, while the letters issued before can still be had. On SQLite and
PostgreSQL."""

from __future__ import annotations

from tests.lims.conftest import PASSWORD
from tests.lims.followup.test_cases import _clinic
from tests.lims.followup.test_outcomes_missed import _confirm
from tests.lims.helpers import API, accession, card, sign_off_plates, upload
from tests.lims.plates import plate_csv
from tests.reports.pdfcheck import page_texts, squash


def hand_opened_case(client, world) -> int:  # type: ignore[no-untyped-def]
    """A case opened by hand (a sibling with PKU) on a card the screen read as normal and the
    laboratory released as normal."""
    normal = accession(client, world, 2)[2]
    assert upload(client, world, "p-n.csv", plate_csv("P-N", {card(2): {}})).status_code == 201
    sign_off_plates(client, world.auth("technician"))
    released = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                           headers=world.auth("reviewer"))
    assert released.status_code == 200, released.text
    assert normal["id"] in released.json()["released_specimen_ids"]
    opened = client.post(f"{API}/cases", json={"specimen_id": normal["id"],
                                               "suspected": ["PKU"], "note": "sibling with PKU"},
                         headers=world.auth("follow_up"))
    assert opened.status_code == 201, opened.text
    return int(opened.json()["id"])


def _letter(client, world, case_id, audience):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/documents/letters", json={"case_id": case_id,
                                                         "audience": audience},
                       headers=world.auth("follow_up"))


def test_a_case_opened_by_hand_is_suspected_not_positive_and_a_diagnosed_case_gets_no_new_letter(
        client, world):
    case_id = hand_opened_case(client, world)
    family = _letter(client, world, case_id, "family")
    assert family.status_code == 201, family.text
    text = squash(" ".join(page_texts(family.content)))
    assert squash("(PKU): suspected at follow-up, not flagged by the screen") in text, text
    assert squash("positive result") not in text
    assert squash("values below are within the cutoffs") in text
    assert squash("The values beyond the cutoff are why") not in text
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"])
    _confirm(client, world, case_id, clinic_id, "PKU")
    refused = _letter(client, world, case_id, "clinic")
    assert refused.status_code == 409, refused.text
    assert "is diagnosed: a recall letter is no longer due" in refused.text
    again = _letter(client, world, case_id, "family")  # issued before: given again
    assert again.status_code == 200 and again.content == family.content


def test_a_card_awaiting_review_is_never_quoted(client, world):
    """A case opened by hand on a flagged card nobody has reviewed: the letter names the
    disorder suspected, says the result awaits review and quotes no value; once a second-tier
    referral makes it a referral case, no letter until the card is decided (409)."""
    flagged = accession(client, world, 3)[3]
    assert upload(client, world, "p-f.csv", plate_csv(
        "P-F", {card(3): {"Xle": 900}})).status_code == 201
    opened = client.post(f"{API}/cases", json={"specimen_id": flagged["id"],
                                               "suspected": ["MSUD"]},
                         headers=world.auth("follow_up"))
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    family = _letter(client, world, case_id, "family")
    assert family.status_code == 201, family.text
    text = squash(" ".join(page_texts(family.content)))
    assert squash("the screening result of the card awaits the laboratory's review") in text
    assert squash("no value is reported before the laboratory releases it") in text
    assert squash("positive result") not in text and squash("critical result") not in text
    assert "900" not in text
    referral = client.post(f"{API}/specimens/{flagged['id']}/second-tier", json=[
        {"disorder": "MSUD", "decision": "referral"}], headers=world.auth("reviewer"))
    assert referral.status_code == 200, referral.text
    refused = _letter(client, world, case_id, "clinic")
    assert refused.status_code == 409, refused.text
    assert f"card {card(3)} (awaiting review) awaits review" in refused.text
