"""Deriving cutoff tables: percentiles, bootstrap intervals, strata, the TOML format, and how
evaluation uses a table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cutoffs.derive import bootstrap_quantile_ci, derive_cutoffs
from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.rules import default_rules
from cutoffs.strata import OVERALL, default_strata, load_strata
from cutoffs.tables import read_cutoff_table, write_cutoff_table
from tests.cutoffs.builders import MEDIANS, profiles

RULES = default_rules()


def _population(n: int, seed: int = 0) -> pd.DataFrame:
    """Log-normal analytes; babies under 2500 g have Phe twice as high."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "specimen_id": [f"P{i}" for i in range(n)],
        "birth_weight_g": np.where(rng.random(n) < 0.2, 2000.0, 3400.0),
        "gestational_age_weeks": 39.0,
        "age_at_collection_hours": 48.0,
        "tpn": 0,
    })
    for code, median in MEDIANS.items():
        frame[code] = median * np.exp(0.35 * rng.standard_normal(n))
    frame.loc[frame["birth_weight_g"] < 2500, "Phe"] *= 2.0
    return frame


def test_exact_bootstrap_matches_resampling():
    rng = np.random.default_rng(3)
    x = np.sort(rng.lognormal(size=400))
    q, k = 0.995, math.ceil(0.995 * 400)
    naive = np.sort(rng.choice(x, size=(4000, 400), replace=True), axis=1)[:, k - 1]
    exact_low, exact_high = bootstrap_quantile_ci(x, q, n_bootstrap=4000, confidence=0.9,
                                                  rng=np.random.default_rng(4))
    naive_low, naive_high = np.quantile(naive, [0.05, 0.95], method="inverted_cdf")
    rank = {v: i for i, v in enumerate(x)}
    assert abs(rank[exact_low] - rank[naive_low]) <= 2
    assert abs(rank[exact_high] - rank[naive_high]) <= 1


def test_bootstrap_interval_covers_the_true_quantile():
    rng = np.random.default_rng(5)
    true = math.exp(2.5758293035489004)  # 99.5th percentile of a standard log-normal
    hits = 0
    for _ in range(200):
        x = np.sort(rng.lognormal(size=3000))
        low, high = bootstrap_quantile_ci(x, 0.995, n_bootstrap=400, confidence=0.95, rng=rng)
        hits += low <= true <= high
    assert 170 <= hits <= 200  # about 95% coverage


@pytest.mark.parametrize("seed", range(8))
def test_a_derived_table_with_few_replicates_reads_back(tmp_path, seed):
    # with a handful of bootstrap replicates a percentile interval can miss its own estimate;
    # the table must still hold every cutoff inside its interval and read back
    table = derive_cutoffs(_population(600, seed), markers=["Phe", "Tyr", "Phe/Tyr"],
                           n_bootstrap=3, seed=seed, min_stratum_n=100)
    for entry in table.entries:
        assert entry.upper_ci[0] <= entry.upper <= entry.upper_ci[1]
        assert entry.lower_ci[0] <= entry.lower <= entry.lower_ci[1]
    read_cutoff_table(write_cutoff_table(table, tmp_path / "few.toml"))


def test_percentiles_and_strata():
    population = _population(20_000)
    table = derive_cutoffs(population, markers=["Phe", "C8", "C8/C10"], min_stratum_n=2000,
                           n_bootstrap=100)
    overall = table.entry("Phe")
    x = np.sort(population["Phe"].to_numpy())
    assert overall.n == 20_000
    assert overall.upper == x[math.ceil(0.995 * x.size) - 1]
    assert overall.lower == x[math.ceil(0.005 * x.size) - 1]
    assert overall.upper_ci[0] <= overall.upper <= overall.upper_ci[1]
    assert overall.lower_ci[0] <= overall.lower <= overall.lower_ci[1]
    low_weight = table.entry("Phe", "birth_weight=1500-2499")
    normal_weight = table.entry("Phe", "birth_weight=>=2500")
    assert low_weight.upper > 1.7 * normal_weight.upper
    assert 3000 < low_weight.n < 5000
    # strata smaller than min_stratum_n get no entry
    strata = {e.stratum for e in table.entries}
    assert "birth_weight=<1500" not in strata
    assert "tpn=no&birth_weight=>=2500" in strata
    assert table.entry("C8/C10").median == pytest.approx(
        np.median(population["C8"] / population["C10"]), rel=1e-3)
    assert table.derived_from["n"] == 20_000 and len(table.derived_from["sha256"]) == 64
    assert table.version == "lab-" + table.derived_from["sha256"][:12]


def test_default_markers_are_analytes_catalogue_ratios_and_rule_markers():
    table = derive_cutoffs(_population(1500), min_stratum_n=1000, n_bootstrap=10)
    markers = set(table.markers)
    assert set(MEDIANS) <= markers
    assert set(RULES.markers()) <= markers
    assert "(C16+C18:1)/C2" in markers


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"upper_percentile": 100.0}, "upper_percentile"),
        ({"lower_percentile": 60.0}, "upper_percentile"),
        ({"min_stratum_n": 5000}, "min_stratum_n"),
        ({"confidence": 1.0}, "confidence"),
    ],
)
def test_derive_rejects_bad_settings(kwargs, field):
    with pytest.raises(CutoffError) as info:
        derive_cutoffs(_population(1000), markers=["Phe"], min_stratum_n=kwargs.pop(
            "min_stratum_n", 500), **kwargs)
    assert info.value.field == field


def test_derive_names_the_line_of_a_bad_value():
    population = _population(1000).astype({"C8": object})
    population.loc[7, "C8"] = "n/a"
    with pytest.raises(CutoffError) as info:
        derive_cutoffs(population, markers=["C8"], min_stratum_n=500)
    assert (info.value.line, info.value.field) == (9, "C8")


@pytest.fixture(scope="module")
def table():
    return derive_cutoffs(_population(20_000, seed=1), min_stratum_n=2000, n_bootstrap=50,
                          version="lab-test-1")


def test_table_round_trips_through_toml(tmp_path, table):
    path = write_cutoff_table(table, tmp_path / "cutoffs.toml")
    again = read_cutoff_table(path)
    assert again.version == "lab-test-1" and again.file == str(path)
    assert len(again.entries) == len(table.entries)
    assert again.strata == table.strata
    for a, b in zip(table.entries, again.entries, strict=True):
        assert (a.marker, a.stratum, a.n) == (b.marker, b.stratum, b.n)
        assert b.upper == pytest.approx(a.upper, rel=1e-5)
        assert b.upper_ci == pytest.approx(a.upper_ci, rel=1e-5)
        assert b.quantiles == pytest.approx(a.quantiles, rel=1e-5)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('marker = "Phe"', 'marker = "Nope"', "cutoff[{i}].marker"),
        ('marker = "Phe"', 'marker = "PHE"', "cutoff[{i}].marker"),
        ('stratum = "all"', 'stratum = "weight=heavy"', "cutoff[{i}].stratum"),
        ("n = 20000", "n = 10", "cutoff[{i}].n"),
        ('format = "nbs-cutoff-table/1"', 'format = "other"', "format"),
        ("upper_percentile = 99.5", "upper_percentile = 40.0", "upper_percentile"),
    ],
)
def test_reading_a_bad_table_names_the_key(tmp_path, table, old, new, field):
    text = write_cutoff_table(table, tmp_path / "good.toml").read_text(encoding="utf-8")
    blocks = text.split("[[cutoff]]")
    index = next(i for i, b in enumerate(blocks[1:]) if 'marker = "Phe"' in b
                 and 'stratum = "all"' in b)
    if old.startswith(("marker", "stratum", "n =")):
        blocks[index + 1] = blocks[index + 1].replace(old, new, 1)
        text = "[[cutoff]]".join(blocks)
    else:
        text = text.replace(old, new, 1)
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CutoffError) as info:
        read_cutoff_table(path)
    assert info.value.file == str(path)
    assert info.value.field == field.format(i=index)


def test_interval_must_hold_its_cutoff(tmp_path, table):
    text = write_cutoff_table(table, tmp_path / "good.toml").read_text(encoding="utf-8")
    start = text.index("upper_ci = [") + len("upper_ci = [")
    text = text[:start] + "1e9, 2e9" + text[text.index("]", start):]
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CutoffError, match="around the cutoff") as info:
        read_cutoff_table(path)
    assert info.value.field == "cutoff[0].upper_ci"


def test_most_specific_stratum_wins_and_missing_covariates_fall_back(table):
    frame = profiles({}, {}, {}, {})
    frame["birth_weight_g"] = [2000.0, 3400.0, np.nan, 1000.0]
    frame["gestational_age_weeks"] = 39.0
    frame["tpn"] = [0, 0, 0, 0]
    assignment = table.assign(frame)
    index = table.entry_index("Phe", assignment)
    used = [table.entries[i].stratum for i in index]
    assert used[0] == "tpn=no&birth_weight=1500-2499"
    assert used[1] == "tpn=no&birth_weight=>=2500"
    # birth weight missing: the best stratum without it (tpn and GA come first by priority)
    assert used[2] == "tpn=no&gestational_age=>=37"
    # <1500 g has too few babies: fall back to a stratum without birth weight
    assert "birth_weight" not in used[3]
    frame = profiles({})
    assert table.entries[table.entry_index("Phe", table.assign(frame))[0]].stratum == OVERALL


def test_evaluation_uses_the_stratum_cutoff_as_first_level(table):
    weight = 3400.0
    entry = table.entry("Phe", "tpn=no&birth_weight=>=2500")
    cut = entry.upper
    assert cut < 150  # below the literature positive level
    at = profiles({"Phe": cut}, {"Phe": math.nextafter(cut, math.inf)}, {"Phe": 160.0},
                  birth_weight_g=weight, gestational_age_weeks=39.0,
                  age_at_collection_hours=48.0, tpn=0)
    calls = evaluate(at, RULES.subset(["PKU"]), table, include_normal=True)
    assert calls["first_tier"].tolist() == ["normal", "borderline", "positive"]
    assert calls["cutoff_version"].str.endswith("+lab-test-1").all()
    assert calls["reasons"].iloc[1].startswith(f"Phe={cut:.0f}>{cut:.0f}")


def test_a_stratum_cutoff_above_the_literature_positive_level_is_capped():
    population = _population(6000, seed=2)
    population["Phe"] *= 2.0  # this laboratory's Phe runs high: p99.5 about 200
    table = derive_cutoffs(population, markers=["Phe", "Phe/Tyr"], min_stratum_n=5000,
                           n_bootstrap=10)
    cut = table.entry("Phe").upper
    assert cut > 150
    frame = profiles({"Phe": 140.0}, {"Phe": 155.0}, {"Phe": math.nextafter(cut, math.inf)})
    calls = evaluate(frame, RULES.subset(["PKU"]), table, include_normal=True)
    # 155 is past the literature positive level 150: at least borderline; past the lab's own
    # cutoff it is positive (Phe/Tyr supports)
    assert calls["first_tier"].tolist() == ["normal", "borderline", "positive"]


def test_strata_definitions(tmp_path):
    strata = default_strata()
    assert [d.name for d in strata.dimensions] == [
        "tpn", "birth_weight", "gestational_age", "age_at_collection"]
    keys = list(strata.keys())
    assert keys[-1] == OVERALL and len(keys) == len(set(keys))
    for key in keys:
        assert strata.key(*strata.parse_key(key)) == key
    values = np.array([np.nan, 1499.0, 1500.0, 2499.9, 2500.0])
    assert strata.dimensions[1].codes(values).tolist() == [-1, 0, 1, 1, 2]
    bad = tmp_path / "strata.toml"
    bad.write_text('[[dimension]]\nname = "bw"\ncolumn = "birth_weight_g"\n'
                   'bins = [{ label = "a", lower = 10.0, upper = 5.0 }]\n', encoding="utf-8")
    with pytest.raises(CutoffError) as info:
        load_strata(bad)
    assert info.value.field == "dimension[0].bins[0]"


LITERATURE = """
format = "nbs-cutoff-table/1"
kind = "literature"
version = "lit-bw-1"

[strata]
max_depth = 1

[[strata.dimension]]
name = "birth_weight"
column = "birth_weight_g"
bins = [{ label = "<2500", upper = 2500.0 }, { label = ">=2500", lower = 2500.0 }]

[[cutoff]]
marker = "Phe"
stratum = "birth_weight=<2500"
upper = 140.0
source = "a birth-weight-specific cutoff (cited here)"

[[cutoff]]
marker = "Phe"
stratum = "all"
upper = 110.0
source = "the overall cutoff (cited here)"
"""


def test_a_literature_table_with_strata(tmp_path):
    path = tmp_path / "literature.toml"
    path.write_text(LITERATURE, encoding="utf-8")
    table = read_cutoff_table(path)
    assert table.kind == "literature" and table.entry("Phe").source
    assert math.isnan(table.entry("Phe").median) and table.entry("Phe").quantiles == ()
    frame = profiles({"Phe": 120.0}, {"Phe": 120.0}, {"Phe": 120.0})
    frame["birth_weight_g"] = [2000.0, 3000.0, np.nan]
    calls = evaluate(frame, RULES.subset(["PKU"]), table, include_normal=True)
    assert calls["first_tier"].tolist() == ["normal", "borderline", "borderline"]
    assert calls["cutoff_version"].iloc[0].endswith("+lit-bw-1")
    # written back, it reads the same
    again = read_cutoff_table(write_cutoff_table(table, tmp_path / "again.toml"))
    assert again.entries == table.entries and again.kind == "literature"
    unsourced = tmp_path / "unsourced.toml"
    unsourced.write_text(LITERATURE.replace('source = "the overall cutoff (cited here)"\n', ""),
                         encoding="utf-8")
    with pytest.raises(CutoffError, match="cite its source") as info:
        read_cutoff_table(unsourced)
    assert info.value.field == "cutoff[1].source"
