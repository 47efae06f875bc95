"""Disorder rules as data: the packaged rules and the loader's validation."""

from __future__ import annotations

import textwrap

import pytest

from cutoffs.errors import CutoffError
from cutoffs.rules import RULES_DIR, default_rules, load_rules
from msms.catalogue import default_catalogue
from msms.ratios import parse_ratio


def test_every_catalogue_disorder_has_one_cited_rule():
    rules = default_rules()
    catalogue = default_catalogue()
    assert len(rules) >= 40
    assert set(rules.codes) == {d.code for d in catalogue.disorders}
    assert len(set(rules.codes)) == len(rules)
    for rule in rules:
        disorder = catalogue.disorder(rule.code)
        assert rule.citations and rule.version and rule.action_on_positive
        assert rule.confirmatory_tests
        if disorder.time_critical is not None:
            assert rule.time_critical == disorder.time_critical, rule.code
        for marker in rule.markers:
            assert marker.source, (rule.code, marker.name)
            assert list(marker.levels.items()), (rule.code, marker.name)


def test_programme_specific_defaults_are_marked_as_estimates():
    rules = default_rules()
    for code in ("PA", "MUT", "MAL", "SCAD", "CPT2", "DERED", "ADA"):
        primary = rules.rule(code).primary[0]
        assert "estimate" in primary.source, code


def test_rules_read_analytes_in_one_direction():
    """Within a rule every analyte pushes the call the same way (what monotonicity needs)."""
    for rule in default_rules():
        push: dict[str, set[str]] = {}
        for marker in rule.markers:
            flip = {"high": "low", "low": "high"}[marker.direction]
            if marker.is_ratio:
                ratio = parse_ratio(marker.name)
                for code in ratio.numerator:
                    push.setdefault(code, set()).add(marker.direction)
                for code in ratio.denominator:
                    push.setdefault(code, set()).add(flip)
            else:
                push.setdefault(marker.name, set()).add(marker.direction)
        mixed = {code: ways for code, ways in push.items() if len(ways) > 1}
        assert not mixed, (rule.code, mixed)


def test_rule_files_are_one_per_category():
    names = sorted(p.stem for p in RULES_DIR.glob("*.toml"))
    categories = sorted({d.category for d in default_catalogue().disorders})
    assert names == categories


GOOD = """
version = "t1"

[[rule]]
code = "MCAD"
version = "t1"
logic = "all"
time_critical = true
action_on_positive = "refer"
citations = ["a source"]

[[rule.marker]]
name = "C8"
direction = "high"
role = "primary"
levels = { borderline = 0.25, positive = 0.32, critical = 1.0 }
source = "s"

[[rule.marker]]
name = "C08/C10"
direction = "high"
role = "secondary"
levels = { positive = 1.6 }
source = "s"
"""


def _load(tmp_path, text: str):
    path = tmp_path / "rules.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_rules(path), path


def test_a_minimal_file_loads_and_fills_confirmatory_tests(tmp_path):
    rules, _ = _load(tmp_path, GOOD)
    rule = rules.rule("MCAD")
    assert [m.name for m in rule.markers] == ["C8", "C8/C10"]  # alias resolved, canonical
    assert rule.k == 1 and rule.logic == "all"
    assert rule.confirmatory_tests == default_catalogue().disorder("MCAD").confirmatory_tests


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ('code = "MCAD"', 'code = "NOPE"', "rule[0].code", "not a disorder"),
        ('name = "C8"', 'name = "C99"', "rule[MCAD].marker[0].name", "neither"),
        ('name = "C08/C10"', 'name = "C8/Nope"', "rule[MCAD].marker[1].name", "neither"),
        ("positive = 0.32,", "positive = 0.2,", "rule[MCAD].marker[0].levels.positive",
         "above borderline"),
        ('direction = "high"\nrole = "primary"', 'direction = "low"\nrole = "primary"',
         "rule[MCAD].marker[0].levels.positive", "below borderline"),
        ('logic = "all"', 'logic = "most"', "rule[MCAD].logic", "must be one of"),
        ('logic = "all"', 'logic = "k_of_n"\nk = 2', "rule[MCAD].k", "whole number from 1 to 1"),
        ("time_critical = true", "time_critical = false", "rule[MCAD].time_critical",
         "catalogue says"),
        ('source = "s"', 'source = "s"\nlevel = 3', "rule[MCAD].marker[0].level", "unknown key"),
        ('role = "secondary"', 'role = "supporting"', "rule[MCAD].marker[1].role",
         "must be one of"),
        ('citations = ["a source"]', "citations = []", "rule[MCAD].citations", "cite"),
    ],
)
def test_loader_errors_name_file_and_key(tmp_path, old, new, field, words):
    assert old in GOOD
    with pytest.raises(CutoffError) as info:
        _load(tmp_path, GOOD.replace(old, new, 1))
    assert info.value.file.endswith("rules.toml")
    assert info.value.field == field
    assert words in str(info.value)


def test_exclusions_are_validated(tmp_path):
    shares = GOOD + (
        '\n[[rule.exclusion]]\nkind = "shares_first_tier"\nwith = ["MCKAT"]\nnote = "n"\n'
    )
    with pytest.raises(CutoffError, match="MCKAT, which has no rule"):
        _load(tmp_path, shares)
    own = GOOD + (
        '\n[[rule.exclusion]]\nkind = "marker"\nname = "C10"\ndirection = "high"\nbeyond = 1\n'
        'note = "n"\n'
    )
    with pytest.raises(CutoffError, match="reads C10") as info:
        _load(tmp_path, own)
    assert info.value.field == "rule[MCAD].exclusion[0].name"
    flag = GOOD + '\n[[rule.exclusion]]\nkind = "flag"\ncolumn = "mct"\nnote = "n"\nwith = ["x"]\n'
    with pytest.raises(CutoffError, match="unknown key"):
        _load(tmp_path, flag)


def test_a_disorder_may_have_only_one_rule(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(CutoffError, match="a second rule for MCAD") as info:
        load_rules(tmp_path)
    assert info.value.file.endswith("b.toml")


def test_invalid_toml_is_reported_with_the_file(tmp_path):
    with pytest.raises(CutoffError, match="not valid TOML") as info:
        _load(tmp_path, GOOD + "\n[[rule\n")
    assert info.value.file.endswith("rules.toml")
