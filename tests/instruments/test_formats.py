"""Registry, detection, writers' round trips, delimited profiles, plate maps, validation, and
arbitrary bytes (hypothesis): a typed error, never a crash or a partial result."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import instruments
from instruments import quandata
from instruments.errors import InstrumentError, PlateMapError, ProfileError, ValidationError
from instruments.formats import specs
from instruments.platemap import PlateMapEntry, write_plate_map
from instruments.profiles import packaged_profiles
from instruments.raw import parse_number
from instruments.run import PlateRun
from instruments.wells import format_well, parse_well
from tests.instruments.builders import in_order, plate_run
from tests.instruments.conftest import FIXTURES

HEADER = "Plate,Well,Sample ID,Sample Type,Phe,Tyr,C8\n"
CONTROLS = ("P1,A1,B1,blank,1.0,2.0,0.1\nP1,A2,QL1,qc_low,50,60,0.2\n"
            "P1,A3,QH1,qc_high,500,300,2.0\n")


def _same_measurements(a: PlateRun, b: PlateRun, rtol: float = 1e-9) -> bool:
    """Both runs hold the same measurements (values within ``rtol``), ignoring row order,
    ``run_id``, ``source_file`` and ``source_row``."""
    keys = ["plate_id", "well", "sample_id", "sample_type", "analyte", "unit", "kind"]
    x = a.measurements.sort_values(keys).reset_index(drop=True)
    y = b.measurements.sort_values(keys).reset_index(drop=True)
    return len(x) == len(y) and x[keys].equals(y[keys]) and bool(np.allclose(
        x["value"].to_numpy(), y["value"].to_numpy(), rtol=rtol, atol=0.0, equal_nan=True))


@pytest.fixture(scope="module")
def run():
    return plate_run(seed=3, n_wells=24)


def test_every_registered_format_reads_writes_and_renders_a_plate():
    names = instruments.formats()
    assert names[-1] == "delimited"  # the catch-all for text tables is asked last
    for spec in specs():
        assert spec.write is not None and spec.renderings, spec.name
        assert spec.default_profile in packaged_profiles(), spec.name


#: every rendering of every registered format, and MassLynx in Windows-1252
RENDERINGS = [(spec.name, r.suffix, dict(r.options)) for spec in specs() for r in spec.renderings]


@pytest.mark.parametrize("fmt,suffix,options",
                         [*RENDERINGS, ("masslynx", ".txt", {"encoding": "cp1252"})])
def test_writer_output_reads_back_identically(run, tmp_path, fmt, suffix, options):
    path = tmp_path / f"plate{suffix}"
    instruments.write(run, path, format=fmt, **options)
    assert instruments.detect(path) == fmt
    back = instruments.read(path, profile=options.get("profile"))
    assert back.format == fmt
    # values are written with full precision: equal within 1e-12 relative
    assert _same_measurements(back, run, rtol=1e-12)


def test_mzml_plate_as_a_directory(run, tmp_path):
    instruments.write(run, tmp_path / "plate", format="mzml")
    assert (tmp_path / "plate" / "samples.csv").exists()
    back = instruments.read(tmp_path / "plate")
    assert _same_measurements(back, run, rtol=1e-12)
    assert len({r for r in back.measurements["source_file"]}) == 24


def test_quandata_fixture():
    raw = quandata.parse(FIXTURES / "masslynx" / "quandata.xml")
    assert in_order(raw, "compound") == ["CAT", "EC", "PLZ", "CAT_MS", "EC_MS", "PLZ_MS"]
    assert in_order(raw, "position") == ["1:A,2"]
    assert in_order(raw, "sample_name") == ["130522_Std290920_96_Inj01"]
    areas = {r.compound: r.value for r in raw.records if r.kind == "area"}
    assert areas["CAT"] == 1728.543 and areas["PLZ_MS"] == 979674.938
    heights = {r.compound: r.value for r in raw.records if r.kind == "height"}
    assert heights["EC"] == 23360.0
    assert [r.source_row for r in raw.records if r.kind == "area"] == [1, 2, 3, 4, 5, 6]
    assert any("not calculated" in i.message for i in raw.issues)  # analconc all 0
    with pytest.raises(ValidationError, match="unmapped analyte 'CAT'"):
        instruments.read(FIXTURES / "masslynx" / "quandata.xml")


def test_rusp_rf_layout():
    text = ("id,GLY,ALA,PRO,VAL,XLE,PHE,TYR,C0,C02,C03,C05DC,C14OH,FC\n"
            "S1,713,522,234,135.4,150.6,80.3,92,49,78.1,2.6,0.5,0.05,50\n"
            "S2,973,1095,928,895.2,2069.3,411.2,58.1,23.7,21,1.5,0.61,0.01,23.7\n")
    with pytest.raises(ValidationError, match="C0 concentration for well A01 given twice"):
        instruments.read(text.encode(), profile="rusp_rf", name="rusp.csv")
    text = text.replace(",FC\n", "\n").replace(",50\n", "\n").replace(",23.7\n", "\n")
    run = instruments.read(text.encode(), profile="rusp_rf", name="rusp.csv")
    m = run.measurements
    s2 = m[m["sample_id"] == "S2"]
    assert set(s2["well"]) == {"A02"}  # placed by row order
    assert s2.set_index("analyte").loc["C5DC+C6OH", "value"] == 0.61
    assert s2.set_index("analyte").loc["Xle", "value"] == 2069.3
    assert set(m["unit"]) == {"umol/L"} and set(m["kind"]) == {"concentration"}


def test_decimal_comma_semicolons_censored_and_numbered_wells(tmp_path):
    profile = tmp_path / "lab.toml"
    profile.write_text("""
[profile]
name = "lab"
format = "delimited"
[file]
decimal = ","
[columns]
well = "Pos"
sample_id = "Barcode"
sample_type = "Typ"
[values]
censored = "half-limit"
[wells]
format = "column-major"
[sample_types]
"Probe" = "patient"
"Leer" = "blank"
"KL" = "qc_low"
"KH" = "qc_high"
""", encoding="utf-8")
    data = ("Pos;Barcode;Typ;Phe;Tyr\n1;B1;Leer;<0,2;0,1\n2;K1;KL;50,5;60\n"
            "3;K2;KH;500;300,25\n9;N1;Probe;88,75;NA\n").encode("cp1252")
    run = instruments.read(data, profile=profile, name="lab.csv")
    m = run.measurements.set_index(["sample_id", "analyte"])["value"]
    assert m[("B1", "Phe")] == 0.1 and m[("K2", "Tyr")] == 300.25
    assert math.isnan(m[("N1", "Tyr")])
    wells = dict(zip(run.measurements["sample_id"], run.measurements["well"], strict=True))
    assert wells["K1"] == "B01" and wells["N1"] == "A02"  # numbered down the columns
    assert sum("censored" in i.message for i in run.issues) == 1


@pytest.mark.parametrize("body,message,line,field", [
    (HEADER + CONTROLS + "P1,A4,N1,patient,abc,1,1\n", "'abc' is not a number", 5, "Phe"),
    (HEADER + CONTROLS + "P1,A3,N1,patient,1,1,1\n", "well A03 holds two samples", 5, "well"),
    (HEADER + CONTROLS + "P1,I1,N1,patient,1,1,1\n", "outside a 96-well plate", 5, "well"),
    (HEADER.replace("C8", "XYZ") + CONTROLS, "unmapped analyte 'XYZ'", 2, "XYZ"),
    (HEADER + CONTROLS + "P1,A4,N1,patient,1,1\n", "has 6 fields", 5, None),
])
def test_validation_errors_name_line_and_field(body, message, line, field):
    with pytest.raises(ValidationError) as info:
        instruments.read(body.encode(), name="plate.csv")
    error = next(i for i in info.value.issues if i.severity == "error")
    assert message in error.message
    assert (error.file, error.line, error.field) == ("plate.csv", line, field)


def test_a_plate_without_a_blank_is_read_with_a_warning_for_plate_qc():
    run = instruments.read((HEADER + CONTROLS.replace("blank", "patient")).encode(),
                           name="plate.csv")
    [warning] = [i for i in run.issues if "no blank" in i.message]
    assert (warning.severity, warning.field) == ("warning", "sample_type")
    assert "plate QC judges it" in warning.message


def test_plate_map_fills_barcodes_and_types(tmp_path):
    body = "Well,Sample ID,Phe\nA1,,1\nA2,,50\nA3,,500\nA4,,80\n"
    plate_map = tmp_path / "map.csv"
    plate_map.write_text("well,barcode,sample_type,plate_id\nA01,B-1,blank,P9\n"
                         "A02,QL-1,qc_low,P9\nA03,QH-1,qc_high,P9\nA04,NB123,patient,P9\n",
                         encoding="utf-8")
    # the export has an id column but no barcodes: the plate map's barcodes and types fill it
    run = instruments.read(body.encode(), name="x.csv", plate_map=plate_map)
    samples = run.samples.set_index("well")
    assert samples.loc["A04", "sample_id"] == "NB123" and run.plate_id == "P9"
    assert samples["sample_type"].tolist() == ["blank", "qc_low", "qc_high", "patient"]
    assert run.measurements.set_index("sample_id").loc["QH-1", "value"] == 500
    # without a plate map an empty id is an error naming file, line and field, per well
    with pytest.raises(ValidationError) as info:
        instruments.read(body.encode(), name="x.csv")
    errors = [i for i in info.value.issues if "has no sample id" in i.message]
    assert [(e.file, e.line, e.field) for e in errors][:2] == [("x.csv", 2, "Sample ID"),
                                                               ("x.csv", 3, "Sample ID")]
    assert "--plate-map" in errors[0].message and len(errors) == 4
    body = "Well,Sample ID,Phe\nA1,x1,1\nA2,x2,50\nA3,x3,500\nA4,x4,80\n"
    with pytest.raises(ValidationError, match="plate map says 'B-1'"):
        instruments.read(body.encode(), name="x.csv", plate_map=plate_map)
    plate_map.write_text("well,sample_type\nA1,blank\nA2,qc_low\nA3,qc_high\nA4,patient\n",
                         encoding="utf-8")
    run = instruments.read(body.encode(), name="x.csv", plate_map=plate_map)
    assert dict(zip(run.measurements["sample_id"], run.measurements["sample_type"],
                    strict=True))["x4"] == "patient"
    plate_map.write_text("well,sample_type\nA1,blank\nA1,qc_low\n", encoding="utf-8")
    with pytest.raises(PlateMapError, match="already given on line 2"):
        instruments.read(body.encode(), name="x.csv", plate_map=plate_map)


@pytest.mark.parametrize("fmt,suffix", [("delimited", ".csv"), ("masslynx", ".txt")])
def test_a_file_cut_between_wells_is_refused_against_its_plate_map(run, tmp_path, fmt, suffix):
    """Cut at a well boundary, an export looks like a smaller complete plate; the puncher's plate
    map knows better, and nothing of the file is accepted."""
    path = tmp_path / f"plate{suffix}"
    instruments.write(run, path, format=fmt)
    samples = run.samples
    plate_map = tmp_path / "map.csv"
    write_plate_map(
        [PlateMapEntry(w, i, t, run.plate_id, 0)
         for w, i, t in zip(samples["well"], samples["sample_id"], samples["sample_type"],
                            strict=True)], plate_map)
    assert _same_measurements(instruments.read(path, plate_map=plate_map), run, rtol=1e-12)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    last_wells = set(samples["well"].iloc[-2:])
    # drop the last two wells' lines (the long and MassLynx layouts list a well on many lines)
    kept = [ln for ln in lines if not any(f",{w}," in ln or f"\t{w}\t" in ln
                                         or f"_{w}" in ln for w in last_wells)]
    assert len(kept) < len(lines)
    cut = tmp_path / f"cut{suffix}"
    cut.write_text("".join(kept), encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        instruments.read(cut, plate_map=plate_map)
    error = next(i for i in info.value.issues if "the file lacks" in i.message)
    map_lines = plate_map.read_text(encoding="utf-8").splitlines()
    first_absent = min(last_wells, key=lambda w: next(
        n for n, ln in enumerate(map_lines, start=1) if f",{w}," in ln))
    assert error.file.endswith("map.csv") and error.field == "well"
    assert f",{first_absent}," in map_lines[error.line - 1]
    assert all(w in error.message for w in last_wells) and "2 well(s)" in error.message


def test_plate_map_gives_the_ids_of_a_file_without_an_id_column(tmp_path):
    plate_map = tmp_path / "map.csv"
    plate_map.write_text("well,barcode,sample_type\nA01,B-1,blank\nA02,QL-1,qc_low\n"
                         "A03,QH-1,qc_high\nA04,NB123,patient\n", encoding="utf-8")
    profile = tmp_path / "puncher.toml"
    profile.write_text('[profile]\nname = "puncher"\n[columns]\nwell = "Pos"\n',
                       encoding="utf-8")
    body = b"Pos,Phe,Tyr\nA1,1,2\nA2,50,60\nA3,500,300\nA4,80,90\nA5,70,75\n"
    with pytest.raises(ValidationError) as info:
        instruments.read(body, name="ids.csv", profile=profile, plate_map=plate_map)
    error = next(i for i in info.value.issues if i.severity == "error")
    # A05 is in neither the file nor the map
    assert (error.file, error.line, error.field) == ("ids.csv", 6, "sample_id")
    assert "well A05 has no sample id" in error.message and "does not list" in error.message
    plate_map.write_text(plate_map.read_text(encoding="utf-8") + "A05,NB124,patient\n",
                         encoding="utf-8")
    run = instruments.read(body, name="ids.csv", profile=profile, plate_map=plate_map)
    assert dict(zip(run.samples["well"], run.samples["sample_id"], strict=True)) == {
        "A01": "B-1", "A02": "QL-1", "A03": "QH-1", "A04": "NB123", "A05": "NB124"}
    # the generic wide profile without its 'Sample ID' column: a warning, the map fills it
    generic = b"Well,Phe,Tyr\nA1,1,2\nA2,50,60\nA3,500,300\nA4,80,90\nA5,70,75\n"
    run = instruments.read(generic, name="ids.csv", plate_map=plate_map)
    assert set(run.samples["sample_id"]) == {"B-1", "QL-1", "QH-1", "NB123", "NB124"}
    assert any("must come from a plate map" in i.message for i in run.issues)


def test_auto_detection_chooses_the_profile_the_header_fits(run):
    wide, long = io.BytesIO(), io.BytesIO()
    instruments.write(run, wide, format="delimited")
    instruments.write(run, long, format="delimited", profile="generic_long")
    back = instruments.read(long.getvalue(), name="long.csv")
    assert back.metadata["profile"] == "generic_long" and _same_measurements(back, run)
    back = instruments.read(wide.getvalue(), name="wide.csv", format="delimited")
    assert back.metadata["profile"] == "generic_wide" and _same_measurements(back, run)
    rusp = b"id,GLY,ALA,PHE\nS1,713,522,80.3\nS2,973,1095,411.2\n"
    assert instruments.read(rusp, name="rusp.csv").metadata["profile"] == "rusp_rf"


def test_auto_detection_says_which_profiles_it_tried():
    with pytest.raises(ProfileError) as info:
        instruments.read(b"Pos;Code;Reading\n1;Phe;2\n", name="odd.csv")
    error = info.value
    assert (error.file, error.line, error.field) == ("odd.csv", 1, "profile")
    for expected in ("generic_long (long: needs 'Well', 'Analyte', 'Value'",
                     "generic_wide (wide: needs 'Well' and analyte columns",
                     "rusp_rf", "--profile PROFILE.toml"):
        assert expected in str(error)


def test_profile_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[values]\ncensored = 'guess'\n", encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        instruments.load_profile(bad)
    assert info.value.field == "values.censored"
    bad.write_text("[colums]\nwell = 'W'\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="unknown key 'colums'"):
        instruments.load_profile(bad)


@pytest.mark.parametrize("text,fmt,expected", [
    ("A1", "auto", (None, "A01")), ("h12", "A01", (None, "H12")), ("1:A,3", "auto", ("1", "A03")),
    ("2:F,8", "vial", ("2", "F08")), ("13", "row-major", (None, "B01")),
    ("13", "column-major", (None, "E02")),
])
def test_well_spellings(text, fmt, expected):
    assert parse_well(text, fmt=fmt) == expected


def test_384_well_plates():
    assert parse_well("P24", plate_size=384) == (None, "P24")
    assert parse_well("384", fmt="row-major", plate_size=384) == (None, "P24")
    with pytest.raises(ValueError):
        parse_well("P24")
    for well in ("A01", "H12", "C07"):
        for fmt in ("A1", "A01", "vial", "row-major", "column-major"):
            assert parse_well(format_well(well, fmt), fmt=fmt)[1] == well


def test_unknown_format_is_a_clear_error():
    with pytest.raises(instruments.UnknownFormatError, match="no reader recognises"):
        instruments.read(b"\x00\x01\x02binary", name="x.bin")
    with pytest.raises(instruments.UnknownFormatError, match="registered formats"):
        instruments.read(b"a,b\n1,2\n", format="nope", name="x.csv")


def test_a_rendering_the_writers_offer_is_read_by_its_name():
    """``nbs simulate plate --format csv-wide`` writes it; ``nbs read --format csv-wide``
    reads it (a delimited file with the rendering's profile), and each rendering gives the
    plate that was written."""
    assert set(instruments.rendering_names()) >= {"csv-wide", "csv-long", "masslynx-sample"}
    run = plate_run()
    for spec in specs():
        for rendering in spec.renderings:
            if rendering.name in instruments.formats():
                continue
            out = io.BytesIO()
            instruments.write(run, out, format=spec.name, **rendering.options)
            back = instruments.read(out.getvalue(), format=rendering.name,
                                    name=f"plate{rendering.suffix}")
            assert len(back.measurements) == len(run.measurements), rendering.name
    with pytest.raises(instruments.UnknownFormatError, match="or a rendering of one: .*csv-wide"):
        instruments.read(b"a,b\n1,2\n", format="csv-wider", name="x.csv")


_PREFIXES = [b"", b"Quantify Compound Summary Report \r\n\r\nCompound 1:  Phe\r\n\r\n\tName\t",
             b"Quantify Sample Summary Report\r\nSample Name: x   Sample ID: y\r\n",
             b"<?xml version='1.0'?><QUANDATASET><SAMPLE name='a' vial='1:A,1'>",
             b"<?xml version='1.0'?><mzML xmlns='http://psi.hupo.org/ms/mzml'><run id='P_A01'>",
             b"PK\x03\x04", b"Well,Sample ID,Phe\n"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(_PREFIXES), body=st.binary(max_size=400))
def test_arbitrary_bytes_give_a_typed_error(prefix, body):
    try:
        result = instruments.read(io.BytesIO(prefix + body), name="fuzz.dat")
    except InstrumentError:
        return
    # anything accepted must be a complete, valid run
    assert list(result.measurements.columns)[0] == "run_id" and len(result.measurements)


_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _reference_number(text: str, decimal: str) -> float | None:
    """parse_number as its pattern defines it (the reader takes a faster path)."""
    cell = text.strip()
    if decimal == ",":
        if "." in cell:
            return None
        cell = cell.replace(",", ".")
    if not _PLAIN_NUMBER.match(cell):
        return None
    value = float(cell)
    return value if math.isfinite(value) else None


@settings(max_examples=400, deadline=None)
@given(text=st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A\s?[+-]?[0-9_.,]{0,6}([eE][+-]?[0-9_]{0,3})?\s?\Z"),
    st.sampled_from(["inf", "-Infinity", "nan", "NaN", "1_000", "1e999", "٣", "1,5", "1.5",
                     ".5", "5.", "+.5e-3", "0x10", " 7 ", "1e", ",5"])),
    decimal=st.sampled_from([".", ","]))
def test_parse_number_accepts_exactly_plain_numbers(text, decimal):
    assert parse_number(text, decimal=decimal) == _reference_number(text, decimal)
