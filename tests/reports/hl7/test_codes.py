"""The code tables: complete for the catalogues, and a malformed table named by file, line and
column; the encoding rules' timestamps and splitting."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone

import pytest

from msms.catalogue import default_catalogue
from msms.ratios import ratio_catalogue
from reports.hl7.codes import DATA_DIR, REQUIRED_CONCEPTS, default_codes, load_codes
from reports.hl7.er7 import format_dtm, parse_dtm, split_message, unescape
from reports.hl7.errors import CodeTableError


def test_every_catalogue_analyte_ratio_and_disorder_has_its_codes() -> None:
    codes = default_codes()
    assert set(codes.analytes) == {a.code for a in default_catalogue().analytes}
    assert set(codes.ratios) == {r.name for r in ratio_catalogue()}
    assert set(codes.disorders) == {d.code for d in default_catalogue().disorders}
    assert set(codes.concepts) >= REQUIRED_CONCEPTS
    local = [c for c, m in codes.analytes.items() if m.coded.system == "L"]
    assert sorted(local) == ["Ado", "C24:0-LPC", "dAdo"]
    assert codes.disorders["MCAD"].answer.code == "LA12509-8"
    assert codes.disorders["NKH"].answer.system == "L"


@pytest.mark.parametrize(("name", "old", "new", "line", "column"), [
    ("analytes.csv", "Phe,29573-3", "Phe,29573", 9, "loinc"),
    ("analytes.csv", "C8,53175-6,Octanoylcarnitine (C8) [Moles/volume] in Dried blood spot,"
     "acylcarnitine", "C8,53175-6,Octanoylcarnitine (C8) [Moles/volume] in Dried blood spot,"
     "lipids", 25, "panel"),
    ("ratios.csv", "Met/Phe,", "Met/Leu,", 6, "ratio"),
    ("concepts.csv", "unit.hour,h,hour,UCUM,", "unit.week,h,hour,UCUM,", 57, "concept"),
    ("concepts.csv", "unit.hour,h,hour,UCUM,UCUM https://ucum.org/ucum (h = hour)",
     "unit.hour,h,hour,UCUM,", 57, "source"),
])
def test_a_malformed_table_is_named_by_file_line_and_column(tmp_path, name, old, new, line,
                                                            column) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CodeTableError) as caught:
        load_codes(data)
    assert (caught.value.file, caught.value.line, caught.value.field) == (str(path), line, column)


def test_a_table_without_a_row_for_an_analyte_is_refused(tmp_path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    path = data / "analytes.csv"
    path.write_text("".join(line for line in path.read_text(encoding="utf-8").splitlines(True)
                            if not line.startswith("C10,")), encoding="utf-8")
    with pytest.raises(CodeTableError, match="no row for C10"):
        load_codes(data)


def test_timestamps() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert format_dtm(datetime(2024, 1, 2, 3, 4, 5, tzinfo=shanghai)) == "20240102030405+0800"
    with pytest.raises(ValueError, match="no time zone"):
        format_dtm(datetime(2024, 1, 2))
    assert parse_dtm("2024") == datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_dtm("202401021530-0500") == datetime(
        2024, 1, 2, 15, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_dtm("20240102153001.25", shanghai).microsecond == 250000
    for bad in ("2024-01-02", "20241302", "202401021530+2500", ""):
        with pytest.raises(ValueError):
            parse_dtm(bad)


def test_splitting_and_unescaping() -> None:
    encoding, segments = split_message("MSH|^~\\&|A\r\nPID|1||x~y\nOBX|1\rOBX|2\r")
    assert [(s.name, s.occurrence) for s in segments] == [
        ("MSH", 1), ("PID", 1), ("OBX", 1), ("OBX", 2)]
    assert segments[0].field(2) == "^~\\&" and segments[0].field(3) == "A"
    assert segments[1].field(3) == "x~y" and segments[1].field(30) == ""
    assert unescape("a\\X0D0A\\b\\.br\\c\\H\\d\\N\\\\Z\\") == "a\r\nb\ncd\\Z\\"
    for bad in ("", "PID|1", "MSH|^^\\&|"):
        with pytest.raises(ValueError):
            split_message(bad)
