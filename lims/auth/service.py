"""Users, Argon2 password hashing, sign-in throttling and bearer tokens.

A user who fails to sign in, or to re-enter the password that signs a release,
``MAX_FAILED_LOGINS`` times in a row is locked for ``LOCKOUT_MINUTES``; the lock raises
``ThrottledError`` (HTTP 429) even with the right password. Failures are counted by one atomic
``UPDATE ... RETURNING`` (``count_failure``), so parallel attempts cannot lose counts.
Tokens are random; only their SHA-256 is stored.

Public names: ``hash_password``, ``verify_password``, ``create_user``, ``authenticate``,
``issue_token``, ``actor_for_token``, ``user_for_token_digest``, ``token_digest``,
``confirm_password``, ``count_failure``, ``FailureCount``,
``actor_of``, ``MAX_FAILED_LOGINS``, ``LOCKOUT_MINUTES``, ``TOKEN_HOURS``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, case, literal, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from lims.audit import Actor, record, snapshot
from lims.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ThrottledError,
)
from lims.models import ROLES, ApiToken, Submitter, User, utcnow

__all__ = [
    "LOCKOUT_MINUTES",
    "MAX_FAILED_LOGINS",
    "TOKEN_HOURS",
    "FailureCount",
    "actor_for_token",
    "actor_of",
    "authenticate",
    "confirm_password",
    "count_failure",
    "create_user",
    "hash_password",
    "issue_token",
    "token_digest",
    "user_for_token_digest",
    "verify_password",
]

MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
TOKEN_HOURS = 12
MIN_PASSWORD_LENGTH = 10

_USER = User.__table__  # type: ignore[attr-defined]
_HASHER = PasswordHasher()
#: Verified against when the user does not exist, so timing does not reveal valid usernames.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if ``password`` matches ``password_hash``."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def actor_of(user: User) -> Actor:
    """The audit identity of a user."""
    assert user.id is not None
    return Actor(user.id, user.username, user.role, user.submitter_id)


def create_user(session: Session, actor: Actor, *, username: str, password: str, role: str,
                full_name: str, submitter_id: int | None = None) -> User:
    """Add a user; a submitter user must name its submitter."""
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}; one of {', '.join(ROLES)}", field="role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(f"at least {MIN_PASSWORD_LENGTH} characters", field="password")
    if role == "submitter" and submitter_id is None:
        raise InvalidInputError("a submitter user needs submitter_id", field="submitter_id")
    if submitter_id is not None and session.get(Submitter, submitter_id) is None:
        raise NotFoundError(f"submitter {submitter_id} does not exist")
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise ConflictError(f"user {username!r} already exists")
    user = User(username=username, full_name=full_name, role=role,
                password_hash=hash_password(password), submitter_id=submitter_id)
    session.add(user)
    session.flush()
    record(session, actor, "create", "user", user.id, after=snapshot(user))
    return user


def _not_locked(now: datetime) -> ColumnElement[bool]:
    return or_(_USER.c.locked_until.is_(None), _USER.c.locked_until <= now)


@dataclass(frozen=True, slots=True)
class FailureCount:
    """What counting one failed password did: the count now, and the lock it set, if any."""

    failed_logins: int
    locked_until: datetime | None


def count_failure(session: Session, user_id: int, now: datetime) -> FailureCount | None:
    """Count one failed password for ``user_id`` in a single ``UPDATE ... RETURNING``; the
    ``MAX_FAILED_LOGINS``-th failure locks the account for ``LOCKOUT_MINUTES`` (and restarts
    the count). None when the account is locked already (nothing counted).

    The database serialises concurrent updates of the row (PostgreSQL's row lock, SQLite's
    write lock) and each sees the count the previous one left, so parallel failures cannot
    overwrite each other's count.
    """
    reaching = _USER.c.failed_logins + 1 >= MAX_FAILED_LOGINS
    until = literal(now + timedelta(minutes=LOCKOUT_MINUTES), _USER.c.locked_until.type)
    row = session.execute(
        update(_USER)
        .where(_USER.c.id == user_id, _not_locked(now))
        .values(failed_logins=case((reaching, 0), else_=_USER.c.failed_logins + 1),
                locked_until=case((reaching, until), else_=_USER.c.locked_until))
        .returning(_USER.c.failed_logins, _USER.c.locked_until)).first()
    if row is None:
        return None
    failed, locked_until = row
    locked = locked_until if locked_until is not None and locked_until > now else None
    return FailureCount(int(failed), locked)


def _clear_failures(session: Session, user_id: int, now: datetime) -> bool:
    """Reset the failure count after a right password; False if the account is locked."""
    row = session.execute(
        update(_USER).where(_USER.c.id == user_id, _not_locked(now))
        .values(failed_logins=0, locked_until=None).returning(_USER.c.id)).first()
    return row is not None


def _throttled(locked_until: datetime | None, now: datetime, what: str) -> ThrottledError:
    wait = 1 if locked_until is None else max(1, math.ceil((locked_until - now).total_seconds()))
    return ThrottledError(f"too many failed {what}; try again in {wait} s", wait)


def _locked_until(session: Session, user_id: int) -> datetime | None:
    return session.execute(core_select(_USER.c.locked_until)
                           .where(_USER.c.id == user_id)).scalar_one_or_none()


def _failure_audit(count: FailureCount) -> dict[str, Any]:
    after: dict[str, Any] = {"failed_logins": count.failed_logins}
    if count.locked_until is not None:
        after["locked_until"] = count.locked_until.isoformat()
    return after


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials; counts failures and locks after too many.

    The count is atomic (``count_failure``), so parallel wrong passwords lock the account
    after ``MAX_FAILED_LOGINS`` of them: the others get ``ThrottledError``. The caller commits
    on failure too, so the count and the audit event are kept.
    """
    user = session.exec(select(User).where(User.username == username)).first()
    now = utcnow()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        raise AuthenticationError("wrong username or password")
    assert user.id is not None
    if user.locked_until is not None and user.locked_until > now:
        record(session, actor_of(user), "login_refused_locked", "user", user.id)
        raise _throttled(user.locked_until, now, "sign-ins")
    if not verify_password(user.password_hash, password):
        count = count_failure(session, user.id, now)
        if count is None:  # locked by a parallel failure while this password was checked
            record(session, actor_of(user), "login_refused_locked", "user", user.id)
            raise _throttled(_locked_until(session, user.id), now, "sign-ins")
        record(session, actor_of(user), "login_failed", "user", user.id,
               after=_failure_audit(count))
        raise AuthenticationError("wrong username or password")
    if not _clear_failures(session, user.id, now):
        raise _throttled(_locked_until(session, user.id), now, "sign-ins")
    set_committed_value(user, "failed_logins", 0)
    set_committed_value(user, "locked_until", None)
    record(session, actor_of(user), "login", "user", user.id)
    return user


def confirm_password(user: User, password: str | None, engine: Engine) -> None:
    """Re-check the signed-in user's password before a signature (release).

    A wrong password counts as a failed sign-in (the same ``MAX_FAILED_LOGINS`` and
    ``LOCKOUT_MINUTES``); a locked account cannot sign (``ThrottledError``, HTTP 429). The
    count and its audit event are committed in ``engine`` in a transaction of their own, so
    they stay when the refused request is rolled back.
    """
    assert user.id is not None
    now = utcnow()
    with Session(engine) as session:
        row = session.execute(core_select(
            _USER.c.password_hash, _USER.c.active, _USER.c.failed_logins,
            _USER.c.locked_until).where(_USER.c.id == user.id)).first()
        if row is None or not row.active:
            raise AuthenticationError("this account is disabled")
        if row.locked_until is not None and row.locked_until > now:
            record(session, actor_of(user), "signature_refused_locked", "user", user.id)
            session.commit()
            raise _throttled(row.locked_until, now, "password entries")
        if password and verify_password(row.password_hash, password):
            if row.failed_logins:
                if not _clear_failures(session, user.id, now):
                    session.rollback()
                    raise _throttled(_locked_until(session, user.id), now, "password entries")
                session.commit()
            return
        count = count_failure(session, user.id, now)
        if count is None:
            record(session, actor_of(user), "signature_refused_locked", "user", user.id)
            session.commit()
            raise _throttled(_locked_until(session, user.id), now, "password entries")
        record(session, actor_of(user), "signature_failed", "user", user.id,
               after=_failure_audit(count))
        session.commit()
    raise AuthenticationError("the password given to sign this release is wrong")


def token_digest(token: str) -> str:
    """The SHA-256 of a bearer token (what the database stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


_digest = token_digest


def issue_token(session: Session, user: User) -> str:
    """A new bearer token for ``user``, valid ``TOKEN_HOURS``."""
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(token_sha256=_digest(token), user_id=user.id,
                         expires_at=utcnow() + timedelta(hours=TOKEN_HOURS)))
    return token


def user_for_token_digest(session: Session, digest: str) -> tuple[User, float]:
    """The user a valid, unexpired token (given by its SHA-256) belongs to, and how many
    seconds the token stays valid; one query over token and user."""
    row = session.exec(select(ApiToken.expires_at, User)
                       .join(User, col(User.id) == ApiToken.user_id)
                       .where(ApiToken.token_sha256 == digest)).first()
    now = utcnow()
    if row is None or row[0] <= now:
        raise AuthenticationError("missing, unknown or expired token; sign in again")
    expires_at, user = row
    if not user.active:
        raise AuthenticationError("this account is disabled")
    return user, (expires_at - now).total_seconds()


def actor_for_token(session: Session, token: str) -> User:
    """The user a valid, unexpired token belongs to."""
    return user_for_token_digest(session, token_digest(token))[0]
