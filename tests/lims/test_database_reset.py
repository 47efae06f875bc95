"""The PostgreSQL reset between tests (``empty_all_tables``) leaves the schema as migrated: every
table empty, every sequence at its start, the append-only triggers in force again."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from lims.audit import SYSTEM, record
from lims.models import Submitter
from tests.lims.conftest import World, deletion_order, empty_all_tables


def _state(engine: Engine) -> tuple[dict[str, int], list[str], list[str]]:
    tables = deletion_order(engine.url.render_as_string(hide_password=False))
    with engine.connect() as connection:
        rows = {t: connection.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                for t in tables}
        used = connection.execute(text(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
            " AND last_value IS NOT NULL")).scalars().all()
        disabled = connection.execute(text(
            "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
            " AND t.tgenabled <> 'O'")).scalars().all()
    return rows, list(used), list(disabled)


@pytest.mark.parametrize("settings", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)
def test_the_reset_leaves_the_schema_as_migrated(engine: Engine, world: World):
    with Session(engine) as session:
        record(session, SYSTEM, "create", "submitter", world.submitter_ids[0])
        session.commit()
    rows, used, _ = _state(engine)
    assert rows["audit_event"] > 0 and rows["app_user"] > 0 and rows["submitter"] == 2
    assert "submitter_id_seq" in used
    empty_all_tables(engine)
    rows, used, disabled = _state(engine)
    assert {t: n for t, n in rows.items() if n} == {}
    assert used == [] and disabled == []
    with Session(engine) as session:
        again = Submitter(code="EAST", name="East Clinic", district="East")
        session.add(again)
        record(session, SYSTEM, "create", "submitter", 1)
        session.commit()
        assert again.id == 1
    with engine.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
        connection.execute(text("UPDATE audit_event SET reason = 'x'"))
