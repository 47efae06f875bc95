"""Escalation without anyone listing alerts: ``nbs alerts escalate|list``, the running
service's periodic task and ``POST /alerts/escalate``; ``nbs ingest --actor``."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.alerts import scheduler
from lims.app import create_app
from lims.audit import SYSTEM
from lims.cli.actor import os_user_name
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import Alert, AuditEvent, Run
from lims.settings import Settings
from msms.population import simulate_cohort
from tests.conftest import ROOT
from tests.lims.helpers import API, accession, nbs, nbs_here, open_alert
from tests.lims.plates import CsvPipeline


def _level(engine, alert_id: int) -> int:
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.escalation_level


def _events(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)))


def test_nbs_alerts_escalate_prints_what_it_escalated(client, world, engine, settings):
    cards = accession(client, world, 1)
    alert_id = open_alert(engine, cards[1]["id"], age=timedelta(minutes=61))
    env = {"NBS_DATABASE_URL": settings.database_url}
    done = nbs_here("alerts", "escalate", "--actor", "Dr Night Shift", env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert f"alert {alert_id} (MSUD, specimen {cards[1]['id']}" in done.stdout
    assert "level 0 -> 1; notify reviewer, follow_up (reviewer, follow_up)" in done.stdout
    assert "escalated 1 alert(s)" in done.stdout
    assert _level(engine, alert_id) == 1
    [event] = _events(engine, "escalate")
    assert event.username == "Dr Night Shift" and event.user_id is None
    again = nbs_here("alerts", "escalate", env=env, cwd=ROOT)
    assert again.returncode == 0 and "no alert is overdue" in again.stdout

    listed = nbs_here("alerts", "list", "--status", "all", env=env, cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    assert "MSUD" in listed.stdout and "(1 alert)" in listed.stdout
    [read] = _events(engine, "read_list")
    assert read.entity == "alert" and read.username == os_user_name()
    assert read.after["ids"] == [alert_id]


def test_actor_must_be_a_name(settings):
    done = nbs("alerts", "escalate", "--actor", "  ",
               env={"NBS_DATABASE_URL": settings.database_url}, cwd=ROOT)
    assert done.returncode == 2 and "--actor" in done.stderr


def test_the_running_service_escalates_on_its_own(world, engine, settings, client):
    cards = accession(client, world, 1)
    alert_id = open_alert(engine, cards[1]["id"], age=timedelta(minutes=125))
    asked = settings.model_copy(update={"alert_escalation_check_seconds": 0.05})
    with TestClient(create_app(asked, engine, pipeline=CsvPipeline())):
        deadline = time.monotonic() + 20
        while _level(engine, alert_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert _level(engine, alert_id) == 2
    [event] = _events(engine, "escalate")
    assert event.username == "system" and event.after["notify_roles"] == [
        "reviewer", "follow_up", "admin"]


def test_stopping_the_service_finishes_the_escalation_pass_under_way(monkeypatch):
    """The worker thread of a pass cannot be cancelled: leaving it running would keep its
    database connection past the engine's disposal (and the pass's transaction open)."""
    started, finished = threading.Event(), threading.Event()

    def slow_pass(_engine):
        started.set()
        time.sleep(0.3)
        finished.set()
        return []

    monkeypatch.setattr(scheduler, "escalate_now", slow_pass)

    async def run_and_stop() -> None:
        async with scheduler.periodic_escalation(None, 10.0):  # type: ignore[arg-type]
            while not started.is_set():
                await asyncio.sleep(0.01)
        assert finished.is_set()  # the block is left only once the pass is done

    asyncio.run(run_and_stop())


def test_tests_run_without_the_periodic_task(world, engine, settings, client):
    cards = accession(client, world, 1)
    alert_id = open_alert(engine, cards[1]["id"], age=timedelta(minutes=125))
    assert settings.alert_escalation_every_s() is None
    with TestClient(create_app(settings, engine, pipeline=CsvPipeline())):
        time.sleep(0.3)
    assert _level(engine, alert_id) == 0
    assert Settings(environment="development").alert_escalation_every_s() == 60.0
    assert Settings(alert_escalation_check_seconds=0).alert_escalation_every_s() is None


def test_post_alerts_escalate(client, world, engine):
    cards = accession(client, world, 1)
    alert_id = open_alert(engine, cards[1]["id"], age=timedelta(minutes=65))
    answer = client.post(f"{API}/alerts/escalate", headers=world.auth("follow_up"))
    assert answer.status_code == 200, answer.text
    [escalation] = answer.json()
    assert escalation["alert_id"] == alert_id and escalation["escalation_level"] == 1
    assert escalation["notify_users"] == ["reviewer", "follow_up"]
    assert client.post(f"{API}/alerts/escalate", headers=world.auth("follow_up")).json() == []
    assert client.post(f"{API}/alerts/escalate",
                       headers=world.auth("technician")).status_code == 403
    [event] = _events(engine, "escalate")
    assert event.username == "follow_up"


def test_nbs_ingest_records_who_ran_it(world, engine, settings, tmp_path):
    cohort = simulate_cohort(89, seed=11, disorder_rate=0.05)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=40_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    path = simulated_plate_file(cohort, seed=11, fmt="masslynx", plate_id="ACTOR-1",
                                folder=tmp_path)
    env = {"NBS_DATABASE_URL": settings.database_url}
    done = nbs_here("ingest", str(path), "--actor", "tech.wang", env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    [ingest] = _events(engine, "ingest")
    assert ingest.username == "tech.wang" and ingest.user_id is None
    with Session(engine) as session:
        moved = session.exec(select(AuditEvent).where(AuditEvent.entity == "specimen",
                                                      AuditEvent.action != "accession")).all()
        assert moved and {e.username for e in moved} == {"tech.wang"}
        assert session.exec(select(Run)).one().uploaded_by is None
    by_default = nbs_here("ingest", str(path), env=env, cwd=ROOT)
    assert by_default.returncode == 0 and "already stored" in by_default.stdout
