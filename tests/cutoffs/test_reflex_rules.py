"""The reflex rules: the packaged file and the validation of a laboratory's own."""

from __future__ import annotations

from pathlib import Path

import pytest

from cutoffs.errors import CutoffError
from cutoffs.reflex.rules import REFLEX_RULES_TOML, default_reflex_rules, load_reflex_rules
from msms.catalogue import default_catalogue


def test_every_disorder_is_in_exactly_one_group():
    rules = default_reflex_rules()
    group_of = rules.group_of()
    assert set(group_of) == {d.code for d in default_catalogue().disorders}
    assert group_of["PA"] == group_of["MUT"] == group_of["B12D"] == "C3"
    assert group_of["MSUD"] == "BCAA"


def test_bypass_levels_of_the_literature():
    rules = default_reflex_rules()
    c5 = rules.group("C5").bypass[0]
    assert (c5.marker, c5.level, c5.high) == ("C5", 5.0, True)
    c3 = rules.group("C3").bypass[0]
    assert (c3.marker, c3.level, c3.high) == ("C3/C2", 0.75, True)
    c0 = rules.group("LOW_C0").bypass[0]
    assert (c0.marker, c0.level, c0.high) == ("C0", 5.0, False)


def test_rule_levels_default_to_the_assay_cutoffs():
    c3 = default_reflex_rules().group("C3")
    assert [(r.assay or r.context, r.level, r.outcome) for r in c3.rules] == [
        ("MCA", 1.0, "referral"), ("MMA", 25.0, "referral"),
        ("maternal_b12_low", 1.0, "maternal_b12"), ("MMA", 5.0, "maternal_b12"),
        ("tHcy", 15.0, "maternal_b12")]
    assert default_reflex_rules().mild_bound("MSUD") == 0.02
    assert default_reflex_rules().mild_bound("PA") == 0.05


def test_the_disorders_each_group_s_assays_inform():
    rules = default_reflex_rules()
    assert rules.group("TYR").informed == ("TYR1",)  # succinylacetone: type 1 only
    assert rules.group("MET").informed == ("HCY",)
    assert rules.group("TYR").otherwise_informed == "clear"
    # ACADM and ACADVL variants: MCAD and VLCAD deficiency, not CPT2, LCHAD, ...
    assert rules.group("FAO").informed == ("MCAD", "VLCAD")
    assert rules.group("FAO").otherwise_informed == "clear"
    assert not rules.group("FAO").await_assays and rules.group("TYR").await_assays
    # a genotype's count is exact: never scaled by the calibration
    assert [(r.assay, r.level, r.outcome, r.scaled) for r in rules.group("FAO").rules] == [
        ("ACADM", 2.0, "referral", False), ("ACADVL", 2.0, "referral", False),
        ("ACADM", 1.0, "repeat_specimen", False), ("ACADVL", 1.0, "repeat_specimen", False)]
    assert rules.min_cases_own_level == 20


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = REFLEX_RULES_TOML.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ('disorders = ["IVA", "2MBG"]', 'disorders = ["IVA"]', "in no group: 2MBG"),
    ('disorders = ["IVA", "2MBG"]', 'disorders = ["IVA", "2MBG", "PA"]', "already in group C3"),
    ('assays = ["aIle"]', 'assays = ["aIle", "XYZ"]', "unknown second-tier assay 'XYZ'"),
    ('reason_code = "C5_PIVALOYL"', 'reason_code = "C5_PIV"', "undeclared reason code"),
    ('marker = "C5"', 'marker = "C5X"', "unknown analyte"),
    ('mild_miss_bound = 0.05', 'mild_miss_bound = 0.9', "must lie in"),
    ('outcome = "maternal_b12"', 'outcome = "discharge"', "outcome"),
    ('context = "maternal_b12_low"', 'context = "maternal_b12_low"\nassay = "MMA"',
     "exactly one of assay and context"),
    ('otherwise_informed_reason_code = "TYR_SUAC_EXCLUDES_TYR1"\n', '',
     "give both otherwise_informed and otherwise_informed_reason_code"),
    ('otherwise_informed_reason_code = "TYR_SUAC_EXCLUDES_TYR1"',
     'otherwise_informed_reason_code = "TYR_X"', "undeclared reason code 'TYR_X'"),
    ('assay = "ACADM"\nat_least = 2', 'assay = "ACADM"\nat_least = 1.5',
     "a genotype's level is a count of variants"),
    ('otherwise_reason_code = "BCAA_AILE_NORMAL"',
     'otherwise_reason_code = "BCAA_AILE_NORMAL"\nawait_assays = false',
     "must not clear otherwise"),
])
def test_a_bad_file_is_refused_naming_file_and_line(tmp_path, old, new, message):
    path = _edited(tmp_path, old, new)
    with pytest.raises(CutoffError, match=message) as info:
        load_reflex_rules(path)
    assert info.value.file == str(path)
    assert info.value.line is not None
