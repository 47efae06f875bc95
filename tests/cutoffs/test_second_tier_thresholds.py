"""Second-tier thresholds, folds, features and policy: the parts that need no trained model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutoffs.errors import CutoffError
from cutoffs.second_tier.features import SEX_FEATURE, build_features, default_feature_spec
from cutoffs.second_tier.policy import POLICY_TOML, default_policy, load_policy
from cutoffs.second_tier.thresholds import (
    choose_thresholds,
    fold_indices,
    recall_recommended,
    tail_bound,
    tail_scale,
)
from cutoffs.second_tier.training import fitting_rows, outcome_metrics, wilson_interval
from msms.catalogue import default_catalogue

# -- thresholds -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(1e-6, 1 - 1e-6), min_size=6, max_size=60),
    st.lists(st.floats(1e-6, 1 - 1e-6), min_size=1, max_size=60),
    st.floats(0.05, 1.0),
    st.sampled_from([None, 0.01, 0.001]),
)
def test_every_training_true_positive_stays_positive(tp, fp, margin, tail):
    probability = np.array(tp + fp)
    is_tp = np.array([True] * len(tp) + [False] * len(fp))
    groups = np.array(["MCAD"] * len(probability))
    thresholds = choose_thresholds(
        probability, is_tp, groups, min_true_positives=6, safety_margin=margin,
        tail_miss_probability=tail,
    )
    entry = thresholds["MCAD"]
    assert entry.filtered
    assert entry.threshold <= margin * min(tp) + 1e-15
    keep = recall_recommended(probability, groups, thresholds)
    assert keep[is_tp].all()
    assert entry.false_positives_below == int((~keep[~is_tp]).sum())


def test_threshold_is_the_margin_times_the_lowest_true_positive():
    probability = np.array([0.9, 0.6, 0.4, 0.8, 0.7, 0.95, 0.05, 0.1, 0.3, 0.01])
    is_tp = np.array([True] * 6 + [False] * 4)
    groups = np.array(["PKU"] * 10)
    entry = choose_thresholds(probability, is_tp, groups, min_true_positives=6,
                              safety_margin=0.5)["PKU"]
    assert entry.threshold == pytest.approx(0.2)
    assert entry.lowest_true_positive_probability == pytest.approx(0.4)
    assert entry.false_positives_below == 3  # 0.05, 0.1 and 0.01; 0.3 stays
    assert "0.5 x lowest true-positive probability 0.4" in entry.note


def test_in_sample_probabilities_also_bound_the_threshold():
    probability = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.01])
    in_sample = np.array([0.95, 0.9, 0.9, 0.9, 0.9, 0.1, 0.001])
    is_tp = np.array([True] * 6 + [False])
    entry = choose_thresholds(probability, is_tp, np.array(["X"] * 7), min_true_positives=6,
                              safety_margin=0.5, in_sample_probability=in_sample)["X"]
    assert entry.threshold == pytest.approx(0.05)


def test_a_disorder_with_too_few_true_positives_is_not_filtered():
    probability = np.array([0.9, 0.8, 0.01, 0.02, 0.03])
    is_tp = np.array([True, True, False, False, False])
    groups = np.array(["GA1"] * 5)
    thresholds = choose_thresholds(probability, is_tp, groups, min_true_positives=6,
                                   safety_margin=0.5)
    assert not thresholds["GA1"].filtered
    assert "2 training true positives < 6" in thresholds["GA1"].note
    assert recall_recommended(probability, groups, thresholds).all()
    # and a disorder the model never saw is never filtered
    assert recall_recommended(np.array([0.0]), np.array(["NEW"]), thresholds).all()


def test_tail_bound_widens_with_a_long_low_tail():
    rng = np.random.default_rng(0)
    tight = 1 / (1 + np.exp(-rng.normal(4.0, 0.3, size=60)))
    long = 1 / (1 + np.exp(-np.concatenate([rng.normal(4.0, 0.3, size=50),
                                            rng.normal(-1.0, 2.0, size=10)])))
    assert tail_bound(tight, 0.001) > 0.5 * tight.min() * 0.5  # close below the lowest
    assert tail_bound(long, 0.001) < 0.1 * long.min()
    assert tail_bound(long, 0.0001) < tail_bound(long, 0.01)
    with pytest.raises(ValueError):
        tail_bound(tight[:5], 0.001)


# -- folds ----------------------------------------------------------------------------------


def test_folds_keep_a_specimens_calls_together_and_spread_each_disorder():
    rng = np.random.default_rng(1)
    n = 600
    units = np.array([f"S{i // 2}" for i in range(n)])  # two calls per specimen
    groups = rng.choice(["PKU", "MCAD", "RARE"], size=n, p=[0.49, 0.49, 0.02])
    y = (rng.random(n) < 0.2).astype(int)
    folds = fold_indices(y, groups, n_splits=5, random_state=0, units=units)
    seen = np.zeros(n, dtype=int)
    for train, test in folds:
        assert not set(units[train]) & set(units[test])
        assert set(y[test]) == {0, 1}
        seen[test] += 1
    assert (seen == 1).all()
    for code in ("PKU", "MCAD"):
        per_fold = [int(((groups[test] == code) & (y[test] == 1)).sum()) for _, test in folds]
        assert max(per_fold) - min(per_fold) <= 4, per_fold


def test_folds_refuse_too_few_cases():
    with pytest.raises(CutoffError, match="true_positive has 3"):
        fold_indices(np.array([1, 1, 1] + [0] * 20), np.array(["A"] * 23), n_splits=5,
                     random_state=0)


def test_false_positives_of_babies_confirmed_with_another_disorder_are_not_learnt_from():
    labelled = pd.DataFrame({
        "specimen_id": ["a", "a", "b", "c", "c"],
        "disorder": ["CIT", "ASA", "ASA", "PKU", "H-PHE"],
        "outcome": ["true_positive", "false_positive", "false_positive", "false_positive",
                    "false_positive"],
    })
    assert fitting_rows(labelled).tolist() == [True, False, True, True, True]


# -- metrics --------------------------------------------------------------------------------


def test_outcome_metrics_count_per_disorder_and_overall():
    keep = np.array([True, True, False, True, False, False])
    is_tp = np.array([True, True, False, False, False, True])
    groups = np.array(["A", "A", "A", "A", "B", "B"])
    metrics = outcome_metrics(keep, is_tp, groups, confidence=0.95)
    a = metrics["per_disorder"]["A"]
    assert (a["true_positives"], a["true_positives_kept"]) == (2, 2)
    assert (a["false_positives"], a["false_positives_removed"]) == (2, 1)
    assert a["sensitivity"] == 1.0 and a["false_positive_reduction"] == 0.5
    overall = metrics["overall"]
    assert overall["sensitivity"] == pytest.approx(2 / 3)
    assert overall["false_positive_reduction"] == pytest.approx(2 / 3)
    low, high = overall["sensitivity_interval"]
    assert low < 2 / 3 < high


def test_outcome_metrics_count_the_babies_a_false_recall_would_frighten():
    # specimen S1: a true positive and a false positive of a sibling disorder -> not counted;
    # S2: two false positives, both filtered -> no longer recalled; S3: one of two filtered
    units = np.array(["S1", "S1", "S2", "S2", "S3", "S3"])
    is_tp = np.array([True, False, False, False, False, False])
    keep = np.array([True, False, False, False, False, True])
    groups = np.array(["A", "B", "A", "B", "A", "B"])
    overall = outcome_metrics(keep, is_tp, groups, confidence=0.95, units=units)["overall"]
    assert overall["specimens_without_true_positive"] == 2
    assert overall["no_longer_recalled"] == 1
    assert overall["recall_reduction"] == 0.5
    assert "specimens_without_true_positive" not in outcome_metrics(
        keep, is_tp, groups, confidence=0.95)["overall"]


def test_thresholds_keep_their_significant_digits_in_reports():
    tiny = np.concatenate([np.full(20, 1e-6), np.linspace(0.5, 0.9, 20)])
    is_tp = np.arange(40) < 20
    entry = choose_thresholds(np.r_[tiny, np.full(20, 1e-9)], np.r_[is_tp, np.zeros(20, bool)],
                              np.array(["A"] * 60), min_true_positives=6,
                              safety_margin=0.5)["A"]
    assert entry.threshold == pytest.approx(5e-7)
    assert entry.as_dict()["threshold"] == pytest.approx(5e-7)  # not rounded to 0


def test_wilson_interval():
    low, high = wilson_interval(50, 50, 0.95)
    assert high == 1.0 and 0.92 < low < 0.94  # the classic 92.9%
    assert all(math.isnan(v) for v in wilson_interval(0, 0, 0.95))


# -- features -------------------------------------------------------------------------------


def _profiles(n: int = 3) -> pd.DataFrame:
    data: dict[str, object] = {"specimen_id": [f"S{i}" for i in range(n)]}
    covariates = {"birth_weight_g": [3200, 1400, None], "gestational_age_weeks": [39, 30, 40],
                  "age_at_collection_hours": [36, 50, 30], "sex": ["M", "F", "U"],
                  "tpn": [0, 1, 0], "transfused": [0, 0, 1]}
    data.update({k: v[:n] for k, v in covariates.items()})
    for analyte in default_catalogue().analytes:
        data[analyte.code] = [analyte.pop_median_umol_l] * n
    return pd.DataFrame(data)


def test_features_are_log_analytes_log_ratios_then_covariates():
    spec = default_feature_spec()
    profiles = _profiles()
    profiles.loc[0, "C8"] = 0.6
    profiles.loc[0, "C10"] = 0.0  # below detection: the floor, not -inf
    profiles.loc[1, "Phe"] = np.nan
    frame = build_features(profiles, spec, disorders=["MCAD", "PKU", "PKU"])
    assert list(frame.columns) == ["disorder", *spec.feature_names]
    assert spec.feature_names[-6:] == ("birth_weight_g", "gestational_age_weeks",
                                       "age_at_collection_hours", SEX_FEATURE, "tpn",
                                       "transfused")
    assert frame.loc[0, "C8"] == pytest.approx(math.log10(0.6))
    floor = spec.floors_umol_l["C10"]
    assert frame.loc[0, "C10"] == pytest.approx(math.log10(floor))
    assert frame.loc[0, "C8/C10"] == pytest.approx(math.log10(0.6 / floor))
    assert math.isnan(frame.loc[1, "Phe"]) and math.isnan(frame.loc[1, "Phe/Tyr"])
    assert frame[SEX_FEATURE].tolist()[:2] == [1.0, 0.0] and math.isnan(frame.loc[2, SEX_FEATURE])
    assert math.isnan(frame.loc[2, "birth_weight_g"])
    assert spec.kind("C8/C10") == "ratio" and spec.kind("C8") == "analyte"
    assert spec.kind("tpn") == "covariate"


def test_sums_in_ratios_use_floored_parts():
    spec = default_feature_spec()
    profiles = _profiles(1)
    frame = build_features(profiles, spec)
    name = "(C16+C18:1)/C2"
    expected = math.log10((profiles.loc[0, "C16"] + profiles.loc[0, "C18:1"])
                          / profiles.loc[0, "C2"])
    assert frame.loc[0, name] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("column", "value", "message", "line"),
    [
        ("C8", "high", "'high' is not a number", 3),
        ("sex", "X", "'X' is not M, F or U", 3),
        ("tpn", 2, "2 is not 0 or 1", 3),
        ("Phe", np.inf, "is not finite", 3),
    ],
)
def test_bad_profile_values_name_file_line_and_column(column, value, message, line):
    profiles = _profiles().astype({column: object})
    profiles.loc[1, column] = value
    with pytest.raises(CutoffError, match=message) as info:
        build_features(profiles, default_feature_spec(), source="p.csv")
    assert (info.value.file, info.value.line, info.value.field) == ("p.csv", line, column)


def test_a_missing_analyte_column_is_named():
    with pytest.raises(CutoffError, match="C26:0-LPC") as info:
        build_features(_profiles().drop(columns=["C26:0-LPC"]), default_feature_spec())
    assert info.value.field == "C26:0-LPC"


# -- policy ---------------------------------------------------------------------------------


def test_packaged_policy_protects_critical_results():
    policy = default_policy()
    assert "critical" in policy.never_downgrade_tiers
    assert 0 < policy.safety_margin <= 1
    assert policy.min_true_positives >= policy.threshold_cv_splits


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('safety_margin = 0.5', 'safety_margin = 1.5', "thresholds.safety_margin"),
        ('never_downgrade_tiers = ["critical"]', 'never_downgrade_tiers = []',
         "scope.never_downgrade_tiers"),
        ('scored_tiers = ["borderline", "positive", "critical"]', 'scored_tiers = ["urgent"]',
         "scope.scored_tiers"),
        ('top_features = 3', '', "explain.top_features"),
    ],
)
def test_policy_errors_name_the_file_and_key(tmp_path: Path, old, new, key):
    text = POLICY_TOML.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(CutoffError) as info:
        load_policy(path)
    assert info.value.file == str(path) and info.value.field == key


def test_a_disorder_without_a_visible_tail_borrows_the_median_tail():
    """Trees give all clearly separated cases the same probability; the next, milder case may
    score far lower. A disorder whose training cases show no tail assumes the others' tail."""
    rng = np.random.default_rng(2)
    tight = np.full(23, 0.993) + rng.normal(0, 1e-4, 23)
    others = [1 / (1 + np.exp(-rng.normal(2.0, 2.5, size=40))) for _ in range(3)]
    probability = np.concatenate([tight, *others, np.full(30, 0.001)])
    groups = np.array(["NKH"] * 23 + [c for c in ("A", "B", "C") for _ in range(40)]
                      + ["NKH"] * 30)
    is_tp = np.array([True] * (23 + 120) + [False] * 30)
    alone = tail_bound(tight, 0.001)
    thresholds = choose_thresholds(probability, is_tp, groups, min_true_positives=15,
                                   safety_margin=0.5, tail_miss_probability=0.001)
    floor = float(np.median([tail_scale(tight), *(tail_scale(o) for o in others)]))
    assert alone > 0.4  # on its own the tight cluster would allow a threshold near 0.5
    assert thresholds["NKH"].threshold == pytest.approx(
        tail_bound(tight, 0.001, scale_floor=floor))
    assert thresholds["NKH"].threshold < alone / 1.5
    assert "tail bound" in thresholds["NKH"].note
