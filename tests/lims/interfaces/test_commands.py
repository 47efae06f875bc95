"""The running service's periodic delivery, and the ``nbs hl7`` commands as a user runs them:
``export``, ``send``, ``outbox``, ``endpoint``, ``cards`` (``listen``:
``test_listen.py``)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from lims.app import create_app
from lims.cli import app
from lims.errors import InvalidInputError, NotFoundError
from lims.models import AuditEvent, OutboundMessage, Specimen
from lims.settings import get_settings
from tests.lims.helpers import card
from tests.lims.interfaces.conftest import release
from tests.lims.plates import CsvPipeline


def test_the_running_service_delivers_the_outbox(settings, engine, world, endpoint, receiver):
    app = create_app(settings.model_copy(update={"hl7_delivery_check_seconds": 0.1}), engine,
                     pipeline=CsvPipeline())
    with TestClient(app) as client:
        release(client, world, "P-1", {1: {}, 2: {}})
        deadline = time.monotonic() + 30
        while receiver.count() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert receiver.count() == 2
    with Session(engine) as session:
        assert {m.status for m in session.exec(select(OutboundMessage))} == {"delivered"}


@pytest.fixture
def run(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """Run an ``nbs`` command in this process on the test's database (``nbs hl7 listen`` is
    run as its own process below)."""
    monkeypatch.setenv("NBS_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_nbs_hl7_export_send_outbox_endpoint_cards(engine, world, endpoint, receiver, client,
                                                   run, tmp_path):
    specimen = release(client, world, "P-1", {1: {}})[1]
    out = tmp_path / "result.hl7"
    exported = run("hl7", "export", card(1), "--out", str(out))
    assert exported.exit_code == 0, exported.output
    with Session(engine) as session:
        queued = session.exec(select(OutboundMessage)).one()
    assert out.read_bytes() == queued.body.encode() and queued.body.count("\r") > 50
    printed = run("hl7", "export", str(specimen["id"]))
    assert printed.stdout == queued.body.replace("\r", "\n")
    sent = run("hl7", "send")
    assert sent.exit_code == 0 and sent.stdout.startswith("delivered 1, to retry 0, parked 0")
    assert receiver.received == [queued.body]
    listed = run("hl7", "outbox", "--specimen", card(1))
    assert re.search(rf"{queued.control_id}\s+delivered\s+1\s+AA", listed.stdout), listed.stdout
    assert listed.stdout.rstrip().endswith("(1 message)")
    capped = run("hl7", "outbox", "--limit", "1")  # as many as the limit: there may be more
    assert "(the first 1 message: there may be more; --limit shows more)" in capped.stdout
    unknown = run("hl7", "export", card(99))
    assert isinstance(unknown.exception, NotFoundError) and card(99) in str(unknown.exception)
    made = run("hl7", "endpoint", "SOUTH", "--host", "127.0.0.1", "--port", "2575",
               "--facility", "SOUTHMAT", "--time-zone", "Asia/Shanghai", "--actor", "it-desk")
    assert made.exit_code == 0 and "SOUTHMAT, Asia/Shanghai, enabled" in made.stdout
    bad_zone = run("hl7", "endpoint", "SOUTH", "--time-zone", "Mars/Olympus")
    assert isinstance(bad_zone.exception, InvalidInputError)
    assert "time_zone" in str(bad_zone.exception)
    now = datetime.now(UTC).replace(microsecond=0)
    cards = tmp_path / "south.csv"
    collected, born = ((now - ago).strftime("%Y-%m-%dT%H:%M:%S")  # no offset
                       for ago in (timedelta(hours=3), timedelta(days=2)))
    cards.write_text("barcode,submitter,collected_at,birth_at\n"
                     f"{card(7)},SOUTHMAT,{collected},{born}\n", encoding="utf-8")
    taken = run("hl7", "cards", str(cards), "--actor", "courier")
    assert taken.exit_code == 0 and "1 created" in taken.stdout, taken.output
    with Session(engine) as session:  # a time without an offset is the endpoint's (UTC+8)
        stored = session.exec(select(Specimen).where(Specimen.barcode == card(7))).one()
        events = session.exec(select(AuditEvent).where(AuditEvent.username == "it-desk")).all()
    assert stored.collected_at.replace(tzinfo=UTC) == (now - timedelta(hours=11))
    assert [e.action for e in events] == ["create"]
