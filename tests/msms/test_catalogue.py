"""The reference catalogues: loading, validation and alias resolution."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from msms.catalogue import (
    ANALYTES_CSV,
    DISORDERS_CSV,
    default_catalogue,
    load_catalogue,
    resolve,
)
from msms.errors import CatalogueError, UnknownAnalyteError

# The analyte codes of California's program data (RUSP_RF input layout).
CALIFORNIA_CODES = [
    "GLY", "ALA", "VAL", "XLE", "MET", "PHE", "TYR", "ORN", "CIT", "ARG", "C00", "C02", "C03",
    "C04", "C05", "C051", "C05OH", "C05DC", "C06", "C08", "C081", "C10", "C101", "C102", "C12",
    "C121", "C14", "C141", "C142", "C14OH", "C16", "C161", "C16OH", "C161OH", "C18", "C181",
    "C182", "C18OH", "C181OH",
]


def test_packaged_catalogues_have_48_analytes_and_46_disorders() -> None:
    catalogue = default_catalogue()
    assert len(catalogue.analytes) == 48
    assert len(catalogue.disorders) == 46
    assert len(set(catalogue.codes)) == 48


def test_documented_resolutions() -> None:
    assert resolve("C05DC") == "C5DC+C6OH"
    assert resolve("PHE") == "Phe"
    assert resolve("Leu+Ile") == "Xle"
    assert resolve(" c8 ") == "C8"


@pytest.mark.parametrize("code", CALIFORNIA_CODES)
def test_every_california_code_resolves(code: str) -> None:
    resolved = resolve(code)
    assert resolved in default_catalogue().codes


def test_every_alias_and_code_resolves_to_its_own_analyte() -> None:
    for analyte in default_catalogue().analytes:
        assert resolve(analyte.code) == analyte.code
        for alias in analyte.aliases:
            assert resolve(alias) == analyte.code


def test_unknown_name_suggests_close_matches() -> None:
    with pytest.raises(UnknownAnalyteError) as info:
        resolve("C8:2")
    assert "C8:1" in info.value.suggestions
    assert "did you mean" in str(info.value)


@given(st.text(max_size=20))
def test_resolve_never_crashes(name: str) -> None:
    try:
        assert resolve(name) in default_catalogue().codes
    except UnknownAnalyteError as exc:
        assert exc.name == name


def test_sources_are_kept() -> None:
    catalogue = default_catalogue()
    assert all(a.pop_provenance for a in catalogue.analytes)
    pku = catalogue.disorder("PKU")
    assert "Heidelberg" in pku.cutoff_source
    assert catalogue.disorder("MCAD").time_critical is True
    assert catalogue.disorder("PKU").time_critical is False
    assert catalogue.disorder("H-PHE").time_critical is None


def test_transitions_come_from_the_catalogue() -> None:
    c8 = default_catalogue().analyte("C8")
    assert c8.transition() == pytest.approx((288.217, 85.028))
    assert default_catalogue().analyte("C26:0-LPC").transition(butylated=True) is None


def _rewrite(src: Path, dest: Path, line: int, field: str, value: str) -> None:
    rows = list(csv.DictReader(io.StringIO(src.read_text(encoding="utf-8"))))
    rows[line - 2][field] = value
    with dest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pop_median_umol_l", "abc", "'abc' is not a number"),
        ("pop_p99_umol_l", "1", "p1 <= median <= p99"),
        ("code", "", "is empty"),
        ("class", "peptide", "is not one of"),
        ("aliases", "Glycine|ALA", "'ALA' already names Ala (line 2)"),
        ("nonderiv_precursor_mz", "n/a", "holds no m/z value"),
    ],
)
def test_malformed_analyte_row_names_file_line_and_field(
    tmp_path: Path, field: str, value: str, message: str
) -> None:
    bad = tmp_path / "analytes.csv"
    _rewrite(ANALYTES_CSV, bad, 5, field, value)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(bad, DISORDERS_CSV)
    text = str(info.value)
    assert f"{bad}:5" in text
    assert message in text
    if field != "pop_p99_umol_l":
        assert f"field '{field}'" in text


def test_duplicate_disorder_code_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "disorders.csv"
    _rewrite(DISORDERS_CSV, bad, 3, "code", "PKU")
    with pytest.raises(CatalogueError, match=r"disorders.csv:3, field 'code': duplicate code"):
        load_catalogue(ANALYTES_CSV, bad)


def test_short_row_and_missing_column(tmp_path: Path) -> None:
    lines = ANALYTES_CSV.read_text(encoding="utf-8").splitlines()
    short = tmp_path / "short.csv"
    short.write_text("\n".join([*lines[:3], "Zzz,Zed"]) + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"short.csv:4: has 2 fields"):
        load_catalogue(short, DISORDERS_CSV)
    nocol = tmp_path / "nocol.csv"
    nocol.write_text(lines[0].replace("aliases", "alias") + "\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"nocol.csv:1, field 'aliases'"):
        load_catalogue(nocol, DISORDERS_CSV)
