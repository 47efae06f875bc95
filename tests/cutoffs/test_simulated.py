"""Validation on simulated cohorts: cutoffs derived from one simulated screen-negative population,
evaluated on a separate, enriched cohort. Every non-mild affected baby must be flagged for its
disorder; the first-tier false-positive rate is reported per disorder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cutoffs.derive import derive_cutoffs
from cutoffs.evaluate import evaluate
from cutoffs.performance import first_tier_performance
from cutoffs.rules import default_rules
from msms.population import SIMULATED_DISORDERS, simulate_cohort, split_truth

REFERENCE_N = 100_000
VALIDATION_N = 60_000


@pytest.fixture(scope="module")
def validation():
    reference = simulate_cohort(REFERENCE_N, seed=2024)
    population, truth = split_truth(reference)
    population = population[truth["true_disorder"].eq("").to_numpy()]  # screen-negatives
    table = derive_cutoffs(population, n_bootstrap=50, seed=1)
    cohort = simulate_cohort(VALIDATION_N, seed=7, disorder_rate=0.04)
    profiles, truth = split_truth(cohort)
    calls = evaluate(profiles, cutoffs=table)
    return table, calls, truth, first_tier_performance(calls, truth)


@pytest.mark.slow
def test_every_non_mild_affected_baby_is_flagged_for_its_disorder(validation):
    table, calls, truth, performance = validation
    simulated = performance[performance["disorder"].isin(SIMULATED_DISORDERS)]
    assert (simulated["affected_non_mild"] > 0).all(), simulated  # every disorder is tested
    missed = simulated[simulated["missed_non_mild"] > 0]
    assert missed.empty, missed[["disorder", "affected_non_mild", "missed_non_mild"]]
    assert (simulated["sensitivity_non_mild"] == 1.0).all()
    # the cutoffs came from a separate population, with strata
    assert table.derived_from["n"] < REFERENCE_N
    assert len({e.stratum for e in table.entries}) > 10
    assert calls["cutoff_version"].str.endswith(table.version).all()


@pytest.mark.slow
def test_false_positive_rate_is_reported_per_disorder(validation, capsys):
    _, _, truth, performance = validation
    rules = default_rules()
    assert performance["disorder"].tolist() == list(rules.codes)
    rates = performance.set_index("disorder")["false_positive_rate_pct"]
    assert rates.notna().all()
    # 99.5th-percentile cutoffs: about 0.5% per primary marker; "any" rules read two
    assert rates.max() < 1.5, rates.sort_values().tail()
    referral = performance.set_index("disorder")["false_positive_positive_rate_pct"]
    assert (referral <= rates).all()
    unaffected = int((truth["true_disorder"] == "").sum())
    with capsys.disabled():
        print(f"\nfirst-tier false-positive rate per disorder ({unaffected:,} unaffected babies;"
              " flagged = any non-normal call, referral = positive or critical):")
        shown = performance[["disorder", "affected", "sensitivity", "false_positive_rate_pct",
                             "false_positive_positive_rate_pct"]]
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


@pytest.mark.slow
def test_mild_cases_straddle_the_cutoffs(validation):
    """The simulated mild cases sit around the cutoffs: some are flagged, some are not."""
    _, _, _, performance = validation
    mild = performance["affected"] - performance["affected_non_mild"]
    missed_mild = performance["affected"] - performance["flagged_affected"]
    assert int(mild.sum()) > 0
    assert 0 < int(missed_mild.sum()) < int(mild.sum())


def test_performance_table_counts():
    calls = pd.DataFrame({
        "specimen_id": ["a", "b", "c", "c"],
        "disorder": ["PKU", "PKU", "PKU", "MCAD"],
        "first_tier": ["positive", "borderline", "normal", "critical"],
    })
    truth = pd.DataFrame({"specimen_id": ["a", "b", "c", "d"],
                          "true_disorder": ["PKU", "", "", "PKU"],
                          "severity": ["severe", "", "", "mild"]})
    perf = first_tier_performance(calls, truth, default_rules().subset(["PKU", "MCAD"]))
    pku = perf.set_index("disorder").loc["PKU"]
    assert (pku["affected"], pku["flagged_affected"], pku["missed_non_mild"]) == (2, 1, 0)
    assert pku["sensitivity_non_mild"] == 1.0 and pku["sensitivity"] == 0.5
    assert pku["false_positives"] == 1 and pku["false_positives_positive"] == 0
    assert np.isclose(pku["false_positive_rate_pct"], 50.0)
    mcad = perf.set_index("disorder").loc["MCAD"]
    assert mcad["false_positives_positive"] == 1 and np.isnan(mcad["sensitivity"])
