"""The append-only audit trail: every change and every read of a baby's record.

Events are written with Core inserts in the caller's transaction (``record``: one row now;
``record_many``: one executemany), never as ORM objects waiting for a flush.

Public names: ``Actor``, ``SYSTEM``, ``AuditEntry``, ``record``, ``record_many``, ``snapshot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from lims.models import AuditEvent, utcnow

__all__ = ["SYSTEM", "Actor", "AuditEntry", "record", "record_many", "snapshot"]

_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself (``user_id`` None)."""

    user_id: int | None
    username: str
    role: str
    submitter_id: int | None = None


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
    session.execute(insert(_TABLE), [_row(actor, AuditEntry(
        action, entity, entity_id, infant_id=infant_id, before=before, after=after,
        reason=reason), utcnow())])


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
        session.execute(insert(_TABLE), [_row(actor, e, at) for e in entries])
