"""The service's PostgreSQL role (``nbs init-db --service-role``): the whole laboratory workflow
runs as it, and it can neither change the audit trail nor lift the triggers that guard it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError

from lims.app import create_app
from lims.db import init_db, make_engine
from lims.errors import ConfigurationError
from lims.migrate import current_revision, upgrade
from lims.service_role import APPEND_ONLY_TABLES, grant_service_role, owns_append_only_tables
from lims.settings import Settings
from tests.lims.conftest import make_world
from tests.lims.plates import CsvPipeline
from tests.lims.test_end_to_end import test_a_plate_from_card_to_released_result as workflow

pytestmark = pytest.mark.postgres


@contextmanager
def login_role(owner: Engine, url: str) -> Iterator[tuple[str, str]]:
    """A new login role, and ``url`` with it as the user; the role and its grants are dropped
    afterwards (roles belong to the whole server, not to the test's schema)."""
    role = f"nbs_svc_{uuid.uuid4().hex[:10]}"
    with owner.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        yield role, make_url(url).set(username=role).render_as_string(hide_password=False)
    finally:
        with owner.begin() as connection:
            connection.execute(text(f"DROP OWNED BY {role}"))
            connection.execute(text(f"DROP ROLE {role}"))


@pytest.fixture
def service(postgres_own_schema_url: str) -> Iterator[tuple[str, str, str]]:
    """(owner's URL, service role, the role's URL) on a freshly migrated schema."""
    owner = make_engine(Settings(database_url=postgres_own_schema_url))
    init_db(owner)
    with login_role(owner, postgres_own_schema_url) as (role, role_url):
        yield postgres_own_schema_url, role, role_url
    owner.dispose()


def test_the_workflow_runs_as_the_service_role_which_cannot_touch_the_audit_trail(service):
    owner_url, role, role_url = service
    owner = make_engine(Settings(database_url=owner_url))
    assert owns_append_only_tables(owner)
    statements = grant_service_role(owner, role)
    assert any("audit_event" in s and "SELECT, INSERT" in s for s in statements)

    settings = Settings(database_url=role_url, environment="test")
    engine = make_engine(settings)
    assert not owns_append_only_tables(engine)
    init_db(engine)  # at the newest revision already: nothing to do, and allowed
    world = make_world(engine)
    with TestClient(create_app(settings, engine, pipeline=CsvPipeline())) as client:
        workflow(client, world)
    with engine.connect() as connection:
        events = connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one()
    assert events > 20

    refused = [f"UPDATE {t} SET id = id" for t in APPEND_ONLY_TABLES]
    refused += [f"DELETE FROM {t}" for t in APPEND_ONLY_TABLES]
    refused += [f"TRUNCATE {t}" for t in APPEND_ONLY_TABLES]
    refused += [f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in APPEND_ONLY_TABLES]
    refused += ["DROP TABLE specimen CASCADE", "CREATE TABLE shadow (id int)",
                "UPDATE alembic_version SET version_num = 'x'"]
    for statement in refused:
        with engine.connect() as connection, pytest.raises(DBAPIError) as info:
            connection.execute(text(statement))
        assert info.value.orig.sqlstate == "42501", statement  # insufficient privilege
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar_one() == events
    engine.dispose()
    owner.dispose()


def test_a_role_that_cannot_be_granted_is_a_clear_error(service, tmp_path):
    owner_url, role, _ = service
    owner = make_engine(Settings(database_url=owner_url))
    with pytest.raises(ConfigurationError, match="no such role; create it first"):
        grant_service_role(owner, "nbs_nobody_" + uuid.uuid4().hex[:8])
    with pytest.raises(ConfigurationError, match="is a superuser"):
        grant_service_role(owner, make_url(owner_url).username or "postgres")
    with pytest.raises(ConfigurationError, match="not a plain role name"):
        grant_service_role(owner, 'x"; DROP TABLE audit_event; --')
    sqlite = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'nbs.db'}"))
    with pytest.raises(ConfigurationError, match="needs PostgreSQL"):
        grant_service_role(sqlite, role)
    owner.dispose()


def test_the_service_role_cannot_migrate_and_says_who_can(postgres_own_schema_url):
    owner = make_engine(Settings(database_url=postgres_own_schema_url))
    upgrade(owner, "0001")
    with login_role(owner, postgres_own_schema_url) as (role, role_url):
        grant_service_role(owner, role)
        engine = make_engine(Settings(database_url=role_url))
        with pytest.raises(ConfigurationError, match=f"its user '{role}' may not run; run nbs "
                                                     f"init-db as the owner"):
            init_db(engine)
        engine.dispose()
        init_db(owner)  # the owner can
        assert current_revision(owner) != "0001"
    owner.dispose()


def test_nbs_init_db_grants_the_role(service):
    owner_url, role, role_url = service
    done = subprocess.run([sys.executable, "-m", "lims.cli", "init-db", "--service-role", role],
                          env={"NBS_DATABASE_URL": owner_url, "PATH": ""},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"role {role} granted" in done.stdout
    engine = make_engine(Settings(database_url=role_url))
    with engine.connect() as connection, pytest.raises(DBAPIError):
        connection.execute(text("DELETE FROM audit_event"))
    engine.dispose()
