"""A result reopened for correction before its message was delivered: the message is withheld
(never sent), with the reason, audited and listed; a delivered one is not altered; on SQLite and
PostgreSQL, a delivery claiming the message or recording its outcome while the correction
commits waits for the correction's lock on the row and then finds it withheld, and a message
in flight when the correction commits is withheld by the delivery unless it was delivered."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from lims.cli import app
from lims.interfaces import delivery, repository
from lims.interfaces.delivery import deliver_once
from lims.interfaces.phrases import DELIVERY_PHRASES
from lims.models import AuditEvent, OutboundMessage, User, utcnow
from lims.review.service import correct
from lims.settings import get_settings
from reports.hl7.er7 import split_message
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, card, decide, flagged_card
from tests.lims.interfaces.conftest import QUICK, answer, release

#: How long the SQLite side is given to reach the lock it must wait on (SQLite cannot tell
#: whether a connection waits; PostgreSQL is asked, ``_wait_until_blocked``).
PAUSE_S = 1.0
#: Time for the hospital's side to sign a correction (a password hash) before it answers.
PATIENT = replace(QUICK, ack_timeout_s=30.0)


def _messages(engine: Engine, specimen_id: int) -> list[OutboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboundMessage).where(
            OutboundMessage.specimen_id == specimen_id).order_by(col(OutboundMessage.id))))


def _withholds(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(
            AuditEvent.action == "withhold").order_by(col(AuditEvent.id))))


def _correct(client, world, specimen_id: int, reason: str = "wrong value entered") -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"{API}/specimens/{specimen_id}/corrections",
                           json={"reason": reason, "password": PASSWORD},
                           headers=world.auth("reviewer"))
    assert response.status_code == 200 and response.json()["version"] >= 2, response.text


def _result_statuses(body: str) -> set[str]:
    return {s.field(25) for s in split_message(body)[1] if s.name == "OBR"}


def test_a_referral_corrected_before_delivery_is_withheld_and_never_sent(  # type: ignore[no-untyped-def]
        client, world, engine, endpoint, receiver, settings, monkeypatch):
    specimen_id = flagged_card(client, world)["id"]
    decide(client, world, specimen_id, "refer")
    _correct(client, world, specimen_id)

    [first] = _messages(engine, specimen_id)
    assert first.status == "withheld" and first.claimed_by is None
    assert first.last_error == DELIVERY_PHRASES.text(
        "withheld_correction", version=1, user="reviewer", reason="wrong value entered")
    [event] = _withholds(engine)
    assert (event.entity_id, event.username, event.reason) == (str(first.id), "reviewer",
                                                               "wrong value entered")
    assert event.before == {"status": "pending"}
    assert event.after is not None and event.after["reopened_as"] == 2

    report = deliver_once(engine, QUICK)
    assert (report.attempted, report.withheld) == (0, 0) and receiver.received == []
    lab = world.auth("technician")
    listed = client.get(f"{API}/hl7/outbox", params={"status": "withheld"}, headers=lab).json()
    assert [(m["control_id"], m["status"], m["waiting_for"]) for m in listed] == [
        (first.control_id, "withheld", "")]
    assert listed[0]["last_error"] == first.last_error
    refused = client.post(f"{API}/hl7/outbox/{first.id}/resend", headers=world.auth("admin"))
    assert refused.status_code == 409 and "withheld" in refused.json()["detail"]

    monkeypatch.setenv("NBS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "240")  # the note whole, not cut to the terminal's width
    get_settings.cache_clear()
    try:
        shown = CliRunner().invoke(app, ["hl7", "outbox", "--status", "withheld"])
    finally:
        get_settings.cache_clear()
    assert shown.exit_code == 0, shown.output
    assert re.search(rf"{first.control_id}\s+withheld\s+0\s+withheld: version 1 was reopened "
                     r"for correction by reviewer", shown.stdout), shown.stdout

    decide(client, world, specimen_id, "refer")  # the corrected version, released
    report = deliver_once(engine, QUICK)
    assert report.delivered == 1
    [sent] = receiver.received
    assert f"|NBS{specimen_id}-2|" in sent and _result_statuses(sent) == {"C"}
    assert [m.status for m in _messages(engine, specimen_id)] == ["withheld", "delivered"]


def test_a_delivered_message_is_not_altered_by_a_correction(  # type: ignore[no-untyped-def]
        client, world, engine, endpoint, receiver):
    specimen_id = release(client, world, "P-1", {1: {}})[1]["id"]
    assert deliver_once(engine, QUICK).delivered == 1
    [before] = _messages(engine, specimen_id)
    _correct(client, world, specimen_id)
    [after] = _messages(engine, specimen_id)
    assert (after.status, after.delivered_at, after.last_error) == (
        "delivered", before.delivered_at, "")
    assert _withholds(engine) == []
    decide(client, world, specimen_id, "release_normal")
    assert deliver_once(engine, QUICK).delivered == 1
    assert [f"|NBS{specimen_id}-{v}|" in m for v, m in zip((1, 2), receiver.received,
                                                            strict=True)] == [True, True]
    assert _result_statuses(receiver.received[1]) == {"C"}


@pytest.mark.parametrize(("code", "status"), [("AA", "delivered"), ("AE", "withheld"),
                                              ("AR", "withheld")])
def test_a_message_in_flight_when_the_correction_commits(  # type: ignore[no-untyped-def]
        client, world, engine, endpoint, receiver, code, status):
    """The hospital holds the message when the lab corrects the result: delivered, it stays
    delivered; answered with an error or a rejection, it is withheld, not retried or parked."""
    specimen_id = release(client, world, "P-1", {1: {}})[1]["id"]

    def correct_then_answer(message: str) -> str:
        with Session(engine) as session:
            reviewer = session.get(User, world.users["reviewer"].id)
            assert reviewer is not None
            correct(session, reviewer, specimen_id, reason="wrong value entered",
                    password=PASSWORD)
            [held] = session.exec(select(OutboundMessage)).all()
            assert held.status == "sending"  # in a worker's hands: left to it
            session.commit()
        return answer(message, code)

    receiver.reply = correct_then_answer
    report = deliver_once(engine, PATIENT)
    assert receiver.count() == 1
    [message] = _messages(engine, specimen_id)
    assert message.status == status
    assert (report.delivered, report.withheld) == ((1, 0) if code == "AA" else (0, 1))
    if status == "withheld":
        assert message.last_error == DELIVERY_PHRASES.text("withheld_reopened", version=1,
                                                           current=2)
        [event] = _withholds(engine)
        assert event.username.startswith("hl7 delivery ") and event.before == {
            "status": "pending" if code == "AE" else "parked"}
    assert deliver_once(engine, QUICK).attempted == 0 and receiver.count() == 1


def test_a_claim_left_by_a_stopped_worker_is_withheld_not_sent_again(  # type: ignore[no-untyped-def]
        client, world, engine, endpoint, receiver):
    specimens = release(client, world, "P-1", {1: {}, 2: {}})
    live, lapsed = specimens[1]["id"], specimens[2]["id"]
    submitter, now = world.submitter_ids[0], utcnow()
    with Session(engine) as session:  # a worker claims both, then stops
        claims = [repository.claim_next(session, submitter, worker="stopped", now=now,
                                        until=now + timedelta(hours=1)) for _ in range(2)]
        session.execute(update(OutboundMessage).where(  # the second claim has lapsed already
            col(OutboundMessage.specimen_id) == lapsed).values(
                claimed_until=now - timedelta(seconds=1)))
        session.commit()
    assert all(c is not None for c in claims)
    _correct(client, world, live)
    _correct(client, world, lapsed)
    assert [m.status for m in _messages(engine, live)] == ["sending"]  # left to its worker
    assert [m.status for m in _messages(engine, lapsed)] == ["withheld"]  # no worker has it
    with Session(engine) as session:  # the live claim lapses in turn
        session.execute(update(OutboundMessage).where(
            col(OutboundMessage.specimen_id) == live).values(
                claimed_until=utcnow() - timedelta(seconds=1)))
        session.commit()
    report = deliver_once(engine, QUICK)
    assert (report.attempted, report.withheld) == (0, 1) and receiver.received == []
    [message] = _messages(engine, live)
    assert (message.status, message.claimed_by) == ("withheld", None)
    assert [e.username.split(" ")[0] for e in _withholds(engine)] == ["reviewer", "hl7"]


class _Side(threading.Thread):
    """A delivery's step in a thread of its own; its result or its failure is kept."""

    def __init__(self, step: Callable[[], Any]) -> None:
        super().__init__(daemon=True)
        self.step, self.result, self.failed = step, None, None

    def run(self) -> None:
        try:
            self.result = self.step()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failed = exc


def _wait_until_blocked(engine: Engine, session: Session, side: _Side) -> None:
    """Return once ``side`` waits on a lock ``session``'s transaction holds."""
    if engine.dialect.name != "postgresql":
        side.join(PAUSE_S)
        assert side.is_alive(), "the delivery did not wait for the correction"
        return
    pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with engine.connect() as watcher:
        for _ in range(600):
            waiting = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"),
                {"pid": pid}).scalar_one()
            if waiting:
                return
            assert side.is_alive(), "the delivery did not wait for the correction"
            time.sleep(0.05)
    raise AssertionError("the delivery never waited for the correction")


def _correction_under_way(engine: Engine, world, specimen_id: int) -> Session:  # type: ignore[no-untyped-def]
    """A reviewer's correction of the specimen, not committed yet."""
    session = Session(engine)
    reviewer = session.get(User, world.users["reviewer"].id)
    assert reviewer is not None
    correct(session, reviewer, specimen_id, reason="wrong value entered", password=PASSWORD)
    return session


def test_a_claim_waits_for_the_correction_then_finds_the_message_withheld(  # type: ignore[no-untyped-def]
        client, world, engine, endpoint):
    specimen_id = release(client, world, "P-1", {1: {}})[1]["id"]
    session = _correction_under_way(engine, world, specimen_id)
    try:
        side = _Side(lambda: delivery._claim(engine, world.submitter_ids[0], "w", QUICK))
        side.start()
        _wait_until_blocked(engine, session, side)
        session.commit()
    finally:
        session.close()
    side.join(60)
    assert side.failed is None and side.result == (None, 0)
    [message] = _messages(engine, specimen_id)
    assert (message.status, message.attempts) == ("withheld", 0)
    assert [e.username for e in _withholds(engine)] == ["reviewer"]


def test_an_outcome_recorded_while_the_correction_commits_is_withheld(  # type: ignore[no-untyped-def]
        client, world, engine, endpoint):
    """The worker's connection failed: its message goes back to pending, but the correction
    holds the row's lock, so the delivery waits and then sees the result reopened."""
    specimen_id = release(client, world, "P-1", {1: {}})[1]["id"]
    claimed, withheld = delivery._claim(engine, world.submitter_ids[0], "w", QUICK)
    assert claimed is not None and withheld == 0
    session = _correction_under_way(engine, world, specimen_id)
    try:
        assert [m.status for m in _messages(engine, specimen_id)] == ["sending"]
        side = _Side(lambda: delivery._unreachable(engine, endpoint, claimed, "w", QUICK,
                                                   "connection refused"))
        side.start()
        _wait_until_blocked(engine, session, side)
        session.commit()
    finally:
        session.close()
    side.join(60)
    assert side.failed is None and side.result is not None and side.result[1] is True
    [message] = _messages(engine, specimen_id)
    assert (message.status, message.claimed_by) == ("withheld", None)
    assert message.last_error == DELIVERY_PHRASES.text("withheld_reopened", version=1,
                                                       current=2)
    assert [e.username for e in _withholds(engine)] == ["hl7 delivery w"]
    assert card(1) in {m["barcode"] for m in client.get(
        f"{API}/hl7/outbox", headers=world.auth("reviewer")).json()}
