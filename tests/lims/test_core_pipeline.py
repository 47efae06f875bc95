"""The real screening core behind the LIMS: a simulated plate in a vendor format goes through
instruments.read -> msms.quantify -> msms.qc -> cutoffs.evaluate and into the database; the
demo seed loads users and flagged plates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from lims.app import create_app
from lims.audit import SYSTEM
from lims.demo import accession_cohort, seed_demo, simulated_plate_file
from lims.models import Evaluation, Result, Specimen, User
from lims.runs.pipeline import CoreProcessor
from msms.population import simulate_cohort
from tests.lims.test_ingest import API


def test_virtual_plate_through_the_real_core(settings, engine, world, tmp_path):
    cohort = simulate_cohort(89, seed=7, disorder_rate=0.1)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=20_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    path = simulated_plate_file(cohort, seed=7, fmt="masslynx", plate_id="VP-7",
                                folder=tmp_path)
    app = create_app(settings, engine, processor=CoreProcessor())
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
