"""The real screening core behind the LIMS: a simulated plate in a vendor format goes through
instruments.read -> msms.quantify -> msms.qc -> cutoffs.evaluate and into the database; the
demo seed loads users and flagged plates."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from instruments.virtual import simulate_plate, write_plate
from lims.app import create_app
from lims.audit import SYSTEM
from lims.cli import app
from lims.demo import accession_cohort, seed_demo, simulated_plate_file
from lims.models import AuditEvent, Evaluation, Result, Specimen, User
from lims.pipeline import ScreeningPipeline
from lims.runs.service import ingest_bytes
from msms.population import simulate_cohort
from tests.conftest import ROOT
from tests.lims.helpers import API, nbs


def test_virtual_plate_through_the_real_core(settings, engine, world, tmp_path):
    cohort = simulate_cohort(89, seed=7, disorder_rate=0.1)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=20_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    path = simulated_plate_file(cohort, seed=7, fmt="masslynx", plate_id="VP-7",
                                folder=tmp_path)
    app = create_app(settings, engine, pipeline=ScreeningPipeline())
    with TestClient(app) as client:
        response = client.post(f"{API}/runs", files={"file": (path.name, path.read_bytes())},
                               headers=world.auth("technician"))
        assert response.status_code == 201, response.text
        run = response.json()
        assert run["qc_decision"] in {"accept", "accept_with_warnings"}
        assert run["n_held"] == 0 and run["n_results"] > 89 * 30
        again = client.post(f"{API}/runs", files={"file": (path.name, path.read_bytes())},
                            headers=world.auth("technician"))
        assert again.status_code == 200 and again.json()["id"] == run["id"]
    with Session(engine) as session:
        states = dict(session.exec(select(Specimen.state, func.count())
                                   .group_by(Specimen.state)).all())
        assert sum(states.values()) == 89 and "accessioned" not in states
        flagged = session.exec(select(func.count()).select_from(Specimen)
                               .where(Specimen.flagged)).one()
        assert flagged >= 1
        assert session.exec(select(func.count()).select_from(Evaluation)).one() >= 1
        phe = session.exec(select(Result.conc_umol_l).where(Result.analyte == "Phe")).all()
        assert len(phe) == 89 and all(v is None or 5 < v < 3000 for v in phe)


@pytest.mark.slow
def test_seed_demo_loads_users_and_flagged_plates(engine):
    summary = seed_demo(engine)
    assert summary.count(" password ") == 5
    assert summary.count("qc=accept") == 3
    assert seed_demo(engine).startswith("demo data already loaded")
    with Session(engine) as session:
        assert len(session.exec(select(User)).all()) == 5
        flagged = session.exec(select(func.count()).select_from(Specimen)
                               .where(Specimen.flagged)).one()
        assert flagged >= 3


def _plate_without_barcodes(engine, world, folder, *, seed: int, first_card: int):
    """An accessioned 89-baby cohort, its plate as a wide CSV whose Sample ID cells are empty,
    and the puncher's plate map of it: (cohort, export, map, the plate's rows)."""
    cohort = simulate_cohort(89, seed=seed, disorder_rate=0.1)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=first_card, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    name = f"VP-{seed}"
    path = simulated_plate_file(cohort, seed=seed, fmt="csv-wide", plate_id=name,
                                folder=folder)
    plate = pd.read_csv(path, dtype=str, keep_default_na=False)
    plate_map = folder / f"{name}-map.csv"
    plate[["Well", "Sample ID", "Sample Type"]].rename(columns={
        "Well": "well", "Sample ID": "barcode", "Sample Type": "sample_type"}).to_csv(
        plate_map, index=False)
    plate["Sample ID"] = ""
    export = folder / f"{name}-export.csv"
    plate.to_csv(export, index=False)
    return cohort, export, plate_map, plate


def test_an_export_without_barcodes_is_stored_with_its_plate_map(settings, engine, world,
                                                                 tmp_path):
    cohort, export, plate_map, plate = _plate_without_barcodes(
        engine, world, tmp_path, seed=8, first_card=30_000_000)
    tech = world.auth("technician")

    def upload(map_path=None, file=export):
        files = {"file": (file.name, file.read_bytes())}
        if map_path is not None:
            files["plate_map"] = (map_path.name, map_path.read_bytes())
        return client.post(f"{API}/runs", files=files, headers=tech)

    with TestClient(create_app(settings, engine, pipeline=ScreeningPipeline())) as client:
        refused = upload()
        assert refused.status_code == 422 and "has no sample id" in refused.text
        stored = upload(plate_map)
        assert stored.status_code == 201, stored.text
        run = stored.json()
        assert run["n_held"] == 0 and run["n_results"] > 89 * 30
        again = upload(plate_map)
        assert again.status_code == 200 and again.json()["id"] == run["id"]
        # the same export with another map is another upload for a stored plate: a conflict
        other = tmp_path / "other-map.csv"
        other.write_text(plate_map.read_text(encoding="utf-8").replace(
            str(cohort["specimen_id"].iloc[0]), "SWAPPED"), encoding="utf-8")
        assert upload(other).status_code == 409
        # a file cut after a whole well, sent with its map, is refused and stores nothing
        cut = tmp_path / "VP-8-cut.csv"
        plate.iloc[:-1].to_csv(cut, index=False)
        runs_before = client.get(f"{API}/runs", headers=tech).json()
        short = upload(plate_map, file=cut)
        assert short.status_code == 422
        assert "VP-8-map.csv" in short.text and "the file lacks" in short.text
        assert client.get(f"{API}/runs", headers=tech).json() == runs_before
    with Session(engine) as session:
        barcodes = set(session.exec(select(Specimen.barcode).where(
            Specimen.state != "accessioned")).all())
    assert barcodes == set(cohort["specimen_id"])
    with Session(engine) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "ingest")).all()
    assert event.after["plate_map"] == "VP-8-map.csv"
    assert event.after["plate_map_sha256"] == hashlib.sha256(plate_map.read_bytes()).hexdigest()
    assert event.after["export_sha256"] == hashlib.sha256(export.read_bytes()).hexdigest()
    assert event.after["file_sha256"] == run["file_sha256"] != event.after["export_sha256"]


def test_nbs_ingest_takes_the_plate_map(settings, engine, world, tmp_path):
    _, export, plate_map, _ = _plate_without_barcodes(
        engine, world, tmp_path, seed=9, first_card=31_000_000)
    env = {"NBS_DATABASE_URL": settings.database_url}
    missing = nbs("ingest", str(export), "--plate-map", str(tmp_path / "none.csv"), env=env,
                  cwd=ROOT, timeout=180)
    assert missing.returncode == 3 and "none.csv" in missing.stderr
    done = nbs("ingest", str(export), "--plate-map", str(plate_map), env=env, cwd=ROOT,
               timeout=180)
    assert done.returncode == 0, done.stderr
    assert "stored: run" in done.stdout and "held=0" in done.stdout


def test_ingest_checks_the_control_lots_against_the_run_date(settings, engine, world,
                                                             tmp_path):
    """A plate run after its control lots expired gets the QC decision nbs quantify gives the
    same file: accepted with a warning naming each expired lot (docs/quantitation.md)."""
    cohort = simulate_cohort(89, seed=12, disorder_rate=0.0)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=32_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    plate = simulate_plate(seed=12, cohort=cohort, plate_id="EXPIRED-12")
    plate.run.metadata["acquired_at"] = "2028-01-05T08:00:00"  # the lots expire 2027-12-31
    path = tmp_path / "EXPIRED-12.txt"
    write_plate(plate, path, format="masslynx")
    report = tmp_path / "qc.json"
    quantified = CliRunner().invoke(app, ["quantify", str(path), "--out",
                                          str(tmp_path / "profiles.csv"), "--qc-report",
                                          str(report)])
    assert quantified.exit_code == 0, quantified.output
    expected = json.loads(report.read_text(encoding="utf-8"))["decision"]
    assert expected["status"] == "accept_with_warnings"
    run = ingest_bytes(engine, SYSTEM, path.read_bytes(), path.name, ScreeningPipeline()).run
    assert run.qc_decision == expected["status"]
    expired = [r for r in run.qc_reasons or [] if "expired on 2027-12-31" in r]
    assert expired and expired == [w for w in expected["warnings"] if "expired" in w]
