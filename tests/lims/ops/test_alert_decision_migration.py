"""Migration 0017 on SQLite and PostgreSQL: the alerts a repeat card's reflex decisions opened
before it are linked to those decisions from their messages (a time-critical referral and a
released repeat's referral), as the running code links them; an alert of a card's own result
stays unlinked; the downgrade drops the link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.engine import Engine

from lims.app import create_app
from lims.db import make_engine
from lims.migrate import alembic_config, upgrade
from lims.models import Alert
from lims.settings import Settings
from tests.lims.conftest import make_world
from tests.lims.helpers import accession
from tests.lims.reflex.plates import TyrosineScoredPipeline
from tests.lims.reflex.repeats import plate
from tests.lims.reflex.test_repeat_alert_links import referred_in_two_groups

_ALERT = Alert.__table__  # type: ignore[attr-defined]


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _links(engine: Engine) -> dict[int, Any]:
    with engine.connect() as connection:
        return dict(connection.execute(select(_ALERT.c.id, _ALERT.c.reflex_decision_id)).all())


def test_repeat_alerts_stored_before_are_linked_to_their_decisions(own_database_url,
                                                                   tmp_path: Path):
    settings = Settings(database_url=own_database_url, environment="test")
    engine = make_engine(settings)
    try:
        upgrade(engine)
        world = make_world(engine)
        with TestClient(create_app(settings, engine,
                                   pipeline=TyrosineScoredPipeline())) as client:
            fao, tyr = referred_in_two_groups(client, world, engine, tmp_path)
            accession(client, world, 321)
            plate(client, world, "P-321", {321: {"Xle": 900.0}})  # the card's own alert
        linked = _links(engine)
        assert len(linked) == 3 and sorted(v for v in linked.values() if v is not None) == sorted(
            [fao.reflex_decision_id, tyr.reflex_decision_id])

        _downgrade(engine, "0016")
        assert "reflex_decision_id" not in {c["name"] for c in inspect(engine).get_columns(
            "alert")}
        upgrade(engine)
        assert _links(engine) == linked
    finally:
        engine.dispose()
