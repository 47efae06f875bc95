"""Second-tier negatives in review, with a real model trained here from a simulated cohort: a
specimen flagged by the first tier whose calls the second tier clears ("no recall recommended")
stays in the review queue with that recommendation, is never released in bulk, and is decided one
at a time; the queue offers exactly the decisions that are then accepted."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cutoffs.evaluate import evaluate
from cutoffs.second_tier.apply import second_tier_step
from cutoffs.second_tier.features import default_feature_spec
from cutoffs.second_tier.labelled import label_screen_positives, validate_labelled
from cutoffs.second_tier.model_file import SecondTierModel, load_model, save_model
from cutoffs.second_tier.training import train_model
from lims.app import create_app
from lims.audit import SYSTEM
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import Evaluation, Release, Review, Specimen
from msms.population import simulate_cohort, split_truth
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, FAST

#: The quick policy of the ingest test with thresholds at the lowest out-of-fold true-positive
#: probability (no extra margin), so that a plate of 89 holds several second-tier negatives; the
#: LIMS rules tested here do not depend on how strict the model is.
CLEARING = dataclasses.replace(FAST, safety_margin=1.0)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cohort = simulate_cohort(4000, seed=11, disorder_rate=0.1)
    profiles, _ = split_truth(cohort)
    labelled = validate_labelled(label_screen_positives(evaluate(profiles), cohort))
    model = train_model(labelled, default_feature_spec(), CLEARING, training_sha256="ab" * 32,
                        source="simulated.csv", validate=False)
    path = tmp_path_factory.mktemp("model") / "second_tier.joblib"
    save_model(model, path)
    return path


@pytest.fixture(scope="module")
def plate_cohort(model_path) -> pd.DataFrame:
    """89 babies from a simulated population: every one whose calls the model clears (up to 8),
    six it keeps flagged, and screen negatives."""
    model: SecondTierModel = load_model(model_path)
    pool = simulate_cohort(3000, seed=5, disorder_rate=0.03)
    profiles, _ = split_truth(pool)
    calls = evaluate(profiles, postprocess=[second_tier_step(model)])
    by_specimen = calls.groupby("specimen_id")["final"]
    cleared = [s for s, finals in by_specimen if (finals == "negative").all()]
    standing = [s for s, finals in by_specimen if (finals != "negative").any()]
    normal = [s for s in profiles["specimen_id"] if s not in set(calls["specimen_id"])]
    pick = cleared[:8] + standing[:6]
    pick += normal[:89 - len(pick)]
    return pool.set_index("specimen_id").loc[pick].reset_index()


@pytest.fixture
def reviewed(settings, engine, world, tmp_path, model_path, plate_cohort):
    """The plate ingested with the second tier; the app's client."""
    configured = settings.model_copy(update={"second_tier_model": model_path})
    cohort = plate_cohort.copy()
    with Session(engine) as session:
        accession_cohort(session, SYSTEM, cohort, world.submitter_ids, first_card=22_000_000,
                         born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    with Session(engine) as session:
        cohort["specimen_id"] = [s.barcode for s in session.exec(
            select(Specimen).order_by(Specimen.id))]
    path = simulated_plate_file(cohort, seed=23, fmt="masslynx", plate_id="ST-R",
                                folder=tmp_path)
    with TestClient(create_app(configured, engine)) as client:
        response = client.post(f"{API}/runs", files={"file": (path.name, path.read_bytes())},
                               headers=world.auth("technician"))
        assert response.status_code == 201, response.text
        yield client


def _calls(engine) -> dict[int, list[Evaluation]]:
    out: dict[int, list[Evaluation]] = {}
    with Session(engine) as session:
        for e in session.exec(select(Evaluation).where(Evaluation.current)):
            out.setdefault(e.specimen_id, []).append(e)
    return out


def _decide(client, world, specimen_id: int, decision: str, reason: str = ""):  # noqa: ANN202
    return client.post(f"{API}/specimens/{specimen_id}/decisions", headers=world.auth("reviewer"),
                       json={"decision": decision, "reason": reason, "password": PASSWORD})


def test_second_tier_negatives_stay_in_the_queue_and_out_of_bulk_release(reviewed, world,
                                                                         engine):
    client = reviewed
    calls = _calls(engine)
    cleared = sorted(sid for sid, cs in calls.items()
                     if all(c.final == "negative" and c.second_tier_probability is not None
                            for c in cs))
    standing = sorted(sid for sid, cs in calls.items() if any(c.final != "negative" for c in cs))
    assert len(cleared) >= 2, "the model should clear some first-tier positives on this plate"
    assert standing, "and keep others"
    with Session(engine) as session:
        for sid in cleared:
            specimen = session.get(Specimen, sid)
            assert specimen.flagged, "flagged by the first tier, whatever the second tier says"
            assert specimen.state == "awaiting_review"  # no recall: not re-tested in duplicate

    queue = client.get(f"{API}/review/queue", headers=world.auth("reviewer"))
    assert queue.status_code == 200, queue.text
    items = {item["specimen_id"]: item for item in queue.json()}  # flagged_only by default
    for sid in cleared:
        item = items[sid]
        assert item["second_tier_recommendation"] == "no_recall"
        assert item["allowed_decisions"] == ["release_normal", "request_repeat_specimen",
                                             "refer"]
        for c in item["calls"]:
            assert c["first_tier"] != "normal" and c["final"] == "negative"
            assert c["action"] == "none" and 0 <= c["second_tier_probability"] <= 1
            assert "second tier: no recall recommended" in c["reasons"]
    for sid in standing:
        if sid in items:
            assert "release_normal" not in items[sid]["allowed_decisions"]
            assert "override" in items[sid]["allowed_decisions"]

    # the bulk release leaves every first-tier-flagged specimen for an individual decision
    bulk = client.post(f"{API}/review/release-normals", headers=world.auth("reviewer"),
                       json={"password": PASSWORD})
    assert bulk.status_code == 200, bulk.text
    assert set(bulk.json()["released_specimen_ids"]).isdisjoint(calls)
    with Session(engine) as session:
        assert all(session.get(Specimen, sid).state == "awaiting_review" for sid in cleared)

    # the reviewer accepts the recommendation for one specimen ...
    accepted = _decide(client, world, cleared[0], "release_normal")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["outcome"] == "normal"
    assert accepted.json()["reason"].startswith(
        "reviewer accepted the second tier's recommendation (no recall) for ")
    assert all(c["final"] == "negative" and c["second_tier_probability"] is not None
               for c in accepted.json()["summary"]["calls"])
    # ... and overrides it for another: no recall recommended, but a repeat card is asked for
    assert _decide(client, world, cleared[1], "override", "why").status_code == 409
    repeat = _decide(client, world, cleared[1], "request_repeat_specimen",
                     "clinical history: sibling with MSUD")
    assert repeat.status_code == 201, repeat.text
    with Session(engine) as session:
        reviews = {r.specimen_id: r for r in session.exec(select(Review))}
        assert reviews[cleared[0]].decision == "release_normal"
        assert reviews[cleared[1]].decision == "request_repeat_specimen"
        assert session.exec(select(Release).where(Release.specimen_id == cleared[1])).one(
            ).outcome == "repeat_specimen_requested"


def test_the_queue_offers_only_decisions_that_are_accepted(reviewed, world, engine):
    client = reviewed
    items = client.get(f"{API}/review/queue", params={"flagged_only": False, "limit": 500},
                       headers=world.auth("reviewer")).json()
    everything = {"release_normal", "override", "request_repeat_specimen", "refer"}
    seen = set()
    for item in items:
        offered = set(item["allowed_decisions"])
        kind = ("cleared" if item["second_tier_recommendation"] == "no_recall"
                else "standing" if any(c["final"] != "negative" for c in item["calls"])
                else "normal")
        if kind in seen:
            continue
        seen.add(kind)
        for decision in sorted(everything - offered):
            refused = _decide(client, world, item["specimen_id"], decision, "a reason")
            assert refused.status_code == 409, (kind, decision, refused.text)
        decision = "override" if "override" in offered else "release_normal"
        assert decision in offered
        taken = _decide(client, world, item["specimen_id"], decision, "reviewed")
        assert taken.status_code == 201, (kind, decision, taken.text)
    assert seen == {"cleared", "standing", "normal"}
