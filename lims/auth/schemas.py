"""Request and response models of sign-in and users.

Public names: ``LoginIn``, ``TokenOut``, ``UserCreate``, ``UserPublic``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from lims.models import DbId
from lims.vocabulary import Role

__all__ = ["LoginIn", "TokenOut", "UserCreate", "UserPublic"]

class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    role: Role
    username: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    role: Role
    password: str = Field(min_length=10, max_length=256)
    submitter_id: DbId | None = None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    username: str
    full_name: str
    role: Role
    submitter_id: DbId | None
    active: bool
