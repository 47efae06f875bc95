"""Fixtures for the LIMS tests: a migrated database on SQLite and on PostgreSQL, an app client,
one user per role with a token.

SQLite: the schema is migrated once per session into a template file that each test copies.
PostgreSQL: the session's schema is migrated once; each test starts from emptied tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lims.app import create_app
from lims.auth.service import hash_password, issue_token
from lims.db import init_db, make_engine
from lims.models import ROLES, Submitter, User
from lims.service_role import APPEND_ONLY_TABLES
from lims.settings import Settings
from tests.lims.plates import CsvPipeline

PASSWORD = "correct-horse-battery"


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "nbs.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    init_db(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_schema_url: str) -> str:
    engine = make_engine(Settings(database_url=postgres_schema_url))
    init_db(engine)
    engine.dispose()
    return postgres_schema_url


@cache
def deletion_order(url: str) -> tuple[str, ...]:
    """The migrated schema's tables, each after every table it references (read once per
    session)."""
    engine = make_engine(Settings(database_url=url))
    metadata = MetaData()
    metadata.reflect(engine)
    engine.dispose()
    return tuple(t.name for t in reversed(metadata.sorted_tables) if t.name != "alembic_version")


def empty_all_tables(engine: Engine) -> None:
    """Return the PostgreSQL schema to its just-migrated state between tests: every table empty,
    every sequence back at its start.

    Only the tables a test wrote to are emptied (one query finds them), children first, with
    DELETE: a TRUNCATE of all forty tables costs about a second of the server's time per test.
    The tables' owner lifts the append-only triggers (migrations 0001, 0006) inside the
    transaction, as a DBA resetting a database would. Sequences are restarted with ``setval``,
    which does not create new files as ``RESTART IDENTITY`` does."""
    order = deletion_order(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        written = set(connection.execute(text(" UNION ALL ".join(
            f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in order))).scalars())
        locked = [t for t in APPEND_ONLY_TABLES if t in written]
        for table in locked:
            connection.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER {table}_append_only'))
        for table in order:
            if table in written:
                connection.execute(text(f'DELETE FROM "{table}"'))
        for table in locked:
            connection.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER {table}_append_only'))
        connection.execute(text(
            "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false)"
            " FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a migrated, empty database: a SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "nbs.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return Settings(database_url=f"sqlite:///{path}", environment="test")
    url = request.getfixturevalue("postgres_migrated")
    return Settings(database_url=url, environment="test")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    if engine.dialect.name == "postgresql":
        empty_all_tables(engine)
    yield engine
    engine.dispose()


@dataclass
class World:
    """Submitters and one signed-in user per role (``tokens[role]``)."""

    submitter_ids: list[int]
    users: dict[str, User]
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_world(engine: Engine) -> World:
    with Session(engine, expire_on_commit=False) as session:
        submitters = [Submitter(code="NORTH", name="North General Hospital", district="North"),
                      Submitter(code="SOUTH", name="South Maternity Unit", district="South")]
        session.add_all(submitters)
        session.flush()
        users = {}
        for role in ROLES:
            users[role] = User(username=role, full_name=f"{role.title()} One", role=role,
                               password_hash=password_hash(),
                               submitter_id=submitters[0].id if role == "submitter" else None)
            session.add(users[role])
        session.flush()
        tokens = {role: issue_token(session, user) for role, user in users.items()}
        session.commit()
    return World([s.id for s in submitters if s.id], users, tokens)


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    app = create_app(settings, engine, pipeline=CsvPipeline())
    with TestClient(app) as test_client:
        yield test_client
