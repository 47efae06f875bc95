"""A released result report's action is what the release decided for the card: a reviewer's
repeat request on a time-critical referral call asks for a repeat specimen (never "refer at
once"), and a referral's other calls show their result, not a laboratory retest."""

from __future__ import annotations

from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, upload
from tests.lims.plates import plate_csv
from tests.reports.pdfcheck import page_texts, squash


def _released(client, world, decision: str) -> str:  # type: ignore[no-untyped-def]
    """A card with an MSUD-critical Xle (a referral call) and a high Phe (a retest call),
    released with ``decision``: its result report's text."""
    specimen = accession(client, world, 1)[1]
    uploaded = upload(
        client, world, "P-ACT.csv", plate_csv("P-ACT", {card(1): {"Xle": 900, "Phe": 200}})
    )
    assert uploaded.status_code == 201, uploaded.text
    decided = client.post(
        f"{API}/specimens/{specimen['id']}/decisions",
        json={"decision": decision, "reason": "as decided", "password": PASSWORD},
        headers=world.auth("reviewer"),
    )
    assert decided.status_code == 201, decided.text
    issued = client.post(
        f"{API}/documents/results",
        json={"specimen_id": specimen["id"]},
        headers=world.auth("reviewer"),
    )
    assert issued.status_code == 201, issued.text
    return squash("".join(page_texts(issued.content)))


def test_a_repeat_request_on_a_referral_call_asks_for_a_repeat_specimen(client, world):
    text = _released(client, world, "request_repeat_specimen")
    assert squash("Action: collect a repeat specimen.") in text
    assert squash("refer at once") not in text
    assert squash("retest this card in duplicate") not in text


def test_a_referral_shows_the_other_calls_result_without_a_laboratory_step(client, world):
    text = _released(client, world, "refer")
    assert squash("Action: refer at once for diagnosis.") in text
    assert squash("retest this card in duplicate") not in text
    assert "PKU" in text and "MSUD" in text
    # the other call's row shows its result and no action of its own
    assert squash("(PKU)positive / screen positive-Phe=200>120") in text
