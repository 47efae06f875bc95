"""Fixtures for the LIMS tests: a migrated database on SQLite and on PostgreSQL, an app client,
one user per role with a token.

SQLite: the schema is migrated once per session into a template file that each test copies.
PostgreSQL: the session's schema is migrated once; each test starts from truncated tables.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
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


def truncate_all(engine: Engine) -> None:
    """Empty every table between tests: the tables' owner lifts the truncate triggers
    (migration 0002) of the append-only tables inside the transaction (what a DBA resetting a
    database would do)."""
    with engine.begin() as connection:
        tables = [t for t in inspect(connection).get_table_names() if t != "alembic_version"]
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f'ALTER TABLE "{table}" DISABLE TRIGGER {table}_no_truncate'))
        connection.execute(text(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        for table in APPEND_ONLY_TABLES:
            connection.execute(text(f'ALTER TABLE "{table}" ENABLE TRIGGER {table}_no_truncate'))


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
        truncate_all(engine)
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
