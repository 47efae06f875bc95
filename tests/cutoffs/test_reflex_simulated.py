"""The reflex flow on simulated populations drawn separately: a first-tier table from one,
levels calibrated on a second, measured on a third. No moderate or severe case may be cleared
and each disorder's mild cases stay within their bound on the calibration set; the test set
shows what the rules do on cases the calibration never saw."""

from __future__ import annotations

import pytest

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.reflex.calibrate import (
    calibrate_reflex,
    oracle_reflex,
    read_calibration,
    write_calibration,
)
from cutoffs.reflex.measure import measure_flow
from cutoffs.reflex.outcomes import run_flow, truth_of
from cutoffs.reflex.rules import default_reflex_rules
from msms.population import simulate_cohort, split_truth
from msms.population.screening import simulate_screening

RULES = default_reflex_rules()


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    profiles, truth = split_truth(simulate_cohort(60_000, seed=2024))
    population = profiles[truth["true_disorder"].eq("").to_numpy()]
    table = derive_cutoffs(population, n_bootstrap=10, seed=1)
    table.scores = derive_score_section(population, table, target_flag_rate=0.015)
    cal_first, cal_repeat = simulate_screening(60_000, seed=11, disorder_rate=0.06)
    calibrated = calibrate_reflex(cal_first, cal_repeat, table, RULES)
    path = write_calibration(calibrated, tmp_path_factory.mktemp("reflex") / "cal.json")
    first, repeat = simulate_screening(60_000, seed=12, disorder_rate=0.06)
    flow = run_flow(first, repeat, table, RULES, read_calibration(path).calibration)
    oracle = oracle_reflex(first, repeat, table, RULES)
    oracle_flow = run_flow(first, repeat, table, RULES, oracle.calibration)
    return (calibrated, measure_flow(flow, truth_of(first), RULES, len(first)), path,
            measure_flow(oracle_flow, truth_of(first), RULES, len(first)))


@pytest.mark.slow
def test_calibration_clears_no_moderate_or_severe_case_and_keeps_mild_bounds(study):
    calibrated, _, path, _ = study
    assert not calibrated.notes, calibrated.notes
    for disorder, (cleared, n) in calibrated.mild_cleared.items():
        assert cleared <= RULES.mild_bound(disorder) * n, disorder
    again = read_calibration(path)
    assert again.version == calibrated.version
    assert calibrated.version.startswith(RULES.version + " ")


@pytest.mark.slow
def test_test_population_measures(study):
    _, measures, _, _ = study
    by = measures.set_index("group")
    assert by.loc["all", "cleared_severe"] == 0
    assert by.loc["all", "cases_flagged"] > 2000
    for group in ("C3", "BCAA", "GA1"):  # an assay specific to the disorder
        assert by.loc[group, "fp_cut"] >= 0.85, group
        assert by.loc[group, "cleared_moderate"] + by.loc[group, "cleared_severe"] == 0
    assert by.loc["C3", "maternal_b12_found"] > 0


@pytest.mark.slow
def test_the_oracle_keeps_every_classic_case_of_its_own_population_and_bounds_the_rules(study):
    _, measures, _, oracle = study
    by, limit = measures.set_index("group"), oracle.set_index("group")
    assert limit.loc["all", "cleared_moderate"] + limit.loc["all", "cleared_severe"] == 0
    assert limit.loc["all", "fp_cut"] >= by.loc["all", "fp_cut"]
    assert limit.loc["all", "referred_per_births"] <= by.loc["all", "referred_per_births"]
