"""A recall letter fits the case's state: once a repeat request's case has received its repeat
card, a new letter (which would ask for that card by a deadline) is refused (409, naming the
state and the card), while the letter issued before is given again; a referral's case whose
repeat card arrived still gets its referral letter (it asks for the specialist, not a card).
On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session

from lims.models import FollowUpCase
from tests.lims.helpers import API, card, decide, flagged_card, specimen_body
from tests.reports.pdfcheck import page_texts, squash


def _letter(client, world, case_id, audience):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/documents/letters", json={"case_id": case_id,
                                                         "audience": audience},
                       headers=world.auth("follow_up"))


def repeat_arrived(client, world, engine, decision):  # type: ignore[no-untyped-def]
    """Card 1 flagged and released with ``decision``; the baby's card 2 accessioned as its
    repeat: the case (returned) is ``repeat_received``. The family letter issued before the
    card arrived is returned too."""
    first = flagged_card(client, world)
    decide(client, world, first["id"], decision)
    case_id = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()[0]["id"]
    family = _letter(client, world, case_id, "family")
    assert family.status_code == 201, family.text
    repeat = client.post(f"{API}/specimens", json=specimen_body(
        card(2), world.submitter_ids[0], previous_barcode=card(1)),
        headers=world.auth("technician"))
    assert repeat.status_code == 201, repeat.text
    with Session(engine) as session:
        case = session.get(FollowUpCase, case_id)
        assert case is not None and case.state == "repeat_received"
    return case_id, family


def test_no_new_letter_asks_for_a_repeat_card_that_has_arrived(client, world, engine):
    case_id, family = repeat_arrived(client, world, engine, "request_repeat_specimen")
    assert squash("for another heel-prick blood test") in squash(
        " ".join(page_texts(family.content)))
    refused = _letter(client, world, case_id, "clinic")
    assert refused.status_code == 409, refused.text
    assert (f"case {case_id} is repeat received (its repeat card {card(2)} has arrived): a "
            "recall letter asking for a repeat card is no longer due") in refused.text
    again = _letter(client, world, case_id, "family")  # issued before: given again
    assert again.status_code == 200 and again.content == family.content


def test_a_referral_whose_repeat_card_arrived_still_gets_its_referral_letter(
        client, world, engine):
    case_id, _ = repeat_arrived(client, world, engine, "refer")
    clinic = _letter(client, world, case_id, "clinic")
    assert clinic.status_code in (200, 201), clinic.text
    text = squash(" ".join(page_texts(clinic.content)))
    assert squash("diagnostic tests") in text and squash("repeat dried blood spot") not in text
