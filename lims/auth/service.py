"""Users, Argon2 password hashing, sign-in throttling and bearer tokens.

A user who fails to sign in ``MAX_FAILED_LOGINS`` times in a row is locked for
``LOCKOUT_MINUTES``; the lock raises ``ThrottledError`` (HTTP 429) even with the right password.
Tokens are random; only their SHA-256 is stored.

Public names: ``hash_password``, ``verify_password``, ``create_user``, ``authenticate``,
``issue_token``, ``actor_for_token``, ``user_for_token_digest``, ``token_digest``,
``confirm_password``, ``actor_of``, ``MAX_FAILED_LOGINS``,
``LOCKOUT_MINUTES``, ``TOKEN_HOURS``.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
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
    "actor_for_token",
    "actor_of",
    "authenticate",
    "confirm_password",
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


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials; counts failures and locks after too many."""
    user = session.exec(select(User).where(User.username == username)).first()
    now = utcnow()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        raise AuthenticationError("wrong username or password")
    if user.locked_until is not None and user.locked_until > now:
        wait = math.ceil((user.locked_until - now).total_seconds())
        raise ThrottledError(f"too many failed sign-ins; try again in {wait} s", wait)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
            user.failed_logins = 0
        session.add(user)
        record(session, actor_of(user), "login_failed", "user", user.id)
        raise AuthenticationError("wrong username or password")
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    record(session, actor_of(user), "login", "user", user.id)
    return user


def confirm_password(user: User, password: str | None) -> None:
    """Re-check the signed-in user's password before a signature (release)."""
    if not password or not verify_password(user.password_hash, password):
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
