"""Request dependencies: a database session, the signed-in user, role checks.

Public names: ``get_session``, ``SessionDep``, ``PathId``, ``current_user``, ``CurrentUser``,
``require``, ``actor``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from lims.audit import Actor
from lims.auth.service import actor_for_token, actor_of
from lims.errors import AuthenticationError, PermissionDeniedError
from lims.models import MAX_ID, User

__all__ = ["CurrentUser", "PathId", "SessionDep", "actor", "current_user", "get_session", "require"]

_bearer = HTTPBearer(auto_error=False, description="the token from POST /api/v1/auth/login")


def get_session(request: Request) -> Iterator[Session]:
    """A session on the app's engine; routes commit explicitly, anything else is rolled back."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
#: An id in a URL path.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def current_user(session: SessionDep, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("sign in first: Authorization: Bearer <token>")
    return actor_for_token(session, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: str) -> Callable[[User], User]:
    """A dependency that lets only ``roles`` through (HTTP 403 otherwise)."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise PermissionDeniedError(f"role {user.role} may not do this; needs "
                                        f"{' or '.join(roles)}")
        return user

    return check


def actor(user: User) -> Actor:
    return actor_of(user)
