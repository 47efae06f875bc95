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
    DISORDER_CATEGORIES,
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


def test_packaged_disorders_pass_the_checks_they_are_held_to() -> None:
    catalogue = default_catalogue()
    packaged = list(csv.DictReader(io.StringIO(DISORDERS_CSV.read_text(encoding="utf-8"))))
    assert {row["category"] for row in packaged} == DISORDER_CATEGORIES
    assert {d.category for d in catalogue.disorders} == DISORDER_CATEGORIES
    answers = [d.loinc_answer for d in catalogue.disorders if d.loinc_answer]
    assert len(answers) == 42 and len(set(answers)) == 42
    assert catalogue.disorder("PKU").loinc_answer == "LA12520-5"
    assert catalogue.disorder("XALD").time_critical is False  # "No (not time-critical; ...)"
    assert catalogue.disorder("ADA").time_critical is None  # empty
    assert sum(d.time_critical is True for d in catalogue.disorders) == 14  # the "Yes" rows


# (line, field, value, message): line 2 is PKU (time_critical No), 3 is H-PHE (n/a),
# 5 MSUD, 28 GA1, 31 MCAD.
MALFORMED_DISORDERS = [
    (2, "time_critical", "maybe", "'maybe' is not Yes, No or n/a"),
    (2, "time_critical", "Nope", "'Nope' is not Yes, No or n/a"),
    (2, "time_critical", "yes, probably", "is not Yes, No or n/a"),
    (2, "time_critical_source", "", "is empty, but time_critical says 'No'"),
    (2, "category", "metabolic", "'metabolic' is not one of acquired, amino_acid"),
    (2, "category", "Amino_acid", "is not one of"),
    (2, "category", "", "is empty"),
    (5, "loinc_answer", "LA21168", "'LA21168' is not a LOINC answer code"),
    (5, "loinc_answer", "21168-2", "is not a LOINC answer code"),
    (5, "loinc_answer", "LA211680-2", "is not a LOINC answer code"),
    (5, "loinc_answer", "la21168-2", "is not a LOINC answer code"),
    (5, "loinc_answer", "LA12520-5", "duplicate loinc_answer 'LA12520-5' (first on line 2)"),
    (5, "code", "msud", "'msud' is not a disorder code"),
    (5, "code", "MSUD 1", "is not a disorder code"),
    (5, "name", "Phenylketonuria (PAH deficiency)", "duplicate name"),
    (5, "name", " ", "is empty"),
    (5, "primary_markers", "", "is empty"),
    (5, "primary_markers", "Xle (Leu+Ile) high; Val", "marker 'Val' says neither"),
    (31, "primary_markers", "C9 high", "'C9' names no analyte of the analyte catalogue"),
    (31, "secondary_markers_ratios", "C8/C11 high", "'C11' names no analyte"),
    (28, "primary_markers", "C5DX high", "'C5DX' names no analyte"),
    (5, "typical_cutoffs", "", "is empty"),
    (5, "rusp_status", "", "is empty"),
    (5, "confirmatory_tests", "", "is empty"),
]


@pytest.mark.parametrize(("line", "field", "value", "message"), MALFORMED_DISORDERS)
def test_malformed_disorder_row_names_file_line_and_field(
    tmp_path: Path, line: int, field: str, value: str, message: str
) -> None:
    bad = tmp_path / "disorders.csv"
    _rewrite(DISORDERS_CSV, bad, line, field, value)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(ANALYTES_CSV, bad)
    text = str(info.value)
    assert text.startswith(f"{bad}:{line}, field '{field}': "), text
    assert message in text


def test_every_disorder_field_is_checked() -> None:
    """Each field with a rule has a malformed example above; the rest are free text."""
    free_text = {"secondary_markers_ratios", "cutoff_source", "birth_prevalence",
                 "prevalence_source", "prevalence_china", "prevalence_china_source", "notes"}
    header = DISORDERS_CSV.read_text(encoding="utf-8").splitlines()[0].split(",")
    tested = {field for _, field, _, _ in MALFORMED_DISORDERS}
    assert set(header) - tested <= free_text


def test_disorder_markers_must_be_in_the_analyte_catalogue(tmp_path: Path) -> None:
    """A laboratory's analyte catalogue without C10:2 cannot be paired with a disorder
    catalogue that screens DERED by C10:2."""
    lines = ANALYTES_CSV.read_text(encoding="utf-8").splitlines()
    without = tmp_path / "analytes.csv"
    without.write_text("\n".join(x for x in lines if not x.startswith("C10:2,")) + "\n",
                       encoding="utf-8")
    dered = next(i for i, x in enumerate(DISORDERS_CSV.read_text(encoding="utf-8").splitlines(),
                                         start=1) if x.startswith("DERED,"))
    with pytest.raises(CatalogueError) as info:
        load_catalogue(without, DISORDERS_CSV)
    assert str(info.value).startswith(f"{DISORDERS_CSV}:{dered}, field 'primary_markers': "
                                      "'C10:2' names no analyte")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [("time_critical", "YES", True), ("time_critical", "no (adrenal surveillance)", False),
     ("time_critical", "N/A", None), ("loinc_answer", "LA33-6", "LA33-6"),
     ("primary_markers", "C4OH high", "C4OH high"),  # measured as C3DC+C4OH
     ("primary_markers", "C5-DC high", "C5-DC high")],  # an alias
)
def test_well_formed_disorder_variants_load(tmp_path: Path, field: str, value: str,
                                           expected: object) -> None:
    good = tmp_path / "disorders.csv"
    _rewrite(DISORDERS_CSV, good, 2, field, value)
    assert getattr(load_catalogue(ANALYTES_CSV, good).disorder("PKU"), field) == expected


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
