"""Migration 0016 on SQLite and PostgreSQL: alerts withdrawn before it keep their history,
moved from the acknowledgement columns to the withdrawal's own (and back on downgrade); an
acknowledged alert is left as it was."""

from __future__ import annotations

from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine

from lims.app import create_app
from lims.db import make_engine
from lims.migrate import alembic_config, upgrade
from lims.models import Alert
from lims.settings import Settings
from tests.lims.alerts.test_withdrawn_alerts import withdrawn_and_acknowledged
from tests.lims.conftest import make_world
from tests.lims.plates import CsvPipeline

_ALERT = Alert.__table__  # type: ignore[attr-defined]
_ACK = ("acknowledged_by", "acknowledged_by_name", "acknowledged_at", "acknowledgement_note")
_WITHDRAWAL = ("withdrawn_by", "withdrawn_by_name", "withdrawn_at", "withdrawal_reason")


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _columns(engine: Engine, names: tuple[str, ...]) -> dict[int, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(select(_ALERT.c.id, *(_ALERT.c[n] for n in names)))
        return {r.id: {n: getattr(r, n) for n in names} for r in rows}


def test_withdrawn_alerts_keep_their_history_through_the_migration(own_database_url):
    settings = Settings(database_url=own_database_url, environment="test")
    engine = make_engine(settings)
    try:
        upgrade(engine)
        world = make_world(engine)
        with TestClient(create_app(settings, engine, pipeline=CsvPipeline())) as client:
            first, second = withdrawn_and_acknowledged(client, world, engine)
        after = _columns(engine, _ACK + _WITHDRAWAL)
        withdrawal = {n: after[second][n] for n in _WITHDRAWAL}
        assert withdrawal["withdrawn_by_name"] == "technician"

        # as stored before 0016: the withdrawal in the acknowledgement columns
        _downgrade(engine, "0015")
        before = _columns(engine, _ACK)
        assert [before[second][n] for n in _ACK] == [withdrawal[n] for n in _WITHDRAWAL]
        assert before[first] == {n: after[first][n] for n in _ACK}

        upgrade(engine)
        assert _columns(engine, _ACK + _WITHDRAWAL) == after
    finally:
        engine.dispose()
