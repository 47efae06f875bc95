"""The repeat-in-duplicate rule (docs/evaluation.md): initial and duplicate values -> decision."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cutoffs.duplicates import decide_duplicates, mean_of_duplicates
from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.rules import default_rules
from tests.cutoffs.builders import profiles

RULES = default_rules()
PHE = RULES.rule("PKU").primary[0]  # borderline 120, positive 150, critical 860
C8 = RULES.rule("MCAD").primary[0]  # time-critical disorder
C0 = RULES.rule("CUD").primary[0]  # low direction: borderline 6.5, positive 5.0


def test_in_range_initial_needs_nothing():
    decision = decide_duplicates(PHE, 90.0)
    assert (decision.initial_tier, decision.action) == ("normal", "none")


def test_out_of_range_initial_waits_for_duplicates():
    decision = decide_duplicates(PHE, 130.0)
    assert (decision.initial_tier, decision.action) == ("borderline", "repeat_in_duplicate")
    assert "0 of 2" in decision.reason
    decision = decide_duplicates(PHE, 200.0, [190.0])
    assert decision.action == "repeat_in_duplicate" and "1 of 2" in decision.reason
    decision = decide_duplicates(PHE, 200.0, [190.0, float("nan")])
    assert decision.action == "repeat_in_duplicate"


@pytest.mark.parametrize(
    ("duplicates", "tier", "action"),
    [
        ((100.0, 110.0), "normal", "none"),
        ((125.0, 135.0), "borderline", "request_repeat_specimen"),
        ((140.0, 180.0), "positive", "immediate_referral"),
        ((900.0, 1000.0), "critical", "immediate_referral"),
    ],
)
def test_the_mean_of_the_duplicates_decides(duplicates, tier, action):
    decision = decide_duplicates(PHE, 200.0, duplicates)
    assert decision.initial_tier == "positive"
    assert (decision.tier, decision.action) == (tier, action)
    assert decision.mean == pytest.approx(sum(duplicates) / 2)


def test_the_mean_exactly_at_a_level_is_not_past_it():
    assert decide_duplicates(PHE, 130.0, (110.0, 130.0)).tier == "normal"  # mean 120
    past = math.nextafter(120.0, math.inf)
    assert decide_duplicates(PHE, 130.0, (past, past)).tier == "borderline"


def test_critical_or_time_critical_positive_is_referred_without_duplicates():
    decision = decide_duplicates(PHE, 1000.0)
    assert (decision.tier, decision.action) == ("critical", "immediate_referral")
    decision = decide_duplicates(C8, 0.5, time_critical=True)
    assert (decision.tier, decision.action) == ("positive", "immediate_referral")
    # the same value for a disorder that is not time-critical waits for its duplicates
    assert decide_duplicates(C8, 0.5, time_critical=False).action == "repeat_in_duplicate"
    # a borderline initial for a time-critical disorder is repeated (same day)
    assert decide_duplicates(C8, 0.28, time_critical=True).action == "repeat_in_duplicate"


def test_low_direction_marker():
    assert decide_duplicates(C0, 20.0).action == "none"
    decision = decide_duplicates(C0, 4.0, (6.0, 6.2))
    assert (decision.initial_tier, decision.tier) == ("positive", "borderline")
    assert decision.action == "request_repeat_specimen"


def test_missing_initial_and_too_many_duplicates():
    assert decide_duplicates(PHE, float("nan")).action == "repeat_in_duplicate"
    with pytest.raises(CutoffError, match="expected 2 duplicates"):
        decide_duplicates(PHE, 200.0, (150.0, 160.0, 170.0))


@pytest.mark.parametrize("code", RULES.codes)
def test_every_primary_level_at_the_duplicate_stage(code):
    """The mean of the duplicates crosses each level exactly there (the initial is just out of
    range; time-critical referral without duplicates is tested above)."""
    rule = RULES.rule(code)
    for marker in rule.primary:
        away = math.inf if marker.direction == "high" else -math.inf
        first = marker.levels.first
        initial = first if marker.inclusive else math.nextafter(first, away)
        for _, level in marker.levels.items():
            past = level if marker.inclusive else math.nextafter(level, away)
            before = math.nextafter(level, -away) if marker.inclusive else level
            after = decide_duplicates(marker, initial, (past, past))
            prior = decide_duplicates(marker, initial, (before, before))
            assert after.tier != prior.tier, (code, marker.name, level)
            assert after.action != "repeat_in_duplicate"


def test_mean_of_duplicates_then_evaluate():
    first = profiles({"Phe": 125.0}, {"Phe": 300.0}, {"Phe": 140.0})
    second = profiles({"Phe": 135.0}, {"Phe": 280.0}, {"Phe": 80.0})
    duplicates = pd.concat([first, second], ignore_index=True)
    means = mean_of_duplicates(duplicates)
    assert means["specimen_id"].tolist() == ["S001", "S002", "S003"]
    assert means["Phe"].tolist() == [130.0, 290.0, 110.0]
    calls = evaluate(means, RULES.subset(["PKU"]), stage="duplicate_mean")
    got = dict(zip(calls["specimen_id"], calls["action"], strict=True))
    assert got == {"S001": "request_repeat_specimen", "S002": "immediate_referral"}


def test_mean_of_duplicates_needs_exactly_two_rows():
    frame = pd.concat([profiles({}), profiles({}), profiles({})], ignore_index=True)
    with pytest.raises(CutoffError, match="has 3 duplicate rows") as info:
        mean_of_duplicates(frame)
    assert info.value.line == 2
    assert np.isnan(mean_of_duplicates(
        pd.concat([profiles({"C8": np.nan}), profiles({"C8": np.nan})]))["C8"].iloc[0])
