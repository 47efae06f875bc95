"""Request dependencies every route may use: a database session, the signed-in user, role
checks, the screening pipeline.

The chain is lean: the session is opened without touching the database, the signed-in user
comes from a short-lived in-process cache keyed by the token's SHA-256 (``TokenCache``; one
query joining token and user on a miss, run off the event loop), and role checks are plain
comparisons, so a request crosses to a worker thread only for its own work.

Public names: ``bearer``, ``get_session``, ``SessionDep``, ``committed``, ``PathId``,
``user_for_token``, ``current_user``, ``CurrentUser``,
``require``, ``get_pipeline``, ``PipelineDep``, ``TokenCache``, ``token_cache``,
``known_query``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lims.errors import AuthenticationError, PermissionDeniedError
from lims.models import MAX_ID, User
from lims.pipeline import Screening
from lims.tokens import token_digest, user_for_token_digest
from lims.vocabulary import Role

__all__ = [
    "CurrentUser",
    "bearer",
    "committed",
    "PathId",
    "PipelineDep",
    "SessionDep",
    "TokenCache",
    "current_user",
    "get_pipeline",
    "get_session",
    "known_query",
    "require",
    "token_cache",
    "user_for_token",
]

bearer = HTTPBearer(auto_error=False, description="the token from POST /api/v1/auth/login")


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session on the app's engine; routes commit explicitly, anything else is rolled back.

    Opening a session does not touch the database, so this runs on the event loop.
    """
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
T = TypeVar("T")


def committed(session: Session, value: T) -> T:
    """``value``, once ``session`` is committed: a route's answer after its work is stored."""
    session.commit()
    return value


#: An id in a URL path.
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route declares, its dependencies' included."""
    return frozenset(field.alias for d in _dependants(dependant) for field in d.query_params)


def known_query(request: Request) -> None:
    """Refuse a query parameter the route does not declare (422, naming it, in FastAPI's
    validation body): a mistyped or unsupported filter (``/specimens?barcod=...``) would
    otherwise be ignored and the whole list answered as if it had matched."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = [name for name in dict.fromkeys(request.query_params) if name not in known]
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise RequestValidationError([
            {"type": "extra_forbidden", "loc": ("query", name),
             "msg": f"unknown query parameter {name!r}; this request takes: {takes}",
             "input": request.query_params[name]} for name in unknown])


class TokenCache:
    """Signed-in users by token SHA-256, each kept ``ttl_s`` seconds (and never past the
    token's expiry); ``forget`` and ``clear`` drop entries when a token or user changes."""

    def __init__(self, ttl_s: float = 5.0) -> None:
        self.ttl_s = ttl_s
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> User | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            with self._lock:
                self._entries.pop(digest, None)
            return None
        return User(**entry[1])

    def put(self, digest: str, user: User, *, token_valid_s: float) -> None:
        until = time.monotonic() + min(self.ttl_s, max(token_valid_s, 0.0))
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (until, user.model_dump())

    def forget(self, digest: str) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def token_cache(app: FastAPI) -> TokenCache:
    """The app's token cache (created on first use)."""
    cache: TokenCache | None = getattr(app.state, "token_cache", None)
    if cache is None:
        cache = app.state.token_cache = TokenCache()
    return cache


def _look_up(engine: Engine, digest: str) -> tuple[User, float]:
    with Session(engine) as session:
        return user_for_token_digest(session, digest)


async def user_for_token(app: FastAPI, token: str) -> User:
    """The user ``token`` signs in (the API's bearer token, the pages' session cookie): from
    the app's token cache, else the database (``AuthenticationError`` if none)."""
    digest = token_digest(token)
    cache = token_cache(app)
    cached = cache.get(digest)
    if cached is not None:
        return cached
    user, valid_s = await run_in_threadpool(_look_up, app.state.engine, digest)
    cache.put(digest, user, token_valid_s=valid_s)
    return user


async def current_user(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("sign in first: Authorization: Bearer <token>")
    return await user_for_token(request.app, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Callable[[User], Coroutine[Any, Any, User]]:
    """A dependency that lets only ``roles`` through (HTTP 403 otherwise)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise PermissionDeniedError(f"role {user.role} may not do this; needs "
                                        f"{' or '.join(roles)}")
        return user

    return check


def get_pipeline(request: Request) -> Screening:
    """The app's screening pipeline (``lims.app.create_app``)."""
    pipeline: Screening = request.app.state.pipeline
    return pipeline


PipelineDep = Annotated[Screening, Depends(get_pipeline)]
