"""A plate whose controls are typed ``QC`` with the level in the name is ingested with the
levels the profile reads from the names; one that lacks a required control level is read and
then refused by plate QC (the run stored as rejected, no patient result), on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.models import Result
from lims.pipeline import ScreeningPipeline
from tests.instruments.test_control_names import _export
from tests.lims.helpers import API, count


@pytest.fixture
def core(settings, engine):
    app = create_app(settings, engine, pipeline=ScreeningPipeline())
    with TestClient(app) as client:
        yield client


def test_a_plate_without_its_high_control_is_refused_by_qc_not_by_the_reader(
        core, world, engine, tmp_path):
    data = _export(tmp_path, drop_high=True).read_bytes()
    response = core.post(f"{API}/runs", files={"file": ("plate.txt", data)},
                         headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["qc_decision"] == "reject"
    assert any("qc_high" in reason for reason in run["qc_reasons"]), run["qc_reasons"]
    assert count(engine, Result) == 0
