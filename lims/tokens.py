"""Bearer tokens: random, only their SHA-256 stored; the one query behind every signed-in
request (``user_for_token_digest``, used by ``lims.deps``).

Public names: ``TOKEN_HOURS``, ``new_token``, ``revoke_tokens``, ``token_digest``,
``user_for_token_digest``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from lims.errors import AuthenticationError
from lims.models import ApiToken, User, utcnow

__all__ = ["TOKEN_HOURS", "new_token", "revoke_tokens", "token_digest",
           "user_for_token_digest"]

#: How long a token issued at sign-in stays valid.
TOKEN_HOURS = 12


def token_digest(token: str) -> str:
    """The SHA-256 of a bearer token (what the database stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str, datetime]:
    """A new random token, its digest and when it expires (``TOKEN_HOURS`` from now)."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token), utcnow() + timedelta(hours=TOKEN_HOURS)


def revoke_tokens(session: Session, *, user_id: int | None = None, digest: str | None = None,
                  keep: str | None = None) -> list[str]:
    """Delete the tokens of ``user_id`` (all but the one whose digest is ``keep``), or the one
    token ``digest``; their digests (for the service's cache of signed-in users)."""
    table = ApiToken.__table__  # type: ignore[attr-defined]
    where = table.c.user_id == user_id if user_id is not None else table.c.token_sha256 == digest
    if keep is not None:
        where = where & (table.c.token_sha256 != keep)
    return list(session.execute(delete(table).where(where)
                                .returning(table.c.token_sha256)).scalars())


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
