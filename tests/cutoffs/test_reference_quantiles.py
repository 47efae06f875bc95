"""The reference distribution among babies like this one: the values at chosen percentiles,
the inverse of the percentile each reference gives a value (what the specimen page draws)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cutoffs.derive import derive_cutoffs
from cutoffs.scores import (
    QUANTILE_COLUMNS,
    FallbackReference,
    TableReference,
    catalogue_reference,
    model_reference,
    reference_quantiles,
    score,
)
from tests.cutoffs.builders import MEDIANS

PROBS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(3)
    n = 9_000
    frame = pd.DataFrame({"specimen_id": [f"R{i}" for i in range(n)],
                          "age_at_collection_hours": np.where(rng.random(n) < 0.5, 12.0, 48.0)})
    for code in ("Phe", "Tyr"):
        frame[code] = MEDIANS[code] * np.exp(0.3 * rng.standard_normal(n))
    frame.loc[frame["age_at_collection_hours"] < 24, "Phe"] *= 1.5
    return derive_cutoffs(frame, markers=["Phe"], min_stratum_n=3000, n_bootstrap=10)


def _babies() -> pd.DataFrame:
    return pd.DataFrame({
        "specimen_id": ["TERM", "PRETERM"], "birth_weight_g": [3400, 1100],
        "gestational_age_weeks": [39.0, 29.0], "age_at_collection_hours": [48.0, 12.0],
        "sex": ["F", "M"], "tpn": [0, 1], "Phe": [60.0, 60.0], "Tyr": [70.0, 70.0],
        "C3": [1.5, 1.5], "C2": [20.0, 20.0]})


def _scored_back(frame: pd.DataFrame, reference, marker: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Each quantile put back as the specimen's value and scored: its percentile."""
    q = reference_quantiles(frame, reference, [marker], PROBS)
    out = np.empty((len(frame), len(PROBS)))
    for i, sid in enumerate(frame["specimen_id"]):
        values = q[q["specimen_id"] == sid]["value"].to_numpy()
        probe = pd.concat([frame.iloc[[i]]] * len(PROBS), ignore_index=True)
        probe["specimen_id"] = [f"{sid}-{k}" for k in range(len(PROBS))]
        if "/" not in marker:
            probe[marker] = values
        else:  # a ratio: move the numerator
            num, den = marker.split("/")
            probe[num] = values * probe[den]
        out[i] = score(probe, reference, [marker])["percentile"].to_numpy()
    return out


@pytest.mark.parametrize("marker", ["Phe", "C3", "C3/C2"])
def test_the_covariate_model_quantiles_score_back_to_their_percentiles(marker):
    frame = _babies()
    q = reference_quantiles(frame, model_reference(), [marker], PROBS)
    assert list(q.columns) == list(QUANTILE_COLUMNS) and len(q) == 2 * len(PROBS)
    back = _scored_back(frame, model_reference(), marker)
    assert back == pytest.approx(np.tile(100 * np.asarray(PROBS), (2, 1)), abs=0.01)
    term, preterm = (q[q["specimen_id"] == s]["value"].to_numpy() for s in ("TERM", "PRETERM"))
    assert not np.allclose(term, preterm)  # babies like this one: the covariates move it
    assert np.all(np.diff(term) > 0)


def test_a_table_gives_its_strata_and_the_model_fills_what_it_lacks(table):
    frame = _babies()
    reference = FallbackReference(TableReference(table), model_reference())
    q = reference_quantiles(frame, reference, ["Phe", "C3"], PROBS)
    phe = q[q["marker"] == "Phe"]
    early = phe[phe["specimen_id"] == "PRETERM"]["value"].to_numpy()
    late = phe[phe["specimen_id"] == "TERM"]["value"].to_numpy()
    assert early[3] == pytest.approx(table.entry("Phe", "age_at_collection=<24").median,
                                     rel=0.02)
    assert late[3] == pytest.approx(table.entry("Phe", "age_at_collection=24-<168").median,
                                    rel=0.02)
    assert _scored_back(frame, reference, "Phe") == pytest.approx(
        np.tile(100 * np.asarray(PROBS), (2, 1)), abs=0.01)
    c3 = q[q["marker"] == "C3"]["value"].to_numpy()
    model = reference_quantiles(frame, model_reference(), ["C3"], PROBS)["value"].to_numpy()
    assert c3 == pytest.approx(model)  # no table entry: the covariate model's


def test_outside_the_grid_and_unknown_markers_are_missing():
    frame = _babies()
    q = reference_quantiles(frame, model_reference(), ["Phe", "MMA"], (0.0001, 0.5, 0.9999))
    phe = q[q["marker"] == "Phe"]["value"].tolist()
    assert math.isnan(phe[0]) and not math.isnan(phe[1]) and math.isnan(phe[2])
    assert q[q["marker"] == "MMA"]["value"].isna().all()
    catalogue = reference_quantiles(frame, catalogue_reference(), ["Phe"], (0.5,))
    assert catalogue["value"].iloc[0] == pytest.approx(catalogue_reference().median["Phe"])
