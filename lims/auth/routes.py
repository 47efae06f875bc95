"""Routes: sign in, sign out, who am I, users (admin: list, add, deactivate, unlock).

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from lims.audit import Actor, record
from lims.auth import service
from lims.auth.schemas import LoginIn, TokenOut, UserCreate, UserPublic
from lims.deps import CurrentUser, PathId, SessionDep, bearer, committed, require, token_cache
from lims.errors import AuthenticationError, ThrottledError
from lims.models import User
from lims.tokens import revoke_tokens, token_digest
from lims.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["auth"])
Admin = Annotated[User, Depends(require(Role.admin))]


@router.post("/auth/login", response_model=TokenOut,
             responses={401: {"description": "wrong credentials"},
                        429: {"description": "too many failures"}})
def login(body: LoginIn, request: Request, session: SessionDep) -> TokenOut:
    """Exchange username and password for a bearer token."""
    client = request.client.host if request.client is not None else None
    try:
        user = service.authenticate(session, body.username, body.password, client=client)
    except (AuthenticationError, ThrottledError):
        session.commit()  # keep the failure count and the audit event
        raise
    token = service.issue_token(session, user)
    session.commit()
    return TokenOut(access_token=token, role=Role(user.role), username=user.username)


@router.post("/auth/logout", status_code=204, responses={401: {"description": "not signed in"}})
def logout(request: Request, session: SessionDep, user: CurrentUser,
           credentials: Annotated[HTTPAuthorizationCredentials | None,
                                  Depends(bearer)]) -> Response:
    """Revoke the token this request was signed with."""
    assert credentials is not None  # CurrentUser checked it
    digest = token_digest(credentials.credentials)
    revoke_tokens(session, digest=digest)
    record(session, Actor.of(user), "logout", "user", user.id)
    session.commit()
    token_cache(request.app).forget(digest)
    return Response(status_code=204)


@router.get("/auth/me", response_model=UserPublic)
def me(user: CurrentUser) -> User:
    """The signed-in user."""
    return user


@router.get("/users", response_model=list[UserPublic])
def list_users(session: SessionDep, _user: Admin) -> list[User]:
    """Every user (admin)."""
    return service.list_users(session)


@router.post("/users/{user_id}/deactivate", response_model=UserPublic,
             responses={404: {"description": "no such user"}})
def deactivate_user(user_id: PathId, request: Request, session: SessionDep,
                    admin: Admin) -> User:
    """Deactivate a user (admin): it can no longer sign in or sign, its tokens are revoked."""
    user = service.user_by_id(session, user_id)
    revoked = service.deactivate(session, Actor.of(admin), user)
    session.commit()
    cache = token_cache(request.app)
    for digest in revoked:
        cache.forget(digest)
    return user


@router.post("/users/{user_id}/unlock", response_model=UserPublic,
             responses={404: {"description": "no such user"}})
def unlock_user(user_id: PathId, session: SessionDep, admin: Admin) -> User:
    """Clear a user's lock after failed sign-ins or signatures (admin), so it can sign again."""
    user = service.user_by_id(session, user_id)
    service.unlock(session, Actor.of(admin), user)
    session.commit()
    return user


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, session: SessionDep, user: Admin) -> User:
    """Add a user (admin)."""
    return committed(session, service.create_user(session, Actor.of(user), **body.model_dump()))
