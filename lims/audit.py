"""The append-only audit trail: every change and every read of a baby's record.

Public names: ``Actor``, ``SYSTEM``, ``record``, ``snapshot``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, SQLModel

from lims.models import AuditEvent

__all__ = ["SYSTEM", "Actor", "record", "snapshot"]


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
    """Add one audit event to the session (committed with the change it describes)."""
    session.add(AuditEvent(
        user_id=actor.user_id, username=actor.username, action=action, entity=entity,
        entity_id=str(entity_id), infant_id=infant_id, before=before, after=after,
        reason=reason[:1000],
    ))
