"""Request and response models of sign-in and users.

Public names: ``LoginIn``, ``TokenOut``, ``UserCreate``, ``UserPublic``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from lims.models import DbId, FromAttributes, RequestBody
from lims.vocabulary import Role

__all__ = ["LoginIn", "TokenOut", "UserCreate", "UserPublic"]

class LoginIn(RequestBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: Role
    username: str


class UserCreate(RequestBody):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=256)
    submitter_id: DbId | None = None


class UserPublic(FromAttributes):
    id: int
    username: str
    full_name: str
    role: Role
    submitter_id: DbId | None
    active: bool
