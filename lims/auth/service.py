"""Users, Argon2 password hashing, sign-in throttling and bearer tokens.

A user who fails to sign in, or to re-enter the password that signs a release,
``MAX_FAILED_LOGINS`` times in a row is locked for ``LOCKOUT_MINUTES``; the lock raises
``ThrottledError`` (HTTP 429) even with the right password. Signing in and signing a release
check the password the same way (``_check_password``): a locked account is refused, a wrong
password is counted atomically (``repository.count_failure``), a right one clears the count,
and every refusal is audited. Tokens are random; only their SHA-256 is stored
(``lims.tokens``).

Public names: ``hash_password``, ``verify_password``, ``create_user``, ``authenticate``,
``confirm_password``, ``issue_token``, ``revoke_token``, ``change_password``, ``list_users``,
``user_named``, ``reset_password``, ``deactivate``, ``unlock``, ``MAX_FAILED_LOGINS``,
``LOCKOUT_MINUTES``, ``MIN_PASSWORD_LENGTH``, ``AUTH_REFUSALS``.

A refusal a person meets (a wrong password, a lock, a password too short) is written with a
phrase of ``AUTH_REFUSALS`` (``msms.phrases``), so that the pages show it in their language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from lims.audit import Actor, record, snapshot, store
from lims.auth import repository
from lims.auth.repository import FailureCount, PasswordState
from lims.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    ThrottledError,
    found,
)
from lims.models import ApiToken, Submitter, User, utcnow
from lims.tokens import new_token, revoke_tokens, token_digest
from lims.vocabulary import Role
from msms.phrases import Phrasebook

__all__ = [
    "AUTH_REFUSALS",
    "CLIENT_MAX_FAILURES",
    "LOCKOUT_MINUTES",
    "MAX_FAILED_LOGINS",
    "MIN_PASSWORD_LENGTH",
    "authenticate",
    "change_password",
    "confirm_password",
    "create_user",
    "deactivate",
    "hash_password",
    "issue_token",
    "list_users",
    "reset_password",
    "revoke_token",
    "unlock",
    "user_named",
    "verify_password",
]

MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
#: Wrong passwords from one client address (any usernames) within ``LOCKOUT_MINUTES`` that
#: lock the address out of signing in for ``LOCKOUT_MINUTES``.
CLIENT_MAX_FAILURES = 50
MIN_PASSWORD_LENGTH = 10

#: Why a sign-in, a password change or a signature was refused.
AUTH_REFUSALS = Phrasebook((
    ("wrong_sign_in", "wrong username or password"),
    ("wrong_current", "the current password is wrong"),
    ("wrong_signature", "the password given to sign this release is wrong"),
    ("locked_sign_ins", "too many failed sign-ins; try again in {wait} s"),
    ("locked_entries", "too many failed password entries; try again in {wait} s"),
    ("disabled", "this account is disabled"),
    ("too_short", "at least {n} characters"),
    ("same_password", "the new password is the current one"),
), fields={"wait": r"\d+", "n": r"\d+"})

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


def create_user(session: Session, actor: Actor, *, username: str, password: str, role: str,
                full_name: str, submitter_id: int | None = None) -> User:
    """Add a user; a submitter user must name its submitter."""
    if role not in tuple(Role):
        raise InvalidInputError(f"unknown role {role!r}; one of {', '.join(Role)}",
                                field="role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(AUTH_REFUSALS.text("too_short", n=MIN_PASSWORD_LENGTH),
                                field="password")
    if role == Role.submitter and submitter_id is None:
        raise InvalidInputError("a submitter user needs submitter_id", field="submitter_id")
    if submitter_id is not None and session.get(Submitter, submitter_id) is None:
        raise NotFoundError(f"submitter {submitter_id} does not exist")
    if repository.user_by_username(session, username) is not None:
        raise ConflictError(f"user {username!r} already exists")
    user = User(username=username, full_name=full_name, role=role,
                password_hash=hash_password(password), submitter_id=submitter_id)
    return store(session, actor, "create", "user", user)


def user_by_id(session: Session, user_id: int) -> User:
    """The user with this id (NotFoundError otherwise)."""
    return found(session.get(User, user_id), f"user {user_id}")


def user_named(session: Session, username: str) -> User:
    """The user called ``username`` (NotFoundError otherwise)."""
    user = repository.user_by_username(session, username)
    if user is None:
        raise NotFoundError(f"no user {username!r}")
    return user


def reset_password(session: Session, actor: Actor, username: str, password: str) -> list[str]:
    """Give ``username`` a new password, clear its failed sign-ins and lock, and revoke its
    tokens (audited ``reset_password``); the revoked tokens' digests."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(AUTH_REFUSALS.text("too_short", n=MIN_PASSWORD_LENGTH),
                                field="password")
    user = user_named(session, username)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.flush()
    assert user.id is not None
    revoked = revoke_tokens(session, user_id=user.id)
    record(session, actor, "reset_password", "user", user.id,
           after={"tokens_revoked": len(revoked)})
    return revoked


def deactivate(session: Session, actor: Actor, user: User) -> list[str]:
    """Deactivate ``user`` (it can no longer sign in or sign) and revoke its tokens (audited
    ``deactivate``); the revoked tokens' digests."""
    assert user.id is not None
    before = snapshot(user)
    user.active = False
    session.add(user)
    session.flush()
    revoked = revoke_tokens(session, user_id=user.id)
    record(session, actor, "deactivate", "user", user.id, before=before,
           after={**snapshot(user), "tokens_revoked": len(revoked)})  # type: ignore[dict-item]
    return revoked


def unlock(session: Session, actor: Actor, user: User) -> None:
    """Clear ``user``'s failed sign-ins and lock, so it can sign in and sign again (audited
    ``unlock``, with the lock it cleared)."""
    assert user.id is not None
    before = {"failed_logins": user.failed_logins,
              "locked_until": user.locked_until.isoformat() if user.locked_until else None}
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    session.flush()
    repository.clear_throttle(session, "account", user.username)
    record(session, actor, "unlock", "user", user.id, before=before)


def list_users(session: Session) -> list[User]:
    """Every user, in the order they were added."""
    return repository.list_users(session)


@dataclass(frozen=True, slots=True)
class _Attempt:
    """What a password is entered for: the audit actions and messages of its refusals."""

    refused: str
    failed: str
    what: str  # the AUTH_REFUSALS phrase of a lock
    wrong: str  # the AUTH_REFUSALS phrase of a wrong password


_SIGN_IN = _Attempt("login_refused_locked", "login_failed", "locked_sign_ins", "wrong_sign_in")
_CHANGE = _Attempt("password_change_refused_locked", "password_change_failed",
                   "locked_entries", "wrong_current")
_SIGNATURE = _Attempt("signature_refused_locked", "signature_failed", "locked_entries",
                      "wrong_signature")


def _throttled(locked_until: datetime | None, now: datetime, what: str) -> ThrottledError:
    wait = 1 if locked_until is None else max(1, math.ceil((locked_until - now).total_seconds()))
    return ThrottledError(AUTH_REFUSALS.text(what, wait=wait), wait)


def _failure_audit(count: FailureCount) -> dict[str, Any]:
    after: dict[str, Any] = {"failed_logins": count.failed_logins}
    if count.locked_until is not None:
        after["locked_until"] = count.locked_until.isoformat()
    return after


def _check_password(session: Session, user: User, state: PasswordState, password: str | None,
                    attempt: _Attempt) -> None:
    """Refuse a locked account; count a wrong password (the ``MAX_FAILED_LOGINS``-th locks the
    account) or clear the count after a right one. Each refusal is audited in ``session``."""
    assert user.id is not None
    now, actor = utcnow(), Actor.of(user)
    if state.locked_until is not None and state.locked_until > now:
        record(session, actor, attempt.refused, "user", user.id)
        raise _throttled(state.locked_until, now, attempt.what)
    if password and verify_password(state.password_hash, password):
        if not repository.clear_failures(session, user.id, now):  # locked meanwhile
            raise _throttled(repository.locked_until(session, user.id), now, attempt.what)
        return
    count = repository.count_failure(session, user.id, now, limit=MAX_FAILED_LOGINS,
                                     lockout=timedelta(minutes=LOCKOUT_MINUTES))
    if count is None:  # locked by a parallel failure while this password was checked
        record(session, actor, attempt.refused, "user", user.id)
        raise _throttled(repository.locked_until(session, user.id), now, attempt.what)
    record(session, actor, attempt.failed, "user", user.id, after=_failure_audit(count))
    raise AuthenticationError(AUTH_REFUSALS.text(attempt.wrong))


def authenticate(session: Session, username: str, password: str, *,
                 client: str | None = None) -> User:
    """The active user with these credentials; counts failures and locks after too many.

    Parallel wrong passwords lock the account after ``MAX_FAILED_LOGINS`` of them: the others
    get ``ThrottledError``. A username that is no active user is counted and locked the same
    way (``login_throttle``), so the answers do not tell who exists. Every wrong password from
    ``client`` (its address) is counted too, whichever username it names: the
    ``CLIENT_MAX_FAILURES``-th within ``LOCKOUT_MINUTES`` locks the client out of signing in
    for ``LOCKOUT_MINUTES``. The caller commits on failure too, so the counts and the audit
    events are kept.
    """
    now, lockout = utcnow(), timedelta(minutes=LOCKOUT_MINUTES)
    if client is not None:
        client_lock = repository.throttle_lock(session, "client", client, now)
        if client_lock is not None:
            _record_unknown(session, username, "login_refused_locked", client)
            raise _throttled(client_lock, now, _SIGN_IN.what)
    user = repository.user_by_username(session, username)
    try:
        if user is None or not user.active:
            _unknown_user(session, username, password, client, now)
        state = PasswordState(user.password_hash, user.active, user.locked_until)
        _check_password(session, user, state, password, _SIGN_IN)
    except AuthenticationError:
        if client is not None:
            repository.count_throttled(session, "client", client, now,
                                       limit=CLIENT_MAX_FAILURES, lockout=lockout)
        raise
    set_committed_value(user, "failed_logins", 0)
    set_committed_value(user, "locked_until", None)
    record(session, Actor.of(user), "login", "user", user.id)
    return user


def _record_unknown(session: Session, username: str, action: str, client: str | None) -> None:
    record(session, Actor(None, username[:64] or "?", ""), action, "login", username[:64],
           after={"client": client})


def _unknown_user(session: Session, username: str, password: str, client: str | None,
                  now: datetime) -> NoReturn:
    """Answer a username that is no active user as a known one with a wrong password is
    answered: counted, locked after ``MAX_FAILED_LOGINS``, refused while locked."""
    verify_password(_DUMMY_HASH, password)
    count = repository.count_throttled(session, "account", username, now,
                                       limit=MAX_FAILED_LOGINS,
                                       lockout=timedelta(minutes=LOCKOUT_MINUTES))
    if count is None:
        _record_unknown(session, username, _SIGN_IN.refused, client)
        raise _throttled(repository.throttle_lock(session, "account", username, now), now,
                         _SIGN_IN.what)
    _record_unknown(session, username, _SIGN_IN.failed, client)
    raise AuthenticationError(AUTH_REFUSALS.text(_SIGN_IN.wrong))


def confirm_password(user: User, password: str | None, bind: Engine | Connection) -> None:
    """Re-check the signed-in user's password before a signature (release).

    Checked as a sign-in is (the same ``MAX_FAILED_LOGINS`` and ``LOCKOUT_MINUTES``); the count
    and its audit event are committed in a transaction of their own on ``bind``, so they stay
    when the refused request is rolled back.
    """
    assert user.id is not None
    with Session(bind) as session:
        state = repository.password_state(session, user.id)
        if state is None or not state.active:
            raise AuthenticationError(AUTH_REFUSALS.text("disabled"))
        try:
            _check_password(session, user, state, password, _SIGNATURE)
        finally:
            session.commit()


def issue_token(session: Session, user: User) -> str:
    """A new bearer token for ``user`` (``lims.tokens.TOKEN_HOURS``)."""
    assert user.id is not None
    token, digest, expires_at = new_token()
    session.add(ApiToken(token_sha256=digest, user_id=user.id, expires_at=expires_at))
    return token


def revoke_token(session: Session, user: User, token: str) -> None:
    """Sign out: the token stops working at once (audited)."""
    revoke_tokens(session, digest=token_digest(token))
    record(session, Actor.of(user), "logout", "user", user.id)


def change_password(session: Session, user: User, *, current: str, new: str,
                    keep_token: str | None = None) -> None:
    """Replace the user's password after checking the current one (a wrong one counts as a
    failed sign-in); every other token of the user stops working (``keep_token`` stays)."""
    assert user.id is not None
    state = repository.password_state(session, user.id)
    if state is None or not state.active:
        raise AuthenticationError(AUTH_REFUSALS.text("disabled"))
    _check_password(session, user, state, current, _CHANGE)
    if len(new) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(AUTH_REFUSALS.text("too_short", n=MIN_PASSWORD_LENGTH),
                                field="new_password")
    if new == current:
        raise InvalidInputError(AUTH_REFUSALS.text("same_password"), field="new_password")
    repository.set_password_hash(session, user.id, hash_password(new))
    revoke_tokens(session, user_id=user.id,
                  keep=token_digest(keep_token) if keep_token else None)
    record(session, Actor.of(user), "password_change", "user", user.id)
