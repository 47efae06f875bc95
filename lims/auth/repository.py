"""Queries of users and their sign-in state.

Failures are counted by one atomic ``UPDATE ... RETURNING`` (``count_failure``), so parallel
wrong passwords cannot lose counts.

Public names: ``FailureCount``, ``PasswordState``, ``user_by_username``, ``list_users``,
``password_state``, ``count_failure``, ``clear_failures``, ``locked_until``,
``set_password_hash``, ``throttle_lock``, ``count_throttled``, ``clear_throttle`` (per
client, per unknown username).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, delete, literal, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from lims.models import LoginThrottle, User

__all__ = ["FailureCount", "PasswordState", "clear_failures", "clear_throttle", "count_failure",
           "count_throttled", "list_users", "locked_until",
           "password_state", "set_password_hash", "throttle_lock", "user_by_username"]

_USER = User.__table__  # type: ignore[attr-defined]
_THROTTLE = LoginThrottle.__table__  # type: ignore[attr-defined]


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


def throttle_lock(session: Session, scope: str, key: str, now: datetime) -> datetime | None:
    """Until when ``scope``/``key`` (a client address, an unknown username) is locked, if it
    is now."""
    until = session.execute(core_select(_THROTTLE.c.locked_until).where(
        _THROTTLE.c.scope == scope, _THROTTLE.c.key == key)).scalar_one_or_none()
    return until if until is not None and until > now else None


def count_throttled(session: Session, scope: str, key: str, now: datetime, *, limit: int,
                    lockout: timedelta) -> FailureCount | None:
    """Count one failure of ``scope``/``key`` in one upsert (``INSERT ... ON CONFLICT DO
    UPDATE ... RETURNING``): the count restarts when its window (``lockout``) is over, and the
    ``limit``-th failure within it locks the key for ``lockout``. None when the key is locked
    already (nothing counted)."""
    until = literal(now + lockout, _THROTTLE.c.locked_until.type)
    floor = literal(now - lockout, _THROTTLE.c.window_started.type)
    fresh = _THROTTLE.c.window_started > floor
    reaching = and_(fresh, _THROTTLE.c.failures + 1 >= limit)
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = make(_THROTTLE).values(
        scope=scope, key=key, failures=0 if limit <= 1 else 1, window_started=now,
        locked_until=now + lockout if limit <= 1 else None)
    statement = statement.on_conflict_do_update(
        index_elements=["scope", "key"],
        set_={"failures": case((reaching, 0), (fresh, _THROTTLE.c.failures + 1), else_=1),
              "window_started": case((fresh, _THROTTLE.c.window_started), else_=now),
              "locked_until": case((reaching, until), else_=None)},
        where=or_(_THROTTLE.c.locked_until.is_(None), _THROTTLE.c.locked_until <= now))
    row = session.execute(statement.returning(_THROTTLE.c.failures,
                                              _THROTTLE.c.locked_until)).first()
    if row is None:
        return None
    failed, locked = row
    return FailureCount(int(failed), locked if locked is not None and locked > now else None)


def clear_throttle(session: Session, scope: str, key: str) -> None:
    session.execute(delete(_THROTTLE).where(_THROTTLE.c.scope == scope,
                                            _THROTTLE.c.key == key))


def locked_until(session: Session, user_id: int) -> datetime | None:
    return session.execute(core_select(_USER.c.locked_until)
                           .where(_USER.c.id == user_id)).scalar_one_or_none()


def set_password_hash(session: Session, user_id: int, password_hash: str) -> None:
    session.execute(update(_USER).where(_USER.c.id == user_id)
                    .values(password_hash=password_hash))


