"""An mzML zip that inflates past the archive limits (NBS_ARCHIVE_*) is answered 413 naming the
member and the limit, stores nothing and audits nothing, on SQLite and PostgreSQL; the limits
are settings."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.models import Run
from lims.pipeline import ScreeningPipeline
from lims.settings import Settings
from tests.instruments.test_archive_limits import bomb
from tests.lims.helpers import API, count, nbs


def test_a_zip_bomb_upload_is_413_and_stores_nothing(settings, engine, world):
    app = create_app(settings, engine, pipeline=ScreeningPipeline.from_settings(settings))
    with TestClient(app) as client:
        response = client.post(f"{API}/runs", files={"file": ("bomb.zip", bomb())},
                               headers=world.auth("technician"))
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["error"] == "ArchiveTooLargeError"
    assert body["file"] == "bomb.zip!P1_A01.mzML" and body["field"] == "uncompressed size"
    assert "more than the limit of 64.0 MiB per file" in body["detail"]
    assert count(engine, Run) == 0


def test_the_archive_limits_are_settings(monkeypatch):
    monkeypatch.setenv("NBS_ARCHIVE_MAX_MEMBER_MIB", "8")
    monkeypatch.setenv("NBS_ARCHIVE_MAX_RATIO", "50")
    limits = Settings().archive_limits()
    assert (limits.max_member_bytes, limits.max_total_bytes, limits.max_ratio) == (
        8 * 2**20, 1024 * 2**20, 50.0)
    monkeypatch.setenv("NBS_ARCHIVE_MAX_RATIO", "1")
    with pytest.raises(ValueError, match="archive_max_ratio"):
        Settings()


def test_nbs_read_refuses_a_bomb_within_the_configured_limits(tmp_path):
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb())
    done = nbs("read", str(path), "--out", str(tmp_path / "m.csv"),
               env={"NBS_ARCHIVE_MAX_MEMBER_MIB": "256", "NBS_ARCHIVE_MAX_RATIO": "100"})
    assert done.returncode == 3
    assert "field 'compression ratio'" in done.stderr and "P1_A01.mzML" in done.stderr
    assert not (tmp_path / "m.csv").exists()
