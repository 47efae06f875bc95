"""NBS_CUTOFFS: the laboratory's own cutoff table, named by a setting, read once when the app or
nbs ingest starts, and the version every stored evaluation records; a table that does not read
stops start-up naming the setting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cutoffs import write_cutoffs
from cutoffs.derive import derive_cutoffs
from lims.app import create_app
from lims.audit import SYSTEM
from lims.demo import accession_cohort, simulated_plate_file
from lims.errors import ConfigurationError
from lims.models import Evaluation, Run
from msms.population import simulate_cohort, split_truth
from tests.conftest import ROOT
from tests.lims.helpers import API, nbs


@pytest.fixture(scope="module")
def cutoff_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    population, _ = split_truth(simulate_cohort(20_000, seed=3, disorder_rate=0.0))
    table = derive_cutoffs(population, version="lab-test-7", n_bootstrap=20)
    path = tmp_path_factory.mktemp("cutoffs") / "cutoffs.toml"
    write_cutoffs(table, path)
    return path


def _plate(engine, world, folder: Path, seed: int, first_card: int) -> Path:
    cohort = simulate_cohort(89, seed=seed, disorder_rate=0.1)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=first_card, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    return simulated_plate_file(cohort, seed=seed, fmt="masslynx", plate_id=f"CUT-{seed}",
                                folder=folder)


def test_a_plate_is_evaluated_against_the_configured_table(settings, engine, world, tmp_path,
                                                            cutoff_file):
    configured = settings.model_copy(update={"cutoffs": cutoff_file})
    app = create_app(configured, engine)
    assert app.state.pipeline.cutoffs.version == "lab-test-7"
    path = _plate(engine, world, tmp_path, 41, 22_000_000)
    with TestClient(app) as client:
        response = client.post(f"{API}/runs", files={"file": (path.name, path.read_bytes())},
                               headers=world.auth("technician"))
        assert response.status_code == 201, response.text
    with Session(engine) as session:
        versions = {e.cutoff_version for e in session.exec(select(Evaluation))}
    assert versions and all("lab-test-7" in v for v in versions), versions


def test_nbs_ingest_uses_the_configured_table(settings, engine, world, tmp_path, cutoff_file):
    path = _plate(engine, world, tmp_path, 43, 23_000_000)
    result = nbs("ingest", str(path), "--actor", "tester", cwd=ROOT, env={
        "NBS_DATABASE_URL": settings.database_url, "NBS_CUTOFFS": str(cutoff_file)})
    assert result.returncode == 0, result.stderr
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        versions = {e.cutoff_version for e in session.exec(
            select(Evaluation).where(Evaluation.run_id == run.id))}
    assert versions and all("lab-test-7" in v for v in versions), versions
    broken = nbs("ingest", str(path), cwd=ROOT, env={
        "NBS_DATABASE_URL": settings.database_url, "NBS_CUTOFFS": str(tmp_path / "none.toml")})
    assert broken.returncode == 3 and "NBS_CUTOFFS=" in broken.stderr, broken.stderr


def test_a_table_that_does_not_read_stops_start_up(settings, engine, tmp_path, cutoff_file):
    broken = tmp_path / "broken.toml"
    broken.write_text(cutoff_file.read_text(encoding="utf-8").replace(
        "upper = ", "upper = \"high\" # ", 1), encoding="utf-8")
    for path, words in ((broken, "broken.toml"), (tmp_path / "absent.toml", "absent.toml")):
        with pytest.raises(ConfigurationError, match="NBS_CUTOFFS=") as error:
            create_app(settings.model_copy(update={"cutoffs": path}), engine)
        assert words in str(error.value)
