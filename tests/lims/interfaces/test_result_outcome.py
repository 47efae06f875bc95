"""The result message says what the reviewer decided: a time-critical positive call released
with a request for a repeat specimen is out of range, not "requiring immediate referral", and
the narrative asks for the repeat; referred, the same call asks for immediate referral."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from lims.interfaces.results import _interpretations
from lims.models import Evaluation, OutboundMessage
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API
from tests.lims.interfaces.conftest import release
from tests.reports.hl7.builders import obx_rows, strict


def _latest(engine) -> str:
    with Session(engine) as session:
        latest = session.exec(select(OutboundMessage).order_by(
            col(OutboundMessage.id).desc())).first()
    assert latest is not None
    return latest.body


@pytest.mark.parametrize(("decision", "overall", "msud", "narrative"), [
    ("request_repeat_specimen", "LA18944-1", "LA18593-6", "collect a repeat specimen"),
    ("refer", "LA25817-0", "LA25817-0", "refer at once for diagnosis"),
])
def test_the_message_reports_the_release_decision(client, world, engine, decision, overall,
                                                  msud, narrative):
    flagged = release(client, world, "P-1", {1: {"Xle": 800}})[1]["id"]  # MSUD: time-critical
    decided = client.post(f"{API}/specimens/{flagged}/decisions", json={
        "decision": decision, "reason": "MSUD suspected", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    body = _latest(engine)
    strict(body)
    rows = obx_rows(body)
    assert next(r[3][0] for r in rows if r[2][0] == "57130-7") == overall
    assert next(r[3][0] for r in rows if r[2][3:4] == ["MSUD"]) == msud
    text = next("".join(r[3]) for r in rows if r[2][0] == "57724-7")
    assert f"Action: {narrative}." in text
    assert ("refer at once" in text) == (decision == "refer")


@pytest.mark.parametrize(("outcome", "immediate"), [
    ("referred", True), ("repeat_specimen_requested", False)])
def test_a_referred_positive_asks_for_immediate_referral_time_critical_or_not(outcome,
                                                                           immediate):
    """PKU is not time-critical: referred after its duplicates, the message still says what
    the narrative says, "refer at once"."""
    calls = [Evaluation(specimen_id=1, run_id=1, disorder="PKU", final="positive",
                        first_tier="positive", time_critical=False, action="immediate_referral")]
    [pku] = [i for i in _interpretations(calls, outcome) if i.disorder == "PKU"]
    assert (pku.call, pku.immediate) == ("positive", immediate)
