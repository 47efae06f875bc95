"""The audit trail is tamper-evident: every event is chained to the one before it by its hash,
and ``nbs audit verify`` names the first broken link after a row is edited, removed or forged."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lims.audit import SYSTEM, AuditEntry, record, record_many
from lims.audit_chain import verify
from lims.db import make_engine
from lims.migrate import upgrade
from lims.models import AuditEvent
from lims.settings import Settings
from tests.lims.helpers import API, nbs

_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]


def _write_events(engine: Engine, n: int) -> None:
    with Session(engine) as session:
        for i in range(n):
            record(session, SYSTEM, "test", "specimen", i, after={"i": i, "x": 0.1 + 0.2},
                   reason=f"event {i}")
        record_many(session, SYSTEM, [AuditEntry("test", "run", 7, before={"a": [1, 2]}),
                                      AuditEntry("test", "run", 8, infant_id=None)])
        session.commit()


def _tamper(engine: Engine, statement: str) -> None:
    """Run ``statement`` on audit_event as its owner would, with the append-only triggers
    lifted for that transaction."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
            connection.execute(text(statement))
            for verb in ("UPDATE", "DELETE"):
                connection.execute(text(
                    f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                    f"BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"))
        else:
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            connection.execute(text(statement))
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


def _ids(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT id FROM audit_event ORDER BY id")).scalars())


def _verify_cli(settings: Settings) -> tuple[int, str]:
    result = nbs("audit", "verify", env={"NBS_DATABASE_URL": settings.database_url})
    return result.returncode, result.stdout + result.stderr


def test_events_written_by_the_service_verify(settings, engine, world, client):
    _write_events(engine, 5)
    assert client.post(f"{API}/auth/login", json={"username": "admin",
                                                  "password": "wrong"}).status_code == 401
    assert client.get(f"{API}/specimens", headers=world.auth("admin")).status_code == 200
    report = verify(engine)
    assert report.intact, report.problem
    assert report.events == len(_ids(engine)) == 8
    code, out = _verify_cli(settings)
    assert code == 0, out
    assert f"audit chain intact: 8 events; head position 8, hash {report.head.hash}" in out


def test_an_edited_event_is_named(settings, engine):
    _write_events(engine, 5)
    third = _ids(engine)[2]
    _tamper(engine, f"UPDATE audit_event SET reason = 'nothing happened' WHERE id = {third}")
    report = verify(engine)
    assert report.broken_at == third and report.events == 2
    code, out = _verify_cli(settings)
    assert code == 1
    assert f"audit event {third} (position 3) does not match its hash" in out


def test_a_removed_event_is_named(settings, engine):
    _write_events(engine, 5)
    ids = _ids(engine)
    _tamper(engine, f"DELETE FROM audit_event WHERE id = {ids[3]}")
    code, out = _verify_cli(settings)
    assert code == 1
    assert f"chain position 4 is missing before audit event {ids[4]} (position 5)" in out


def test_the_newest_event_removed_is_found_by_the_head(engine):
    _write_events(engine, 3)
    _tamper(engine, f"DELETE FROM audit_event WHERE id = {_ids(engine)[-1]}")
    report = verify(engine)
    assert not report.intact
    assert "the chain's head names position 5 but the last audit event is at position 4" in (
        report.problem or "")


def test_a_forged_event_is_named(engine):
    _write_events(engine, 2)
    with engine.begin() as connection:  # what the service's role may do: INSERT
        connection.execute(text(
            "INSERT INTO audit_event (at, username, action, entity, entity_id, reason) "
            "VALUES ('2026-01-01 00:00:00', 'reviewer', 'release', 'specimen', '1', '')"))
    forged = _ids(engine)[-1]
    report = verify(engine)
    assert report.broken_at == forged
    assert f"audit event {forged} has no place in the chain" in (report.problem or "")


def test_parallel_writers_build_one_chain(engine):
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(15):
                with Session(engine) as session:
                    record(session, SYSTEM, "test", "specimen", 1)
                    record(session, SYSTEM, "test", "specimen", 2)
                    session.commit()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = verify(engine)
    assert report.intact, report.problem
    assert report.events == 8 * 15 * 2


def test_events_stored_before_the_chain_are_chained_by_the_migration(own_database_url):
    engine = make_engine(Settings(database_url=own_database_url))
    try:
        upgrade(engine, "0005")
        with engine.begin() as connection:
            for i in range(3):
                connection.execute(insert(_EVENTS).values(
                    at=datetime(2026, i + 1, 1, 8, tzinfo=UTC), username="tech",
                    action="create", entity="card", entity_id=str(i), after={"n": [i, 0.5]},
                    reason=""))
        upgrade(engine)
        report = verify(engine)
        assert report.intact and report.events == 3
        _write_events(engine, 1)
        assert verify(engine).events == 6
    finally:
        engine.dispose()

