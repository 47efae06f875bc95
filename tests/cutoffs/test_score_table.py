"""The score section of a cutoff table: derived at a target flag rate, written and read back,
evaluated on (the score column, reasons, tiers, actions), bad sections named; every published
true case that screening found is flagged."""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest
import tomli_w

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section, load_score_methods
from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.score_tiers import score_tier
from cutoffs.tables import CutoffTable, read_cutoff_table, write_cutoff_table
from msms.population import simulate_cohort, split_truth
from tests.cutoffs.published import case_params, is_flagged, read_cases


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> CutoffTable:
    """A table with a score section from 30,000 simulated screen-negative babies, read back."""
    frame, truth = split_truth(simulate_cohort(30_000, seed=31))
    frame = frame[truth["true_disorder"].eq("").to_numpy()].reset_index(drop=True)
    derived = derive_cutoffs(frame, n_bootstrap=0)
    derived.scores = derive_score_section(frame, derived, target_flag_rate=0.02,
                                          tail_shares={"XALD": 0.003})
    path = tmp_path_factory.mktemp("scores") / "cutoffs.toml"
    write_cutoff_table(derived, path)
    return read_cutoff_table(path)


@pytest.fixture(scope="module")
def cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    return split_truth(simulate_cohort(4_000, seed=32, disorder_rate=0.1))


def test_the_section_round_trips_with_its_provenance(table, tmp_path):
    section = table.scores
    assert section is not None and section.target_flag_rate == 0.02
    assert 0.015 < section.flag_rate <= 0.02
    assert len(section.signatures_sha256) == 64 and len(section.disease_ranges_sha256) == 64
    assert section.disorders["XALD"].tail_share == 0.003
    assert {c: d.spec.method for c, d in section.disorders.items()} == load_score_methods()
    again = tmp_path / "again.toml"
    write_cutoff_table(table, again)
    assert read_cutoff_table(again).scores.disorders == section.disorders


def test_evaluate_calls_on_the_score(table, cohort):
    profiles, truth = cohort
    calls = evaluate(profiles, cutoffs=table)
    cutoffs = table.scores.cutoffs
    flagged = calls[calls.first_tier.isin(["borderline", "positive"])]
    assert (flagged.score > flagged.disorder.map(cutoffs)).all()
    assert flagged.reasons.str.match(r"score [\d.e+-]+ > [\d.e+-]+ \(\S+ (>|<)?P").all()
    by_id = truth.set_index("specimen_id")
    classic = by_id[by_id.severity.isin(["moderate", "severe"])]
    found = set(zip(calls.specimen_id, calls.disorder, strict=True))
    missed = [i for i, d in classic.true_disorder.items() if (i, d) not in found]
    assert len(missed) <= 0.02 * len(classic)
    unaffected = set(by_id.index[by_id.true_disorder.eq("")])
    assert len(set(calls.specimen_id) & unaffected) / len(unaffected) < 0.05
    time_critical = calls[calls.time_critical & calls.first_tier.eq("positive")]
    assert time_critical.action.eq("immediate_referral").all()


def test_an_incomplete_profile_keeps_the_rules_call_on_its_cited_levels(table, cohort):
    """The lowest of 53 MSUD babies found by screening (Xle 288 umol/L, the only marker its
    source gives) is past MSUD's cited borderline level but, read alone, not past the MSUD score
    cutoff: with Val, Phe and Ala unread the rule's call stands (borderline). The same Xle with
    every other analyte of a screen-negative baby is called on the score."""
    case = read_cases().set_index("specimen_id").loc[["MSUD-Stroek2020-detected-lowest"]]
    case = case.reset_index()
    profiles, truth = cohort
    baby = profiles[truth["true_disorder"].eq("").to_numpy()].head(1)
    complete = baby.assign(specimen_id="complete", Xle=288.0)
    calls = evaluate(pd.concat([case, complete], ignore_index=True), cutoffs=table,
                     include_normal=True)
    msud = calls[calls.disorder.eq("MSUD")].set_index("specimen_id")
    cutoff = table.scores.cutoffs["MSUD"]
    alone = msud.loc["MSUD-Stroek2020-detected-lowest"]
    assert alone["score"] <= cutoff and alone["first_tier"] == "borderline"
    assert "Xle/Phe" in alone["reasons"]  # the unread markers are named
    on_score = "normal" if msud.at["complete", "score"] <= cutoff else "borderline"
    assert msud.at["complete", "first_tier"] == on_score


def test_a_marker_past_its_critical_level_is_critical_whatever_the_score():
    score = np.array([0.0, 5.0, 0.0, np.nan, 0.0])
    kth = np.array([0, 2, 0, 0, 0])
    markers = np.array([[3, 0, 0, 0, 0], [0, 2, 0, 0, 0]])
    unread = np.array([False, False, False, False, True])
    tier = score_tier(score, 1.0, kth, markers, unread)
    assert tier.tolist() == [3, 2, 0, 4, 4]


def test_duplicate_means_decide_on_the_score(table, cohort):
    profiles, _ = cohort
    calls = evaluate(profiles, cutoffs=table, stage="duplicate_mean")
    borderline = calls[calls.first_tier.eq("borderline")]
    assert borderline.action.eq("request_repeat_specimen").all()


@pytest.fixture(scope="module")
def published_calls(table) -> pd.DataFrame:
    return evaluate(read_cases(), cutoffs=table)


@pytest.mark.parametrize("specimen_id", case_params())
def test_every_published_case_found_by_screening_is_flagged(published_calls, specimen_id):
    disorder = read_cases().set_index("specimen_id").at[specimen_id, "disorder"]
    assert is_flagged(published_calls, specimen_id, disorder), (specimen_id, disorder)


@pytest.mark.parametrize(("key", "value", "field"), [
    ("method", "mean", "score.disorder[0].method"),
    ("weights", [-1.0, 0.5], "score.disorder[0].weights[0]"),
    ("signs", [2, 1], "score.disorder[0].signs[0]"),
    ("code", "PKUX", "score.disorder[0].code"),
    ("markers", ["Phe", "Phe/Xyz"], "score.disorder[0].markers[1]"),
    ("covariance", [[1.0, 2.0], [2.0, 1.0]], "score.disorder[0].covariance"),
])
def test_bad_score_sections_name_file_line_and_key(table, tmp_path, key, value, field):
    path = tmp_path / "t.toml"
    write_cutoff_table(table, path)
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["score"]["disorder"][0][key] = value
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    with pytest.raises(CutoffError) as info:
        read_cutoff_table(path)
    assert info.value.field == field and info.value.file == str(path)
    assert info.value.line is not None
