"""Covariate-adjusted percentiles and multiples of the median."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cutoffs.derive import derive_cutoffs
from cutoffs.evaluate import evaluate
from cutoffs.scores import (
    SCORE_COLUMNS,
    TableReference,
    catalogue_reference,
    format_score,
    format_scores,
    score,
)
from msms.catalogue import default_catalogue
from tests.cutoffs.builders import MEDIANS, profiles


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(8)
    n = 12_000
    frame = pd.DataFrame({"specimen_id": [f"R{i}" for i in range(n)],
                          "age_at_collection_hours": np.where(rng.random(n) < 0.5, 12.0, 48.0)})
    for code in ("Phe", "Tyr", "C8"):
        frame[code] = MEDIANS[code] * np.exp(0.3 * rng.standard_normal(n))
    early = frame["age_at_collection_hours"] < 24
    frame.loc[early, "Phe"] *= 1.5  # early samples read higher
    return derive_cutoffs(frame, markers=["Phe", "C8", "Phe/Tyr"], min_stratum_n=4000,
                          n_bootstrap=10)


def test_percentile_and_mom_among_babies_like_this_one(table):
    early_median = table.entry("Phe", "age_at_collection=<24").median
    late_median = table.entry("Phe", "age_at_collection=24-<168").median
    assert early_median == pytest.approx(1.5 * late_median, rel=0.05)
    frame = profiles({"Phe": early_median}, {"Phe": early_median})
    frame["age_at_collection_hours"] = [12.0, 48.0]
    scores = score(frame, table, ["Phe"])
    assert list(scores.columns) == list(SCORE_COLUMNS)
    early, late = scores.itertuples()
    assert early.stratum == "age_at_collection=<24" and late.stratum == "age_at_collection=24-<168"
    assert early.percentile == pytest.approx(50, abs=0.5) and early.mom == pytest.approx(1.0)
    assert late.percentile > 85 and late.mom == pytest.approx(1.5, rel=0.05)
    assert early.reference_n > 4000 and early.reference == f"cutoffs {table.version}"


def test_percentiles_follow_the_grid_and_clip(table):
    entry = table.entry("C8")
    frame = profiles({"C8": entry.upper}, {"C8": entry.quantiles[0] / 10}, {"C8": 100.0},
                     {"C8": np.nan})
    scores = score(frame, TableReference(table), ["C8"])
    pct = scores["percentile"].tolist()
    assert pct[0] == pytest.approx(99.5, abs=0.01)
    assert pct[1] == 0.1 and pct[2] == 99.9
    assert math.isnan(pct[3]) and math.isnan(scores["mom"].iloc[3])


def test_catalogue_reference_is_a_log_normal_through_median_and_p99():
    analyte = default_catalogue().analyte("Phe")
    frame = profiles({"Phe": analyte.pop_median_umol_l}, {"Phe": analyte.pop_p99_umol_l},
                     {"Phe": 0.0})
    scores = score(frame, catalogue_reference(), ["Phe", "Phe/Tyr"])
    phe = scores[scores["marker"] == "Phe"]
    assert phe["percentile"].tolist()[:2] == pytest.approx([50.0, 99.0], abs=0.01)
    assert phe["percentile"].iloc[2] == 0.0
    assert phe["mom"].iloc[1] == pytest.approx(analyte.pop_p99_umol_l / analyte.pop_median_umol_l)
    # ratios have no catalogue reference (the covariate model scores them)
    ratio = scores[scores["marker"] == "Phe/Tyr"]
    assert ratio["percentile"].isna().all() and ratio["reference"].eq("").all()
    assert catalogue_reference().name == "catalogue population estimates"


def test_scores_are_reported_with_the_calls(table):
    calls = evaluate(profiles({"Phe": 300.0}), cutoffs=table)
    assert calls["reasons"].iloc[0].startswith("Phe=300>")
    assert "(>P99.9, " in calls["reasons"].iloc[0] and "MoM" in calls["reasons"].iloc[0]


def test_format_score():
    assert format_score(99.54, 5.23) == "P99.5, 5.2 MoM"
    assert format_score(99.95, 12.4) == ">P99.9, 12 MoM"
    assert format_score(0.05, 0.2) == "<P0.1, 0.2 MoM"
    assert format_score(float("nan"), float("nan")) == ""


def test_format_scores_writes_each_pair_as_format_score_does():
    edges = [math.nan, -math.inf, math.inf, -0.0, 0.0, 0.05, 0.1, 0.1000001, 9.96, 9.949,
             50.0, 99.85, 99.9, 99.95, 100.0, 10.0, 9.5, 123.456, -3.2]
    pct = np.repeat(edges, len(edges))
    mom = np.tile(edges, len(edges))
    expected = [format_score(p, m) for p, m in zip(pct.tolist(), mom.tolist(), strict=True)]
    assert format_scores(pct, mom) == expected
    assert format_scores(np.array([]), np.array([])) == []
