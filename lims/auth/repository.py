"""Queries of users and their sign-in state.

Failures are counted by one atomic ``UPDATE ... RETURNING`` (``count_failure``), so parallel
wrong passwords cannot lose counts.

Public names: ``FailureCount``, ``PasswordState``, ``user_by_username``, ``list_users``,
``password_state``, ``count_failure``, ``clear_failures``, ``locked_until``,
``set_password_hash``, ``delete_token``, ``delete_tokens_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, literal, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.models import ApiToken, User

__all__ = ["FailureCount", "PasswordState", "clear_failures", "count_failure", "delete_token",
           "delete_tokens_of", "list_users", "locked_until", "password_state",
           "set_password_hash", "user_by_username"]

_USER = User.__table__  # type: ignore[attr-defined]
_TOKEN = ApiToken.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class FailureCount:
    """What counting one failed password did: the count now, and the lock it set, if any."""

    failed_logins: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class PasswordState:
    """What checking a user's password needs, read fresh from the database."""

    password_hash: str
    active: bool
    locked_until: datetime | None


def user_by_username(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username)).first()


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.id))))


def password_state(session: Session, user_id: int) -> PasswordState | None:
    row = session.execute(core_select(_USER.c.password_hash, _USER.c.active,
                                      _USER.c.locked_until)
                          .where(_USER.c.id == user_id)).first()
    return None if row is None else PasswordState(*row)


def _not_locked(now: datetime) -> ColumnElement[bool]:
    return or_(_USER.c.locked_until.is_(None), _USER.c.locked_until <= now)


def count_failure(session: Session, user_id: int, now: datetime, *, limit: int,
                  lockout: timedelta) -> FailureCount | None:
    """Count one failed password for ``user_id`` in a single ``UPDATE ... RETURNING``; the
    ``limit``-th failure locks the account for ``lockout`` (and restarts the count). None when
    the account is locked already (nothing counted).

    The database serialises concurrent updates of the row (PostgreSQL's row lock, SQLite's
    write lock) and each sees the count the previous one left, so parallel failures cannot
    overwrite each other's count.
    """
    reaching = _USER.c.failed_logins + 1 >= limit
    until = literal(now + lockout, _USER.c.locked_until.type)
    row = session.execute(
        update(_USER)
        .where(_USER.c.id == user_id, _not_locked(now))
        .values(failed_logins=case((reaching, 0), else_=_USER.c.failed_logins + 1),
                locked_until=case((reaching, until), else_=_USER.c.locked_until))
        .returning(_USER.c.failed_logins, _USER.c.locked_until)).first()
    if row is None:
        return None
    failed, until_now = row
    return FailureCount(int(failed), until_now if until_now is not None and until_now > now
                        else None)


def clear_failures(session: Session, user_id: int, now: datetime) -> bool:
    """Reset the failure count after a right password; False if the account is locked."""
    row = session.execute(
        update(_USER).where(_USER.c.id == user_id, _not_locked(now))
        .values(failed_logins=0, locked_until=None).returning(_USER.c.id)).first()
    return row is not None


def locked_until(session: Session, user_id: int) -> datetime | None:
    return session.execute(core_select(_USER.c.locked_until)
                           .where(_USER.c.id == user_id)).scalar_one_or_none()


def set_password_hash(session: Session, user_id: int, password_hash: str) -> None:
    session.execute(update(_USER).where(_USER.c.id == user_id)
                    .values(password_hash=password_hash))


def delete_token(session: Session, digest: str) -> None:
    """Forget one token (by its SHA-256): it signs nothing in any more."""
    session.execute(delete(_TOKEN).where(_TOKEN.c.token_sha256 == digest))


def delete_tokens_of(session: Session, user_id: int, *, keep: str | None = None) -> None:
    """Forget every token of a user but ``keep`` (a SHA-256)."""
    query = delete(_TOKEN).where(_TOKEN.c.user_id == user_id)
    if keep is not None:
        query = query.where(_TOKEN.c.token_sha256 != keep)
    session.execute(query)
