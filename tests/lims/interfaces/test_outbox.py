"""The outbox rules, on SQLite and PostgreSQL: one message per released version, queued in the
release's transaction; claims that two workers cannot share; corrections after the result
they correct; delivery to a real MLLP listener with its acknowledgment recorded against
MSH-10; AE retried with back-off then parked, AR parked, a parked message sent again; an
unreachable endpoint waiting with back-off."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from lims.interfaces import repository
from lims.interfaces.delivery import deliver_once
from lims.models import AuditEvent, Hl7Endpoint, OutboundMessage, Release, User, utcnow
from lims.review.service import correct, decide
from lims.vocabulary import Decision, OutboxStatus
from reports.hl7.er7 import split_message
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API
from tests.lims.interfaces.conftest import QUICK, answer, release
from tests.reports.hl7.builders import strict

#: Waits long enough to see that nothing is tried before its time, on a busy machine.
PATIENT = replace(QUICK, retry_initial_s=2.0, retry_max_s=4.0)


def messages(engine) -> list[OutboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))))


def message(engine, message_id: int) -> OutboundMessage:
    with Session(engine) as session:
        found = session.get(OutboundMessage, message_id)
        assert found is not None
        return found


def test_a_release_queues_its_message_in_the_release_s_transaction(client, world, engine):
    specimens = release(client, world, "P-1", {1: {}, 2: {"Xle": 800}})
    [queued] = messages(engine)
    assert (queued.specimen_id, queued.version, queued.status) == (specimens[1]["id"], 1,
                                                                   "pending")
    assert queued.control_id == f"NBS{specimens[1]['id']}-1"
    strict(queued.body)  # hl7apy's v2.5.1 ORU_R01 validation
    flagged = specimens[2]["id"]
    with Session(engine) as session:  # a decision whose transaction is rolled back
        reviewer = session.get(User, world.users["reviewer"].id)
        decide(session, reviewer, flagged, Decision.refer, reason="MSUD", password=PASSWORD)
        session.rollback()
    assert len(messages(engine)) == 1
    referred = client.post(f"{API}/specimens/{flagged}/decisions", json={
        "decision": "refer", "reason": "MSUD", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert referred.status_code == 201
    latest = messages(engine)[-1]
    assert (latest.specimen_id, latest.release_id) == (flagged, referred.json()["id"])
    assert "|LA25817-0^Out of range requiring immediate referral^LN|" in latest.body
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "enqueue")).all()
    assert len(events) == 2


def test_one_message_per_released_version(client, world, engine):
    release(client, world, "P-1", {1: {}})
    [queued] = messages(engine)
    with Session(engine) as session:
        session.add(OutboundMessage(specimen_id=queued.specimen_id, version=1,
                                    release_id=queued.release_id,
                                    submitter_id=queued.submitter_id,
                                    infant_id=queued.infant_id, control_id="OTHER-1",
                                    body=queued.body))
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_correction_is_sent_after_the_result_it_corrects(client, world, engine, endpoint,
                                                           receiver):
    """The original is in the hospital's hands when the lab corrects the result and releases
    the correction: the correction waits until the original is acknowledged, then follows
    (an original not delivered yet is withheld instead: ``test_withheld.py``)."""
    specimen_id = release(client, world, "P-1", {1: {}})[1]["id"]
    waited: list[object] = []

    def correct_and_release_then_answer(text: str) -> str:
        if len(receiver.received) == 1:
            with Session(engine) as session:
                reviewer = session.get(User, world.users["reviewer"].id)
                correct(session, reviewer, specimen_id, reason="transcription error",
                        password=PASSWORD)
                session.commit()
                decide(session, reviewer, specimen_id, Decision.release_normal, reason="",
                       password=PASSWORD)
                session.commit()
                now = utcnow()
                waited.append(repository.claim_next(  # the original is still being sent
                    session, endpoint.submitter_id, worker="other", now=now,
                    until=now + timedelta(minutes=1)))
                session.rollback()
        return answer(text)

    receiver.reply = correct_and_release_then_answer
    report = deliver_once(engine, replace(QUICK, ack_timeout_s=30.0))
    assert report.delivered == 2 and waited == [None]
    original, correction = messages(engine)
    assert (original.version, correction.version) == (1, 2)
    strict(correction.body)
    statuses = {s.field(25) for s in split_message(correction.body)[1] if s.name == "OBR"}
    assert statuses == {"C"}
    assert [m.split("\r")[0].split("|")[9] for m in receiver.received] == [
        original.control_id, correction.control_id]


def test_two_workers_never_hold_the_same_message(client, world, engine):
    release(client, world, "P-1", {n: {} for n in range(1, 7)})
    submitter = world.submitter_ids[0]
    held: dict[str, list[int]] = {"a": [], "b": []}

    def work(name: str) -> None:
        while True:
            now = utcnow()
            with Session(engine) as session:
                claimed = repository.claim_next(session, submitter, worker=name, now=now,
                                                until=now + timedelta(minutes=5))
                session.commit()
            if claimed is None:
                with Session(engine) as session:  # lost a race, or nothing is left
                    left = session.exec(select(OutboundMessage).where(
                        OutboundMessage.status == OutboxStatus.pending)).first()
                if left is None:
                    return
                continue
            held[name].append(claimed.id)

    threads = [threading.Thread(target=work, args=(name,)) for name in held]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not set(held["a"]) & set(held["b"])
    assert sorted(held["a"] + held["b"]) == [m.id for m in messages(engine)]
    assert {m.status for m in messages(engine)} == {"sending"}


def test_a_lapsed_claim_is_due_again_and_its_old_worker_records_nothing(client, world, engine):
    release(client, world, "P-1", {1: {}})
    submitter, now = world.submitter_ids[0], utcnow()
    with Session(engine) as session:
        first = repository.claim_next(session, submitter, worker="old", now=now,
                                      until=now + timedelta(seconds=1))
        assert repository.claim_next(session, submitter, worker="new", now=now,
                                     until=now + timedelta(seconds=1)) is None
        later = now + timedelta(seconds=2)
        second = repository.claim_next(session, submitter, worker="new", now=later,
                                       until=later + timedelta(minutes=1))
        assert first is not None and second is not None and second.id == first.id
        assert second.attempts == 2
        assert not repository.finish(session, first.id, worker="old",
                                     status=OutboxStatus.delivered)
        assert repository.finish(session, first.id, worker="new", status=OutboxStatus.delivered)
        session.commit()
    assert message(engine, first.id).status == "delivered"


def test_an_accepted_ack_is_recorded_against_msh10(client, world, engine, endpoint, receiver):
    release(client, world, "P-1", {1: {}, 2: {}})
    report = deliver_once(engine, QUICK)
    assert report.delivered == 2
    assert receiver.received == [m.body for m in messages(engine)]
    for sent in messages(engine):
        assert sent.status == "delivered" and sent.attempts == 1
        assert (sent.ack_code, sent.ack_control_id) == ("AA", sent.control_id)
        assert "MSA|AA|" + sent.control_id in sent.ack_text and sent.delivered_at is not None
    assert deliver_once(engine, QUICK).attempted == 0  # nothing is sent twice
    assert receiver.count() == 2


def test_ae_is_retried_with_backoff_then_parked_and_sent_again_on_request(
        client, world, engine, endpoint, receiver):
    release(client, world, "P-1", {1: {}})
    [queued] = messages(engine)
    receiver.reply = lambda text: answer(text, "AE")
    for errors in range(1, PATIENT.max_application_errors):
        assert deliver_once(engine, PATIENT).retried == 1
        waiting = message(engine, queued.id)
        assert (waiting.status, waiting.application_errors) == ("pending", errors)
        assert waiting.next_attempt_at > utcnow()
        assert deliver_once(engine, PATIENT).attempted == 0  # not before its time
        time.sleep(PATIENT.backoff(errors).total_seconds())
    assert deliver_once(engine, PATIENT).parked == 1
    parked = message(engine, queued.id)
    assert parked.status == "parked" and parked.ack_code == "AE"
    assert "application error (AE), 3 of 3" in parked.last_error
    receiver.reply = answer
    resent = client.post(f"{API}/hl7/outbox/{queued.id}/resend", headers=world.auth("admin"))
    assert resent.status_code == 200 and resent.json()["status"] == "pending"
    assert deliver_once(engine, PATIENT).delivered == 1
    assert receiver.received == [queued.body] * (PATIENT.max_application_errors + 1)
    again = client.post(f"{API}/hl7/outbox/{queued.id}/resend", headers=world.auth("admin"))
    assert again.status_code == 409


def test_ar_is_parked_at_once_and_another_control_id_is_not_a_delivery(
        client, world, engine, endpoint, receiver):
    release(client, world, "P-1", {1: {}, 2: {}})
    first, second = messages(engine)
    receiver.reply = lambda text: (answer(text, "AR") if first.control_id in text
                                   else answer(text, control_id="SOMETHING-ELSE"))
    report = deliver_once(engine, QUICK)
    assert (report.parked, report.retried) == (1, 1)
    assert message(engine, first.id).status == "parked"
    wrong = message(engine, second.id)
    assert wrong.status == "pending" and "for control id 'SOMETHING-ELSE'" in wrong.last_error


def test_an_unreachable_endpoint_waits_with_backoff_and_loses_nothing(
        client, world, engine, endpoint, receiver):
    release(client, world, "P-1", {1: {}, 2: {}})
    receiver.stop()
    for failures in (1, 2):
        report = deliver_once(engine, PATIENT)
        assert len(report.unreachable) == 1
        with Session(engine) as session:
            state = session.get(Hl7Endpoint, endpoint.id)
            assert state.failures == failures and "cannot connect" in state.last_error
        assert deliver_once(engine, PATIENT).attempted == 0  # the endpoint waits
        time.sleep(PATIENT.backoff(failures).total_seconds())
    assert {m.status for m in messages(engine)} == {"pending"}
    receiver.start()
    assert deliver_once(engine, PATIENT).delivered == 2
    with Session(engine) as session:
        assert session.get(Hl7Endpoint, endpoint.id).failures == 0
    assert receiver.count() == 2


def test_a_message_that_cannot_be_built_is_parked_and_never_stops_the_release(
        client, world, engine, monkeypatch):
    from lims.interfaces import service
    from reports.hl7 import Hl7Error

    def broken(*_args, **_kwargs):
        raise Hl7Error("no code for analyte X")

    monkeypatch.setattr(service, "build_oru", broken)
    release(client, world, "P-1", {1: {}})
    [parked] = messages(engine)
    assert parked.status == "parked" and parked.body == ""
    assert parked.last_error == "the message could not be built: no code for analyte X"
    with Session(engine) as session:
        assert len(session.exec(select(Release)).all()) == 1
    monkeypatch.undo()
    resent = client.post(f"{API}/hl7/outbox/{parked.id}/resend", headers=world.auth("admin"))
    assert resent.status_code == 200
    strict(message(engine, parked.id).body)


def test_the_outbox_and_endpoints_in_the_api(client, world, engine):
    specimens = release(client, world, "P-1", {1: {}, 2: {}})
    lab = world.auth("technician")
    listed = client.get(f"{API}/hl7/outbox", params={"status": "pending"}, headers=lab)
    assert listed.status_code == 200 and len(listed.json()) == 2
    mine = client.get(f"{API}/hl7/outbox", params={"specimen_id": specimens[2]["id"]},
                      headers=lab).json()
    assert [m["specimen_id"] for m in mine] == [specimens[2]["id"]]
    assert client.get(f"{API}/hl7/outbox", params={"status": "delivered"},
                      headers=lab).json() == []
    one = client.get(f"{API}/hl7/outbox/{mine[0]['id']}", headers=lab).json()
    assert one["body"].startswith("MSH|^~\\&|NBSLAB|NBS Lab|")
    for role in ("follow_up", "submitter"):
        assert client.get(f"{API}/hl7/outbox", headers=world.auth(role)).status_code == 403
    admin = world.auth("admin")
    body = {"submitter_id": world.submitter_ids[1], "host": "10.0.0.7", "port": 2575,
            "receiving_facility": "SOUTHMAT", "time_zone": "Asia/Shanghai"}
    assert client.post(f"{API}/hl7/endpoints", json=body, headers=lab).status_code == 403
    made = client.post(f"{API}/hl7/endpoints", json=body, headers=admin)
    assert made.status_code == 201, made.text
    assert client.post(f"{API}/hl7/endpoints", json=body, headers=admin).status_code == 409
    bad_zone = client.patch(f"{API}/hl7/endpoints/{made.json()['id']}",
                            json={"time_zone": "Mars/Olympus"}, headers=admin)
    assert bad_zone.status_code == 422
    changed = client.patch(f"{API}/hl7/endpoints/{made.json()['id']}",
                           json={"port": 2576, "enabled": False}, headers=admin)
    assert (changed.json()["port"], changed.json()["enabled"]) == (2576, False)
    with Session(engine) as session:
        updates = session.exec(select(AuditEvent).where(
            AuditEvent.entity == "hl7_endpoint").order_by(col(AuditEvent.id))).all()
        reads = session.exec(select(AuditEvent).where(
            AuditEvent.entity == "outbound_message", AuditEvent.action == "read_list")).all()
    assert [e.action for e in updates] == ["create", "update"]
    assert len(reads) == 2  # the two lists that found messages
