"""Repeats decided again when their earlier card's repeat request changes (docs/second_tier.md
"In the LIMS", "A repeat specimen"), on SQLite and PostgreSQL:

- a repeat decided late whose group now waits for a reflex assay goes on the reflex worklist,
  and the second-tier run then decides it as a repeat;
- a repeat whose earlier card's request for it is replaced (the earlier card, itself a repeat,
  is decided again and no longer asks for one) is decided again against the current request;
- withdrawing the earlier card's plate retires the decisions its repeats received as its
  repeats (audited) and decides each repeat again on its own; the alerts those decisions
  opened are withdrawn and listed with the plate's own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from lims.app import create_app
from lims.models import Alert, AuditEvent, ReflexRequest
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card
from tests.lims.reflex.plates import (
    ReflexCsvPipeline,
    ScoredReflexCsvPipeline,
    TyrosineScoredPipeline,
)
from tests.lims.reflex.repeats import decisions, plate, repeat_of, second_tier_run, specimen


@pytest.fixture
def tyr_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=TyrosineScoredPipeline())
    with TestClient(app) as client:
        yield client


@pytest.fixture
def reflex_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ReflexCsvPipeline())
    with TestClient(app) as client:
        yield client


def _events(engine, barcode: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(
            col(AuditEvent.action).in_(["reflex_decision", "second_tier_decision"]),
            AuditEvent.entity_id == str(specimen(engine, barcode).id))
            .order_by(col(AuditEvent.id))))


def _alerts(engine, barcode: str) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(Alert.message).where(
            Alert.specimen_id == specimen(engine, barcode).id).order_by(col(Alert.id))))


def _worklist(client, world) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    rows = client.get(f"{API}/worklists/reflex", headers=world.auth("technician")).json()
    return {r["barcode"]: (r["groups"], r["assays"]) for r in rows}


def test_a_repeat_decided_late_that_waits_for_an_assay_goes_on_the_reflex_worklist(
        tyr_client, world, engine, tmp_path):
    accession(tyr_client, world, 201)
    repeat_of(tyr_client, world, 202, 201)
    plate(tyr_client, world, "P-201", {201: {"Tyr": 700.0}})
    # the repeat comes in while its earlier card waits for succinylacetone: Tyr 250 is normal
    repeat_run = plate(tyr_client, world, "P-202", {202: {"Tyr": 250.0}})
    assert decisions(engine, card(202)) == {}
    assert specimen(engine, card(202)).state == "awaiting_review"

    second_tier_run(tyr_client, world, tmp_path, "ST-201", {201: {"SUAC-2T": 0.4}})
    assert decisions(engine, card(201)) == {"TYR": ("repeat_specimen", "TYR_SUAC_NORMAL")}
    # as the repeat its TYR1 score 5 is 1 SD below the cutoff, not below the repeat level -2:
    # not cleared, and the group's succinylacetone has not been run on it
    assert decisions(engine, card(202)) == {"TYR": ("awaiting_second_tier", "NO_RESULT")}
    repeat = specimen(engine, card(202))
    assert repeat.state == "awaiting_second_tier" and not repeat.flagged
    assert _worklist(tyr_client, world) == {card(202): ("TYR", "SUAC-2T")}
    with Session(engine) as session:
        request = session.exec(select(ReflexRequest).where(
            ReflexRequest.specimen_id == repeat.id)).one()
    assert request.source_run_id == repeat_run["id"]

    second_tier_run(tyr_client, world, tmp_path, "ST-202", {202: {"SUAC-2T": 0.4}}, seed=6)
    assert decisions(engine, card(202)) == {"TYR": ("referral", "REPEAT_STILL_ABNORMAL")}
    repeat = specimen(engine, card(202))
    assert repeat.state == "awaiting_review" and repeat.flagged
    assert _worklist(tyr_client, world) == {}
    last = _events(engine, card(202))[-1]
    assert last.action == "second_tier_decision"
    assert last.after["repeat"]["first_barcode"] == card(201)


def test_a_released_repeat_that_waits_for_an_assay_goes_on_the_worklist_and_stays_released(
        tyr_client, world, engine, tmp_path):
    accession(tyr_client, world, 211)
    repeat_of(tyr_client, world, 212, 211)
    plate(tyr_client, world, "P-211", {211: {"Tyr": 700.0}})
    plate(tyr_client, world, "P-212", {212: {"Tyr": 250.0}})
    released = tyr_client.post(
        f"{API}/specimens/{specimen(engine, card(212)).id}/decisions",
        json={"decision": "release_normal", "reason": "", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert released.status_code == 201, released.text

    second_tier_run(tyr_client, world, tmp_path, "ST-211", {211: {"SUAC-2T": 0.4}})
    assert decisions(engine, card(212)) == {"TYR": ("awaiting_second_tier", "NO_RESULT")}
    assert specimen(engine, card(212)).state == "released"
    assert _worklist(tyr_client, world) == {card(212): ("TYR", "SUAC-2T")}
    assert _alerts(engine, card(212)) == []  # the second-tier run decides, then alerts

    run = second_tier_run(tyr_client, world, tmp_path, "ST-212", {212: {"SUAC-2T": 0.4}},
                          seed=6)
    assert run["n_specimens"] == 1
    assert decisions(engine, card(212)) == {"TYR": ("referral", "REPEAT_STILL_ABNORMAL")}
    repeat = specimen(engine, card(212))
    assert repeat.state == "released" and repeat.flagged
    assert _worklist(tyr_client, world) == {}
    assert _events(engine, card(212))[-1].after["released"] is True
    assert _alerts(engine, card(212)) == [
        f"released card {card(212)}, the repeat of card {card(211)}, is decided again: TYR "
        "referral (REPEAT_STILL_ABNORMAL)"]


def test_a_repeat_is_decided_again_when_its_earlier_card_s_request_is_replaced(
        reflex_client, world, engine):
    accession(reflex_client, world, 221)
    repeat_of(reflex_client, world, 222, 221)
    repeat_of(reflex_client, world, 223, 222)
    # card 222 comes in first: on its own its borderline C8 asks for a repeat (FAO), and card
    # 223, its repeat, is decided against that request
    plate(reflex_client, world, "P-222", {222: {"C8": 0.35}})
    on_its_own = decisions(engine, card(222))
    assert on_its_own["FAO"][0] == "repeat_specimen"
    plate(reflex_client, world, "P-223", {223: {"C8": 0.35}})
    assert decisions(engine, card(223)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}

    # card 221 is read: it sends card 222 back, which is now decided as its repeat (referred),
    # so 222 no longer asks for a repeat: card 223 is decided again, on its own
    plate(reflex_client, world, "P-221", {221: {"C8": 0.5}})
    assert decisions(engine, card(222)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    assert decisions(engine, card(223)) == on_its_own
    last = _events(engine, card(223))[-1]
    assert last.before["decisions"] == [{"group": "FAO", "decision": "referral",
                                         "reason_code": "REPEAT_STILL_ABNORMAL"}]
    assert "repeat" not in last.after
    assert last.reason.startswith(f"card {card(222)} no longer asks for a repeat")


def test_withdrawing_the_earlier_card_s_plate_retires_its_repeats_late_decisions(
        reflex_client, world, engine):
    accession(reflex_client, world, 231)
    repeat_of(reflex_client, world, 232, 231)
    plate(reflex_client, world, "P-232", {232: {"C8": 0.35}})
    on_its_own = decisions(engine, card(232))
    first_run = plate(reflex_client, world, "P-231", {231: {"C8": 0.5}})
    assert decisions(engine, card(232)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}

    done = reflex_client.post(f"{API}/runs/{first_run['id']}/withdrawal",
                              json={"reason": "wrong plate map"},
                              headers=world.auth("technician"))
    assert done.status_code == 200, done.text
    assert decisions(engine, card(231)) == {}
    # the repeat's decision as card 231's repeat is retired; it is decided again on its own
    assert decisions(engine, card(232)) == on_its_own
    last = _events(engine, card(232))[-1]
    assert last.username == "technician"
    assert last.before["decisions"] == [{"group": "FAO", "decision": "referral",
                                         "reason_code": "REPEAT_STILL_ABNORMAL"}]
    assert last.after["sent_back_by"]["plate_run_id"] == first_run["id"]
    assert "plate P-231 withdrawn: wrong plate map" in last.reason
    assert specimen(engine, card(232)).state == "awaiting_review"


def test_a_repeat_waiting_as_a_repeat_leaves_the_worklist_when_the_earlier_plate_is_withdrawn(
        tyr_client, world, engine, tmp_path):
    accession(tyr_client, world, 241)
    repeat_of(tyr_client, world, 242, 241)
    first_run = plate(tyr_client, world, "P-241", {241: {"Tyr": 700.0}})
    plate(tyr_client, world, "P-242", {242: {"Tyr": 250.0}})
    second_tier_run(tyr_client, world, tmp_path, "ST-241", {241: {"SUAC-2T": 0.4}})
    assert specimen(engine, card(242)).state == "awaiting_second_tier"
    assert _worklist(tyr_client, world) == {card(242): ("TYR", "SUAC-2T")}

    done = tyr_client.post(f"{API}/runs/{first_run['id']}/withdrawal",
                           json={"reason": "punched from the wrong card"},
                           headers=world.auth("technician"))
    assert done.status_code == 200, done.text
    # on its own the repeat's tyrosine is normal: no group, nothing to run, back to review
    assert decisions(engine, card(242)) == {}
    assert specimen(engine, card(242)).state == "awaiting_review"
    assert _worklist(tyr_client, world) == {}
    with Session(engine) as session:
        statuses = session.exec(select(ReflexRequest.status).where(
            ReflexRequest.specimen_id == specimen(engine, card(242)).id)).all()
    assert statuses == ["withdrawn"]
    last = _events(engine, card(242))[-1]
    assert last.after["decisions"] == [] and last.after["waits"] is False


@pytest.fixture
def scored_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ScoredReflexCsvPipeline())
    with TestClient(app) as client:
        yield client


def test_the_alert_of_a_retired_repeat_referral_is_withdrawn_with_the_earlier_plate(
        scored_client, world, engine):
    accession(scored_client, world, 251, 253)
    repeat_of(scored_client, world, 252, 251)
    # C8 0.25 is below the first tier's cutoff: on its own the repeat has no call
    plate(scored_client, world, "P-252", {252: {"C8": 0.25}})
    first_run = plate(scored_client, world, "P-251", {251: {"C8": 0.5}, 253: {"Xle": 900.0}})
    # as card 251's repeat its MCAD score is not below the FAO repeat level: referred, alerted
    assert decisions(engine, card(252)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    with Session(engine) as session:
        alert = session.exec(select(Alert).where(
            Alert.specimen_id == specimen(engine, card(252)).id)).one()
    assert (alert.disorder, alert.status) == ("MCAD", "open")

    reason = "wrong plate map"
    done = scored_client.post(f"{API}/runs/{first_run['id']}/withdrawal",
                              json={"reason": reason}, headers=world.auth("technician"))
    assert done.status_code == 200, done.text
    assert decisions(engine, card(252)) == {}
    with Session(engine) as session:
        alert = session.exec(select(Alert).where(Alert.id == alert.id)).one()
        # card 253's own MSUD alert on the plate is withdrawn with it, as before
        own = session.exec(select(Alert).where(
            Alert.specimen_id == specimen(engine, card(253)).id)).one()
    assert own.status == "withdrawn"
    assert (alert.status, alert.withdrawn_by_name) == ("withdrawn", "technician")
    assert alert.withdrawal_reason == (f"card {card(251)} no longer asks for a repeat: plate "
                                       f"P-251 withdrawn: {reason}")
    # the response and the withdrawal's audit event list the alerts of the plate's own results
    # (cards 251 and 253), then the repeat's
    with Session(engine) as session:
        plate_own = session.exec(select(Alert.id).where(
            Alert.specimen_id == specimen(engine, card(251)).id)).all()
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "qc_withdraw",
            AuditEvent.entity_id == str(first_run["id"]))).one()
    assert done.json()["alerts_withdrawn"] == sorted([*plate_own, own.id]) + [alert.id]
    assert event.after["alerts_withdrawn"] == done.json()["alerts_withdrawn"]
