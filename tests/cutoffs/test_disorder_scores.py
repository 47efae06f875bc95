"""Disorder scores on small built profiles: direction, monotonicity, missing markers, covariate
adjustment, the fitted weights and cutoffs at a target flag rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cutoffs.covariate_model import default_covariate_model
from cutoffs.disease_ranges import default_disease_ranges
from cutoffs.disorder_scores import METHODS, NormalPositions, disorder_scores, marker_positions
from cutoffs.errors import CutoffError
from cutoffs.score_cutoffs import (
    any_flag_rate,
    case_floors,
    derive_score_cutoffs,
    flag_rates,
    range_floors,
)
from cutoffs.score_spec import ScoreSpec
from cutoffs.score_weights import fit_score_specs, reference_position
from cutoffs.signatures import default_signatures
from msms.population import simulate_cohort, split_truth
from tests.cutoffs.builders import MEDIANS, profiles

TERM = {"birth_weight_g": 3400, "gestational_age_weeks": 39.5, "age_at_collection_hours": 40,
        "sex": "F", "tpn": 0}
NAMES = list(dict.fromkeys(m.name for s in default_signatures().values() for m in s.markers))


@pytest.fixture(scope="module")
def fitted() -> dict[str, dict[str, ScoreSpec]]:
    """Every method fitted on 4,000 simulated screen-negative babies (covariate model)."""
    frame, truth = split_truth(simulate_cohort(4_000, seed=5))
    frame = frame[truth["true_disorder"].eq("").to_numpy()].reset_index(drop=True)
    positions = marker_positions(frame, NAMES)
    position = reference_position(None, default_covariate_model())
    out = {}
    for method in METHODS:
        out[method], _ = fit_score_specs(positions, default_signatures(),
                                         default_disease_ranges(), position, method)
    return out


@pytest.mark.parametrize("method", METHODS)
def test_medians_score_near_zero_and_rise_with_the_primary_marker(fitted, method):
    frame = profiles({}, {"C8": 0.5}, {"C8": 5.0}, **TERM)
    scores = disorder_scores(frame, fitted[method], disorders=["MCAD"]).scores["MCAD"]
    assert abs(scores.iloc[0]) < 1.0
    assert scores.iloc[0] < scores.iloc[1] < scores.iloc[2]
    assert scores.iloc[2] > 6  # nothing clips the disease side


@pytest.mark.parametrize("method", METHODS)
def test_a_low_marker_scores_when_it_falls(fitted, method):
    frame = profiles({}, {"C0": 3.0}, **TERM)
    scores = disorder_scores(frame, fitted[method], disorders=["CUD"]).scores["CUD"]
    assert scores.iloc[1] > scores.iloc[0] + 2


@pytest.mark.parametrize("method", METHODS)
def test_no_marker_moving_toward_the_disease_lowers_any_score(fitted, method):
    rng = np.random.default_rng(11)
    specs = fitted[method]
    base = profiles(*[{code: MEDIANS[code] * float(np.exp(rng.normal(0, 0.4)))
                       for code in MEDIANS} for _ in range(30)], **TERM)
    before = disorder_scores(base, specs).scores
    for code, spec in specs.items():
        for marker, sign in zip(spec.markers, spec.signs, strict=True):
            if "/" in marker or "+" in marker and marker not in MEDIANS:
                continue
            moved = base.copy()
            moved[marker] = moved[marker] * (3.0 if sign > 0 else 1 / 3.0)
            after = disorder_scores(moved, {code: spec}).scores[code]
            assert (after.to_numpy() >= before[code].to_numpy() - 1e-9).all(), (code, marker)


def test_weights_are_never_negative_and_scores_are_in_normal_sds(fitted):
    for specs in fitted.values():
        for spec in specs.values():
            assert min(spec.weights) >= 0 and max(spec.weights) > 0
    frame, truth = split_truth(simulate_cohort(3_000, seed=6))
    frame = frame[truth["true_disorder"].eq("").to_numpy()]
    sd = disorder_scores(frame, fitted["sum"], disorders=["PKU", "MCAD", "XALD"]).scores.std()
    assert ((sd > 0.7) & (sd < 1.4)).all()


def test_sum_uses_the_signature_weights(fitted):
    sig = default_signatures()["MSUD"]
    assert fitted["sum"]["MSUD"].weights == tuple(m.weight for m in sig.markers)


def test_guarded_score_never_falls_below_the_primary_position(fitted):
    frame = profiles({"Tyr": 5 * MEDIANS["Tyr"], "SUAC": 3 * MEDIANS["SUAC"]}, **TERM)
    result = disorder_scores(frame, fitted["guarded"], disorders=["TYR1"])
    z = result.positions["SUAC"][0]
    assert result.scores["TYR1"].iloc[0] >= z


def test_an_unread_marker_neither_dilutes_nor_inflates(fitted):
    spec = fitted["sum"]["CPT1A"]
    only_c0 = profiles({"C0": 120.0}, **TERM).drop(columns=["C16", "C18"])
    result = disorder_scores(only_c0, {"CPT1A": spec})
    z = result.positions["C0"][0]
    c0 = spec.markers.index("C0")
    own_sd = np.sqrt(spec.covariance[c0][c0])
    assert result.scores["CPT1A"].iloc[0] == pytest.approx(z / own_sd)
    nothing = profiles({}, **TERM).drop(columns=["C0", "C16", "C18"])
    assert np.isnan(disorder_scores(nothing, {"CPT1A": spec}).scores["CPT1A"].iloc[0])


def test_covariates_move_the_position_among_babies_like_this_one():
    phe = 1.6 * MEDIANS["Phe"]
    term = profiles({"Phe": phe}, **TERM)
    on_tpn = profiles({"Phe": phe}, **{**TERM, "gestational_age_weeks": 29.0,
                                        "birth_weight_g": 1200, "tpn": 1})
    z_term = NormalPositions(term).z("Phe", np.array([phe]), np.arange(1))[0]
    z_tpn = NormalPositions(on_tpn).z("Phe", np.array([phe]), np.arange(1))[0]
    assert z_tpn < z_term - 1


def test_top_markers_name_what_pushes_the_score(fitted):
    frame = profiles({"C8": 3.0}, **TERM)
    result = disorder_scores(frame, fitted["sum"], disorders=["MCAD"])
    (name, pct), *_ = result.top_markers("MCAD", 0)
    assert name in ("C8", "C8/C10", "C8/C2", "C8/C12") and pct > 99.9


def test_cutoffs_meet_the_target_flag_rate_with_own_shares_and_floors():
    rng = np.random.default_rng(3)
    scores = pd.DataFrame(rng.normal(size=(20_000, 5)), columns=list("ABCDE"))
    scores["F"] = scores["A"]  # a shared first tier costs nothing extra
    cutoffs, q = derive_score_cutoffs(scores, 0.02)
    assert any_flag_rate(scores, cutoffs) == pytest.approx(0.02, abs=0.001)
    assert 0.003 < q < 0.0045
    own, _ = derive_score_cutoffs(scores, 0.02, tail_shares={"B": 0.01})
    assert flag_rates(scores, own)["B"] == pytest.approx(0.01, abs=0.001)
    assert any_flag_rate(scores, own) == pytest.approx(0.02, abs=0.001)
    floored, _ = derive_score_cutoffs(scores, 0.02, floors={"A": 1.0})
    assert floored["A"] == 1.0
    with pytest.raises(CutoffError):
        derive_score_cutoffs(scores, 1.5)
    with pytest.raises(CutoffError):
        derive_score_cutoffs(scores, 0.02, tail_shares={"Z": 0.01})


def test_case_floors_sit_below_the_lowest_case():
    scores = pd.DataFrame({"A": [5.0, 4.0, 9.0], "B": [1.0, 7.0, 2.0]})
    floors = case_floors(scores, np.array(["A", "B", "A"], dtype=object), margin=0.5)
    assert floors == {"A": 4.5, "B": 6.5}


def test_range_floors_use_the_published_low_end(fitted):
    position = reference_position(None, default_covariate_model())
    used, low = range_floors(fitted["sum"], default_signatures(), default_disease_ranges(),
                             position)
    assert set(used) | set(low) == {"MSUD", "MCAD", "BKT", "CPT1A", "TYR1", "GA1", "XALD"}
    assert all(v >= 2.5 for v in used.values()) and all(v < 2.6 for v in low.values())
