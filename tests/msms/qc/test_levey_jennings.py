"""Levey-Jennings series: hand-built control histories (target 100 ± 10 µmol/L, so a value of
100 + 10 z has the z-score z), each Westgard rule firing on the run that breaks it and not on
a run that does not."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msms.qc.controls import ControlLot, ControlLots, Target
from msms.qc.levey_jennings import LJSeries, levey_jennings
from msms.qc.rules import default_rules
from msms.qc.westgard import across_runs

TARGET = Target(100.0, 10.0)


def lots() -> ControlLots:
    def lot(name: str, level: str) -> ControlLot:
        return ControlLot(lot=name, level=level, material="test", expires=None, in_use=True,
                          verified=True, targets=MappingProxyType({"Phe": TARGET, "C8": TARGET}))
    return ControlLots(version="t", notice="", lots=MappingProxyType(
        {"L1": lot("L1", "low"), "H1": lot("H1", "high")}))


def history(*runs: dict[str, list[float]], analyte: str = "Phe") -> pd.DataFrame:
    """One dict per run, oldest first: lot -> the z-scores of its wells in that run."""
    rows = []
    for n, run in enumerate(runs, start=1):
        for lot, zs in run.items():
            for k, z in enumerate(zs):
                rows.append({"run_id": f"R{n:02d}", "lot": lot, "analyte": analyte,
                             "conc_umol_l": 100.0 + 10.0 * z, "well": f"A{k + 1:02d}"})
    return pd.DataFrame(rows)


def one(series: list[LJSeries], lot: str = "L1", analyte: str = "Phe") -> LJSeries:
    return next(s for s in series if s.lot == lot and s.analyte == analyte)


def flags(zs: list[float]) -> dict[str, tuple[str, ...]]:
    """Each run's flags in a single-lot series with one value per run."""
    s = one(levey_jennings(history(*({"L1": [z]} for z in zs)), lots(), default_rules()))
    return {p.run_id: p.flags for p in s.points}


def test_points_carry_value_and_z() -> None:
    s = one(levey_jennings(history({"L1": [0.5]}, {"L1": [-1.25]}), lots(), default_rules()))
    assert [p.run_id for p in s.points] == ["R01", "R02"]
    assert [p.z for p in s.points] == pytest.approx([0.5, -1.25])
    assert s.points[1].value_umol_l == pytest.approx(87.5)
    assert (s.mean_umol_l, s.sd_umol_l, s.level) == (100.0, 10.0, "low")
    assert s.violations == ()


def test_1_2s_and_1_3s_on_the_run_that_breaks_them_only() -> None:
    got = flags([0.3, 2.4, 0.1, -3.2, 1.9])
    assert got == {"R01": (), "R02": ("1-2s",), "R03": (), "R04": ("1-2s", "1-3s"),
                   "R05": ()}


def test_2_2s_needs_the_second_consecutive_run() -> None:
    got = flags([0.1, 2.3, 2.1])
    assert got["R02"] == ("1-2s",)               # the first alone is a warning
    assert got["R03"] == ("1-2s", "2-2s")
    assert "2-2s" not in flags([0.1, 2.3, -2.1])["R03"]  # opposite sides
    assert "2-2s" not in flags([2.3, 1.0, 2.1])["R03"]   # not consecutive


def test_2_2s_violation_names_both_runs() -> None:
    s = one(levey_jennings(history({"L1": [0.1]}, {"L1": [2.3]}, {"L1": [2.1]}), lots(),
                           default_rules()))
    v = next(v for v in s.violations if v.rule == "2-2s")
    assert (v.run_id, v.points, v.severity) == ("R03", (1, 2), "reject")


def test_r_4s_within_one_run_of_one_lot() -> None:
    s = one(levey_jennings(history({"L1": [0.2]}, {"L1": [2.2, -2.4]}), lots(),
                           default_rules()))
    assert s.flags_of("R02") == ("1-2s", "R-4s")
    assert s.flags_of("R01") == ()
    # the same values in two runs are not R-4s
    assert "R-4s" not in flags([2.2, -2.4])["R02"]


def test_r_4s_and_2_2s_across_materials_within_one_run() -> None:
    both = levey_jennings(history({"L1": [2.3], "H1": [-2.2]}), lots(), default_rules())
    assert one(both, "L1").flags_of("R01") == ("1-2s", "R-4s")
    assert one(both, "H1").flags_of("R01") == ("1-2s", "R-4s")
    v = next(v for v in one(both, "H1").violations if v.rule == "R-4s")
    assert v.across_materials and v.points == (0,)
    same_side = levey_jennings(history({"L1": [2.3], "H1": [2.2]}), lots(), default_rules())
    assert "2-2s" in one(same_side, "H1").flags_of("R01")
    apart = levey_jennings(history({"L1": [1.9], "H1": [-1.9]}), lots(), default_rules())
    assert one(apart, "L1").flags_of("R01") == ()


def test_4_1s_needs_four_consecutive_beyond_the_same_1s_limit() -> None:
    assert flags([-0.2, 1.3, 1.6, 1.2, 1.4])["R05"] == ("4-1s",)
    assert flags([-0.2, 1.3, 1.6, 1.2])["R04"] == ()
    assert flags([1.3, 1.6, 0.8, 1.2, 1.4])["R05"] == ()
    assert flags([-1.3, -1.6, -1.2, -1.4])["R04"] == ("4-1s",)


def test_10_x_needs_ten_consecutive_on_one_side() -> None:
    nine = [0.3, 0.1, 0.8, 0.2, 0.5, 0.05, 0.7, 0.4, 0.6]
    assert flags([*nine, 0.2])["R10"] == ("10-x",)
    assert flags([*nine, -0.2])["R10"] == ()
    assert flags([-0.5, *nine])["R10"] == ()
    assert set(flags([*nine, 0.2, 0.3]).values()) == {(), ("10-x",)}


def test_the_history_window_follows_the_rules() -> None:
    nine = [0.3, 0.1, 0.8, 0.2, 0.5, 0.05, 0.7, 0.4, 0.6]
    short = dataclasses.replace(default_rules(), westgard_history_runs=5)
    s = one(levey_jennings(history(*({"L1": [z]} for z in [*nine, 0.2])), lots(), short))
    assert s.flags_of("R10") == ()     # only five earlier runs: no ten in a row


def test_rules_set_off_are_not_applied() -> None:
    rules = default_rules()
    off = dataclasses.replace(rules, westgard_actions=MappingProxyType(
        {**rules.westgard_actions, "1-2s": "off"}))
    s = one(levey_jennings(history({"L1": [2.4]}), lots(), off))
    assert s.flags_of("R01") == ()
    assert s.violations == ()


def test_severity_follows_the_rules_file() -> None:
    s = one(levey_jennings(history({"L1": [0.1]}, {"L1": [3.4]}), lots(), default_rules()))
    assert {v.rule: v.severity for v in s.violations} == {"1-2s": "warning", "1-3s": "reject"}


def test_runs_limits_the_points_shown_but_not_the_history_judged() -> None:
    data = history({"L1": [0.1]}, {"L1": [2.3]}, {"L1": [2.1]})
    s = one(levey_jennings(data, lots(), default_rules(), runs=["R03"]))
    assert [p.run_id for p in s.points] == ["R03"]
    assert s.flags_of("R03") == ("1-2s", "2-2s")
    v = next(v for v in s.violations if v.rule == "2-2s")
    assert v.points == (0,)      # the earlier run involved is not among the points shown


def test_values_of_an_unknown_lot_or_without_target_are_left_out() -> None:
    data = pd.concat([history({"L1": [0.1]}), pd.DataFrame([
        {"run_id": "R01", "lot": "L1", "analyte": "Tyr", "conc_umol_l": 80.0, "well": "A01"},
        {"run_id": "R01", "lot": "NO-SUCH-LOT", "analyte": "Phe", "conc_umol_l": 80.0,
         "well": "A02"},
    ])], ignore_index=True)
    series = levey_jennings(data, lots(), default_rules())
    assert [(s.lot, s.analyte, len(s.points)) for s in series] == [("L1", "Phe", 1)]


def test_stored_control_wells_resolve_to_their_lot() -> None:
    data = pd.DataFrame([
        {"run_id": "R01", "sample_id": "H1", "sample_type": "qc_high", "analyte": "C8",
         "conc_umol_l": 131.0, "well": "A02"},
        {"run_id": "R01", "sample_id": "unlabelled", "sample_type": "qc_low",
         "analyte": "C8", "conc_umol_l": 100.0, "well": "A01"},
    ])
    series = levey_jennings(data, lots(), default_rules())
    assert [(s.lot, s.points[0].flags) for s in series] == [("H1", ("1-2s", "1-3s")),
                                                           ("L1", ())]


def test_judged_limits_the_runs_whose_rules_are_worked_out() -> None:
    data = history({"L1": [0.1]}, {"L1": [2.3]}, {"L1": [2.1]})
    s = one(levey_jennings(data, lots(), default_rules(), judged=["R03"]))
    assert [p.run_id for p in s.points] == ["R01", "R02", "R03"]
    assert s.flags_of("R02") == () and s.points[1].flags == ()
    assert s.flags_of("R03") == ("1-2s", "2-2s")


@settings(max_examples=60, deadline=None)
# z-scores to 3 decimals: a value stored as target + z * SD gives its z back (a tiny z comes
# back as 0, on neither side of the mean, and 10-x would differ for no real reason)
@given(st.lists(st.lists(st.floats(min_value=-4, max_value=4).map(lambda z: round(z, 3)),
                         min_size=1, max_size=2),
                min_size=1, max_size=30),
       st.integers(min_value=1, max_value=12))
def test_flags_agree_with_judging_each_run_over_its_own_window(runs: list[list[float]],
                                                                keep: int) -> None:
    """Each run's flags are what ``westgard.across_runs`` finds over that run's history
    window (the ``keep`` runs before it) with the run's values as the current ones."""
    rules = dataclasses.replace(default_rules(), westgard_history_runs=keep)
    active = [r for r, a in rules.westgard_actions.items() if a != "off"]
    s = one(levey_jennings(history(*({"L1": zs} for zs in runs)), lots(), rules))
    for n in range(len(runs)):
        window = runs[max(0, n - keep):n + 1]
        z = [v for zs in window for v in zs]
        current = [False] * (len(z) - len(runs[n])) + [True] * len(runs[n])
        expected = {v.rule for v in across_runs(z, current, rules=active)}
        assert set(s.flags_of(f"R{n + 1:02d}")) == expected, (n, window)
