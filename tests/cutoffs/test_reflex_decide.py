"""The reflex decision on hand-made calls and profiles: bypass, awaiting results, ordered rules,
maternal B12 as its own outcome, the first-tier fallback, and the repeat specimen."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cutoffs.reflex.decide import Calibration, decide_groups, decide_repeat
from cutoffs.reflex.rules import default_reflex_rules

RULES = default_reflex_rules()


def _calls(rows):
    return pd.DataFrame(rows, columns=["specimen_id", "disorder", "first_tier", "score"])


def _profiles(rows):
    return pd.DataFrame(rows)


def _decision(out, specimen, group):
    row = out[(out["specimen_id"] == specimen) & (out["group"] == group)].iloc[0]
    return row["decision"], row["reason_code"]


def test_c3_rules_in_order_and_maternal_b12_is_its_own_outcome():
    base = {"C3": 6.0, "C2": 20.0}
    profiles = _profiles([
        {"specimen_id": "a", **base, "MCA": 3.1, "MMA": 0.5, "tHcy": 6.0},
        {"specimen_id": "b", **base, "MCA": 0.2, "MMA": 8.0, "tHcy": 6.0},
        {"specimen_id": "c", **base, "MCA": 0.2, "MMA": 0.5, "tHcy": 22.0},
        {"specimen_id": "d", **base, "MCA": 0.2, "MMA": 0.5, "tHcy": 6.0},
        {"specimen_id": "e", **base, "MCA": 0.2, "MMA": 40.0, "tHcy": 6.0},
        {"specimen_id": "f", **base, "MCA": np.nan, "MMA": 0.5, "tHcy": 6.0},
        {"specimen_id": "g", "C3": 16.0, "C2": 20.0, "MCA": 0.2, "MMA": 0.5, "tHcy": 6.0},
        {"specimen_id": "h", **base, "MCA": 0.2, "MMA": 0.5, "tHcy": 6.0,
         "maternal_b12_low": 1},
    ])
    calls = _calls([(s, "MUT", "positive", 5.0) for s in "abcdefgh"]
                   + [("a", "PA", "borderline", 4.0)])
    out = decide_groups(calls, profiles, RULES)
    assert set(out["group"]) == {"C3"} and len(out) == 8  # PA and MUT: one C3 group per baby
    assert _decision(out, "a", "C3") == ("referral", "C3_MCA_HIGH")
    assert _decision(out, "b", "C3") == ("maternal_b12", "C3_B12_PATTERN")
    assert _decision(out, "c", "C3") == ("maternal_b12", "C3_B12_PATTERN")
    assert _decision(out, "d", "C3") == ("clear", "C3_SECOND_TIER_NORMAL")
    assert _decision(out, "e", "C3") == ("referral", "C3_MMA_VERY_HIGH")
    assert _decision(out, "f", "C3") == ("awaiting_second_tier", "NO_RESULT")
    assert _decision(out, "g", "C3") == ("referral", "BYPASS")  # C3/C2 = 0.8 >= 0.75
    assert _decision(out, "h", "C3") == ("maternal_b12", "C3_B12_CONTEXT")  # recorded context


def test_bypass_and_critical_never_wait_for_the_second_tier():
    profiles = _profiles([{"specimen_id": "a", "C5": 6.2, "C0": 30.0, "C3": 1.0},
                          {"specimen_id": "b", "C5": 1.2, "C0": 30.0, "C3": 1.0}])
    calls = _calls([("a", "IVA", "positive", 9.0), ("b", "IVA", "critical", 9.0)])
    out = decide_groups(calls, profiles, RULES)  # no isomer columns at all
    assert _decision(out, "a", "C5") == ("referral", "BYPASS")
    assert _decision(out, "b", "C5") == ("referral", "CRITICAL")


def test_pivaloylcarnitine_clears_and_calibration_lowers_referral_levels_only():
    profiles = _profiles([
        {"specimen_id": "a", "C5": 1.5, "C5-IV": 0.05, "C5-2MB": 0.1, "C5-PIV": 1.3},
        {"specimen_id": "b", "C5": 1.5, "C5-IV": 0.35, "C5-2MB": 0.1, "C5-PIV": 1.0},
    ])
    calls = _calls([("a", "IVA", "positive", 6.0), ("b", "IVA", "positive", 6.0)])
    out = decide_groups(calls, profiles, RULES)
    assert _decision(out, "a", "C5") == ("clear", "C5_PIVALOYL")
    assert _decision(out, "b", "C5") == ("clear", "C5_PIVALOYL")  # 0.35 < 0.4
    lowered = decide_groups(calls, profiles, RULES, Calibration(scale={"C5": 0.8}))
    assert _decision(lowered, "b", "C5") == ("referral", "C5_ISOVALERYL_HIGH")  # >= 0.32
    assert _decision(lowered, "a", "C5") == ("clear", "C5_PIVALOYL")


def test_groups_without_an_assay_follow_the_first_tier_or_the_calibrated_score():
    profiles = _profiles([{"specimen_id": s, "C8": 0.5, "C0": 20.0, "Cit": 30.0}
                          for s in "abc"])
    calls = _calls([("a", "PKU", "positive", 5.0), ("b", "PKU", "borderline", 4.0),
                    ("c", "MCAD", "borderline", 3.5)])
    cuts = {"PKU": 3.0, "MCAD": 3.2}
    out = decide_groups(calls, profiles, RULES, score_cutoffs=cuts)
    assert _decision(out, "a", "PHE") == ("referral", "FIRST_TIER_POSITIVE")
    assert _decision(out, "b", "PHE") == ("repeat_specimen", "FIRST_TIER_BORDERLINE")
    assert _decision(out, "c", "FAO") == ("repeat_specimen", "NO_SECOND_TIER")
    cleared = decide_groups(calls, profiles, RULES, Calibration(clear_below={"FAO": 0.5}),
                            score_cutoffs=cuts)
    assert _decision(cleared, "c", "FAO") == ("clear", "SCORE_BELOW_CLEAR")  # 0.3 < 0.5


def test_a_group_without_an_assay_is_cleared_below_its_calibrated_score_level_only():
    """The groups that follow the first tier take a calibrated clearing level too: a baby
    below it is cleared, one above it still follows the first tier, a critical one is referred
    whatever its score, and with no level calibrated nothing is cleared."""
    assert all(g.clear_below_score for g in RULES.groups if g.otherwise == "first_tier")
    profiles = _profiles([{"specimen_id": s, "Phe": 200.0, "Tyr": 60.0} for s in "abc"])
    calls = _calls([("a", "PKU", "positive", 5.0), ("b", "PKU", "borderline", 4.0),
                    ("c", "PKU", "critical", 3.5)])
    cuts = {"PKU": 3.0}
    out = decide_groups(calls, profiles, RULES, Calibration(clear_below={"PHE": 1.5}),
                        score_cutoffs=cuts)
    assert _decision(out, "a", "PHE") == ("referral", "FIRST_TIER_POSITIVE")  # 2.0 >= 1.5
    assert _decision(out, "b", "PHE") == ("clear", "SCORE_BELOW_CLEAR")  # 1.0 < 1.5
    assert _decision(out, "c", "PHE") == ("referral", "CRITICAL")
    plain = decide_groups(calls, profiles, RULES, score_cutoffs=cuts)
    assert _decision(plain, "b", "PHE") == ("repeat_specimen", "FIRST_TIER_BORDERLINE")


def test_repeat_specimen_clears_when_normal_and_refers_when_still_flagged():
    first = pd.DataFrame({"specimen_id": ["a", "b"], "group": ["FAO", "FAO"],
                          "decision": ["repeat_specimen"] * 2})
    repeat_profiles = _profiles([
        {"specimen_id": "ra", "previous_specimen_id": "a", "C8": 0.1},
        {"specimen_id": "rb", "previous_specimen_id": "b", "C8": 0.4}])
    repeat_calls = _calls([("ra", "MCAD", "normal", 1.0), ("ra", "VLCAD", "normal", 0.0),
                           ("rb", "MCAD", "borderline", 4.0), ("rb", "VLCAD", "normal", 0.0)])
    cuts = {"MCAD": 3.2, "VLCAD": 3.0}
    out = decide_repeat(first, repeat_calls, repeat_profiles, RULES, score_cutoffs=cuts)
    assert _decision(out, "a", "FAO") == ("clear", "REPEAT_NORMAL")
    assert _decision(out, "b", "FAO") == ("referral", "REPEAT_STILL_ABNORMAL")
    # a calibrated repeat level below the cutoff keeps a near-cutoff repeat (excess -2.2)
    strict = decide_repeat(first, repeat_calls, repeat_profiles, RULES,
                           Calibration(repeat_clear_below={"FAO": -2.5}), score_cutoffs=cuts)
    assert _decision(strict, "a", "FAO") == ("referral", "REPEAT_STILL_ABNORMAL")


def test_a_disorder_with_its_own_repeat_level_is_held_to_it_and_the_others_to_the_group():
    first = pd.DataFrame({"specimen_id": ["a", "b", "c"], "group": ["FAO"] * 3,
                          "decision": ["repeat_specimen"] * 3})
    repeat_profiles = _profiles([{"specimen_id": f"r{s}", "previous_specimen_id": s, "C8": 0.1}
                                 for s in "abc"])
    cuts = {"MCAD": 3.0, "VLCAD": 3.0}
    repeat_calls = _calls([
        ("ra", "MCAD", "normal", 1.5), ("ra", "VLCAD", "normal", 1.0),   # excess -1.5, -2.0
        ("rb", "MCAD", "normal", 0.5), ("rb", "VLCAD", "normal", 2.2),   # -2.5, -0.8
        ("rc", "MCAD", "normal", 0.5), ("rc", "VLCAD", "normal", 0.9)])  # -2.5, -2.1
    calibration = Calibration(repeat_clear_below={"FAO": -2.0},
                              repeat_clear_below_disorder={"VLCAD": -0.5})
    assert calibration.repeat_shift("FAO", "VLCAD") == 1.5
    assert calibration.repeat_shift("FAO", "MCAD") == 0.0
    out = decide_repeat(first, repeat_calls, repeat_profiles, RULES, calibration,
                        score_cutoffs=cuts)
    # a: MCAD -1.5 is not below the group's -2.0: kept (before, VLCAD's -2.0 did not matter)
    assert _decision(out, "a", "FAO") == ("referral", "REPEAT_STILL_ABNORMAL")
    # b: VLCAD -0.8 is below its own -0.5 and MCAD -2.5 below the group's: cleared
    assert _decision(out, "b", "FAO") == ("clear", "REPEAT_NORMAL")
    assert _decision(out, "c", "FAO") == ("clear", "REPEAT_NORMAL")
    without = decide_repeat(first, repeat_calls, repeat_profiles, RULES,
                            Calibration(repeat_clear_below={"FAO": -2.0}), score_cutoffs=cuts)
    assert _decision(without, "b", "FAO") == ("referral", "REPEAT_STILL_ABNORMAL")


def test_a_normal_assay_clears_only_a_baby_flagged_for_the_disorders_it_informs():
    profiles = _profiles([{"specimen_id": s, "Tyr": 400.0, "SUAC": 1.0, "SUAC-2T": 0.3}
                          for s in "ab"])
    calls = _calls([("a", "TYR1", "borderline", 3.5),
                    ("b", "TYR1", "borderline", 3.5), ("b", "TYR2", "borderline", 3.4)])
    out = decide_groups(calls, profiles, RULES)
    assert _decision(out, "a", "TYR") == ("clear", "TYR_SUAC_EXCLUDES_TYR1")
    assert _decision(out, "b", "TYR") == ("repeat_specimen", "TYR_SUAC_NORMAL")
    raised = profiles.assign(**{"SUAC-2T": [5.0, 5.0]})
    assert _decision(decide_groups(calls, raised, RULES), "a", "TYR") == (
        "referral", "TYR_SUAC_HIGH")


def test_an_assay_s_own_scale_overrides_its_group_s():
    profiles = _profiles([
        {"specimen_id": "a", "C5": 1.0, "C5-IV": 0.05, "C5-2MB": 0.35, "C5-PIV": 0.0},
        {"specimen_id": "b", "C5": 1.0, "C5-IV": 0.35, "C5-2MB": 0.05, "C5-PIV": 0.0},
    ])
    calls = _calls([("a", "IVA", "positive", 6.0), ("b", "IVA", "positive", 6.0)])
    group = Calibration(scale={"C5": 0.8})
    assert _decision(decide_groups(calls, profiles, RULES, group), "a", "C5") == (
        "referral", "C5_2MB_HIGH")  # 0.35 >= 0.32
    own = Calibration(scale={"C5": 0.8}, rule_scale={"C5:C5-2MB": 1.0})
    assert own.level("C5", "referral", 0.4, "C5-2MB") == 0.4
    assert own.level("C5", "referral", 0.4, "C5-IV") == 0.4 * 0.8
    out = decide_groups(calls, profiles, RULES, own)
    assert _decision(out, "a", "C5") == ("clear", "C5_ISOMERS_NORMAL")  # 0.35 < 0.4
    assert _decision(out, "b", "C5") == ("referral", "C5_ISOVALERYL_HIGH")  # 0.35 >= 0.32


def test_acadm_and_acadvl_variants_refer_repeat_or_clear_only_what_they_inform():
    base = {"C8": 0.4, "C0": 20.0}
    genotypes = {"a": (0, 0), "b": (0, 0), "c": (0, 0), "d": (2, 0), "e": (1, 0),
                 "f": (0, 2), "g": (0, 1), "h": (0, 0)}
    profiles = _profiles([{"specimen_id": s, **base, "ACADM": m, "ACADVL": v}
                          for s, (m, v) in genotypes.items()]
                         + [{"specimen_id": "i", **base}])  # not genotyped
    profiles.loc[profiles["specimen_id"] == "h", "C8"] = 1.2  # past the C8 bypass
    calls = _calls([("a", "MCAD", "borderline", 3.5), ("b", "CPT2", "borderline", 3.5),
                    ("c", "MCAD", "borderline", 3.5), ("c", "CPT2", "borderline", 3.4),
                    ("d", "MCAD", "borderline", 3.5), ("e", "MCAD", "borderline", 3.5),
                    ("f", "VLCAD", "positive", 4.5), ("g", "MCAD", "borderline", 3.5),
                    ("g", "VLCAD", "borderline", 3.5), ("h", "MCAD", "positive", 6.0),
                    ("i", "MCAD", "borderline", 3.5)])
    cuts = {"MCAD": 3.2, "VLCAD": 3.0, "CPT2": 3.0}
    out = decide_groups(calls, profiles, RULES, score_cutoffs=cuts)
    # none detected and only MCAD (or VLCAD) flagged: excluded
    assert _decision(out, "a", "FAO") == ("clear", "FAO_NO_VARIANT")
    # a CPT2 flag is not informed by ACADM or ACADVL, alone or with MCAD
    assert _decision(out, "b", "FAO") == ("repeat_specimen", "FAO_NO_VARIANT_UNINFORMED")
    assert _decision(out, "c", "FAO") == ("repeat_specimen", "FAO_NO_VARIANT_UNINFORMED")
    assert _decision(out, "d", "FAO") == ("referral", "FAO_ACADM_TWO")
    assert _decision(out, "e", "FAO") == ("repeat_specimen", "FAO_ACADM_ONE")  # carrier?
    assert _decision(out, "f", "FAO") == ("referral", "FAO_ACADVL_TWO")
    assert _decision(out, "g", "FAO") == ("repeat_specimen", "FAO_ACADVL_ONE")
    assert _decision(out, "h", "FAO") == ("referral", "BYPASS")  # never waits, never cleared
    # not genotyped: decided as without a second tier, never held and never cleared
    assert _decision(out, "i", "FAO") == ("repeat_specimen", "NO_SECOND_TIER")
    # a calibrated level keeps a baby above it (excess 0.3) from being cleared on the genotype
    held = decide_groups(calls, profiles, RULES, Calibration(informed_clear_below={"FAO": 0.2}),
                         score_cutoffs=cuts)
    assert _decision(held, "a", "FAO") == ("repeat_specimen", "FAO_NO_VARIANT_UNINFORMED")
    assert Calibration(scale={"FAO": 0.4}).level("FAO", "referral", 2.0, "ACADM") == 0.8
    scaled = decide_groups(calls, profiles, RULES, Calibration(scale={"FAO": 0.4}),
                           score_cutoffs=cuts)
    assert _decision(scaled, "e", "FAO") == ("repeat_specimen", "FAO_ACADM_ONE")  # exact count


def test_a_repeat_of_a_carrier_still_abnormal_is_referred_on_its_genotype():
    first = pd.DataFrame({"specimen_id": ["a", "b"], "group": ["FAO", "FAO"],
                          "decision": ["repeat_specimen"] * 2})
    repeat_profiles = _profiles([
        {"specimen_id": "ra", "previous_specimen_id": "a", "C8": 0.4, "ACADM": 1, "ACADVL": 0},
        {"specimen_id": "rb", "previous_specimen_id": "b", "C8": 0.1, "ACADM": 1, "ACADVL": 0}])
    repeat_calls = _calls([("ra", "MCAD", "borderline", 4.0), ("rb", "MCAD", "normal", 1.0)])
    out = decide_repeat(first, repeat_calls, repeat_profiles, RULES,
                        score_cutoffs={"MCAD": 3.2})
    assert _decision(out, "a", "FAO") == ("referral", "FAO_ACADM_ONE")
    assert _decision(out, "b", "FAO") == ("clear", "REPEAT_NORMAL")
