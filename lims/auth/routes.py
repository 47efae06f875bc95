"""Routes: sign in, who am I, users (admin).

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from lims.audit import Actor
from lims.auth import service
from lims.auth.schemas import LoginIn, TokenOut, UserCreate, UserPublic
from lims.deps import CurrentUser, SessionDep, require
from lims.errors import AuthenticationError, ThrottledError
from lims.models import User
from lims.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["auth"])
Admin = Annotated[User, Depends(require(Role.admin))]


@router.post("/auth/login", response_model=TokenOut,
             responses={401: {"description": "wrong credentials"},
                        429: {"description": "too many failures"}})
def login(body: LoginIn, session: SessionDep) -> TokenOut:
    """Exchange username and password for a bearer token."""
    try:
        user = service.authenticate(session, body.username, body.password)
    except (AuthenticationError, ThrottledError):
        session.commit()  # keep the failure count and the audit event
        raise
    token = service.issue_token(session, user)
    session.commit()
    return TokenOut(access_token=token, role=Role(user.role), username=user.username)


@router.get("/auth/me", response_model=UserPublic)
def me(user: CurrentUser) -> User:
    """The signed-in user."""
    return user


@router.get("/users", response_model=list[UserPublic])
def list_users(session: SessionDep, _user: Admin) -> list[User]:
    """Every user (admin)."""
    return service.list_users(session)


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, session: SessionDep, user: Admin) -> User:
    """Add a user (admin)."""
    created = service.create_user(session, Actor.of(user), **body.model_dump())
    session.commit()
    return created
