"""Ratio names, the ratio catalogue and vectorised ratio computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msms.catalogue import default_catalogue
from msms.ratios import (
    OK,
    RatioError,
    format_ratio_name,
    get_ratio,
    load_ratios,
    parse_ratio,
    ratio_catalogue,
    ratio_values_from_arrays,
    undefined_reasons,
)

REQUIRED = [
    "Phe/Tyr", "Xle/Phe", "Xle/Ala", "Met/Phe", "Cit/Arg", "Orn/Cit", "C0/(C16+C18)",
    "(C16+C18:1)/C2", "C3/C2", "C3/C16", "C3/Met", "C4/C2", "C5/C2", "C5/C3", "C5/C0",
    "C5OH/C8", "C5DC/C8", "C5DC/C16", "C8/C10", "C8/C2", "C10:2/C10", "C14:1/C16",
    "C14:1/C12:1", "C14:1/C2", "C16OH/C16",
]


def test_catalogue_holds_the_required_ratios_with_disorders_and_sources():
    catalogue = ratio_catalogue()
    assert len(catalogue) >= 25
    names = {r.name for r in catalogue}
    for name in REQUIRED:
        assert parse_ratio(name).name in names, name
    disorder_codes = {d.code for d in default_catalogue().disorders}
    for ratio in catalogue:
        assert ratio.disorders and set(ratio.disorders) <= disorder_codes
        assert ratio.source
        assert set(ratio.analytes) <= set(default_catalogue().codes)


@pytest.mark.parametrize(
    ("name", "canonical", "numerator", "denominator"),
    [
        ("C5DC/C8", "C5DC+C6OH/C8", ("C5DC+C6OH",), ("C8",)),
        ("C5DC+C6OH/C8", "C5DC+C6OH/C8", ("C5DC+C6OH",), ("C8",)),
        ("C05DC/C08", "C5DC+C6OH/C8", ("C5DC+C6OH",), ("C8",)),
        ("(C16+C18:1)/C2", "(C16+C18:1)/C2", ("C16", "C18:1"), ("C2",)),
        ("C16 + C18:1 / C2", "(C16+C18:1)/C2", ("C16", "C18:1"), ("C2",)),
        ("C0/(C16+C18)", "C0/(C16+C18)", ("C0",), ("C16", "C18")),
        ("C5DC/(C8+C10)", "C5DC+C6OH/(C8+C10)", ("C5DC+C6OH",), ("C8", "C10")),
        ("C4/C5DC", "C4/C5DC+C6OH", ("C4",), ("C5DC+C6OH",)),
        ("C5OH/C8", "C5OH+C4DC/C8", ("C5OH+C4DC",), ("C8",)),
        ("(C5DC+C6OH+C8)/C10", "(C5DC+C6OH+C8)/C10", ("C5DC+C6OH", "C8"), ("C10",)),
        ("Leu/Ala", "Xle/Ala", ("Xle",), ("Ala",)),
        ("Leu/Ile/Ala", "Xle/Ala", ("Xle",), ("Ala",)),  # "Leu/Ile" is an alias of Xle
        ("phe/tyr", "Phe/Tyr", ("Phe",), ("Tyr",)),
    ],
)
def test_names_resolve_through_the_catalogue(name, canonical, numerator, denominator):
    ratio = parse_ratio(name)
    assert (ratio.name, ratio.numerator, ratio.denominator) == (canonical, numerator, denominator)
    assert parse_ratio(ratio.name) == ratio  # canonical names parse to themselves


@pytest.mark.parametrize(
    "name", ["Phe", "Phe/Nope", "/Tyr", "Phe/", "C8/C8", "(C16+C16)/C2", "(C8/C10", "C8//C10"]
)
def test_bad_names_are_rejected(name):
    with pytest.raises(RatioError):
        parse_ratio(name)


def test_format_ratio_name():
    assert format_ratio_name(["C16", "C18:1"], ["C2"]) == "(C16+C18:1)/C2"
    assert format_ratio_name(["C5DC+C6OH"], ["C8", "C10"]) == "C5DC+C6OH/(C8+C10)"
    with pytest.raises(RatioError):
        format_ratio_name([], ["C2"])


def test_get_ratio_returns_the_catalogue_entry():
    assert get_ratio("C05DC/C08").disorders == ("GA1",)
    assert get_ratio("C18/C16").disorders == ()  # not catalogued, still computable


def _write(tmp_path, rows: str):
    path = tmp_path / "ratios.csv"
    path.write_text("name,numerator,denominator,disorders,source\n" + rows, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("C8/C10,C8,C12,MCAD,x\n", "name"),  # name and columns disagree
        ("C8/C10,C8,C10,NOPE,x\n", "disorders"),
        ("C8/C10,C08,C10,MCAD,x\n", "numerator"),  # columns hold canonical codes only
        ("C08/C10,C8,C10,MCAD,x\n", "name"),  # names are written canonically
        ("C8/C10,C8,C10,MCAD,\n", "source"),
        ("C8/C10,C8,C10,MCAD,x\nC8/C10,C8,C10,MCAD,y\n", "name"),
    ],
)
def test_loader_names_file_line_and_field(tmp_path, row, field):
    path = _write(tmp_path, row)
    with pytest.raises(RatioError) as info:
        load_ratios(path)
    assert info.value.file == str(path)
    assert info.value.line is not None and info.value.line >= 2
    assert info.value.field == field


def _ratios(frame: pd.DataFrame, names: list[str] | None = None
            ) -> tuple[pd.DataFrame, dict[tuple[int, str], str]]:
    """Each ratio's values over ``frame`` (as the evaluation's marker table computes them) and
    the reason of every undefined value, by (row position, ratio)."""
    ratios = ratio_catalogue() if names is None else tuple(get_ratio(n) for n in names)
    columns = {c: frame[c].to_numpy(dtype=float) for c in frame.columns if c != "specimen_id"}
    values, reasons = {}, {}
    for ratio in ratios:
        values[ratio.name], status = ratio_values_from_arrays(ratio, columns, len(frame))
        bad = np.flatnonzero(status != OK)
        for row, reason in zip(bad, undefined_reasons(ratio, bad, columns), strict=True):
            reasons[(int(row), ratio.name)] = reason
    return pd.DataFrame(values, index=frame.index), reasons


def test_ratio_values_and_reasons():
    profiles = pd.DataFrame(
        {
            "specimen_id": ["a", "b", "c", "d", "e"],
            "C8": [0.5, 0.1, np.nan, -1.0, 0.2],
            "C10": [0.1, 0.0, 0.1, 0.2, np.inf],
            "C16": [2.0, 2.0, 2.0, 2.0, 2.0],
            "C18:1": [1.0, 1.0, 1.0, 1.0, 1.0],
            "C2": [20.0, 0.0, 10.0, 10.0, 10.0],
        },
        index=[10, 11, 12, 13, 14],
    )
    ratios, got = _ratios(profiles, ["C8/C10", "(C16+C18:1)/C2", "C14:1/C16"])
    assert list(ratios.columns) == ["C8/C10", "(C16+C18:1)/C2", "C14:1/C16"]
    assert ratios.loc[10, "C8/C10"] == pytest.approx(5.0)
    assert ratios["(C16+C18:1)/C2"].tolist()[0] == pytest.approx(0.15)
    assert not np.isinf(ratios.to_numpy()).any()
    assert got[(1, "C8/C10")] == "denominator C10 is 0"
    assert got[(2, "C8/C10")] == "C8 missing"
    assert got[(3, "C8/C10")] == "C8=-1 negative"
    assert got[(4, "C8/C10")] == "C10=inf not finite"
    assert got[(1, "(C16+C18:1)/C2")] == "denominator C2 is 0"
    assert got[(0, "C14:1/C16")] == "C14:1 not measured"
    assert len(got) == 4 + 1 + 5
    # every undefined value has exactly one reason
    assert int(ratios.isna().sum().sum()) == len(got)


def test_every_catalogue_ratio_is_defined_on_whole_profiles():
    codes = default_catalogue().codes
    profiles = pd.DataFrame({c: [1.0, 2.0] for c in codes})
    ratios, reasons = _ratios(profiles)
    assert list(ratios.columns) == [r.name for r in ratio_catalogue()]
    assert not reasons
    assert ratios["(C16+C18:1)/C2"].tolist() == [2.0, 2.0]
    assert ratios["C0/(C16+C18)"].tolist() == [0.5, 0.5]


def test_overflowing_quotient_is_missing_with_a_reason():
    profiles = pd.DataFrame({"C8": [1e300], "C10": [1e-300]})
    ratios, reasons = _ratios(profiles, ["C8/C10"])
    assert math.isnan(ratios.iloc[0, 0])
    assert reasons[(0, "C8/C10")] == "quotient beyond the floating-point range"


finite = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e6))
NAMES = ["(C16+C18:1)/C2", "C8/C2", "C2/(C8+C16)"]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.tuples(finite, finite, finite, finite), min_size=1, max_size=20),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_ratios_are_invariant_to_a_common_scale(values, scale):
    frame = pd.DataFrame(values, columns=["C16", "C18:1", "C2", "C8"])
    base, base_reasons = _ratios(frame, NAMES)
    scaled, scaled_reasons = _ratios(frame * scale, NAMES)
    a, b = base.to_numpy(), scaled.to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert base_reasons == scaled_reasons
    defined = ~np.isnan(a)
    np.testing.assert_allclose(a[defined], b[defined], rtol=1e-12)
    assert not np.isinf(b).any()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=2))
def test_any_float_input_gives_a_value_or_a_reason(pair):
    frame = pd.DataFrame([pair], columns=["C8", "C10"])
    ratios, reasons = _ratios(frame, ["C8/C10"])
    value = ratios.iloc[0, 0]
    assert (np.isfinite(value) and not reasons) or (np.isnan(value) and len(reasons) == 1)
