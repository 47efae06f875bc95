"""``nbs backup`` while the service runs and ``nbs restore`` into a new database: every
released result comes back as it was, and the restored audit chain verifies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from lims.audit_chain import verify
from lims.models import Release
from tests.conftest import POSTGRES_URL, ROOT
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, nbs, sign_off_plates, upload
from tests.lims.plates import plate_csv

_RELEASE = Release.__table__  # type: ignore[attr-defined]


def _releases(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(_RELEASE.c.id, _RELEASE.c.specimen_id, _RELEASE.c.version,
                   _RELEASE.c.outcome, _RELEASE.c.summary, _RELEASE.c.released_at)
            .order_by(_RELEASE.c.id))]


@pytest.fixture
def target_url(settings, tmp_path: Path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A new database to restore into: a SQLite file not yet made, or a new PostgreSQL
    database (with the source's search path)."""
    if settings.is_sqlite:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"nbs_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(settings.database_url).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_backup_and_restore_keep_every_release_and_the_chain(settings, engine, world, client,
                                                             target_url, tmp_path):
    cards = accession(client, world, 1, 2, 3)
    assert upload(client, world, "p.csv", plate_csv(
        "P-BAK", {card(1): {}, card(2): {"Xle": 800}, card(3): {}})).status_code == 201
    reviewer = world.auth("reviewer")
    sign_off_plates(client, world.auth("technician"))
    assert client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                       headers=reviewer).status_code == 200
    assert client.post(f"{API}/specimens/{cards[2]['id']}/decisions", json={
        "decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
        headers=reviewer).status_code == 201
    released, chain = _releases(engine), verify(engine)
    assert len(released) == 3 and chain.intact

    archive = tmp_path / "nbs.backup"
    made = nbs("backup", str(archive), env={"NBS_DATABASE_URL": settings.database_url},
               cwd=ROOT)
    assert made.returncode == 0, made.stderr
    client.get(f"{API}/specimens", headers=reviewer)  # the service goes on writing
    assert nbs("backup", str(archive), env={"NBS_DATABASE_URL": settings.database_url},
               cwd=ROOT).returncode == 3  # never overwrites

    done = nbs("restore", str(archive), env={"NBS_DATABASE_URL": target_url}, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout and "3 releases" in done.stdout
    assert (f"audit chain intact: {chain.events} events; head position {chain.head.seq}, "
            f"hash {chain.head.hash}") in done.stdout
    restored = create_engine(target_url)
    try:
        assert _releases(restored) == released
        assert verify(restored).head == chain.head
    finally:
        restored.dispose()
    again = nbs("restore", str(archive), env={"NBS_DATABASE_URL": target_url}, cwd=ROOT)
    assert again.returncode == 3 and "restore into" in again.stderr
