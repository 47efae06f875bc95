"""Uploads through the real core (instruments.read -> msms.quantify -> msms.qc): a file cut
short stores nothing partial and does not lock its plate against the complete file; reader
errors name the uploaded file; an oversized upload is 413; an incomplete well is not reported.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from lims.app import create_app
from lims.audit import SYSTEM
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import (
    AuditEvent,
    ControlResult,
    DuplicateRequest,
    Evaluation,
    HeldWell,
    Result,
    Run,
    Specimen,
)
from lims.pipeline import ScreeningPipeline
from lims.runs import routes
from msms.population import simulate_cohort
from tests.lims.helpers import API, count

PLATE = "VP-8"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return simulate_cohort(89, seed=8, disorder_rate=0.1)


@pytest.fixture
def accessioned(engine, world, cohort) -> pd.DataFrame:
    with Session(engine) as session:
        cards = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                 first_card=30_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    return cards


@pytest.fixture
def core(settings, engine):
    app = create_app(settings, engine, pipeline=ScreeningPipeline())
    with TestClient(app) as client:
        yield client


def _file(cards: pd.DataFrame, tmp_path: Path, fmt: str) -> bytes:
    return simulated_plate_file(cards, seed=8, fmt=fmt, plate_id=PLATE,
                                folder=tmp_path).read_bytes()


def _upload(client, world, name: str, data: bytes):  # noqa: ANN202 - a test helper
    return client.post(f"{API}/runs", files={"file": (name, data)},
                       headers=world.auth("technician"))


def _states(engine) -> dict[str, int]:
    with Session(engine) as session:
        return dict(session.exec(select(Specimen.state, func.count())
                                 .group_by(Specimen.state)).all())


def test_a_truncated_masslynx_file_is_rejected_and_the_complete_one_then_stored(
        core, world, engine, accessioned, tmp_path):
    complete = _file(accessioned, tmp_path, "masslynx")
    truncated = complete[:20000]  # head -c 20000: Ala, Arg and part of Cit

    first = _upload(core, world, "trunc.txt", truncated)
    assert first.status_code == 201, first.text
    rejected = first.json()
    assert rejected["qc_decision"] == "reject"
    assert (rejected["n_results"], rejected["n_held"]) == (0, 0)
    reasons = " | ".join(rejected["qc_reasons"])
    assert "45 of the 48 analytes" in reasons and "Phe" in reasons and "C8" in reasons
    assert "all 93 patient and control wells" in reasons
    assert re.search(r"Cit not measured in \d+ of 93 patient and control wells", reasons)
    assert "the file looks cut short" in reasons
    # nothing partial: no patient result, evaluation, worklist entry or held well; cards wait
    assert count(engine, Result) == 0 and count(engine, Evaluation) == 0
    assert count(engine, DuplicateRequest) == 0 and count(engine, HeldWell) == 0
    assert _states(engine) == {"accessioned": 89}

    # the same bad bytes again: the earlier (rejected) run
    again = _upload(core, world, "trunc.txt", truncated)
    assert again.status_code == 200 and again.json()["id"] == rejected["id"]

    # the complete file for the same plate is stored; the rejected run stays, retired
    second = _upload(core, world, "plate8.txt", complete)
    assert second.status_code == 201, second.text
    stored = second.json()
    assert stored["plate_id"] == PLATE and stored["qc_decision"] in {
        "accept", "accept_with_warnings"}
    assert stored["n_results"] == 89 * 48
    assert "accessioned" not in _states(engine)
    runs = {r["id"]: r for r in core.get(f"{API}/runs", headers=world.auth("technician")).json()}
    old = runs[rejected["id"]]
    assert old["qc_decision"] == "reject"
    assert old["plate_id"] == f"{PLATE}~rejected-run-{rejected['id']}"
    assert old["file_sha256"] == rejected["file_sha256"]
    assert old["qc_reasons"][-1].startswith(f"superseded: plate {PLATE} was uploaded again as "
                                            "plate8.txt")
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ControlResult).where(
            ControlResult.run_id == rejected["id"])).one() > 0  # its controls stay recorded
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "supersede")).all()
        assert event.entity_id == str(rejected["id"])
        assert event.before["plate_id"] == PLATE and event.after["plate_id"] == old["plate_id"]

    # an accepted plate is locked: another file for it is a conflict, never an overwrite
    other = _upload(core, world, "plate8-edited.txt", complete.replace(b"\r\n", b"\n") + b"\n")
    assert other.status_code == 409 and PLATE in other.json()["detail"]
    assert count(engine, Run) == 2


@pytest.mark.parametrize(("fmt", "name"), [("quandata", "plate8.xml"),
                                           ("mzml", "plate8.zip"),
                                           ("csv-wide", "plate8.csv")])
def test_other_formats_cut_short_are_refused_naming_the_upload(core, world, engine,
                                                               accessioned, tmp_path, fmt, name):
    data = _file(accessioned, tmp_path, fmt)
    for cut in (20000, len(data) // 2, len(data) - 50):
        response = _upload(core, world, f"cut-{cut}-{name}", data[:cut])
        assert response.status_code == 422, (cut, response.text)
        body = response.json()
        assert body["file"] == f"cut-{cut}-{name}"
        assert f"cut-{cut}-{name}" in body["detail"] and "/tmp" not in body["detail"]
    assert count(engine, Run) == 0 and count(engine, Result) == 0
    assert _states(engine) == {"accessioned": 89}
    assert _upload(core, world, name, data).status_code == 201


def test_an_mzml_zip_missing_part_of_a_well_is_refused(core, world, engine, accessioned,
                                                       tmp_path):
    source = zipfile.ZipFile(io.BytesIO(_file(accessioned, tmp_path, "mzml")))
    names = sorted(n for n in source.namelist() if n.endswith(".mzML"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in names[:-1]:
            target.writestr(name, source.read(name))
        last = source.read(names[-1])
        target.writestr(names[-1], last[: len(last) // 2])
    response = _upload(core, world, "repacked.zip", buffer.getvalue())
    assert response.status_code == 422
    assert response.json()["file"] == f"repacked.zip!{names[-1]}"  # the member that is cut
    assert count(engine, Run) == 0


def test_reader_errors_name_the_uploaded_file_not_a_server_path(core, world, engine):
    response = _upload(core, world, "rnd.bin", os.urandom(4096))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["file"] == "rnd.bin" and body["detail"].startswith("rnd.bin")
    assert "/tmp" not in response.text
    assert count(engine, Run) == 0


def test_an_oversized_upload_is_413(client, world, engine, monkeypatch):
    monkeypatch.setattr(routes, "MAX_UPLOAD_BYTES", 1000)
    response = _upload(client, world, "big.csv", b"x" * 1001)
    assert response.status_code == 413
    assert "big.csv" in response.json()["detail"] and "1000 bytes" in response.json()["detail"]
    assert count(engine, Run) == 0


def test_a_patient_well_missing_an_analyte_is_not_reported(core, world, engine, accessioned,
                                                           tmp_path):
    text = _file(accessioned, tmp_path, "masslynx").decode()
    block = text.index("Compound 3:  Cit")
    well = accessioned.iloc[40]  # a patient in the middle of the plate
    line_start = text.index(f"\t{well['specimen_id']}\t", block)
    line_start = text.rindex("\n", 0, line_start) + 1
    line_end = text.index("\n", line_start) + 1
    response = _upload(core, world, "one-missing.txt",
                       (text[:line_start] + text[line_end:]).encode())
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["qc_decision"] == "accept_with_warnings"
    assert any("not reportable: Cit not measured" in r for r in run["qc_reasons"])
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(
            Specimen.barcode == well["specimen_id"])).one()
        values = session.exec(select(Result.conc_umol_l).where(
            Result.specimen_id == specimen.id)).all()
        assert len(values) == 48 and all(v is None for v in values)  # nothing reported
        # not evaluable is never a silent normal: the card is re-tested in duplicate
        assert specimen.flagged and specimen.state == "awaiting_duplicate"
        reported = session.exec(select(func.count()).select_from(Result).where(
            Result.specimen_id != specimen.id, col(Result.conc_umol_l).is_not(None))).one()
        assert reported > 88 * 45  # the other cards are reported
