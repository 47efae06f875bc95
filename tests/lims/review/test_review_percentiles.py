"""The review queue's covariate-adjusted scores: against the covariate model of population
estimates (the default), and against a cutoff table derived from a simulated population, where a
preterm baby's values are placed among preterm babies."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from cutoffs import write_cutoffs
from cutoffs.covariate_model import default_covariate_model
from cutoffs.derive import derive_cutoffs
from cutoffs.scores import score
from lims.app import create_app
from lims.audit import SYSTEM
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import Infant, Result, Specimen
from msms.population import simulate_cohort, split_truth
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID
from tests.lims.helpers import API, accession, card, upload
from tests.lims.plates import plate_csv


def test_scores_against_the_covariate_model(client, world, engine):
    accession(client, world, 1, 2)
    response = upload(client, world, "p.csv", plate_csv(
        "P-PCT", {card(1): {"Phe": 110, "Tyr": 60}, card(2): {"Xle": 800, "Phe": 52}}))
    assert response.status_code == 201, response.text
    queue = client.get(f"{API}/review/queue", params={"flagged_only": False},
                       headers=world.auth("reviewer")).json()
    shown = {item["barcode"]: item for item in queue}
    assert set(shown) == {card(1), card(2)}
    # the same numbers as cutoffs.scores with its default reference, the covariate model,
    # worked out here from the values and covariates stored in the tables
    profiles = _profiles_from_the_database(engine, sorted(shown))
    expected = score(profiles)
    model = default_covariate_model()
    assert expected["reference"].str.contains(model.version).all()
    for row in expected.itertuples(index=False):
        entry = shown[row.specimen_id]["scores"][row.marker]
        assert entry["reference"] == row.reference and entry["stratum"] == row.stratum
        assert shown[row.specimen_id]["percentiles"][row.marker] == entry["percentile"]
        if math.isnan(row.percentile):
            assert entry["percentile"] is None
        else:
            assert entry["percentile"] == pytest.approx(row.percentile, abs=0.051)
            assert entry["mom"] == pytest.approx(row.mom, abs=5e-4)
    for barcode in shown:  # analytes and the ratios they allow
        assert {"Phe", "Tyr", "Xle", "Phe/Tyr", "Xle/Phe"} <= set(shown[barcode]["scores"])
    assert shown[card(2)]["scores"]["Xle"]["percentile"] > 99.5
    assert shown[card(1)]["scores"]["Phe/Tyr"]["mom"] > 1.5  # Phe 110 over Tyr 60
    assert 35 < shown[card(2)]["scores"]["Phe"]["percentile"] < 65  # near the median


@pytest.fixture(scope="module")
def cutoff_file(tmp_path_factory: pytest.TempPathFactory):
    population, _ = split_truth(simulate_cohort(20_000, seed=1, disorder_rate=0.0))
    table = derive_cutoffs(population, min_stratum_n=1000, version="test-1")
    path = tmp_path_factory.mktemp("cutoffs") / "cutoffs.toml"
    write_cutoffs(table, path)
    return path


def _profiles_from_the_database(engine, barcodes: list[str]) -> pd.DataFrame:
    """The cards' mean values (to 4 decimals, as the queue shows them) and covariates, read
    straight from the tables."""
    rows = []
    with Session(engine) as session:
        for barcode in barcodes:
            specimen = session.exec(select(Specimen).where(Specimen.barcode == barcode)).one()
            infant = session.get(Infant, specimen.infant_id)
            results = pd.DataFrame([(r.analyte, r.conc_umol_l) for r in session.exec(
                select(Result).where(Result.specimen_id == specimen.id))],
                columns=["analyte", "conc"]).groupby("analyte")["conc"].mean()
            rows.append({
                PROFILE_ID: barcode, "birth_weight_g": specimen.birth_weight_g,
                "gestational_age_weeks": specimen.gestational_age_weeks,
                "age_at_collection_hours": round(
                    (specimen.collected_at - infant.birth_at).total_seconds() / 3600, 1),
                "sex": infant.sex, "tpn": int(specimen.tpn),
                "transfused": int(specimen.transfused),
                **{a: round(v, 4) for a, v in results.items()}})
    return pd.DataFrame(rows)


def test_percentiles_adjusted_by_a_derived_table(settings, engine, world, tmp_path, cutoff_file):
    cohort = simulate_cohort(89, seed=31, disorder_rate=0.05)
    # a few preterm, low-birth-weight babies among the term ones
    preterm = cohort.index[:6]
    cohort.loc[preterm, "gestational_age_weeks"] = 34.0
    cohort.loc[preterm, "birth_weight_g"] = 2100.0
    with Session(engine) as session:
        cards = accession_cohort(session, SYSTEM, cohort, world.submitter_ids,
                                 first_card=40_000_000, born=datetime(2026, 3, 1, tzinfo=UTC))
        session.commit()
    path = simulated_plate_file(cards, seed=31, fmt="masslynx", plate_id="PCT-31",
                                folder=tmp_path)
    configured = settings.model_copy(update={"cutoffs": cutoff_file})
    app = create_app(configured, engine)
    with TestClient(app) as client:
        response = client.post(f"{API}/runs", files={"file": (path.name, path.read_bytes())},
                               headers=world.auth("technician"))
        assert response.status_code == 201, response.text
        queue = client.get(f"{API}/review/queue", params={"flagged_only": False, "limit": 500},
                           headers=world.auth("reviewer")).json()
    assert len(queue) == 89 - len(client.get(
        f"{API}/worklists/duplicates", headers=world.auth("technician")).json())
    table = app.state.pipeline.cutoffs
    shown = {item["barcode"]: item["percentiles"] for item in queue}
    profiles = _profiles_from_the_database(engine, sorted(shown))
    expected = score(profiles, table)
    assert set(expected["marker"]) >= {"Phe", "C8", "Phe/Tyr"}  # analytes and ratios
    for row in expected.itertuples(index=False):
        got = shown[row.specimen_id].get(row.marker)
        if math.isnan(row.percentile):
            assert got is None
        else:
            assert got == pytest.approx(row.percentile, abs=0.051), (row.specimen_id, row.marker)
    # a preterm card is scored among preterm babies: other percentiles than a term baby's
    # with the same values
    preterm_cards = [c for c in cards.loc[preterm, "specimen_id"] if c in shown]
    assert preterm_cards
    as_term = profiles[profiles[PROFILE_ID].isin(preterm_cards)].copy()
    as_term["gestational_age_weeks"], as_term["birth_weight_g"] = 39.5, 3300
    term = score(as_term, table).set_index([PROFILE_ID, "marker"])["percentile"]
    differs = [(c, m) for (c, m), pct in term.items()
               if shown[c].get(m) is not None and abs(shown[c][m] - pct) > 1.0]
    assert len(differs) >= len(preterm_cards), differs
    stratum = score(profiles[profiles[PROFILE_ID].isin(preterm_cards)], table)["stratum"]
    assert stratum.str.contains("gestational_age=32-36|birth_weight=1500-2499").all()
    assert all(0 <= v <= 100 for p in shown.values() for v in p.values() if v is not None)
    assert set(COVARIATE_COLUMNS) <= set(queue[0]["covariates"])
