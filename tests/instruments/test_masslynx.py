"""MassLynx Quantify Compound/Sample Summary Reports: every real fixture parsed exactly, and
read() accepting or rejecting it for the right reason."""

from __future__ import annotations

import math

import pytest

import instruments
from instruments import masslynx
from instruments.errors import MalformedFileError, ValidationError
from msms.tables import MEASUREMENT_COLUMNS
from tests.instruments.builders import in_order
from tests.instruments.conftest import FIXTURES, PROFILES

ML = FIXTURES / "masslynx"


def _values(raw, compound, kind="area"):
    return {r.sample_name: r.value for r in raw.records
            if r.compound == compound and r.kind == kind}


def test_short_compound_report_190522():
    raw = masslynx.parse(ML / "190522_97.txt")
    assert in_order(raw, "compound") == ["CAT", "EC", "PLZ", "CAT_MS", "EC_MS", "PLZ_MS"]
    assert in_order(raw, "sample_name") == ["130522_Std290920_96_Inj01"]
    assert _values(raw, "CAT") == {"130522_Std290920_96_Inj01": 1728.543}
    assert _values(raw, "PLZ_MS") == {"130522_Std290920_96_Inj01": 979674.938}
    assert {r.vendor_type for r in raw.records} == {"Analyte"}
    assert raw.metadata["printed_at"] == "2022-06-09T13:49:54"
    assert raw.metadata["acquired_at"] == "2022-05-13T10:38:48"
    assert raw.metadata["encoding"] == "utf-8-sig"


def test_cp1252_report_with_missing_peaks_070120():
    raw = masslynx.parse(ML / "070120_Saturation_CQA.txt")
    assert raw.metadata["encoding"] == "cp1252"
    assert in_order(raw, "compound") == ["CAT", "CQA1", "CAT_MS", "CQA1_MS"]
    assert in_order(raw, "sample_name")[:2] == ["070120_CQA_22,18µgmL", "070120_CQA_250µgmL"]
    cqa1 = _values(raw, "CQA1")
    assert cqa1["070120_CQA_1000µgmL"] == 207796.375
    cat_ms = _values(raw, "CAT_MS")
    assert math.isnan(cat_ms["070120_CQA_22,18µgmL"]) and math.isnan(cat_ms["070120_CQA_500µgmL"])
    assert cat_ms["070120_CQA_250µgmL"] == 23.808
    assert len(raw.records) == 16


def test_all_columns_compound_report_rows_in_any_order():
    raw = masslynx.parse(ML / "SortieMassLynxCompoundToutesColonnes.txt")
    assert in_order(raw, "compound") == ["CAT", "CQA1", "CAT_MS", "CQA1_MS"]
    # first data row of compound 1 is sample #3 (rows are not in sample order)
    first = raw.records[0]
    assert (first.compound, first.sample_name, first.line) == ("CAT", "070120_CQA_500µgmL", 8)
    vials = {r.sample_name: r.position for r in raw.records if r.compound == "CAT"}
    assert vials == {"070120_CQA_500µgmL": "1:A,5", "070120_CQA_1000µgmL": "1:A,6",
                     "070120_CQA_22,18µgmL": "1:A,3", "070120_CQA_250µgmL": "1:A,4"}
    heights = _values(raw, "CQA1_MS", "height")
    assert heights["070120_CQA_1000µgmL"] == 12673316
    assert {k for k in (r.kind for r in raw.records)} == {"area", "height"}


def test_sample_summary_report():
    raw = masslynx.parse(ML / "SortieMassLynxSampleToutesColonnes.txt")
    assert raw.metadata["report"] == "Quantify Sample Summary Report"
    assert in_order(raw, "sample_name") == ["070120_CQA_22,18µgmL", "070120_CQA_250µgmL",
                                             "070120_CQA_500µgmL", "070120_CQA_1000µgmL"]
    assert in_order(raw, "compound") == ["CAT", "CQA1", "CAT_MS", "CQA1_MS"]
    areas = {(r.sample_name, r.compound): r.value for r in raw.records if r.kind == "area"}
    assert areas[("070120_CQA_250µgmL", "CQA1")] == 54385.078
    assert math.isnan(areas[("070120_CQA_22,18µgmL", "CAT_MS")])


def test_big_compound_report_mass_15ngly():
    raw = masslynx.parse(ML / "mass_15Ngly.txt")
    assert raw.metadata["compounds"] == "163"  # Cystine blocks have no peak at all: NaN rows
    assert len(in_order(raw, "sample_name")) == 51
    assert len(raw.records) == 163 * 51 * 2
    assert raw.metadata["acquired_at"] == "2019-09-17T00:00:00"  # "17-sept-19", French locale
    gly = {r.sample_name: (r.position, r.value) for r in raw.records
           if r.compound == "Gly, M+H" and r.kind == "area"}
    assert len(gly) == 51
    first = [r for r in raw.records if r.compound == "NH4+" and r.kind == "area"]
    assert (first[1].sample_name, first[1].position, first[1].value) == ("GlyN15_A_1", "1:A,4",
                                                                        93854.0)
    assert {p.split(":")[0] for p, _ in gly.values()} == {"1", "2"}
    cystine = [r for r in raw.records if r.compound == "Cystine, M+H"]
    assert len(cystine) == 102 and all(math.isnan(r.value) for r in cystine)


@pytest.mark.parametrize("name", ["190522_97.txt", "070120_Saturation_CQA.txt",
                                  "SortieMassLynxCompoundToutesColonnes.txt"])
def test_read_rejects_compounds_outside_the_catalogue(name):
    with pytest.raises(ValidationError) as info:
        instruments.read(ML / name)
    error = info.value
    assert "unmapped analyte 'CAT'" in str(error)
    assert error.file.endswith(name) and error.line == 8 and error.field == "Area"
    assert sum("unmapped analyte" in i.message for i in error.issues) == 4 if "070120" in name \
        or "Sortie" in name else 6


def test_sample_report_without_vials_is_rejected_naming_the_well():
    with pytest.raises(ValidationError) as info:
        instruments.read(ML / "SortieMassLynxSampleToutesColonnes.txt")
    messages = [i.message for i in info.value.issues if i.severity == "error"]
    assert any("no well position" in m for m in messages)


def test_read_mass_15ngly_with_a_profile():
    run = instruments.read(ML / "mass_15Ngly.txt", profile=PROFILES / "mass_15ngly.toml")
    m = run.measurements
    assert set(m["analyte"]) == {"Gly", "Ala", "Arg", "Orn", "Pro", "Tyr", "Met", "Val", "Xle",
                                 "Phe"}
    assert set(m["plate_id"]) == {"mass_15Ngly-1", "mass_15Ngly-2"}  # two autosampler trays
    row = m[(m["sample_id"] == "GlyN15_A_1") & (m["analyte"] == "Gly") & (m["kind"] == "area")]
    assert row["well"].tolist() == ["A04"] and row["plate_id"].tolist() == ["mass_15Ngly-1"]
    assert len(m) == 10 * 51 * 2
    assert list(m.columns) == list(MEASUREMENT_COLUMNS)
    assert any("ignored" in i.message for i in run.issues)


def test_not_a_report():
    with pytest.raises(MalformedFileError):
        masslynx.parse(b"Some other text\r\n", name="x.txt")


def test_plate_id_from_sample_names_survives_columns_the_reader_does_not_use(tmp_path):
    # a report with a column the reader skips (here "RT") still takes its plate id from the
    # <plate>_<well> sample names
    from instruments.virtual import simulate_plate, write_plate

    path = tmp_path / "plate.txt"
    write_plate(simulate_plate(seed=3, plate_id="VP000003"), path, format="masslynx")
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) > 2 and cells[1] == "Name":
            cells.append("RT")
        elif len(cells) > 2 and cells[1].startswith("VP000003_"):
            cells.append("0.61")
        lines.append("\t".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = instruments.read(path)
    assert set(run.measurements["plate_id"]) == {"VP000003"}
    assert any("column(s) not read: RT" in issue.message for issue in run.issues)
