"""First-tier evaluation on hand-built profiles: calls, reasons, actions, missing data, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cutoffs.errors import CutoffError
from cutoffs.evaluate import CALL_COLUMNS, evaluate, evaluate_markers, first_tier_final
from cutoffs.rules import default_rules
from tests.cutoffs.builders import profiles


def _call(calls: pd.DataFrame, specimen: str, disorder: str) -> pd.Series:
    rows = calls[(calls["specimen_id"] == specimen) & (calls["disorder"] == disorder)]
    assert len(rows) == 1, (specimen, disorder, calls[["specimen_id", "disorder"]])
    return rows.iloc[0]


def test_population_medians_are_normal_for_every_disorder():
    calls = evaluate(profiles({}))
    assert calls.empty
    assert list(calls.columns) == list(CALL_COLUMNS)


def test_include_normal_gives_every_pair_in_profile_then_rule_order():
    rules = default_rules()
    calls = evaluate(profiles({}, {"Phe": 200.0}), include_normal=True)
    assert len(calls) == 2 * len(rules)
    assert calls["specimen_id"].tolist() == ["S001"] * len(rules) + ["S002"] * len(rules)
    assert calls["disorder"].tolist()[: len(rules)] == list(rules.codes)
    first = calls[calls["specimen_id"] == "S001"]
    assert set(first["first_tier"]) == {"normal"}
    assert set(first["final"]) == {"negative"} and set(first["action"]) == {"none"}
    assert first["reasons"].eq("").all()
    assert calls["second_tier_probability"].isna().all()
    assert calls["model_version"].eq("").all()


def test_pku_positive_reasons_action_and_version():
    calls = evaluate(profiles({"Phe": 200.0}))
    assert set(calls["disorder"]) == {"PKU", "H-PHE", "BIOPT"}
    pku = _call(calls, "S001", "PKU")
    assert pku["first_tier"] == "positive"
    assert pku["final"] == "positive"
    assert pku["action"] == "repeat_in_duplicate"  # first non-critical out-of-range result
    assert not pku["time_critical"]
    assert pku["reasons"].startswith("Phe=200>150 (")
    assert "Phe/Tyr=2.67>1.7" in pku["reasons"]
    assert "first tier shared with H-PHE, BIOPT" in pku["reasons"]
    assert pku["cutoff_version"] == default_rules().rule("PKU").version
    assert pku["score"] == pytest.approx(200 / 120)


def test_secondary_markers_in_range_lower_a_positive_to_borderline():
    # Phe 200 with Tyr raised so that Phe/Tyr stays normal
    pku = _call(evaluate(profiles({"Phe": 200.0, "Tyr": 200.0})), "S001", "PKU")
    assert pku["first_tier"] == "borderline"
    assert "secondary markers in range" in pku["reasons"]
    assert pku["final"] == "borderline"


def test_critical_and_time_critical_calls_are_referred_immediately():
    calls = evaluate(profiles({"C8": 0.6, "C10": 0.05}, {"C8": 1.5}, {"Phe": 1000.0}))
    assert _call(calls, "S001", "MCAD")["first_tier"] == "positive"
    assert _call(calls, "S001", "MCAD")["action"] == "immediate_referral"  # time-critical
    mcad = _call(calls, "S002", "MCAD")
    assert mcad["first_tier"] == "critical" and mcad["action"] == "immediate_referral"
    assert mcad["reasons"].startswith("C8=1.5>1 (")
    pku = _call(calls, "S003", "PKU")
    assert pku["first_tier"] == "critical" and pku["action"] == "immediate_referral"


def test_after_duplicates_borderline_asks_for_a_repeat_specimen():
    calls = evaluate(profiles({"Phe": 130.0}, {"Phe": 200.0}), stage="duplicate_mean")
    assert _call(calls, "S001", "PKU")["action"] == "request_repeat_specimen"
    assert _call(calls, "S002", "PKU")["action"] == "immediate_referral"
    with pytest.raises(CutoffError, match="stage"):
        evaluate(profiles({}), stage="final")


def test_missing_analyte_is_not_evaluable_never_silently_normal():
    calls = evaluate(profiles({"Phe": None}))
    affected = set(calls["disorder"])
    # every rule reading Phe (as a marker or in a ratio) but nothing else
    assert {"PKU", "H-PHE", "BIOPT"} <= affected
    for _, call in calls.iterrows():
        assert call["first_tier"] == "not_evaluable"
        assert call["action"] == "repeat_in_duplicate"
        assert call["final"] == "borderline"
        assert np.isnan(call["score"]) or call["disorder"] in {"MSUD", "HCY", "MET"}
    assert "not evaluable: Phe not measured" in _call(calls, "S001", "PKU")["reasons"]
    # a missing secondary marker with the primary in range cannot change the call: normal
    assert "MSUD" not in affected and "HCY" not in affected


def test_missing_value_in_one_row_only():
    calls = evaluate(profiles({}, {"C8": np.nan}))
    assert set(calls["specimen_id"]) == {"S002"}
    assert _call(calls, "S002", "MCAD")["first_tier"] == "not_evaluable"
    assert "C8 missing" in _call(calls, "S002", "MCAD")["reasons"]


def test_out_of_range_with_an_unreadable_secondary_is_still_flagged():
    calls = evaluate(profiles({"C8": 0.6, "C10": np.nan}))
    mcad = _call(calls, "S001", "MCAD")
    # C8/C2 and C8/C12 support it; C8/C10 is unread and said so
    assert mcad["first_tier"] == "positive"
    assert "unread: C8/C10 undefined (C10 missing)" in mcad["reasons"]


def test_zero_denominator_counts_as_above_every_level():
    calls = evaluate(profiles({"C8": 0.6, "C10": 0.0, "C12": 0.2}, {"Cit": 0.0}))
    mcad = _call(calls, "S001", "MCAD")
    assert mcad["first_tier"] == "positive"
    assert "C8/C10 above every level (C10=0)" in mcad["reasons"]
    pucd = _call(calls, "S002", "PUCD")  # Orn/Cit with Cit = 0 supports low Cit
    assert pucd["first_tier"] == "positive"
    assert "Orn/Cit above every level (Cit=0)" in pucd["reasons"]
    # a low-direction ratio whose denominator is 0 is not low: CIT's Orn/Cit does not fire
    assert "CIT" not in set(calls["disorder"])
    # 0/0 stays undefined
    calls = evaluate(profiles({"C8": 0.0, "C10": 0.0}))
    assert _call(calls, "S001", "MCKAT")["first_tier"] == "not_evaluable"
    assert "C8/C10 undefined (denominator C10 is 0)" in _call(calls, "S001", "MCKAT")["reasons"]


def test_tpn_caps_amino_acid_positives_but_not_criticals():
    calls = evaluate(profiles({"Phe": 200.0}, {"Phe": 1000.0}, tpn=1))
    pku = _call(calls, "S001", "PKU")
    assert pku["first_tier"] == "borderline"
    assert "capped at borderline: tpn=1" in pku["reasons"]
    assert _call(calls, "S002", "PKU")["first_tier"] == "critical"
    uncapped = evaluate(profiles({"Phe": 200.0}, tpn=0))
    assert _call(uncapped, "S001", "PKU")["first_tier"] == "positive"


def test_pivalate_exposure_caps_c5_calls():
    frame = profiles({"C5": 0.9}, {"C5": 0.9})
    frame["pivalate_exposure"] = [1, 0]
    calls = evaluate(frame)
    assert _call(calls, "S001", "IVA")["first_tier"] == "borderline"
    assert "pivalate_exposure=1" in _call(calls, "S001", "IVA")["reasons"]
    assert _call(calls, "S002", "IVA")["first_tier"] == "positive"


def test_marker_exclusion_tyr2_with_high_succinylacetone():
    calls = evaluate(profiles({"Tyr": 600.0}, {"Tyr": 600.0, "SUAC": 5.0}))
    assert _call(calls, "S001", "TYR2")["first_tier"] == "positive"
    tyr2 = _call(calls, "S002", "TYR2")
    assert tyr2["first_tier"] == "borderline"
    assert "capped at borderline: SUAC=5>1.9" in tyr2["reasons"]
    assert _call(calls, "S002", "TYR1")["first_tier"] == "positive"


def test_k_of_n_needs_two_acylcarnitines():
    calls = evaluate(profiles({"C10": 0.6}, {"C10": 0.6, "C12": 0.9}))
    assert "GA2" not in set(calls[calls["specimen_id"] == "S001"]["disorder"])
    assert _call(calls, "S002", "GA2")["first_tier"] == "positive"


def test_low_direction_markers():
    calls = evaluate(profiles({"C0": 6.0}, {"C0": 4.0, "C2": 3.0}))
    assert _call(calls, "S001", "CUD")["first_tier"] == "borderline"
    cud = _call(calls, "S002", "CUD")
    assert cud["first_tier"] == "positive"
    assert cud["reasons"].startswith("C0=4<5")
    assert "C2=3<5" in cud["reasons"]


def test_bad_input_is_a_cutoff_error_naming_line_and_field():
    frame = profiles({}, {})
    frame["Phe"] = frame["Phe"].astype(object)
    frame.loc[1, "Phe"] = "high"
    with pytest.raises(CutoffError) as info:
        evaluate(frame)
    assert info.value.line == 3 and info.value.field == "Phe"
    with pytest.raises(CutoffError) as info:
        evaluate(profiles({}).drop(columns=["specimen_id"]))
    assert info.value.field == "specimen_id"


def test_postprocess_steps_run_in_order():
    def second_tier(calls: pd.DataFrame, profiles_: pd.DataFrame) -> pd.DataFrame:
        calls = calls.copy()
        calls["second_tier_probability"] = 0.01
        calls["final"] = "negative"
        calls["model_version"] = f"m-{len(profiles_)}"
        return calls

    calls = evaluate(profiles({"Phe": 200.0}), postprocess=[second_tier])
    assert calls["final"].eq("negative").all()
    assert calls["model_version"].eq("m-1").all()


def test_first_tier_final_mapping():
    got = first_tier_final(np.array(["normal", "borderline", "positive", "critical",
                                     "not_evaluable"]))
    assert got.tolist() == ["negative", "borderline", "positive", "positive", "borderline"]
    with pytest.raises(CutoffError):
        first_tier_final(np.array(["maybe"]))


def test_evaluate_markers_takes_marker_values_directly():
    values = pd.DataFrame({"C8": [0.4, 0.4, 0.3], "C8/C12": [2.0, 1.0, 2.0], "C8/C2": 0.0,
                           "C8/C10": 1.0})
    calls = evaluate_markers(values, default_rules().subset(["MCAD"]))
    by_row = dict(zip(calls["specimen_id"], calls["first_tier"], strict=True))
    assert by_row == {"0": "positive", "1": "borderline", "2": "borderline"}
    # the absent secondaries (C6, C10:1) are reported as unread
    assert "unread: C6 not measured, C10:1 not measured" in calls["reasons"].iloc[1]


def test_reason_numbers_are_written_one_kind_at_a_time_as_one_at_a_time():
    from cutoffs.evaluate import _fmt, _fmt_levels, _fmt_many

    values = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 0.000123456, 1.2345, 9.9951, 9.994,
                       10.0, 10.04, 10.05, 99.94, 99.96, 100.0, 123.5, 124.5, 1e300, -5.5,
                       -50.0, -500.0])

    def one(x: float) -> str:  # the rule, value by value
        if abs(x) < 10:
            return f"{x:.3g}" if x != 0 else "0"
        if abs(x) < 100:
            text = f"{x:.1f}"
            return text[:-2] if text.endswith(".0") else text
        return f"{x:.0f}" if abs(x) < np.inf else str(x)

    expected = [one(x) for x in values.tolist()]
    assert _fmt_many(values) == expected
    assert [_fmt(x) for x in values.tolist()] == expected
    repeated = np.concatenate([values, values[::-1], values])
    assert _fmt_levels(repeated) == [one(x) for x in repeated.tolist()]
