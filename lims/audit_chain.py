"""The audit trail's hash chain: each event carries the SHA-256 of its content and of the event
before it, so an edited, removed or forged event is found by ``verify``.

Writing: the chain's head (``audit_chain``: one row holding the last position ``seq`` and the
last ``chain_hash``) is claimed with ``UPDATE ... RETURNING`` before events are written. That update
takes PostgreSQL's row lock (and SQLite's write lock) until the transaction ends, so
transactions writing audit events chain them one after the other, never from the same head;
a transaction that rolls back leaves the head as it was. A transaction of its own opened while
another of the same thread holds the head (``auth.service.confirm_password`` commits the
signature's audit apart) would wait for it: such a transaction runs before the request writes
any event. ``link`` computes each event's
``seq`` (one more than the previous) and ``chain_hash``; ``advance`` moves the head.

Verifying: ``verify`` walks the events in ``seq`` order and recomputes every hash. The first
break is reported: an event whose content no longer gives its hash (edited), a position
missing from the sequence (removed), an event without a position (written around the LIMS), a
head that does not name the last event (the newest events removed). Anyone who can rewrite
the whole chain from some point, and the head, can make it verify again: record the head hash
``verify`` prints somewhere the database's users cannot write, and compare.

Public names: ``GENESIS``, ``HASHED``, ``Head``, ``claim_head``, ``link``, ``advance``,
``event_hash``, ``ChainReport``, ``verify``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, Result
from sqlmodel import Session

from lims.models import AuditChain, AuditEvent

__all__ = ["GENESIS", "HASHED", "ChainReport", "Head", "advance", "claim_head", "event_hash",
           "link", "verify"]

#: The hash the first event is chained to.
GENESIS = "0" * 64
_EVENT = AuditEvent.__table__  # type: ignore[attr-defined]
_HEAD = AuditChain.__table__  # type: ignore[attr-defined]
#: The columns an event's hash covers, in this order (``seq`` places it in the chain).
HASHED = ("seq", "at", "user_id", "username", "action", "entity", "entity_id", "infant_id",
          "before", "after", "reason")


@dataclass(frozen=True, slots=True)
class Head:
    """The last event's position and hash (0 and ``GENESIS`` before the first)."""

    seq: int
    hash: str


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "at":
        at: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
        return at.astimezone(UTC).isoformat(timespec="microseconds")
    if name in ("before", "after"):
        return json.loads(json.dumps(value))  # what the JSON column gives back
    return value


def event_hash(previous: str, row: dict[str, Any]) -> str:
    """The SHA-256 (hex) of the previous event's hash and this event's hashed columns."""
    content = json.dumps([previous, *(_canonical(name, row.get(name)) for name in HASHED)],
                         sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(content.encode()).hexdigest()


def claim_head(session: Session) -> Head:
    """Lock the chain's head for this transaction and return it (creating it when the table
    is empty, e.g. after the tables were emptied)."""
    claim = update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq).returning(
        _HEAD.c.seq, _HEAD.c.chain_hash)
    row = session.execute(claim).first()
    if row is None:
        last = session.execute(select(_EVENT.c.seq, _EVENT.c.chain_hash).where(
            _EVENT.c.seq.is_not(None)).order_by(_EVENT.c.seq.desc()).limit(1)).first()
        seq, digest = (int(last[0]), str(last[1])) if last else (0, GENESIS)
        create = (pg_insert(_HEAD) if session.get_bind().dialect.name == "postgresql"
                  else sqlite_insert(_HEAD)).values(id=1, seq=seq, chain_hash=digest)
        session.execute(create.on_conflict_do_nothing(index_elements=["id"]))
        row = session.execute(claim).first()
        assert row is not None
    return Head(int(row[0]), str(row[1]))


def link(head: Head, rows: Sequence[dict[str, Any]]) -> Head:
    """Give each event row its ``seq`` and ``chain_hash`` after ``head``; the new head."""
    seq, digest = head.seq, head.hash
    for row in rows:
        seq += 1
        row["seq"] = seq
        digest = row["chain_hash"] = event_hash(digest, row)
    return Head(seq, digest)


def advance(session: Session, head: Head) -> None:
    """Move the claimed head to ``head`` (the last event just written)."""
    session.execute(update(_HEAD).where(_HEAD.c.id == 1).values(seq=head.seq, chain_hash=head.hash))


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What ``verify`` found: events checked, the head, and the first break (None: intact)."""

    events: int
    head: Head
    broken_at: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def _rows(result: Result[Any]) -> Iterator[dict[str, Any]]:
    for row in result:
        yield dict(row._mapping)


def verify(engine: Engine) -> ChainReport:
    """Recompute the chain in one consistent read; report the first broken link."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        stored = connection.execute(select(_HEAD.c.seq, _HEAD.c.chain_hash)).first()
        head = Head(int(stored[0]), str(stored[1])) if stored else Head(0, GENESIS)
        columns = [_EVENT.c.id, _EVENT.c.chain_hash, *(_EVENT.c[name] for name in HASHED)]
        with connection.execution_options(yield_per=2000).execute(
                select(*columns).order_by(_EVENT.c.seq.is_(None), _EVENT.c.seq,
                                          _EVENT.c.id)) as result:
            return _walk(_rows(result), head)


def _walk(rows: Iterator[dict[str, Any]], head: Head) -> ChainReport:
    previous, expected_seq, checked = GENESIS, 1, 0
    for row in rows:
        event_id, seq = row["id"], row["seq"]
        if seq is None:
            return ChainReport(checked, head, event_id,
                               f"audit event {event_id} has no place in the chain (no seq or "
                               f"hash): it was not written by the LIMS")
        if seq > expected_seq:
            gap = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}-{seq - 1}"
            return ChainReport(checked, head, event_id,
                               f"chain position {gap} is missing before audit event "
                               f"{event_id} (position {seq}): an event was removed")
        if seq < expected_seq:
            return ChainReport(checked, head, event_id,
                               f"audit event {event_id} repeats chain position {seq}: it was "
                               f"not written by the LIMS")
        if event_hash(previous, row) != row["chain_hash"]:
            return ChainReport(checked, head, event_id,
                               f"audit event {event_id} (position {seq}) does not match its "
                               f"hash: it was changed after it was written")
        previous, expected_seq, checked = row["chain_hash"], expected_seq + 1, checked + 1
    if (head.seq, head.hash) != (checked, previous):
        return ChainReport(checked, head, None,
                           f"the chain's head names position {head.seq} but the last audit "
                           f"event is at position {checked}: the newest events were removed "
                           f"or the head was changed")
    return ChainReport(checked, head)
