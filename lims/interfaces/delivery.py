"""Delivery of the HL7 outbox over MLLP (docs/hl7.md "Delivery", "Retries").

A pass goes to every enabled endpoint whose waiting time after a failure is over, all at once,
and sends that endpoint's due messages one at a time, oldest first, over one connection:

1. claim the next due message (``repository.claim_next``: a conditional update, committed, so
   two workers never hold the same message; the claim lapses after ``DeliveryPolicy.claim_s``,
   longer than a send may take, and a lapsed claim is due again: a worker that stopped
   mid-delivery, even killed, leaves nothing stuck);
2. send it (``MllpClient``) and wait for its acknowledgment;
3. record the outcome, only while the claim is still this worker's, and claim the next
   message, in one transaction:

   - AA or CA whose MSA-2 is the message's control id: ``delivered``, with the
     acknowledgment's code, MSA-2 and text;
   - AR or CR (the receiver rejects the message as such): ``parked`` at once;
   - AE or CE, an unknown code or another control id in MSA-2: an application error, sent
     again after ``retry_initial * 2**(n-1)`` seconds (at most ``retry_max``); parked at the
     ``max_application_errors``-th;
   - no connection, no acknowledgment in time, a closed connection or a malformed reply: the
     message goes back to ``pending`` unchanged, the endpoint counts a failure and is not
     tried again for ``retry_initial * 2**(failures-1)`` seconds (at most ``retry_max``); the
     other endpoints go on. A message whose acknowledgment was lost is sent again later with
     the same control id (MSH-10), so the receiver can tell it is the same message.

A message whose result was reopened for correction before it was delivered is withheld, never
sent: the correction withholds those not in a worker's hands (``lims.interfaces.service
.withhold_for_correction``); the delivery checks each message it claims, and each outcome that
is not a delivery, in the same transaction (``repository.withhold_if_reopened``), so a message
claimed before the correction, or left behind by a stopped worker, is withheld rather than
sent (again) once the correction is committed.

``deliver_pass`` is the coroutine (the service runs it periodically, ``lims.interfaces
.scheduler``); ``deliver_once`` runs one pass from synchronous code (``nbs hl7 send``).

Public names: ``DeliveryPolicy``, ``PassReport``, ``deliver_pass``, ``deliver_once``,
``worker_name``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from lims.audit import Actor, record
from lims.interfaces import repository
from lims.interfaces.mllp import Acknowledgment, MllpClient, MllpError
from lims.interfaces.phrases import DELIVERY_PHRASES
from lims.models import Hl7Endpoint, utcnow
from lims.settings import Settings
from lims.vocabulary import OutboxStatus, Role

__all__ = ["DeliveryPolicy", "PassReport", "deliver_once", "deliver_pass", "worker_name"]

log = logging.getLogger("lims.interfaces")
_ACCEPTED, _REJECTED = ("AA", "CA"), ("AR", "CR")


def worker_name() -> str:
    """A name for this process's worker: host, process id and a random suffix."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How delivery waits and retries (the ``NBS_HL7_*`` settings)."""

    retry_initial_s: float = 30.0
    retry_max_s: float = 1800.0
    max_application_errors: int = 5
    connect_timeout_s: float = 10.0
    ack_timeout_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(settings.hl7_retry_initial_seconds, settings.hl7_retry_max_seconds,
                   settings.hl7_max_application_errors, settings.hl7_connect_timeout_seconds,
                   settings.hl7_ack_timeout_seconds)

    def backoff(self, failures: int) -> timedelta:
        """The wait after the ``failures``-th failure in a row."""
        return timedelta(seconds=min(self.retry_initial_s * 2 ** max(failures - 1, 0),
                                     self.retry_max_s))

    @property
    def claim_s(self) -> float:
        """How long a claim lasts: longer than connecting, writing and waiting for the
        acknowledgment can take (each bounded by its timeout), plus one acknowledgment
        timeout for recording the outcome."""
        return self.connect_timeout_s + 3 * self.ack_timeout_s


@dataclass
class PassReport:
    """What one pass did."""

    delivered: int = 0
    retried: int = 0
    parked: int = 0
    #: Withheld, not sent: their results were reopened for correction.
    withheld: int = 0
    unreachable: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.retried + self.parked + len(self.unreachable)

    def add(self, other: PassReport) -> None:
        self.delivered += other.delivered
        self.retried += other.retried
        self.parked += other.parked
        self.withheld += other.withheld
        self.unreachable += other.unreachable


def _actor(worker: str) -> Actor:
    return Actor(None, f"hl7 delivery {worker}"[:64], Role.admin)


def _withhold_if_reopened(session: Session, message_id: int, worker: str) -> bool:
    """Withhold the message (audited) if its result was reopened for correction."""
    withheld = repository.withhold_if_reopened(
        session, message_id, note=lambda version, current: DELIVERY_PHRASES.text(
            "withheld_reopened", version=version, current=current))
    if withheld is None:
        return False
    log.warning("message %s withheld: its result was reopened for correction",
                withheld.control_id)
    record(session, _actor(worker), "withhold", "outbound_message", withheld.id,
           infant_id=withheld.infant_id, before={"status": withheld.status},
           after={"status": OutboxStatus.withheld, "control_id": withheld.control_id,
                  "version": withheld.version})
    return True


def _claim_in(session: Session, submitter_id: int, worker: str,
              policy: DeliveryPolicy) -> tuple[repository.Claimed | None, int]:
    """The next message to send (None: none is due) and how many were withheld instead."""
    withheld = 0
    while True:
        now = utcnow()
        claimed = repository.claim_next(session, submitter_id, worker=worker, now=now,
                                        until=now + timedelta(seconds=policy.claim_s))
        if claimed is None or not _withhold_if_reopened(session, claimed.id, worker):
            return claimed, withheld
        withheld += 1


def _claim(engine: Engine, submitter_id: int, worker: str,
           policy: DeliveryPolicy) -> tuple[repository.Claimed | None, int]:
    with Session(engine) as session:
        claimed, withheld = _claim_in(session, submitter_id, worker, policy)
        session.commit()
    return claimed, withheld


def _outcome(claimed: repository.Claimed, ack: Acknowledgment,
             policy: DeliveryPolicy) -> tuple[str, dict[str, Any]]:
    """The message's new status and the columns to write for an acknowledgment."""
    now = utcnow()
    values: dict[str, Any] = {"ack_code": ack.code[:2], "ack_control_id": ack.control_id[:64],
                              "ack_text": ack.text}
    if ack.code in _ACCEPTED and ack.control_id == claimed.control_id:
        return OutboxStatus.delivered, {**values, "delivered_at": now, "last_error": ""}
    if ack.code in _REJECTED:
        return OutboxStatus.parked, {**values, "last_error": DELIVERY_PHRASES.text(
            "rejected", ack=ack.code)}
    errors = claimed.application_errors + 1
    why = (f"acknowledged {ack.code} for control id {ack.control_id!r}, not "
           f"{claimed.control_id!r}" if ack.code in _ACCEPTED
           else f"application error ({ack.code or 'no MSA-1'}), {errors} of "
                f"{policy.max_application_errors}")
    values |= {"application_errors": errors, "last_error": why[:1000]}
    if errors >= policy.max_application_errors:
        return OutboxStatus.parked, values
    return OutboxStatus.pending, {**values,
                                  "next_attempt_at": now + policy.backoff(errors)}


def _acknowledged(engine: Engine, endpoint: Hl7Endpoint, claimed: repository.Claimed,
                  ack: Acknowledgment, worker: str, policy: DeliveryPolicy, *,
                  recovered: bool, then_claim: bool) -> tuple[str | None,
                                                              repository.Claimed | None, int]:
    """Record an acknowledgment and, with ``then_claim``, claim the endpoint's next message in
    the same transaction; the new status (None: the claim had lapsed; ``withheld``: not
    delivered, and its result was reopened meanwhile), the next claim and how many messages
    were withheld instead of claimed."""
    status, values = _outcome(claimed, ack, policy)
    with Session(engine) as session:
        if not repository.finish(session, claimed.id, worker=worker, status=status, **values):
            session.rollback()
            log.warning("message %s: acknowledged %s, but its claim had lapsed; the outcome "
                        "is left to the worker holding it", claimed.control_id, ack.code)
            return None, None, 0
        if status != OutboxStatus.pending:
            record(session, _actor(worker),
                   "deliver" if status == OutboxStatus.delivered else "park",
                   "outbound_message", claimed.id, infant_id=claimed.infant_id,
                   after={"control_id": claimed.control_id, "status": status,
                          "ack_code": ack.code, "attempts": claimed.attempts,
                          "error": values.get("last_error", "")})
        if status != OutboxStatus.delivered and _withhold_if_reopened(session, claimed.id,
                                                                      worker):
            status = OutboxStatus.withheld
        if not recovered and endpoint.id is not None:
            repository.endpoint_recovered(session, endpoint.id)
        following, withheld = (_claim_in(session, endpoint.submitter_id, worker, policy)
                               if then_claim else (None, 0))
        session.commit()
    return status, following, withheld


def _unreachable(engine: Engine, endpoint: Hl7Endpoint, claimed: repository.Claimed,
                 worker: str, policy: DeliveryPolicy, error: str) -> tuple[datetime, bool]:
    """The message goes back to pending (withheld if its result was reopened meanwhile); the
    endpoint waits. When to try it again, and whether the message was withheld."""
    assert endpoint.id is not None
    with Session(engine) as session:
        withheld = repository.finish(session, claimed.id, worker=worker,
                                     status=OutboxStatus.pending, last_error=error[:1000]
                                     ) and _withhold_if_reopened(session, claimed.id, worker)
        retry_at = repository.endpoint_failed(
            session, endpoint.id, now=utcnow(),
            delays_s=(policy.retry_initial_s, policy.retry_max_s), error=error)
        session.commit()
    return retry_at, withheld


async def _endpoint_pass(engine: Engine, endpoint: Hl7Endpoint, policy: DeliveryPolicy,
                         worker: str, stopped: Callable[[], bool]) -> PassReport:
    """Send the endpoint's due messages until none is left, it fails, or the pass stops."""
    report = PassReport()
    recovered = endpoint.failures == 0
    async with MllpClient(endpoint.host, endpoint.port, connect_timeout=policy.connect_timeout_s,
                          ack_timeout=policy.ack_timeout_s) as client:
        claimed, withheld = (None, 0) if stopped() else await asyncio.to_thread(
            _claim, engine, endpoint.submitter_id, worker, policy)
        report.withheld += withheld
        while claimed is not None:
            try:
                ack = await client.send(claimed.body)
            except MllpError as exc:
                retry_at, withheld = await asyncio.to_thread(
                    _unreachable, engine, endpoint, claimed, worker, policy, str(exc))
                report.withheld += withheld
                log.warning("HL7 endpoint %s:%s (submitter %s): %s; next try at %s",
                            endpoint.host, endpoint.port, endpoint.submitter_id, exc,
                            f"{retry_at:%H:%M:%S}")
                report.unreachable.append(f"{endpoint.host}:{endpoint.port}: {exc}")
                break
            status, claimed, withheld = await asyncio.to_thread(
                _acknowledged, engine, endpoint, claimed, ack, worker, policy,
                recovered=recovered, then_claim=not stopped())
            report.withheld += withheld
            recovered = True
            if status == OutboxStatus.delivered:
                report.delivered += 1
            elif status == OutboxStatus.parked:
                report.parked += 1
            elif status == OutboxStatus.pending:
                report.retried += 1
            elif status == OutboxStatus.withheld:
                report.withheld += 1
    return report


def _due_endpoints(engine: Engine) -> list[Hl7Endpoint]:
    with Session(engine, expire_on_commit=False) as session:
        return repository.due_endpoints(session, utcnow())


async def deliver_pass(engine: Engine, policy: DeliveryPolicy, *, worker: str | None = None,
                       stopped: Callable[[], bool] = lambda: False) -> PassReport:
    """One pass over every endpoint that may be tried now, concurrently; ``stopped`` is
    asked before each message (a pass stops between messages, never inside one)."""
    worker = worker or worker_name()
    endpoints = await asyncio.to_thread(_due_endpoints, engine)
    report = PassReport()
    results = await asyncio.gather(*(_endpoint_pass(engine, e, policy, worker, stopped)
                                     for e in endpoints), return_exceptions=True)
    for endpoint, result in zip(endpoints, results, strict=True):
        if isinstance(result, PassReport):
            report.add(result)
        elif isinstance(result, Exception):  # a lost database: the next pass tries again
            log.error("delivery to %s:%s failed: %r", endpoint.host, endpoint.port, result)
            report.unreachable.append(f"{endpoint.host}:{endpoint.port}: {result!r}")
        else:
            raise result
    return report


def deliver_once(engine: Engine, policy: DeliveryPolicy, *, worker: str | None = None,
                 stopped: Callable[[], bool] = lambda: False) -> PassReport:
    """``deliver_pass`` from synchronous code."""
    return asyncio.run(deliver_pass(engine, policy, worker=worker, stopped=stopped))
