"""The LIMS data model (SQLModel tables).

Public names: ``SystemInfo``.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel

__all__ = ["SystemInfo"]


class SystemInfo(SQLModel, table=True):
    """Key/value facts about this database (schema version, when demo data was loaded)."""

    __tablename__ = "system_info"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=512)
