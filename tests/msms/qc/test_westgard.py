"""Westgard multirules against hand-worked control series (z-scores)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msms.qc.westgard import (
    Violation,
    across_runs,
    rule_1_2s,
    rule_1_3s,
    rule_2_2s,
    rule_4_1s,
    rule_10_x,
    rule_r_4s,
    within_run,
)


def rules_fired(z: list[float], n_current: int = 1) -> set[str]:
    current = [False] * (len(z) - n_current) + [True] * n_current
    return {v.rule for v in across_runs(z, current)}


# ---- each rule on its own ----

def test_1_2s_and_1_3s_single_observations() -> None:
    z = [0.4, -2.1, 1.99, 2.0, 3.05, -3.2]
    assert rule_1_2s(z) == [(1,), (4,), (5,)]  # the limit itself (2.0) is not beyond
    assert rule_1_3s(z) == [(4,), (5,)]


def test_2_2s_needs_two_consecutive_on_the_same_side() -> None:
    assert rule_2_2s([2.1, 2.3]) == [(0, 1)]
    assert rule_2_2s([-2.5, -2.01]) == [(0, 1)]
    assert rule_2_2s([2.1, -2.3]) == []          # opposite sides: R-4s, not 2-2s
    assert rule_2_2s([2.1, 1.0, 2.3]) == []      # not consecutive
    assert rule_2_2s([2.1, 2.2, 2.3]) == [(0, 1), (1, 2)]


def test_4_1s_needs_four_consecutive_beyond_the_same_1s_limit() -> None:
    assert rule_4_1s([1.2, 1.5, 1.1, 1.3]) == [(0, 1, 2, 3)]
    assert rule_4_1s([-1.2, -1.5, -1.1, -1.3, -1.01]) == [(0, 1, 2, 3), (1, 2, 3, 4)]
    assert rule_4_1s([1.2, 1.5, 0.9, 1.3, 1.4]) == []
    assert rule_4_1s([1.2, 1.5, -1.1, 1.3]) == []


def test_10_x_needs_ten_consecutive_on_one_side_of_the_mean() -> None:
    nine = [0.3, 0.1, 0.8, 0.2, 0.5, 0.05, 0.7, 0.4, 0.6]
    assert rule_10_x(nine) == []
    assert rule_10_x([*nine, 0.2]) == [tuple(range(10))]
    assert rule_10_x([*nine, -0.2]) == []
    assert rule_10_x([*nine, 0.0]) == []          # on the mean breaks the run
    assert rule_10_x([-x for x in nine] + [-0.9]) == [tuple(range(10))]


def test_r_4s_within_one_run() -> None:
    assert rule_r_4s([2.2, -2.1]) == [(0, 1)]
    assert rule_r_4s([0.5, 2.6, 0.1, -2.4]) == [(1, 3)]
    assert rule_r_4s([3.0, -1.5]) == []           # a range of 4.5 SD but not across +-2s
    assert rule_r_4s([2.5]) == []


def test_missing_values_never_fire_and_break_runs() -> None:
    nan = math.nan
    assert rule_1_2s([nan, 2.5]) == [(1,)]
    assert rule_2_2s([2.5, nan, 2.5]) == []
    assert rule_r_4s([nan, 2.5, -2.5]) == [(1, 2)]
    assert rule_r_4s([nan, nan]) == []


# ---- a series of earlier runs plus the current run ----

def test_a_single_1_2s_only_warns() -> None:
    history = [0.3, -0.8, 1.1, 0.2, -0.4]
    assert rules_fired([*history, 2.4]) == {"1-2s"}


def test_a_1_3s_value() -> None:
    history = [0.3, -0.8, 1.1, 0.2, -0.4]
    assert rules_fired([*history, -3.3]) == {"1-2s", "1-3s"}


def test_2_2s_across_runs_with_the_previous_run() -> None:
    # hand-worked: the last run was +2.3 SD, today +2.1 SD -> 2-2s (and 1-2s for today)
    assert rules_fired([0.1, -0.5, 2.3, 2.1]) == {"1-2s", "2-2s"}


def test_4_1s_across_runs() -> None:
    # three earlier runs between +1 and +2 SD and today +1.4 SD: 4-1s, nothing else
    assert rules_fired([-0.2, 1.3, 1.6, 1.2, 1.4]) == {"4-1s"}


def test_10_x_across_runs() -> None:
    series = [-0.3, 0.4, 0.9, 0.2, 0.6, 0.3, 0.1, 0.5, 0.8, 0.2, 0.35]
    assert rules_fired(series) == {"10-x"}
    series[-1] = -0.35
    assert rules_fired(series) == set()


def test_r_4s_within_the_current_run_of_one_material() -> None:
    # two wells of the same lot in today's run at +2.2 and -2.4
    assert rules_fired([0.1, 0.3, 2.2, -2.4], n_current=2) == {"1-2s", "R-4s"}


def test_r_4s_is_not_applied_across_runs() -> None:
    # yesterday +2.5 (already judged), today -2.2: only today's 1-2s
    assert rules_fired([0.1, 2.5, -2.2]) == {"1-2s"}


def test_violations_entirely_in_the_past_do_not_count() -> None:
    history = [3.5, 2.4, 2.6, 0.1, 1.2, 1.3, 1.1, 1.4]
    assert rules_fired([*history, 0.2]) == set()


def test_positions_point_into_the_series() -> None:
    violations = across_runs([0.1, 2.3, 2.1], [False, False, True])
    assert Violation("2-2s", (1, 2)) in violations
    assert Violation("1-2s", (2,)) in violations
    assert Violation("1-2s", (1,)) not in violations  # yesterday's own 1-2s is history


def test_only_the_requested_rules_run() -> None:
    fired = across_runs([0.1, 2.3, 3.1], [False, False, True], rules=["1-3s"])
    assert [v.rule for v in fired] == ["1-3s"]


def test_mismatched_lengths_are_an_error() -> None:
    with pytest.raises(ValueError, match="current"):
        across_runs([0.1, 0.2], [True])


# ---- across materials within one run ----

def test_within_run_across_materials() -> None:
    # low and high control both beyond +2s in the same run
    assert {v.rule for v in within_run([2.3, 0.2, 2.6])} == {"2-2s"}
    assert {v.rule for v in within_run([2.3, -2.1])} == {"R-4s"}
    assert {v.rule for v in within_run([1.1, 1.5, 1.2, 1.9])} == {"4-1s"}
    assert within_run([1.1, 1.5, 1.2, 0.9]) == []
    assert within_run([0.3, -0.4, 1.9, -1.9]) == []


# ---- properties ----

finite = st.floats(min_value=-8, max_value=8, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=40))
def test_rules_agree_with_their_definitions(z: list[float]) -> None:
    assert rule_1_3s(z) == [(i,) for i, v in enumerate(z) if abs(v) > 3]
    for (i, j) in rule_2_2s(z):
        assert j == i + 1 and (min(z[i], z[j]) > 2 or max(z[i], z[j]) < -2)
    for window in rule_10_x(z):
        values = [z[i] for i in window]
        assert len(window) == 10 and (min(values) > 0 or max(values) < 0)
    # every 1-3s is also a 1-2s
    assert set(rule_1_3s(z)) <= set(rule_1_2s(z))


@given(st.lists(st.floats(min_value=-1.99, max_value=1.99), min_size=1, max_size=30))
def test_values_within_2s_never_reject_by_2s_or_3s_rules(z: list[float]) -> None:
    fired = {v.rule for v in across_runs(z, [True] * len(z))}
    assert not fired & {"1-2s", "1-3s", "2-2s", "R-4s"}
