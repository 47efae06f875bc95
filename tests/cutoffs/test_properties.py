"""Property tests (hypothesis) of the evaluation: monotonicity, scale invariance, robustness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutoffs.derive import derive_cutoffs
from cutoffs.evaluate import ACTIONS, CALL_COLUMNS, FINALS, FIRST_TIERS, evaluate
from cutoffs.markers import marker_table
from cutoffs.rules import default_rules
from msms.catalogue import default_catalogue
from msms.population import simulate_cohort, split_truth
from msms.ratios import parse_ratio

RULES = default_rules()
CODES = default_catalogue().codes
MEDIANS = np.array([a.pop_median_umol_l for a in default_catalogue().analytes])
RANK = {name: i for i, name in enumerate(("normal", "borderline", "positive", "critical"))}


def _pushes(rule) -> dict[str, str]:
    """Analyte -> the direction that moves the rule's markers further past their cutoffs."""
    push: dict[str, str] = {}
    for marker in rule.markers:
        flip = {"high": "low", "low": "high"}[marker.direction]
        if marker.is_ratio:
            ratio = parse_ratio(marker.name)
            push.update({c: marker.direction for c in ratio.numerator})
            push.update({c: flip for c in ratio.denominator})
        else:
            push[marker.name] = marker.direction
    return push


@pytest.fixture(scope="module")
def table():
    """A small lab table with strata, derived from a simulated screen-negative population."""
    cohort = simulate_cohort(6000, seed=11)
    population, truth = split_truth(cohort)
    population = population[truth["true_disorder"].eq("").to_numpy()]
    return derive_cutoffs(population, min_stratum_n=300, n_bootstrap=20)


log_multiples = st.lists(st.floats(min_value=-4.0, max_value=4.0), min_size=len(CODES),
                         max_size=len(CODES))
covariates = st.fixed_dictionaries({
    "birth_weight_g": st.one_of(st.none(), st.floats(400, 5500)),
    "gestational_age_weeks": st.one_of(st.none(), st.floats(22, 43)),
    "age_at_collection_hours": st.one_of(st.none(), st.floats(1, 800)),
    "tpn": st.sampled_from([0, 1]),
    "pivalate_exposure": st.sampled_from([0, 1]),
})


def _frame(rows: list[np.ndarray], cov: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(np.vstack(rows), columns=list(CODES))
    frame.insert(0, "specimen_id", [f"S{i}" for i in range(len(rows))])
    for name, value in cov.items():
        frame[name] = np.nan if value is None else value
    return frame


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    logs=log_multiples,
    cov=covariates,
    code=st.sampled_from(RULES.codes),
    pick=st.integers(min_value=0, max_value=1000),
    factor=st.floats(min_value=1.0001, max_value=50.0),
    with_table=st.booleans(),
)
def test_moving_a_marker_further_past_its_cutoff_never_lowers_the_tier(
    table, logs, cov, code, pick, factor, with_table
):
    rule = RULES.rule(code)
    pushes = _pushes(rule)
    analyte = sorted(pushes)[pick % len(pushes)]
    base = MEDIANS * np.exp(np.asarray(logs))
    moved = base.copy()
    j = CODES.index(analyte)
    moved[j] = base[j] * factor if pushes[analyte] == "high" else base[j] / factor
    frame = _frame([base, moved], cov)
    calls = evaluate(frame, RULES.subset([code]), table if with_table else None,
                     include_normal=True)
    before, after = calls["first_tier"].tolist()
    assert before in RANK and after in RANK  # everything is readable here
    assert RANK[after] >= RANK[before], (analyte, factor, calls["reasons"].tolist())


@settings(max_examples=100, deadline=None)
@given(logs=log_multiples, scale=st.floats(min_value=1e-3, max_value=1e3))
def test_ratio_markers_are_invariant_to_a_common_scale(logs, scale):
    base = MEDIANS * np.exp(np.asarray(logs))
    ratios = [m for m in RULES.markers() if "/" in m]
    one = marker_table(_frame([base], {}), ratios)
    scaled = marker_table(_frame([base * scale], {}), ratios)
    for name in ratios:
        np.testing.assert_allclose(scaled.values[name], one.values[name], rtol=1e-12)


finite = st.floats(allow_nan=False, allow_infinity=False)
maybe = st.one_of(finite, st.just(float("nan")), st.just(0.0))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.lists(maybe, min_size=len(CODES), max_size=len(CODES)), min_size=1,
                    max_size=4),
    cov=covariates,
    dropped=st.sets(st.sampled_from(CODES), max_size=5),
    with_table=st.booleans(),
    stage=st.sampled_from(["initial", "duplicate_mean"]),
)
def test_any_finite_input_evaluates_without_error(table, values, cov, dropped, with_table, stage):
    frame = _frame([np.asarray(v) for v in values], cov).drop(columns=sorted(dropped))
    calls = evaluate(frame, RULES, table if with_table else None, include_normal=True,
                     stage=stage)
    assert list(calls.columns) == list(CALL_COLUMNS)
    assert len(calls) == len(values) * len(RULES)
    assert set(calls["first_tier"]) <= set(FIRST_TIERS)
    assert set(calls["final"]) <= set(FINALS)
    assert set(calls["action"]) <= set(ACTIONS)
    score = calls["score"].to_numpy(dtype=float)
    assert not np.isinf(score).any()
    assert calls["reasons"].map(lambda r: isinstance(r, str)).all()
    flagged = calls["first_tier"] != "normal"
    assert calls.loc[flagged, "reasons"].str.len().gt(0).all()
    # a disorder none of whose primary markers can be read is never silently normal
    for rule in RULES:
        unreadable = all(
            set(parse_ratio(m.name).analytes if m.is_ratio else (m.name,)) & dropped
            for m in rule.primary
        )
        if unreadable:
            tiers = calls.loc[calls["disorder"] == rule.code, "first_tier"]
            assert tiers.eq("not_evaluable").all(), rule.code
