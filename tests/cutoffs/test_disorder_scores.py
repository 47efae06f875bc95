"""Disorder scores on small built profiles: direction, covariates, disease anchors, missing
markers, and cutoffs at a target flag rate; the published true cases that screening found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cutoffs.disease_ranges import DiseaseRange
from cutoffs.disorder_scores import (
    DEFAULT_ANCHOR_Z,
    HIGH_CLIP,
    NormalPositions,
    disorder_scores,
)
from cutoffs.errors import CutoffError
from cutoffs.score_cutoffs import any_flag_rate, derive_score_cutoffs
from cutoffs.signatures import Signature, SignatureMarker
from tests.cutoffs.builders import MEDIANS, profiles

PUBLISHED = Path(__file__).resolve().parents[1] / "data" / "published_cases.csv"
TERM = {"birth_weight_g": 3400, "gestational_age_weeks": 39.5, "age_at_collection_hours": 40,
        "sex": "F", "tpn": 0}


def _one(name: str, sign: int = 1) -> dict[str, Signature]:
    return {"X": Signature("X", (SignatureMarker(name, sign, 1.0, "primary", "test"),))}


def test_medians_score_near_zero_and_rise_with_the_primary_marker():
    frame = profiles({}, {"C8": 0.5}, {"C8": 5.0}, **TERM)
    scores = disorder_scores(frame, disorders=["MCAD"]).scores["MCAD"].to_numpy()
    assert abs(scores[0]) < 0.15
    assert scores[0] < scores[1] < scores[2]


def test_a_low_marker_scores_when_it_falls():
    frame = profiles({}, {"C0": 3.0}, **TERM)
    scores = disorder_scores(frame, signatures=_one("C0", -1), ranges=()).scores["X"]
    assert scores.iloc[1] > 0.5 > abs(scores.iloc[0])


def test_positions_extend_beyond_the_grid_instead_of_clipping():
    frame = profiles({"C8": 1.0}, {"C8": 10.0}, **TERM)
    normal = NormalPositions(frame)
    z = normal.z("C8", frame["C8"].to_numpy(), np.arange(2))
    assert z[0] > 3.09 and z[1] > z[0] + 1


def test_covariates_move_the_position_among_babies_like_this_one():
    phe = 1.6 * MEDIANS["Phe"]
    term = profiles({"Phe": phe}, **TERM)
    on_tpn = profiles({"Phe": phe}, **{**TERM, "gestational_age_weeks": 29.0,
                                        "birth_weight_g": 1200, "tpn": 1})
    z_term = NormalPositions(term).z("Phe", np.array([phe]), np.arange(1))[0]
    z_tpn = NormalPositions(on_tpn).z("Phe", np.array([phe]), np.arange(1))[0]
    assert z_tpn < z_term


def test_the_disease_anchor_sets_the_scale():
    frame = profiles({"C8": 2.0}, **TERM)
    sig = _one("C8")
    near = (DiseaseRange("X", "C8", "detected", {50.0: 2.0}, 10, "", "test", "", 2),)
    far = (DiseaseRange("X", "C8", "detected", {50.0: 20.0}, 10, "", "test", "", 2),)
    at_anchor = disorder_scores(frame, signatures=sig, ranges=near).scores["X"].iloc[0]
    below = disorder_scores(frame, signatures=sig, ranges=far).scores["X"].iloc[0]
    assert at_anchor == pytest.approx(1.0, abs=0.01)
    assert 0 < below < at_anchor
    default = disorder_scores(frame, signatures=sig, ranges=()).scores["X"].iloc[0]
    z = NormalPositions(frame).z("C8", np.array([2.0]), np.arange(1))[0]
    assert default == pytest.approx(min(z / DEFAULT_ANCHOR_Z, HIGH_CLIP))


def test_unread_markers_leave_the_weighted_mean_of_the_others():
    frame = profiles({"C8": 5.0, "C10": None}, **TERM)  # C8/C10 cannot be computed
    result = disorder_scores(frame, disorders=["MCAD"])
    placed = result.placements["MCAD"][0]
    names = result.markers["MCAD"]
    assert np.isnan(placed[names.index("C8/C10")]) and not np.isnan(placed[names.index("C8")])
    assert np.isfinite(result.scores["MCAD"].iloc[0])
    assert result.top_markers("MCAD", 0, k=1)[0][0] in names


def test_cutoffs_meet_the_target_flag_rate_on_the_derivation_population():
    rng = np.random.default_rng(3)
    scores = pd.DataFrame(rng.normal(size=(20_000, 5)), columns=list("ABCDE"))
    scores["F"] = scores["A"]  # a shared first tier costs nothing extra
    cutoffs, q = derive_score_cutoffs(scores, 0.02)
    assert any_flag_rate(scores, cutoffs) == pytest.approx(0.02, abs=0.001)
    assert 0.003 < q < 0.0045
    floored, _ = derive_score_cutoffs(scores, 0.02, floors={"A": 1.0})
    assert floored["A"] == 1.0
    with pytest.raises(CutoffError):
        derive_score_cutoffs(scores, 1.5)


def test_published_cases_found_by_screening_score_above_0_6_the_others_stay_low():
    cases = pd.read_csv(PUBLISHED, dtype={"sex": str}).rename(columns={"case_id": "specimen_id"})
    scores = disorder_scores(cases).scores
    for i, row in cases.iterrows():
        score = scores.at[i, row["disorder"]]
        if row["screening_outcome"] == "missed":
            assert score < 0.5  # in the normal range: no first tier can find these
        else:
            assert score > 0.6, row["specimen_id"]
