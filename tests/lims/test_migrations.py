"""The schema comes from alembic migrations; the audit and release tables are append-only."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from lims.audit import SYSTEM, record
from lims.db import init_db
from lims.migrate import alembic_config, current_revision
from lims.models import AuditEvent


def test_migrated_to_head_and_idempotent(engine):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current_revision(engine) == head
    init_db(engine)  # running it again changes nothing
    tables = set(inspect(engine).get_table_names())
    assert {"specimen", "result", "run", "audit_event", "release", "alert"} <= tables


def test_audit_table_refuses_update_and_delete(engine):
    with Session(engine) as session:
        record(session, SYSTEM, "create", "thing", 1)
        session.commit()
    for statement in ("UPDATE audit_event SET reason = 'edited'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with Session(engine) as session:
        assert session.get(AuditEvent, 1).reason == ""
