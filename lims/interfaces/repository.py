"""Queries of the HL7 interfaces: submitters' endpoints, the outbox (claims and outcomes as
conditional updates), the card-data messages accepted.

The claim is one ``UPDATE ... WHERE id = (the first due message) AND <still due> RETURNING``:
two workers picking the same message both run it, and the database lets only one of them
change the row (the other's condition no longer holds once the first has committed, on both
SQLite and PostgreSQL). Every outcome is written with ``WHERE claimed_by = <this worker> AND
status = 'sending'``, so a worker whose claim has lapsed changes nothing.

A message whose result was reopened for correction before it was delivered is withheld
(``withhold_earlier``, in the correction's transaction): every undelivered message of the
earlier versions is locked first (``SELECT ... FOR UPDATE``; SQLite has one writer at a time),
so a claim or an outcome recorded on one waits for the correction to commit and then finds it
withheld; a message claimed before the correction locked it is in flight and left to its
worker. ``withhold_if_reopened`` is the delivery's own check, after a claim and after an
outcome that is not a delivery: a statement of its own, so that on PostgreSQL it sees a
correction committed while the claim or the outcome waited for the row (read committed).

Public names: ``Claimed``, ``endpoints``, ``endpoint_by_id``, ``endpoint_for_submitter``,
``endpoints_of_submitters``, ``submitters_by_ids``, ``endpoint_by_facility``,
``due_endpoints``, ``endpoint_failed``, ``endpoint_recovered``, ``claim_next``, ``finish``,
``outbox_rows``, ``OUTBOX_COLUMNS``, ``message_by_id``, ``message_for``, ``latest_message``,
``requeue``, ``inbound_by_control_id``, ``Withheld``, ``withhold_earlier``,
``withhold_if_reopened``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.models import Hl7Endpoint, InboundMessage, OutboundMessage, Specimen, Submitter
from lims.vocabulary import OutboxStatus

__all__ = [
    "OUTBOX_COLUMNS",
    "Claimed",
    "Withheld",
    "claim_next",
    "due_endpoints",
    "endpoint_by_facility",
    "endpoint_by_id",
    "endpoint_failed",
    "endpoint_for_submitter",
    "endpoint_recovered",
    "endpoints",
    "endpoints_of_submitters",
    "finish",
    "inbound_by_control_id",
    "latest_message",
    "message_by_id",
    "message_for",
    "outbox_rows",
    "requeue",
    "submitters_by_ids",
    "withhold_earlier",
    "withhold_if_reopened",
]

_M = OutboundMessage.__table__  # type: ignore[attr-defined]
_S = Specimen.__table__  # type: ignore[attr-defined]
_E = Hl7Endpoint.__table__  # type: ignore[attr-defined]
#: The columns of an outbox listing (everything but the message and acknowledgment texts).
OUTBOX_COLUMNS = ("id", "specimen_id", "version", "submitter_id", "infant_id", "message_type",
                  "control_id", "status", "attempts", "application_errors", "next_attempt_at",
                  "last_attempt_at", "last_error", "ack_code", "ack_control_id",
                  "delivered_at", "created_at")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message this worker now holds: what sending and recording it need."""

    id: int
    control_id: str
    body: str
    specimen_id: int
    version: int
    infant_id: int
    attempts: int
    application_errors: int


@dataclass(frozen=True, slots=True)
class Withheld:
    """A message just withheld: what its audit event records (``status``: the one before)."""

    id: int
    control_id: str
    version: int
    infant_id: int
    status: str


def endpoints(session: Session) -> list[Hl7Endpoint]:
    return list(session.exec(select(Hl7Endpoint).order_by(col(Hl7Endpoint.id))))


def endpoints_of_submitters(session: Session,
                            submitter_ids: Collection[int]) -> dict[int, Hl7Endpoint]:
    """The endpoint of each of these submitters that has one (one query)."""
    if not submitter_ids:
        return {}
    return {e.submitter_id: e for e in session.exec(select(Hl7Endpoint).where(
        col(Hl7Endpoint.submitter_id).in_(sorted(submitter_ids))))}


def submitters_by_ids(session: Session, submitter_ids: Collection[int]) -> dict[int, Submitter]:
    """The submitters with these ids (one query)."""
    if not submitter_ids:
        return {}
    return {s.id: s for s in session.exec(select(Submitter).where(
        col(Submitter.id).in_(sorted(submitter_ids)))) if s.id is not None}


def endpoint_by_id(session: Session, endpoint_id: int) -> Hl7Endpoint | None:
    return session.get(Hl7Endpoint, endpoint_id)


def endpoint_for_submitter(session: Session, submitter_id: int) -> Hl7Endpoint | None:
    return session.exec(select(Hl7Endpoint).where(
        Hl7Endpoint.submitter_id == submitter_id)).first()


def endpoint_by_facility(session: Session, facility: str) -> Hl7Endpoint | None:
    """The endpoint whose ``receiving_facility`` is ``facility`` (how a submitter's own
    messages name it in MSH-4)."""
    return session.exec(select(Hl7Endpoint).where(
        Hl7Endpoint.receiving_facility == facility)).first()


def due_endpoints(session: Session, now: datetime) -> list[Hl7Endpoint]:
    """Enabled endpoints that may be connected to now (not waiting after a failure)."""
    return list(session.exec(select(Hl7Endpoint).where(
        col(Hl7Endpoint.enabled),
        or_(col(Hl7Endpoint.retry_at).is_(None), col(Hl7Endpoint.retry_at) <= now))
        .order_by(col(Hl7Endpoint.id))))


def endpoint_failed(session: Session, endpoint_id: int, *, now: datetime,
                    delays_s: tuple[float, float], error: str) -> datetime:
    """Count a connection failure: ``failures + 1``, the next try after
    ``min(initial * 2**(failures), longest)`` seconds (``delays_s`` = (initial, longest)).
    Returns when to try again."""
    failures = session.execute(
        update(_E).where(_E.c.id == endpoint_id).values(failures=_E.c.failures + 1)
        .returning(_E.c.failures)).scalar_one()
    initial, longest = delays_s
    retry_at = now + timedelta(seconds=min(initial * 2 ** (failures - 1), longest))
    session.execute(update(_E).where(_E.c.id == endpoint_id).values(
        retry_at=retry_at, last_error=error[:1000]))
    return retry_at


def endpoint_recovered(session: Session, endpoint_id: int) -> None:
    """A message went through: no failures, no waiting."""
    session.execute(update(_E).where(_E.c.id == endpoint_id, _E.c.failures > 0).values(
        failures=0, retry_at=None, last_error=""))


def _due(table: Any, now: Any) -> Any:
    """SQL: a message that may be claimed now: pending and due, or sending under a claim that
    has lapsed (its worker stopped)."""
    return or_(and_(table.c.status == OutboxStatus.pending, table.c.next_attempt_at <= now),
               and_(table.c.status == OutboxStatus.sending, table.c.claimed_until < now))


@cache
def _claim_statement() -> Any:
    """The claim, built once (its parameters bound at each call: ``submitter``, ``now``,
    ``until``, ``worker``), so the database driver and SQLAlchemy reuse it."""
    when = _M.c.next_attempt_at.type
    now = bindparam("now", type_=when)
    candidate = _M.alias("candidate")
    earlier = _M.alias("earlier")
    blocked = exists().where(earlier.c.specimen_id == candidate.c.specimen_id,
                             earlier.c.version < candidate.c.version,
                             earlier.c.status.in_([OutboxStatus.pending, OutboxStatus.sending]))
    first = (core_select(candidate.c.id)
             .where(candidate.c.submitter_id == bindparam("submitter"), _due(candidate, now),
                    ~blocked)
             .order_by(candidate.c.id).limit(1).scalar_subquery())
    return (update(_M).where(_M.c.id == first, _due(_M, now))
            .values(status=OutboxStatus.sending, claimed_by=bindparam("worker"),
                    claimed_until=bindparam("until", type_=when),
                    attempts=_M.c.attempts + 1, last_attempt_at=now)
            .returning(_M.c.id, _M.c.control_id, _M.c.body, _M.c.specimen_id, _M.c.version,
                       _M.c.infant_id, _M.c.attempts, _M.c.application_errors))


def claim_next(session: Session, submitter_id: int, *, worker: str, now: datetime,
               until: datetime) -> Claimed | None:
    """Claim the submitter's first due message (by id) for ``worker`` until ``until``; None
    when nothing is due (or another worker took it first).

    A later version of a specimen waits while an earlier one is pending or being sent, so a
    correction never overtakes the result it corrects.
    """
    row = session.execute(_claim_statement(), {"submitter": submitter_id, "now": now,
                                               "until": until, "worker": worker}).first()
    return None if row is None else Claimed(*row)


def finish(session: Session, message_id: int, *, worker: str, **values: Any) -> bool:
    """Record the outcome of this worker's attempt and drop its claim; False when the claim
    is no longer this worker's (nothing is changed then)."""
    result = session.execute(
        update(_M).where(_M.c.id == message_id, _M.c.claimed_by == worker,
                         _M.c.status == OutboxStatus.sending)
        .values(claimed_by=None, claimed_until=None, **values))
    return bool(getattr(result, "rowcount", 0) == 1)


def outbox_rows(session: Session, *, status: str | None = None, specimen_id: int | None = None,
                submitter_id: int | None = None, limit: int = 100,
                offset: int = 0) -> list[dict[str, Any]]:
    """Messages as plain rows (``OUTBOX_COLUMNS`` and the card's ``barcode``), newest
    first."""
    query = core_select(*(_M.c[name] for name in OUTBOX_COLUMNS), _S.c.barcode).join(
        _S, _S.c.id == _M.c.specimen_id)
    if status is not None:
        query = query.where(_M.c.status == status)
    if specimen_id is not None:
        query = query.where(_M.c.specimen_id == specimen_id)
    if submitter_id is not None:
        query = query.where(_M.c.submitter_id == submitter_id)
    rows = session.execute(query.order_by(_M.c.id.desc()).limit(limit).offset(offset))
    return [dict(row._mapping) for row in rows]


def message_by_id(session: Session, message_id: int) -> OutboundMessage | None:
    return session.get(OutboundMessage, message_id)


def message_for(session: Session, specimen_id: int, version: int) -> OutboundMessage | None:
    return session.exec(select(OutboundMessage).where(
        OutboundMessage.specimen_id == specimen_id,
        OutboundMessage.version == version)).first()


def latest_message(session: Session, specimen_id: int) -> OutboundMessage | None:
    return session.exec(select(OutboundMessage).where(
        OutboundMessage.specimen_id == specimen_id)
        .order_by(col(OutboundMessage.version).desc())).first()


def requeue(session: Session, message_id: int, *, now: datetime,
            body: str | None = None) -> bool:
    """Put a parked message back in the queue, due now, its application errors forgotten
    (``body``: a message built again); False if it is not parked."""
    values: dict[str, Any] = {"status": OutboxStatus.pending, "next_attempt_at": now,
                              "application_errors": 0, "last_error": ""}
    if body is not None:
        values["body"] = body
    result = session.execute(update(_M).where(_M.c.id == message_id,
                                              _M.c.status == OutboxStatus.parked)
                             .values(**values))
    return bool(getattr(result, "rowcount", 0) == 1)


def inbound_by_control_id(session: Session, submitter_id: int,
                          control_id: str) -> InboundMessage | None:
    return session.exec(select(InboundMessage).where(
        InboundMessage.submitter_id == submitter_id,
        InboundMessage.control_id == control_id)).first()


#: The statuses of a message not delivered (and not withheld already).
_UNDELIVERED = (OutboxStatus.pending, OutboxStatus.sending, OutboxStatus.parked)


def _withhold(session: Session, row: Any, note: str) -> Withheld:
    session.execute(update(_M).where(_M.c.id == row.id, _M.c.status == row.status).values(
        status=OutboxStatus.withheld, claimed_by=None, claimed_until=None, last_error=note))
    return Withheld(row.id, row.control_id, row.version, row.infant_id, row.status)


def withhold_earlier(session: Session, specimen_id: int, version: int, *, now: datetime,
                     note: Callable[[int], str]) -> tuple[list[Withheld], list[int]]:
    """Withhold the specimen's undelivered messages of versions below ``version`` (its result
    was just reopened as ``version``, in this transaction): each is locked, then withheld
    with ``note(its version)`` as its last error, unless a worker holds it under a live claim.
    Returns those withheld and the ids of those left in flight."""
    rows = session.execute(
        core_select(_M.c.id, _M.c.control_id, _M.c.version, _M.c.infant_id, _M.c.status,
                    _M.c.claimed_until)
        .where(_M.c.specimen_id == specimen_id, _M.c.version < version,
               _M.c.status.in_(_UNDELIVERED))
        .order_by(_M.c.id).with_for_update()).all()
    in_flight = {r.id for r in rows if r.status == OutboxStatus.sending
                 and r.claimed_until is not None and r.claimed_until >= now}
    withheld = [_withhold(session, r, note(r.version)) for r in rows if r.id not in in_flight]
    return withheld, sorted(in_flight)


def withhold_if_reopened(session: Session, message_id: int, *,
                         note: Callable[[int, int], str]) -> Withheld | None:
    """Withhold the message if it is not delivered and its specimen's version is above its
    own (the result it reports was reopened for correction), with ``note(its version, the
    specimen's)`` as its last error; None otherwise."""
    row = session.execute(
        core_select(_M.c.id, _M.c.control_id, _M.c.version, _M.c.infant_id, _M.c.status,
                    _S.c.version.label("current"))
        .join(_S, _S.c.id == _M.c.specimen_id)
        .where(_M.c.id == message_id, _M.c.status.in_(_UNDELIVERED),
               _S.c.version > _M.c.version)).first()
    return None if row is None else _withhold(session, row, note(row.version, row.current))
