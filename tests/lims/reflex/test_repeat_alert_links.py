"""The alerts a repeat card's reflex decisions open name the decision
(``alert.reflex_decision_id``), and the repeat's alerts are withdrawn by that stored link
(docs/second_tier.md "In the LIMS", "A repeat specimen"), on SQLite and PostgreSQL:

- withdrawing the earlier card's plate withdraws the alert the repeat's referral opened and
  leaves another alert of the repeat card (a follow-up reminder) open;
- an earlier card that no longer asks for a repeat in one group but still does in another has
  the alert its repeat's decision opened in the dropped group withdrawn, by name and with a
  note naming the group, audited; the kept group's alert stays open;
- a repeat still asked for in a group and decided again there as cleared (new levels) has the
  alert its earlier referral in that group opened withdrawn, the note naming the group and
  the clearing reason code, audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from lims.app import create_app
from lims.audit import SYSTEM
from lims.followup.schemas import CaseCreate
from lims.followup.service import open_case, remind_overdue
from lims.models import Alert, AuditEvent, ReflexDecisionRecord, utcnow
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card
from tests.lims.reflex.plates import ScoredReflexCsvPipeline, TyrosineScoredPipeline
from tests.lims.reflex.repeats import decisions, plate, repeat_of, second_tier_run, specimen


@pytest.fixture
def scored_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ScoredReflexCsvPipeline())
    with TestClient(app) as client:
        yield client


@pytest.fixture
def tyr_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=TyrosineScoredPipeline())
    with TestClient(app) as client:
        yield client


def _alerts(engine, barcode: str) -> list[Alert]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(Alert).where(
            Alert.specimen_id == specimen(engine, barcode).id).order_by(col(Alert.id))))


def _decision(engine, decision_id: int | None) -> ReflexDecisionRecord:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        row = session.get(ReflexDecisionRecord, decision_id)
        assert row is not None
        return row


def test_a_repeat_s_alert_names_its_decision_and_only_linked_alerts_are_withdrawn(
        scored_client, world, engine):
    accession(scored_client, world, 301, 303)
    repeat_of(scored_client, world, 302, 301)
    # C8 0.25 is below the first tier's cutoff: on its own the repeat has no call
    plate(scored_client, world, "P-302", {302: {"C8": 0.25}})
    first_run = plate(scored_client, world, "P-301", {301: {"C8": 0.5}, 303: {"Xle": 900.0}})
    [referral] = _alerts(engine, card(302))
    decision = _decision(engine, referral.reflex_decision_id)
    assert (decision.specimen_id, decision.group_code, decision.decision, decision.current) == (
        specimen(engine, card(302)).id, "FAO", "referral", True)
    # a follow-up reminder on the repeat card: an alert no reflex decision opened
    with Session(engine) as session:
        open_case(session, SYSTEM, CaseCreate(specimen_id=specimen(engine, card(302)).id,
                                              suspected=["MCAD"], note="clinician's call"))
        [reminder_id] = remind_overdue(session, SYSTEM, now=utcnow() + timedelta(days=60))
        session.commit()

    done = scored_client.post(f"{API}/runs/{first_run['id']}/withdrawal",
                              json={"reason": "wrong plate map"},
                              headers=world.auth("technician"))
    assert done.status_code == 200, done.text
    assert decisions(engine, card(302)) == {}
    status = {a.id: (a.status, a.reflex_decision_id) for a in _alerts(engine, card(302))}
    assert status == {referral.id: ("withdrawn", decision.id), reminder_id: ("open", None)}
    assert referral.id in done.json()["alerts_withdrawn"]
    assert reminder_id not in done.json()["alerts_withdrawn"]


def referred_in_two_groups(client, world, engine, tmp_path: Path  # type: ignore[no-untyped-def]
                           ) -> tuple[Alert, Alert]:
    """Card 313, released, decided as the repeat of card 312 (itself the repeat of card 311,
    not read yet) in the two groups card 312 asks for a repeat in, and referred in both: the
    alerts the FAO (time-critical) and TYR (released) referrals open (with
    ``TyrosineScoredPipeline``)."""
    accession(client, world, 311)
    repeat_of(client, world, 312, 311)
    repeat_of(client, world, 313, 312)
    # card 313 is read first, on its own (a borderline C8 asks for a repeat), and released
    plate(client, world, "P-313", {313: {"C8": 0.35, "Tyr": 250.0}})
    released = client.post(
        f"{API}/specimens/{specimen(engine, card(313)).id}/decisions",
        json={"decision": "request_repeat_specimen", "reason": "C8 borderline",
              "password": PASSWORD}, headers=world.auth("reviewer"))
    assert released.status_code == 201, released.text
    # card 312, its earlier card, asks for a repeat in FAO (C8) and, after its
    # succinylacetone, in TYR
    plate(client, world, "P-312", {312: {"C8": 0.35, "Tyr": 700.0}})
    second_tier_run(client, world, tmp_path, "ST-312", {312: {"SUAC-2T": 0.4}})
    assert decisions(engine, card(312)) == {
        "FAO": ("repeat_specimen", "NO_SECOND_TIER"),
        "TYR": ("repeat_specimen", "TYR_SUAC_NORMAL")}
    # as card 312's repeat, card 313 is referred in both: FAO at once (a time-critical
    # MCAD call), TYR on its own succinylacetone run; each group opens an alert
    second_tier_run(client, world, tmp_path, "ST-313", {313: {"SUAC-2T": 0.4}}, seed=6)
    assert decisions(engine, card(313)) == {
        "FAO": ("referral", "REPEAT_STILL_ABNORMAL"),
        "TYR": ("referral", "REPEAT_STILL_ABNORMAL")}
    alerts = _alerts(engine, card(313))
    assert [(a.status, _decision(engine, a.reflex_decision_id).group_code) for a in alerts] == [
        ("open", "FAO"), ("open", "TYR")]
    fao, tyr = alerts
    return fao, tyr


def test_the_alert_of_a_group_the_earlier_card_no_longer_asks_for_is_withdrawn(
        tyr_client, world, engine, tmp_path: Path):
    fao, tyr = referred_in_two_groups(tyr_client, world, engine, tmp_path)

    # card 311 is read: it sends card 312 back in FAO only, so card 312 no longer asks for a
    # repeat in FAO but still does in TYR
    run = plate(tyr_client, world, "P-311", {311: {"C8": 0.5}})
    assert decisions(engine, card(312)) == {
        "FAO": ("referral", "REPEAT_STILL_ABNORMAL"),
        "TYR": ("repeat_specimen", "TYR_SUAC_NORMAL")}
    # card 313 is still card 312's repeat in TYR; in FAO it is decided on its own
    assert decisions(engine, card(313)) == {
        "FAO": ("repeat_specimen", "NO_SECOND_TIER"),
        "TYR": ("referral", "REPEAT_STILL_ABNORMAL")}
    after = {a.id: a for a in _alerts(engine, card(313))}
    assert set(after) == {fao.id, tyr.id}  # nothing new opened
    assert after[tyr.id].status == "open"
    assert (after[fao.id].status, after[fao.id].withdrawn_by_name) == ("withdrawn",
                                                                       "technician")
    note = (f"card {card(312)} no longer asks for a repeat in FAO: its first tier, run "
            f"{run['id']}")
    assert after[fao.id].withdrawal_reason == note
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "withdraw", AuditEvent.entity == "alert",
            AuditEvent.entity_id == str(fao.id))).one()
    assert (event.reason, event.before["status"], event.after["status"]) == (
        note, "open", "withdrawn")


class _LooserTyrosinePipeline(TyrosineScoredPipeline):
    """``TyrosineScoredPipeline`` under a new calibration: a TYR repeat is cleared below the
    cutoff (repeat level 0 instead of -2 SD)."""

    VERSION, REPEAT_LEVEL = "reflex test calibrated TYR 2", 0.0


def test_the_alert_of_a_group_still_asked_for_is_withdrawn_when_the_repeat_is_cleared_there(
        tyr_client, world, engine, tmp_path: Path):
    fao, tyr = referred_in_two_groups(tyr_client, world, engine, tmp_path)
    # new levels: card 313's tyrosine (250, score 5 against the cutoff 6: 1 SD below it) is
    # now below the TYR repeat level
    tyr_client.app.state.pipeline = _LooserTyrosinePipeline()

    run = plate(tyr_client, world, "P-311", {311: {"C8": 0.5}})
    assert decisions(engine, card(312))["TYR"] == ("repeat_specimen", "TYR_SUAC_NORMAL")
    # still card 312's repeat in TYR, and cleared there now
    assert decisions(engine, card(313)) == {
        "FAO": ("repeat_specimen", "NO_SECOND_TIER"),
        "TYR": ("clear", "REPEAT_NORMAL")}
    after = {a.id: a for a in _alerts(engine, card(313))}
    assert set(after) == {fao.id, tyr.id}
    note = (f"card {card(313)} is decided again as cleared in TYR (REPEAT_NORMAL): its first "
            f"tier, run {run['id']}")
    assert (after[tyr.id].status, after[tyr.id].withdrawal_reason) == ("withdrawn", note)
    assert after[fao.id].status == "withdrawn"  # card 312 no longer asks for FAO
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "withdraw", AuditEvent.entity == "alert",
            AuditEvent.entity_id == str(tyr.id))).one()
    assert (event.reason, event.before["status"], event.after["status"]) == (
        note, "open", "withdrawn")

