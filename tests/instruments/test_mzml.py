"""mzML with pyteomics: SRM chromatograms matched by Q1/Q3, time units from the file, plateau
averaging, precursor-ion scans, MS-Numpress decoded by accession, no network."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest
from pyteomics import mzml as pyteomics_mzml

import instruments
from instruments import mzml, numpress
from instruments.errors import (
    MalformedFileError,
    PlateMapError,
    UnsupportedEncodingError,
    ValidationError,
)
from instruments.transitions import load_transitions
from instruments.vocabulary import ACCESSIONS, psi_ms
from tests.instruments.builders import neutral_loss_mzml
from tests.instruments.conftest import FIXTURES, PROFILES

SYN = FIXTURES / "synthetic"
MZ = FIXTURES / "mzml"


def _table(tmp_path, rows):
    path = tmp_path / "table.csv"
    lines = ["name,role,analytes,precursor_mz,product_mz,polarity"]
    lines += [f"{n},analyte,{a},{q1},{q3},+" for n, a, q1, q3 in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_vocabulary_names_match_psi_ms():
    cv = psi_ms()
    for accession, name in ACCESSIONS.items():
        if accession.startswith("MS:"):
            assert cv[accession].name == name, accession


def test_fia_srm_file_matched_by_mz_and_plateau_mean():
    raw = mzml.parse(SYN / "fia_mrm_psims.mzML", transitions="butylated")
    assert [r.compound for r in raw.records] == ["Phe", "IS:Phe", "C8"]
    assert raw.metadata["chromatograms"] == "4"  # TIC + 3 transitions
    # independent check: the chromatogram read by pyteomics, plateau where the summed signal
    # is at least half-way between its minimum and maximum
    with pyteomics_mzml.MzML(str(SYN / "fia_mrm_psims.mzML"), cv=psi_ms()) as reader:
        chroms = [c for c in reader.iterfind("chromatogram") if c["id"].startswith("SRM")]
    total = sum(c["intensity array"].astype(float) for c in chroms)
    threshold = total.min() + 0.5 * (total.max() - total.min())
    expected = chroms[0]["intensity array"][total >= threshold].mean()
    assert raw.records[0].value == pytest.approx(expected, rel=1e-9)
    assert raw.metadata["plateau_min"] == "0.2697-0.4382"  # the time array is in minutes


def test_single_injection_read_into_a_plate_run():
    run = instruments.read(SYN / "fia_mrm_psims.mzML", profile=PROFILES / "single_injection.toml")
    m = run.measurements
    assert run.plate_id == "PLATE0001"
    assert set(zip(m["analyte"], m["kind"], strict=True)) == {("Phe", "area"),
                                                               ("Phe", "is_area"), ("C8", "area")}
    assert set(m["well"]) == {"A01"}


def test_default_profile_warns_of_a_plate_without_blank_and_controls():
    run = instruments.read(SYN / "fia_mrm_psims.mzML")
    warnings = [i.message for i in run.issues if i.severity == "warning"]
    assert any("no blank well" in w for w in warnings)
    assert any("no qc_high control well" in w for w in warnings)


def test_chromatograms_are_found_wherever_the_document_puts_them(tmp_path):
    text = (SYN / "fia_mrm_psims.mzML").read_text(encoding="utf-8")
    expected = [r.compound for r in mzml.parse(SYN / "fia_mrm_psims.mzML",
                                               transitions="butylated").records]
    # a start tag inside a comment is no chromatogram
    commented = text.replace("<run ", "<!-- <chromatogram id='old'> --><run ", 1)
    path = tmp_path / "PLATE0001_A01.mzML"
    path.write_text(commented, encoding="utf-8")
    assert [r.compound for r in mzml.parse(path, transitions="butylated").records] == expected
    # a chromatogram outside run/chromatogramList is an error naming its line, never skipped
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if 'id="SRM SIC Q1=344.3' in line)
    end = next(i for i in range(start, len(lines)) if "</chromatogram>" in lines[i])
    moved = lines[start:end + 1]
    rest = lines[:start] + lines[end + 1:]
    run_end = next(i for i, line in enumerate(rest) if "</run>" in line)
    misplaced = "".join(rest[:run_end + 1] + moved + rest[run_end + 1:])
    path.write_text(misplaced, encoding="utf-8")
    with pytest.raises(MalformedFileError) as info:
        mzml.parse(path, transitions="butylated")
    error = info.value
    assert "chromatogram element outside run/chromatogramList" in error.reason
    assert (error.file, error.line, error.field) == (str(path), run_end + 2, "chromatogram")


def test_precursor_ion_scans():
    raw = mzml.parse(SYN / "fia_prec85_psims.mzML", transitions="butylated")
    compounds = [r.compound for r in raw.records]
    assert "C2" in compounds and "C16" in compounds and "Phe" not in compounds
    # every matched transition has Q3 85.028 and Q1 inside the 210-501 scan window
    assert all(not c.startswith("IS:") or c in ("IS:C2", "IS:C3", "IS:C4,C3DC+C4OH")
               or c.startswith("IS:") for c in compounds)
    # one record per transition of the method with Q3 = 85 whose Q1 lies in the 210-501 window
    table = load_transitions("butylated")
    expected = [t for t in table.transitions
                if abs(t.product_mz - 85.0) <= 0.3 and 210 <= t.precursor_mz <= 501]
    assert len(raw.records) == len(expected) == 38
    c2 = next(r for r in raw.records if r.compound == "C2")
    with pyteomics_mzml.MzML(str(SYN / "fia_prec85_psims.mzML"), cv=psi_ms()) as reader:
        scans = list(reader)
    at_260 = [s["intensity array"][np.abs(s["m/z array"] - 260.186) <= 0.5].max() for s in scans]
    assert min(at_260) <= c2.value <= max(at_260)


def test_neutral_loss_scans(tmp_path):
    # butylated amino acids lose butyl formate (102.068): one scan series measures them all
    table = load_transitions("butylated")
    expected = [t for t in table.transitions
                if abs(t.neutral_loss - 102.068) <= 0.3 and 140 <= t.precursor_mz <= 250]
    assert len(expected) == 14  # 8 amino acids and their 6 internal standards
    peaks = {t.precursor_mz: 1000.0 * (n + 1) for n, t in enumerate(expected)}
    peaks[260.186] = 5.0e5  # C2 (precursor-of-85): outside the scan window, not read
    path = neutral_loss_mzml(tmp_path / "PLATE0001_A01.mzML", peaks, window=(140.0, 270.0))
    raw = mzml.parse(path, transitions="butylated")
    assert sorted(r.compound for r in raw.records) == sorted(t.target for t in expected)
    # a peak's plateau (shape exactly 1) holds its amplitude: the mean is that amplitude
    by_name = {t.target: peaks[t.precursor_mz] for t in expected}
    for record in raw.records:
        assert record.value == pytest.approx(by_name[record.compound], rel=1e-12)
        assert record.field == "loss scan 102.068" and record.line == 1
    assert raw.metadata["plateau_min"] == "0.4737-1.026"  # scans 7-14 of 20 over 1.5 min
    run = instruments.read(path, profile=PROFILES / "single_injection.toml")
    m = run.measurements.set_index(["analyte", "kind"])["value"]
    assert m[("Phe", "area")] == pytest.approx(by_name["Phe"], rel=1e-12)
    assert m[("Val", "is_area")] == m[("Pro", "is_area")] == pytest.approx(
        by_name["IS:Pro,Val,Oxp"], rel=1e-12)  # D8-Val serves Pro, Val and Oxp
    assert set(run.measurements["well"]) == {"A01"}


def test_neutral_loss_scan_without_its_loss_is_an_error(tmp_path):
    path = neutral_loss_mzml(tmp_path / "PLATE0001_A01.mzML", {222.149: 100.0}, loss=None)
    with pytest.raises(ValidationError) as info:
        instruments.read(path, profile=PROFILES / "single_injection.toml")
    error = next(i for i in info.value.issues if i.severity == "error")
    assert (error.file, error.line, error.field) == (str(path), 1, "neutral loss")
    assert "MS:1000336" in error.message


def test_chromatograms_in_seconds(tmp_path):
    table = _table(tmp_path, [("P1", "Phe", 808.4924, 689.348), ("P2", "Tyr", 810.9089, 689.355),
                              ("P3", "Met", 814.7737, 689.363)])
    raw = mzml.parse(MZ / "pymzml_mini.chrom.mzML", transitions=table)
    assert [r.compound for r in raw.records] == ["Phe", "Tyr", "Met"]  # 3 SRM transitions
    plateau = raw.metadata["plateau_min"]
    start = float(plateau.split("-")[0])
    assert 3357.62 / 60 <= start <= 4525.15 / 60  # seconds in the file, minutes here


def test_selected_ion_chromatogram_with_product(tmp_path):
    table = _table(tmp_path, [("S", "Phe", 456.7, 678.9)])
    raw = mzml.parse(MZ / "pyteomics_tiny.pwiz.1.1.mzML", transitions=table)
    assert [r.compound for r in raw.records] == ["Phe"]
    # intensities 10, 9, ..., 1: plateau points >= 5.5 are the first five
    assert raw.records[0].value == pytest.approx(8.0)


def _lab_profile(tmp_path, table):
    """A laboratory's profile for single injections: its own transition table (next to the
    profile), no blank or controls required."""
    profile = tmp_path / "lab.toml"
    profile.write_text(f'[profile]\nname = "lab"\nformat = "mzml"\n[mzml]\n'
                       f'transitions = "{table.name}"\n[validation]\nrequire_blank = false\n'
                       f'require_controls = []\n', encoding="utf-8")
    return profile


def test_a_single_injection_without_a_well_says_how_to_place_it():
    for fixture in ("pymzml_mini.chrom.mzML", "pyteomics_tiny.pwiz.1.1.mzML"):
        with pytest.raises(ValidationError) as info:
            instruments.read(MZ / fixture)
        error = next(i for i in info.value.issues if i.severity == "error")
        assert (error.file, error.field) == (str(MZ / fixture), "run@id")
        assert "cannot tell the well of run" in error.message
        for hint in ("plate map naming the file", "--plate-map", "samples.csv",
                     "<plate>_<well>"):
            assert hint in error.message


def test_a_single_injection_placed_by_a_plate_map(tmp_path):
    table = _table(tmp_path, [("P1", "Phe", 808.4924, 689.348), ("P2", "Tyr", 810.9089, 689.355),
                              ("P3", "Met", 814.7737, 689.363)])
    plate_map = tmp_path / "map.csv"
    plate_map.write_text("file,well,barcode,sample_type,plate_id\n"
                         "pymzml_mini.chrom.mzML,C07,NB0042,patient,SRM-1\n", encoding="utf-8")
    fixture = MZ / "pymzml_mini.chrom.mzML"
    # placed, but the packaged method's transitions match none of its chromatograms
    with pytest.raises(ValidationError) as info:
        instruments.read(fixture, plate_map=plate_map)
    error = next(i for i in info.value.issues if i.severity == "error")
    assert error.field == "mzml.transitions"
    assert "no chromatogram or scan matches" in error.message
    run = instruments.read(fixture, plate_map=plate_map, profile=_lab_profile(tmp_path, table))
    m = run.measurements
    assert run.plate_id == "SRM-1" and set(m["well"]) == {"C07"}
    assert set(m["sample_id"]) == {"NB0042"} and set(m["sample_type"]) == {"patient"}
    expected = {r.compound: r.value for r in mzml.parse(fixture, transitions=table).records}
    got = dict(zip(m["analyte"], m["value"], strict=True))
    assert list(got) == list(expected)  # Met's points lie outside the plateau: NaN in both
    np.testing.assert_array_equal(list(got.values()), list(expected.values()))
    assert set(m["source_file"]) == {str(fixture)}
    # a plate map that names one file twice, or does not name this file: errors naming it
    plate_map.write_text("file,well,barcode\nx.mzML,C07,NB1\nx.mzML,C08,NB2\n",
                         encoding="utf-8")
    with pytest.raises(PlateMapError) as info:
        instruments.read(fixture, plate_map=plate_map)
    assert (info.value.line, info.value.field) == (3, "file")
    plate_map.write_text("file,well,barcode\nother.mzML,C07,NB0042\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="'pymzml_mini.chrom.mzML' is not in the plate map"):
        instruments.read(fixture, plate_map=plate_map, profile=_lab_profile(tmp_path, table))


def test_a_fixture_read_as_a_plate_with_its_sample_list(tmp_path):
    table = _table(tmp_path, [("S", "Phe", 456.7, 678.9)])
    plate = tmp_path / "plate"
    plate.mkdir()
    (plate / "tiny.mzML").write_bytes((MZ / "pyteomics_tiny.pwiz.1.1.mzML").read_bytes())
    (plate / "samples.csv").write_text("file,well,sample_id,sample_type\n"
                                       "tiny.mzML,B02,NB7,patient\n", encoding="utf-8")
    run = instruments.read(plate, profile=_lab_profile(tmp_path, table))
    row = run.measurements.iloc[0]
    assert (row["well"], row["sample_id"], row["analyte"]) == ("B02", "NB7", "Phe")
    assert row["value"] == pytest.approx(8.0) and len(run.measurements) == 1


def test_numpress_decoded_by_accession(tmp_path):
    text = (MZ / "pymzml_mini_numpress.chrom.mzML").read_text(encoding="latin-1")
    binaries = re.findall(r"<binary>(.*?)</binary>", text)
    times = numpress.decode_linear(base64.b64decode(binaries[0]))
    counts = numpress.decode_pic(base64.b64decode(binaries[1]))
    assert len(times) == len(counts) == 176
    assert times[0] == pytest.approx(2302.53, abs=1e-3) and np.all(np.diff(times) > 0)
    assert counts.max() == 856 and np.all(counts == np.round(counts)) and counts.min() == 0
    # going by the (wrong) name would decode the intensities as linear prediction: rejected
    with pytest.raises(UnsupportedEncodingError):
        numpress.decode_linear(base64.b64decode(binaries[1]))
    table = _table(tmp_path, [("N", "Phe", 739.361, 456.28)])
    raw = mzml.parse(MZ / "pymzml_mini_numpress.chrom.mzML", transitions=table)
    assert any("MS:1002313" in i.message and i.severity == "warning" for i in raw.issues)
    assert raw.records[0].value >= 0


def test_unknown_compression_is_rejected(tmp_path):
    text = (SYN / "fia_mrm_psims.mzML").read_text(encoding="utf-8")
    text = text.replace('accession="MS:1000574" name="zlib compression"',
                        'accession="MS:1003089" name="truncation, delta prediction and zlib '
                        'compression"')
    path = tmp_path / "PLATE0001_A01.mzML"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnsupportedEncodingError, match="MS:1003089"):
        instruments.read(path, profile=PROFILES / "single_injection.toml")


def test_numpress_roundtrip_of_known_values():
    # positive-integer encoding of 0, 1, 255 written by hand: half-bytes 8 | 7 1 | 6 f f
    data = bytes([0x87, 0x16, 0xFF])
    assert numpress.decode_pic(data).tolist() == [0.0, 1.0, 255.0]
