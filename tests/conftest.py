"""Shared fixtures: real databases (a SQLite file and a schema on the PostgreSQL server), paths to
the shared reference material and test data.

``NBS_TEST_POSTGRES_URL`` names the PostgreSQL server (default: the machine's own, database
``test``). Each test session works in a schema of its own, dropped at the end, so parallel runs do
not collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.file_order import heaviest_first

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared"

POSTGRES_URL = os.environ.get(
    "NBS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heaviest test files first (see ``tests/file_order.py``)."""
    heaviest_first(items)


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """A URL whose connections use a new, empty schema, dropped afterwards."""
    schema = f"nbs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema on the PostgreSQL server (one per test
    session)."""
    with fresh_postgres_schema() as url:
        yield url


@pytest.fixture
def postgres_own_schema_url() -> Iterator[str]:
    """Like ``postgres_schema_url``, but a schema of the test's own."""
    with fresh_postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs twice: on a SQLite file and on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nbs.db'}"
    return request.getfixturevalue("postgres_schema_url")
