"""Ratio names, the ratio catalogue and vectorised ratio computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msms.catalogue import default_catalogue
from msms.errors import DataError
from msms.ratios import (
    REASON_COLUMNS,
    RatioError,
    compute_ratios,
    format_ratio_name,
    get_ratio,
    load_ratios,
    parse_ratio,
    ratio_catalogue,
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


def test_compute_ratios_values_and_reasons():
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
    ratios, reasons = compute_ratios(profiles, ["C8/C10", "(C16+C18:1)/C2", "C14:1/C16"])
    assert list(ratios.columns) == ["C8/C10", "(C16+C18:1)/C2", "C14:1/C16"]
    assert list(ratios.index) == [10, 11, 12, 13, 14]
    assert ratios.loc[10, "C8/C10"] == pytest.approx(5.0)
    assert ratios["(C16+C18:1)/C2"].tolist()[0] == pytest.approx(0.15)
    assert not np.isinf(ratios.to_numpy()).any()
    assert list(reasons.columns) == list(REASON_COLUMNS)
    got = {(r.specimen_id, r.ratio): r.reason for r in reasons.itertuples()}
    assert got[("b", "C8/C10")] == "denominator C10 is 0"
    assert got[("c", "C8/C10")] == "C8 missing"
    assert got[("d", "C8/C10")] == "C8=-1 negative"
    assert got[("e", "C8/C10")] == "C10=inf not finite"
    assert got[("b", "(C16+C18:1)/C2")] == "denominator C2 is 0"
    assert got[("a", "C14:1/C16")] == "C14:1 not measured"
    assert len(reasons) == 4 + 1 + 5
    # every undefined value has exactly one reason
    assert int(ratios.isna().sum().sum()) == len(reasons)


def test_compute_all_catalogue_ratios_by_default():
    codes = default_catalogue().codes
    profiles = pd.DataFrame({c: [1.0, 2.0] for c in codes})
    ratios, reasons = compute_ratios(profiles)
    assert list(ratios.columns) == [r.name for r in ratio_catalogue()]
    assert reasons.empty
    assert ratios["(C16+C18:1)/C2"].tolist() == [2.0, 2.0]
    assert ratios["C0/(C16+C18)"].tolist() == [0.5, 0.5]


def test_non_numeric_column_is_a_data_error():
    profiles = pd.DataFrame({"C8": ["0.5", "high"], "C10": [0.1, 0.1]})
    with pytest.raises(DataError) as info:
        compute_ratios(profiles, ["C8/C10"])
    assert info.value.field == "C8"


def test_overflowing_quotient_is_missing_with_a_reason():
    profiles = pd.DataFrame({"C8": [1e300], "C10": [1e-300]})
    ratios, reasons = compute_ratios(profiles, ["C8/C10"])
    assert math.isnan(ratios.iloc[0, 0])
    assert reasons.iloc[0]["reason"] == "quotient beyond the floating-point range"


finite = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e6))
NAMES = ["(C16+C18:1)/C2", "C8/C2", "C2/(C8+C16)"]


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(st.tuples(finite, finite, finite, finite), min_size=1, max_size=20),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_ratios_are_invariant_to_a_common_scale(values, scale):
    frame = pd.DataFrame(values, columns=["C16", "C18:1", "C2", "C8"])
    base, base_reasons = compute_ratios(frame, NAMES)
    scaled, scaled_reasons = compute_ratios(frame * scale, NAMES)
    a, b = base.to_numpy(), scaled.to_numpy()
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert base_reasons["reason"].tolist() == scaled_reasons["reason"].tolist()
    defined = ~np.isnan(a)
    np.testing.assert_allclose(a[defined], b[defined], rtol=1e-12)
    assert not np.isinf(b).any()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=2, max_size=2))
def test_any_float_input_gives_a_value_or_a_reason(pair):
    frame = pd.DataFrame([pair], columns=["C8", "C10"])
    ratios, reasons = compute_ratios(frame, ["C8/C10"])
    value = ratios.iloc[0, 0]
    assert (np.isfinite(value) and reasons.empty) or (np.isnan(value) and len(reasons) == 1)
