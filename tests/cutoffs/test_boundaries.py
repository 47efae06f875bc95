"""Boundary tests for every disorder at its cutoffs.

For each rule, marker and level, two marker-value rows are evaluated: the marker exactly at the
level and one floating-point step past it (for an inclusive level: one step before it and exactly
at it). The other markers are set so that the tested marker decides the call:

- a primary marker: the rule's other primary markers are past their highest level (``all``),
  in range (``any``), or k-1 of them past their highest level (``k_of_n``); every secondary marker
  is just past its first level (support, not critical);
- a secondary marker: the primary markers are just past their positive level and the other
  secondaries in range, so the secondary's first level separates borderline from positive and a
  critical level raises the call to critical.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cutoffs.evaluate import TIERS, evaluate, evaluate_markers
from cutoffs.rules import DisorderRule, MarkerRule, default_rules
from tests.cutoffs.builders import profiles

RULES = default_rules()


def _away(marker: MarkerRule, value: float) -> float:
    """One floating-point step further in the marker's direction."""
    return math.nextafter(value, math.inf if marker.direction == "high" else -math.inf)


def _back(marker: MarkerRule, value: float) -> float:
    return math.nextafter(value, -math.inf if marker.direction == "high" else math.inf)


def _normal(marker: MarkerRule) -> float:
    first = marker.levels.first
    return first / 4 if marker.direction == "high" else first * 4


def _past_highest(marker: MarkerRule) -> tuple[float, int]:
    code, level = list(marker.levels.items())[-1]
    return (level * 2 if marker.direction == "high" else level / 2), code


def _just_past(marker: MarkerRule, level: float) -> float:
    return level if marker.inclusive else _away(marker, level)


def _just_before(marker: MarkerRule, level: float) -> float:
    return _back(marker, level) if marker.inclusive else level


def _expected_primary(rule: DisorderRule, tier: int, others: list[int]) -> int:
    tiers = sorted([tier, *others], reverse=True)
    return tiers[rule.k - 1]


def _decisive(marker: MarkerRule, code: int) -> bool:
    """Whether crossing this level can change a call: every primary level; for a secondary its
    first level (support) and its critical level (a secondary's other levels only show in the
    reasons)."""
    if marker.role == "primary":
        return True
    return code == next(marker.levels.items())[0] or code == 3


def _cases(rule: DisorderRule) -> list[tuple[str, dict[str, float], int]]:
    """(label, marker values, expected rule tier) for every boundary of the rule."""
    cases = []
    primaries, secondaries = rule.primary, rule.secondary
    for tested in rule.markers:
        for code, level in tested.levels.items():
            values: dict[str, float] = {m.name: _normal(m) for m in rule.markers}
            other_tiers: list[int] = []
            if tested.role == "primary":
                others = [m for m in primaries if m is not tested]
                n_high = {"all": len(others), "any": 0}.get(rule.logic, rule.k - 1)
                for i, other in enumerate(others):
                    if i < n_high:
                        values[other.name], other_code = _past_highest(other)
                        other_tiers.append(other_code)
                    else:
                        other_tiers.append(0)
                for secondary in secondaries:
                    first_code, first = next(secondary.levels.items())
                    assert first_code < 3  # support without escalating to critical
                    values[secondary.name] = _just_past(secondary, first)
                # the level just below this one in the marker's own ladder
                below_codes = [c for c, _ in tested.levels.items() if c < code]
                previous = below_codes[-1] if below_codes else 0
                for value, tier in ((_just_before(tested, level), previous),
                                    (_just_past(tested, level), code)):
                    row = dict(values)
                    row[tested.name] = value
                    expected = _expected_primary(rule, tier, other_tiers)
                    cases.append((f"{tested.name}@{level}", row, expected))
            else:
                for primary in primaries:
                    positive = primary.levels.positive
                    target = positive if positive is not None else primary.levels.first
                    values[primary.name] = _just_past(primary, target)
                p_tier = 2 if all(p.levels.positive is not None for p in primaries) else 1
                below_codes = [c for c, _ in tested.levels.items() if c < code]
                for value, s_tier in ((_just_before(tested, level),
                                       below_codes[-1] if below_codes else 0),
                                      (_just_past(tested, level), code)):
                    row = dict(values)
                    row[tested.name] = value
                    if p_tier == 0:
                        expected = 0
                    elif s_tier == 3:
                        expected = 3
                    elif s_tier >= 1:
                        expected = p_tier
                    else:
                        expected = min(p_tier, 1)
                    label = f"{tested.name}@{level}" + ("" if _decisive(tested, code) else "~")
                    cases.append((label, row, expected))
    return cases


@pytest.mark.parametrize("code", RULES.codes)
def test_every_level_of_every_marker_is_a_boundary(code):
    rule = RULES.rule(code)
    cases = _cases(rule)
    frame = pd.DataFrame([row for _, row, _ in cases])
    frame.insert(0, "specimen_id", [f"{i}:{label}" for i, (label, _, _) in enumerate(cases)])
    calls = evaluate_markers(frame, RULES.subset([code]), include_normal=True)
    assert len(calls) == len(cases)
    got = calls["first_tier"].tolist()
    expected = [TIERS[e] for _, _, e in cases]
    mismatches = [(label, g, e) for (label, _, _), g, e in zip(cases, got, expected, strict=True)
                  if g != e]
    assert not mismatches, mismatches
    # every decisive level changes the call: the pairs differ
    labels = [label for label, _, _ in cases[::2]]
    pairs = list(zip(got[::2], got[1::2], strict=True))
    same = [(label, pair) for label, pair in zip(labels, pairs, strict=True)
            if pair[0] == pair[1] and not label.endswith("~")]
    assert not same, same


@pytest.mark.parametrize("code", RULES.codes)
def test_primary_analyte_boundaries_through_whole_profiles(code):
    """The same boundaries reached from analyte concentrations (profiles at the medians)."""
    rule = RULES.rule(code)
    analytes = [m for m in rule.primary if not m.is_ratio]
    if not analytes:
        pytest.skip("no analyte primary marker")
    marker = analytes[0]
    first_code, first = next(marker.levels.items())
    changes = [{marker.name: _just_before(marker, first)}, {marker.name: _just_past(marker, first)}]
    calls = evaluate(profiles(*changes), RULES.subset([code]), include_normal=True)
    tiers = calls["first_tier"].tolist()
    if rule.logic == "all" and len(rule.primary) > 1 or rule.logic == "k_of_n" and rule.k > 1:
        assert tiers == ["normal", "normal"]  # one marker alone cannot make the call
    else:
        assert tiers[0] == "normal"
        assert tiers[1] != "normal"
        assert TIERS.index(tiers[1]) <= first_code


def test_cases_cover_every_marker_level():
    total = sum(len(list(m.levels.items())) for r in RULES for m in r.markers)
    assert sum(len(_cases(r)) for r in RULES) == 2 * total
    assert np.isfinite([v for r in RULES for _, row, _ in _cases(r) for v in row.values()]).all()
