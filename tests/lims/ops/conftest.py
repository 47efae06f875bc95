"""Fixtures for the operations tests: an empty database of the test's own on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def own_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database no other test uses: a SQLite file (not created yet), then a fresh
    PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'nbs.db'}"
    url: str = request.getfixturevalue("postgres_own_schema_url")
    return url
