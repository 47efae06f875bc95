"""The migrated schema is the models' schema (alembic's autogenerate comparison finds nothing),
and the append-only tables refuse TRUNCATE on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel, select

from lims.audit import SYSTEM, record
from lims.db import make_engine
from lims.migrate import alembic_config, current_revision, upgrade
from lims.models import AuditEvent, Run
from lims.settings import Settings
from tests.conftest import POSTGRES_URL


def test_migration_head_matches_the_models(engine):
    assert current_revision(engine) == "0005"
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_a_plate_id_is_stored_once(engine):
    with Session(engine) as session:
        for sha in ("a" * 64, "b" * 64):
            session.add(Run(file_sha256=sha, plate_id="PLATE-1", file_name="p.csv",
                            format="csv", qc_decision="accept"))
        with pytest.raises(IntegrityError):
            session.commit()


def _needs_postgres(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is a PostgreSQL statement (SQLite's DELETE is refused by its "
                    "trigger: test_migrations)")


@pytest.mark.parametrize("statement", [
    "TRUNCATE audit_event",
    "TRUNCATE release",
    "TRUNCATE specimen CASCADE",  # cascades to release
    "TRUNCATE system_info, audit_event RESTART IDENTITY",
])
def test_append_only_tables_refuse_truncate(engine, statement):
    _needs_postgres(engine)
    with Session(engine) as session:
        record(session, SYSTEM, "create", "thing", 1)
        session.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with Session(engine) as session:
        assert len(session.exec(select(AuditEvent)).all()) == 1



@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path) -> Iterator[Engine]:
    """An engine on an empty database of its own (a fresh PostgreSQL schema, dropped after)."""
    if request.param == "sqlite":
        engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}"))
        yield engine
        engine.dispose()
        return
    schema = f"nbs_fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    engine = make_engine(Settings(
        database_url=f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def test_0002_downgrades_and_upgrades_again(empty_engine):
    upgrade(empty_engine)
    config = alembic_config()
    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert current_revision(empty_engine) == "0001"
    if empty_engine.dialect.name == "postgresql":  # without 0002, TRUNCATE went through
        with empty_engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_event"))
    upgrade(empty_engine)
    assert current_revision(empty_engine) == "0005"
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
