"""The append-only audit trail: every change and every read of a baby's record.

Events are written with Core inserts in the caller's transaction (``record``: one row now;
``record_many``: one executemany), never as ORM objects waiting for a flush. Each event is
chained to the one before it by its hash (``lims.audit_chain``; ``nbs audit verify``).

A list read (a page of specimens, infants, repeat requests or alerts) is one event
(``record_list_read``, action ``read_list``): ``after`` holds the ids of the records read, the
infants they belong to and the filters asked for; ``infant_id`` is set when they all belong to
one baby. "Who read baby X" is therefore the events with ``infant_id`` X plus the ``read_list``
events whose ``after["infant_ids"]`` holds X.

``audit_trail`` reads the trail back, filtered (by baby in both of these ways);
``last_list_read`` finds a user's latest read of a list (a list shown again and again, such
as the alert banner, is recorded when what it shows changes).

Public names: ``Actor``, ``SYSTEM``, ``AuditEntry``, ``record``, ``record_many``,
``record_list_read``, ``last_list_read``, ``snapshot``, ``store``, ``audit_trail``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import and_, insert, or_, text
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel

from lims.audit_chain import advance, claim_head, link
from lims.models import AuditEvent, User, utcnow

__all__ = ["SYSTEM", "Actor", "AuditEntry", "audit_trail", "record", "record_list_read",
           "record_many", "snapshot", "store"]

_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
_Row = TypeVar("_Row", bound=SQLModel)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself (``user_id`` None)."""

    user_id: int | None
    username: str
    role: str
    submitter_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        """The audit identity of a signed-in user."""
        assert user.id is not None
        return cls(user.id, user.username, user.role, user.submitter_id)


SYSTEM = Actor(user_id=None, username="system", role="admin")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(row: SQLModel | None, *, exclude: tuple[str, ...] = ("password_hash",)) -> (
        dict[str, Any] | None):
    """A JSON-safe copy of a row's columns, for the before/after of an audit event."""
    if row is None:
        return None
    return {k: _plain(v) for k, v in row.model_dump().items() if k not in exclude}


def record(session: Session, actor: Actor, action: str, entity: str, entity_id: object, *,
           infant_id: int | None = None, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None, reason: str = "") -> None:
    """Write one audit event in the session's transaction (committed with the change it
    describes)."""
    _write(session, [_row(actor, AuditEntry(
        action, entity, entity_id, infant_id=infant_id, before=before, after=after,
        reason=reason), utcnow())])


def store(session: Session, actor: Actor, action: str, entity: str, row: _Row, *,
          entity_id: object = None, infant_id: int | None = None,
          before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
          reason: str = "") -> _Row:
    """Add ``row`` and flush it (so it has its id), and audit ``action`` on ``entity``
    ``entity_id`` (default: the row's id) in the caller's transaction; ``after`` defaults to
    the row as stored (``snapshot``)."""
    session.add(row)
    session.flush()
    stored = snapshot(row) or {}
    record(session, actor, action, entity, stored["id"] if entity_id is None else entity_id,
           infant_id=infant_id, before=before, after=stored if after is None else after,
           reason=reason)
    return row


def _write(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert event rows chained after the head (claimed, so locked, until the transaction
    ends) and move the head past them."""
    head = claim_head(session)
    new_head = link(head, rows)
    session.execute(insert(_TABLE), rows)
    advance(session, new_head)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event for ``record_many``: the arguments of ``record`` after the actor."""

    action: str
    entity: str
    entity_id: object
    infant_id: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""


def _row(actor: Actor, entry: AuditEntry, at: datetime) -> dict[str, Any]:
    return {"at": at, "user_id": actor.user_id, "username": actor.username,
            "action": entry.action, "entity": entry.entity, "entity_id": str(entry.entity_id),
            "infant_id": entry.infant_id, "before": entry.before, "after": entry.after,
            "reason": entry.reason[:1000]}


def record_many(session: Session, actor: Actor, entries: list[AuditEntry]) -> None:
    """Write several audit events by one actor in one statement (same transaction)."""
    if entries:
        at = utcnow()
        _write(session, [_row(actor, e, at) for e in entries])


def record_list_read(session: Session, actor: Actor, entity: str, ids: list[int],
                     infant_ids: Iterable[int | None], *,
                     filters: Mapping[str, object] | None = None) -> None:
    """One audit event for a list read of ``entity`` records (nothing when none were read)."""
    if not ids:
        return
    infants = sorted({i for i in infant_ids if i is not None})
    after = {"ids": ids, "infant_ids": infants,
             "filters": {k: _plain(v) for k, v in (filters or {}).items() if v is not None}}
    record(session, actor, "read_list", entity, "list",
           infant_id=infants[0] if len(infants) == 1 else None, after=after)


def last_list_read(session: Session, actor: Actor, entity: str,
                   filters: Mapping[str, object]) -> tuple[list[int], datetime] | None:
    """The ids read and the time of this user's latest ``read_list`` of ``entity`` records
    with exactly these ``filters`` (among the user's 20 latest reads of that entity)."""
    wanted = {k: _plain(v) for k, v in filters.items() if v is not None}
    rows = session.execute(core_select(_TABLE.c.at, _TABLE.c.after).where(
        _TABLE.c.action == "read_list", _TABLE.c.entity == entity,
        _TABLE.c.username == actor.username).order_by(_TABLE.c.id.desc()).limit(20)).all()
    for at, after in rows:
        if (after or {}).get("filters") == wanted:
            return list(after.get("ids") or []), at if at.tzinfo else at.replace(tzinfo=UTC)
    return None


def _lists_infant(dialect: str, infant_id: int) -> Any:
    """SQL: a ``read_list`` event whose ``after["infant_ids"]`` holds ``infant_id``."""
    table = _TABLE.name
    if dialect == "postgresql":
        return text(f"(CAST({table}.after AS jsonb) -> 'infant_ids') @> "
                    "CAST(:audit_infant_ids AS jsonb)").bindparams(
            audit_infant_ids=json.dumps([infant_id]))
    return text(f"EXISTS (SELECT 1 FROM json_each({table}.after, '$.infant_ids') AS listed "
                "WHERE listed.value = :audit_infant_id)").bindparams(audit_infant_id=infant_id)


def audit_trail(session: Session, *, infant_id: int | None = None, username: str | None = None,
                action: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Audit events, newest first, as plain rows: those of one baby (``infant_id``: the events
    naming it, and the list reads whose babies include it), of one user, of one action, in a
    time window (``since`` inclusive, ``until`` exclusive)."""
    query = core_select(_TABLE)
    if infant_id is not None:
        dialect = session.get_bind().dialect.name
        query = query.where(or_(_TABLE.c.infant_id == infant_id,
                                and_(_TABLE.c.action == "read_list",
                                     _TABLE.c.infant_id.is_(None),
                                     _lists_infant(dialect, infant_id))))
    if username:
        query = query.where(_TABLE.c.username == username)
    if action:
        query = query.where(_TABLE.c.action == action)
    if since is not None:
        query = query.where(_TABLE.c.at >= since)
    if until is not None:
        query = query.where(_TABLE.c.at < until)
    query = query.order_by(_TABLE.c.id.desc()).limit(limit)
    return [dict(r._mapping) for r in session.execute(query)]
