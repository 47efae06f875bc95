"""Lengths are checked at the edge against the columns that store them: a plate id, sample id
or card field longer than its column is refused with the same error (file, line, field) on
SQLite, which would store it, and PostgreSQL, which would refuse it naming no field."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from instruments.virtual import simulate_plate, write_plate
from lims.app import create_app
from lims.models import HeldWell, Run, Specimen
from lims.pipeline import ScreeningPipeline
from tests.lims.helpers import API, card, count, specimen_body

LONG = "X" * 100


@pytest.fixture(scope="module")
def plate_text() -> str:
    out = io.BytesIO()
    write_plate(simulate_plate(seed=5, plate_id="PL5"), out, format="csv-long")
    return out.getvalue().decode()


@pytest.fixture
def core(settings, engine):
    app = create_app(settings, engine, pipeline=ScreeningPipeline())
    with TestClient(app) as client:
        yield client


def _upload(client, world, name, text):  # noqa: ANN001, ANN202 - a test helper
    return client.post(f"{API}/runs", files={"file": (name, text.encode())},
                       headers=world.auth("technician"))


def test_a_plate_id_longer_than_its_column_is_refused_naming_file_line_field(
        core, world, engine, plate_text):
    lines = plate_text.splitlines()
    lines[1:] = [line.replace("PL5,", f"{LONG},", 1) for line in lines[1:]]
    response = _upload(core, world, "long-plate.csv", "\n".join(lines) + "\n")
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["file"], body["line"], body["field"]) == ("long-plate.csv", 2, "plate_id")
    assert "100 characters, more than the 64 a plate_id may have" in body["detail"]
    assert count(engine, Run) == 0


def test_a_sample_id_longer_than_its_column_is_refused_naming_file_line_field(
        core, world, engine, plate_text):
    lines = plate_text.splitlines()
    patient = next(i for i, line in enumerate(lines) if ",patient," in line)
    sample = lines[patient].split(",")[2]
    lines = [line.replace(f",{sample},", f",{sample}{LONG},") for line in lines]
    response = _upload(core, world, "long-sample.csv", "\n".join(lines) + "\n")
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["file"], body["line"], body["field"]) == ("long-sample.csv", patient + 1,
                                                           "sample_id")
    assert count(engine, Run) == 0 and count(engine, HeldWell) == 0


def test_a_long_accession_field_is_refused_naming_the_field(client, world, engine):
    body = specimen_body("10000001", world.submitter_ids[0])
    body["infant"]["medical_record_number"] = LONG
    response = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert response.status_code == 422
    assert "medical_record_number" in response.text
    assert count(engine, Specimen) == 0


def test_a_long_card_field_in_a_card_file_is_refused_naming_file_line_column(
        client, world, engine):
    now = datetime.now(UTC).replace(microsecond=0)
    born, taken = (now - timedelta(days=2)).isoformat(), (now - timedelta(days=1)).isoformat()
    rows = ["barcode,submitter,collected_at,birth_at,sex,medical_record_number",
            f"{card(1)},NORTH,{taken},{born},F,MRN1",
            f"{card(2)},NORTH,{taken},{born},F,{LONG}"]
    response = client.post(f"{API}/hl7/cards",
                           files={"file": ("north.csv", "\n".join(rows).encode(), "text/csv")},
                           headers=world.auth("technician"))
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["file"], body["line"], body["field"]) == ("north.csv", 3,
                                                           "medical_record_number")
    assert count(engine, Specimen) == 0
