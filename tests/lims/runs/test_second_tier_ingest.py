"""The second tier in ingest: a small model trained here from a simulated cohort is named by
NBS_SECOND_TIER_MODEL, loaded when the app starts, applied to the calls of a plate, stored with
the evaluations and shown in the review queue; a model that does not fit stops start-up."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import joblib
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cutoffs.evaluate import evaluate
from cutoffs.second_tier.features import default_feature_spec
from cutoffs.second_tier.labelled import label_screen_positives, validate_labelled
from cutoffs.second_tier.model_file import load_model, save_model
from cutoffs.second_tier.training import train_model
from lims.app import create_app
from lims.audit import SYSTEM
from lims.demo import accession_cohort, simulated_plate_file
from lims.errors import ConfigurationError
from lims.models import Evaluation, Run
from msms.population import simulate_cohort, split_truth
from tests.lims.helpers import API, FAST


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cohort = simulate_cohort(4000, seed=11, disorder_rate=0.1)
    profiles, _ = split_truth(cohort)
    labelled = validate_labelled(label_screen_positives(evaluate(profiles), cohort))
    model = train_model(labelled, default_feature_spec(), FAST, training_sha256="cd" * 32,
                        source="simulated.csv", validate=False)
    path = tmp_path_factory.mktemp("model") / "second_tier.joblib"
    save_model(model, path)
    return path


def test_plate_is_evaluated_with_the_second_tier(settings, engine, world, tmp_path, model_path):
    model = load_model(model_path)
    configured = settings.model_copy(update={"second_tier_model": model_path})
    cohort = simulate_cohort(89, seed=23, disorder_rate=0.25)
    with Session(engine) as session:
        cohort = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                  first_card=21_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    path = simulated_plate_file(cohort, seed=23, fmt="masslynx", plate_id="ST-23",
                                folder=tmp_path)
    app = create_app(configured, engine)
    assert app.state.pipeline.second_tier.version == model.version  # loaded at start-up
    with TestClient(app) as client:
        response = client.post(f"{API}/runs", files={"file": (path.name, path.read_bytes())},
                               headers=world.auth("technician"))
        assert response.status_code == 201, response.text
        assert response.json()["model_version"] == model.version
        queue = client.get(f"{API}/review/queue", params={"flagged_only": False},
                           headers=world.auth("reviewer"))
        assert queue.status_code == 200, queue.text
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        assert run.model_version == model.version
        rows = session.exec(select(Evaluation)).all()
    scored = [e for e in rows if e.first_tier in model.policy.scored_tiers]
    assert scored, "the plate should have screen positives for the second tier to score"
    for e in scored:
        assert e.second_tier_probability is not None and 0 <= e.second_tier_probability <= 1
        assert e.model_version == model.version and "second tier" in e.reasons
    for e in rows:
        if e.first_tier in model.policy.never_downgrade_tiers:
            assert e.final != "negative"  # never downgraded
    shown = [c for item in queue.json() for c in item["calls"]
             if c["second_tier_probability"] is not None]
    stored = {(e.specimen_id, e.disorder): e for e in rows}
    for item in queue.json():
        for c in item["calls"]:
            e = stored[(item["specimen_id"], c["disorder"])]
            assert (c["second_tier_probability"], c["final"], c["model_version"]) == (
                e.second_tier_probability, e.final, e.model_version)
    assert all(c["model_version"] == model.version for c in shown)


def _tampered(source: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    envelope = joblib.load(source)
    change(envelope["metadata"])
    joblib.dump(envelope, target)
    return target


@pytest.mark.parametrize(("change", "message"), [
    (lambda m: m["versions"].update({"scikit-learn": "0.24.2"}), "scikit-learn 0.24.2"),
    (lambda m: m["feature_spec"]["analytes"].__setitem__(0, "Zzz"), "Zzz"),
])
def test_a_model_that_does_not_fit_stops_start_up(settings, engine, model_path, tmp_path,
                                                  change, message):
    bad = _tampered(model_path, tmp_path / "bad.joblib", change)
    configured = settings.model_copy(update={"second_tier_model": bad})
    with pytest.raises(ConfigurationError, match="NBS_SECOND_TIER_MODEL") as info:
        create_app(configured, engine)
    assert message in str(info.value) and str(bad) in str(info.value)


def test_a_missing_model_file_stops_start_up(settings, engine, tmp_path):
    configured = settings.model_copy(
        update={"second_tier_model": tmp_path / "absent.joblib"})
    with pytest.raises(ConfigurationError, match="NBS_SECOND_TIER_MODEL=.*absent.joblib"):
        create_app(configured, engine)


def test_no_model_configured_means_no_second_tier(settings, engine):
    assert settings.second_tier_model is None
    assert create_app(settings, engine).state.pipeline.second_tier is None
