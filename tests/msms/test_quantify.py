"""Quantitation: intensities -> µmol/L through the internal standard, pass-through of vendor
concentrations, not-reportable wells, profiles and card data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msms.errors import DataError
from msms.methods import default_method, load_method
from msms.quantify import (
    CONCENTRATION_COLUMNS,
    profile_columns,
    quantify,
    read_card_data,
)
from msms.tables import COVARIATE_COLUMNS, MEASUREMENT_COLUMNS
from tests.msms.qc.builders import Well, medians, plate, standard_wells

CODES = ["Phe", "Tyr", "C0", "C8", "C10"]
TINY_METHOD = """\
[method]
name = "tiny"
version = "1"
derivatization = "none"

[internal_standards."D5-Phe"]
precursor_mz = 171.117
product_mz = 125.112
conc_umol_l = 50.0

[analytes.Phe]
precursor_mz = 166.086
product_mz = 120.081
internal_standard = "D5-Phe"
response_factor = 1.25
"""


def _row(well: str, analyte: str, value: float, kind: str, *, sample_id: str = "S1",
         sample_type: str = "patient", unit: str = "counts", line: int = 2) -> dict[str, object]:
    return {"run_id": "RUN-1", "plate_id": "PLATE-1", "well": well, "sample_id": sample_id,
            "sample_type": sample_type, "analyte": analyte, "value": value, "unit": unit,
            "kind": kind, "source_file": "m.csv", "source_row": line}


def _frame(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(MEASUREMENT_COLUMNS))


# ---- the arithmetic ----


def test_concentration_is_ratio_times_is_conc_times_response_factor(tmp_path: Path) -> None:
    method_file = tmp_path / "tiny.toml"
    method_file.write_text(TINY_METHOD, encoding="utf-8")
    method = load_method(method_file)
    m = _frame(_row("A01", "Phe", 1000.0, "area"), _row("A01", "Phe", 2000.0, "is_area"),
               _row("A02", "Phe", 3000.0, "area", sample_id="S2"),
               _row("A02", "Phe", 2500.0, "is_area", sample_id="S2"))
    result = quantify(m, method)
    phe = result.profiles.set_index("specimen_id")["Phe"]
    assert phe["S1"] == pytest.approx(1000 / 2000 * 50.0 * 1.25)  # 31.25
    assert phe["S2"] == pytest.approx(3000 / 2500 * 50.0 * 1.25)  # 75.0


def test_a_built_plate_quantifies_back_to_its_concentrations() -> None:
    wells = standard_wells(6, analytes=CODES)
    result = quantify(plate(wells), default_method())
    profiles = result.profiles.set_index("specimen_id")
    for w in wells:
        if w.sample_type != "patient":
            continue
        for analyte, conc in w.conc.items():
            assert profiles.loc[w.sample_id, analyte] == pytest.approx(conc, rel=1e-12)
    conc = result.concentrations
    assert list(conc.columns) == list(CONCENTRATION_COLUMNS)
    assert set(conc["sample_type"]) == {"blank", "qc_low", "qc_high", "patient"}
    assert len(conc) == len(wells) * len(CODES)
    assert conc["reportable"].all()
    assert (conc["source"] == "method").all()
    low = conc[(conc.well == "A02") & (conc.analyte == "Phe")]["conc_umol_l"].item()
    assert low == pytest.approx(52.0)


def test_profiles_follow_design_4_2() -> None:
    result = quantify(plate(standard_wells(3, analytes=["C8", "Phe"])), default_method())
    profiles = result.profiles
    # analytes in catalogue order (Phe before C8), then the extra columns
    assert list(profiles.columns) == profile_columns(["Phe", "C8"])
    assert list(profiles.columns[:7]) == ["specimen_id", *COVARIATE_COLUMNS]
    assert list(profiles["specimen_id"]) == ["S001", "S002", "S003"]
    assert profiles[list(COVARIATE_COLUMNS)].isna().all().all()
    assert set(profiles["plate_id"]) == {"PLATE-1"}
    assert list(profiles["wells"]) == ["A05", "A06", "A07"]
    assert (profiles["not_reportable"] == "").all()


def test_height_is_used_when_there_is_no_area() -> None:
    wells = standard_wells(2, analytes=["Phe"])
    result = quantify(plate(wells, kind="height"), default_method())
    assert result.profiles["Phe"].tolist() == pytest.approx([52.0, 57.2])
    assert result.report.step("intensities").counts["height_used"] == len(wells)


def test_replicate_wells_of_one_specimen_are_averaged() -> None:
    wells = [Well("A01", "S1", "patient", {"Phe": 50.0}), Well("A02", "S1", "patient",
                                                                {"Phe": 60.0})]
    result = quantify(plate(wells), default_method())
    assert result.profiles["Phe"].tolist() == pytest.approx([55.0])
    assert result.profiles["wells"].tolist() == ["A01|A02"]
    codes = [f.code for f in result.report.findings()]
    assert "replicates_averaged" in codes


# ---- internal standards ----


def test_a_low_internal_standard_makes_that_wells_values_not_reportable() -> None:
    wells = standard_wells(6, analytes=CODES)
    wells[5].is_factor = {"C8": 0.1, "C10": 0.1}  # S002: D3-C8 at 10% of the plate median
    result = quantify(plate(wells), default_method())
    row = result.profiles.set_index("specimen_id").loc["S002"]
    assert math.isnan(row["C8"]) and math.isnan(row["C10"])
    assert row["Phe"] == pytest.approx(52.0 * 1.1)
    assert row["not_reportable"] == ("C8: internal standard low (10% of the plate median); "
                                     "C10: internal standard low (10% of the plate median)")
    conc = result.concentrations.set_index(["well", "analyte"])
    assert not conc.loc[("A06", "C8"), "reportable"]
    findings = result.report.step("internal_standard").findings
    assert [(f.severity, f.code, f.well) for f in findings] == [("warning", "is_low", "A06")]
    assert "D3-C8" in findings[0].message and "C8, C10" in findings[0].message
    # the other wells are untouched
    assert result.profiles.set_index("specimen_id").loc["S001", "not_reportable"] == ""


def test_an_is_just_above_the_limit_is_reportable() -> None:
    wells = standard_wells(8, analytes=["Phe"])
    wells[4].is_factor = {"Phe": 0.31}
    result = quantify(plate(wells), default_method())
    assert result.profiles["not_reportable"].eq("").all()


def test_a_missing_internal_standard_row_makes_the_value_not_reportable() -> None:
    wells = standard_wells(4, analytes=["Phe", "Tyr"])
    wells[4].no_is = ["Tyr"]
    result = quantify(plate(wells), default_method())
    row = result.profiles.set_index("specimen_id").loc["S001"]
    assert math.isnan(row["Tyr"])
    assert row["not_reportable"] == "Tyr: internal standard missing in this well"
    assert result.report.step("internal_standard").findings[0].code == "is_missing"


def test_is_failing_in_many_wells_rejects_through_a_finding() -> None:
    wells = standard_wells(8, analytes=["Phe"])
    for w in wells[4:8]:
        w.is_factor = {"Phe": 0.05}
    result = quantify(plate(wells), default_method())
    rejects = result.report.findings("reject")
    assert [(f.code, f.analyte) for f in rejects] == [("is_plate_failure", "Phe")]


def test_no_internal_standard_anywhere_for_an_intensity() -> None:
    wells = standard_wells(2, analytes=["Phe", "Tyr"])
    m = plate(wells)
    m = m[~((m.kind == "is_area") & (m.analyte == "Tyr"))]
    result = quantify(m, default_method())
    assert result.profiles["Tyr"].isna().all()
    assert result.profiles["not_reportable"].str.contains(
        "Tyr: no internal-standard signal for this analyte on the plate").all()


# ---- vendor concentrations ----


def test_vendor_concentrations_pass_through() -> None:
    wells = standard_wells(3, analytes=CODES)
    result = quantify(plate(wells, vendor=True), default_method())
    profiles = result.profiles.set_index("specimen_id")
    assert profiles.loc["S003", "Phe"] == pytest.approx(52.0 * 1.2)
    assert (result.concentrations["source"] == "vendor").all()
    assert (result.internal_standards["status"] == "unchecked").all()
    assert result.report.step("concentrations").counts["vendor_passed_through"] == len(
        result.concentrations)


def test_where_both_exist_the_method_wins_unless_vendor_is_preferred() -> None:
    wells = standard_wells(2, analytes=["Phe"])
    vendor = plate(wells, vendor=True)
    vendor["value"] = vendor["value"] * 1.10  # the vendor software reads 10% higher
    both = pd.concat([plate(wells), vendor], ignore_index=True)
    method_first = quantify(both, default_method())
    assert method_first.profiles["Phe"].tolist() == pytest.approx([52.0, 57.2])
    step = method_first.report.step("concentrations")
    assert step.counts["median_abs_rel_difference_vendor_vs_method"] == pytest.approx(0.10)
    assert [f.code for f in step.findings] == ["vendor_differs_from_method"]
    vendor_first = quantify(both, default_method(), prefer="vendor")
    assert vendor_first.profiles["Phe"].tolist() == pytest.approx([57.2, 62.92])
    with pytest.raises(ValueError, match="prefer"):
        quantify(both, default_method(), prefer="both")


def test_vendor_value_with_a_low_is_is_not_reportable() -> None:
    wells = standard_wells(4, analytes=["Phe"])
    wells[4].is_factor = {"Phe": 0.1}
    m = plate(wells)
    m = pd.concat([m[m.kind == "is_area"], plate(wells, vendor=True)], ignore_index=True)
    result = quantify(m, default_method())
    assert math.isnan(result.profiles.set_index("specimen_id").loc["S001", "Phe"])


def test_response_rows_are_reported_and_not_used() -> None:
    m = pd.concat([plate(standard_wells(1, analytes=["Phe"])),
                   _frame(_row("A05", "Tyr", 1.2, "response", sample_id="S001"))],
                  ignore_index=True)
    result = quantify(m, default_method())
    assert "Tyr" not in result.profiles.columns
    assert [f.code for f in result.report.step("validate").findings] == ["response_not_used"]


def test_an_analyte_missing_from_the_method_is_reported(tmp_path: Path) -> None:
    method_file = tmp_path / "tiny.toml"
    method_file.write_text(TINY_METHOD, encoding="utf-8")
    m = plate(standard_wells(2, analytes=["Phe", "Tyr"]), method=default_method())
    result = quantify(m, load_method(method_file))
    findings = result.report.step("intensities").findings
    assert [f.code for f in findings] == ["analyte_not_in_method"]
    assert findings[0].detail["analytes"] == ["Tyr"]
    assert "Tyr" not in result.profiles.columns


# ---- validation ----


def _bad(change: str) -> pd.DataFrame:
    m = plate(standard_wells(2, analytes=["Phe", "Tyr"]))
    if change == "two runs":
        m.loc[3, "run_id"] = "OTHER"
    elif change == "alias":
        m.loc[3, "analyte"] = "PHE"
    elif change == "negative":
        m.loc[3, "value"] = -1.0
    elif change == "text":
        m["value"] = m["value"].astype(object)
        m.loc[3, "value"] = "n/a"
    elif change == "kind":
        m.loc[3, "kind"] = "ratio"
    elif change == "sample type":
        m.loc[3, "sample_type"] = "control"
    elif change == "duplicate":
        m = pd.concat([m, m.iloc[[3]].assign(source_row=99)], ignore_index=True)
    elif change == "two samples":
        m.loc[m.index[-1], "sample_id"] = "OTHER"
    elif change == "unit":
        m = pd.concat([m, _frame(_row("A05", "C0", 30.0, "concentration", sample_id="S001",
                                      unit="mg/dL", line=77))], ignore_index=True)
    return m


@pytest.mark.parametrize(
    ("change", "field", "line", "message"),
    [
        ("two runs", "run_id", None, "2 runs"),
        ("alias", "analyte", 5, "canonical code is 'Phe'"),
        ("negative", "value", 5, ">= 0"),
        ("text", "value", 5, "not a number"),
        ("kind", "kind", 5, "not one of"),
        ("sample type", "sample_type", 5, "not one of"),
        ("duplicate", "value", 99, "twice"),
        ("two samples", "sample_id", None, "more than one sample"),
        ("unit", "unit", 77, "not µmol/L"),
    ],
)
def test_bad_measurements_name_the_row_and_field(
    change: str, field: str, line: int | None, message: str
) -> None:
    with pytest.raises(DataError) as info:
        quantify(_bad(change), default_method())
    assert info.value.field == field
    if line is not None:
        assert info.value.line == line
        assert info.value.file == "built.csv" or info.value.file == "m.csv"
    assert message in str(info.value)


def test_missing_columns_and_empty_tables() -> None:
    m = plate(standard_wells(1, analytes=["Phe"]))
    with pytest.raises(DataError, match="lack column"):
        quantify(m.drop(columns=["kind"]), default_method())
    with pytest.raises(DataError, match="empty"):
        quantify(m.iloc[0:0], default_method())


def test_a_patient_well_without_a_sample_id_is_an_error() -> None:
    m = plate([Well("A01", "", "patient", {"Phe": 50.0})])
    with pytest.raises(DataError, match="no sample_id"):
        quantify(m, default_method())


# ---- card data ----

CARDS = """\
specimen_id,birth_weight_g,gestational_age_weeks,age_at_collection_hours,sex,tpn,transfused,submitter
S001,3400,39.5,36,F,0,0,H1
S002,1450,30,60,M,1,0,H2
S004,2900,38,30,U,,,H1
"""


def _cards(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cards.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_card_data_joins_covariates_by_specimen_id(tmp_path: Path) -> None:
    m = plate(standard_wells(3, analytes=["Phe"]))
    result = quantify(m, default_method(), card_data=_cards(tmp_path, CARDS))
    profiles = result.profiles.set_index("specimen_id")
    assert profiles.loc["S001", "birth_weight_g"] == 3400
    assert profiles.loc["S002", "tpn"] == 1
    assert profiles.loc["S002", "sex"] == "M"
    assert profiles.loc["S003", COVARIATE_COLUMNS].isna().all()  # no card for S003
    assert "submitter" not in profiles.columns
    step = result.report.step("profiles")
    assert step.counts["specimens_without_card_data"] == 1
    assert step.counts["card_rows_not_on_plate"] == 1
    assert [f.code for f in step.findings] == ["no_card_data"]
    assert "S003" in step.findings[0].message


def test_card_data_as_a_frame(tmp_path: Path) -> None:
    cards = read_card_data(_cards(tmp_path, CARDS))
    m = plate(standard_wells(2, analytes=["Phe"]))
    result = quantify(m, default_method(), card_data=cards)
    assert result.profiles["gestational_age_weeks"].tolist() == [39.5, 30.0]
    assert str(result.profiles["tpn"].dtype) == "Int64"


def test_card_data_may_hold_only_some_covariates(tmp_path: Path) -> None:
    cards = read_card_data(_cards(tmp_path, "specimen_id,sex\nS001,F\n"))
    assert cards.loc[0, "sex"] == "F"
    assert pd.isna(cards.loc[0, "birth_weight_g"])


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("S002,1450,30,60,M", "S002,1450,30,60,X", 3, "sex", "not one of M|F|U"),
        ("S002,1450", "S002,heavy", 3, "birth_weight_g", "not a number"),
        ("S002,1450", "S002,14500", 3, "birth_weight_g", "plausible range"),
        ("39.5,36", "39.5,-2", 2, "age_at_collection_hours", "plausible range"),
        ("M,1,0", "M,yes,0", 3, "tpn", "0 or 1"),
        ("S004,", "S001,", 4, "specimen_id", "already on line 2"),
        ("S004,", ",", 4, "specimen_id", "is empty"),
        ("S002,1450,30,60,M,1,0,H2", "S002,1450,30", 3, None, "fields"),
        ("specimen_id,", "specimen,", 1, "specimen_id", "lacks"),
    ],
)
def test_bad_card_data_names_file_line_and_field(
    tmp_path: Path, old: str, new: str, line: int, field: str | None, message: str
) -> None:
    assert old in CARDS
    path = _cards(tmp_path, CARDS.replace(old, new, 1))
    with pytest.raises(DataError) as info:
        read_card_data(path)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), line, field)
    assert message in str(info.value)


def test_a_card_csv_for_the_lims_given_as_card_data_says_which_command_takes_it(
        tmp_path: Path) -> None:
    path = _cards(tmp_path, "barcode,submitter,collected_at,birth_at\n"
                            "500000001,CITY-MAT,2026-12-01T08:00Z,2026-11-29T08:00Z\n")
    with pytest.raises(DataError, match="nbs hl7 cards") as info:
        read_card_data(path)
    assert (info.value.line, info.value.field) == (1, "specimen_id")


def test_unreadable_card_data(tmp_path: Path) -> None:
    path = tmp_path / "cards.csv"
    path.write_bytes(b"specimen_id,sex\nS1,\xff\n")
    with pytest.raises(DataError, match="not UTF-8"):
        read_card_data(path)
    with pytest.raises(DataError, match="cannot read"):
        read_card_data(tmp_path / "absent.csv")


# ---- the report ----


def test_the_report_records_every_step_and_is_json() -> None:
    import json

    wells = standard_wells(4)
    wells[4].is_factor = {"C16": 0.2}
    result = quantify(plate(wells), default_method())
    steps = [s.step for s in result.report.steps]
    assert steps == ["validate", "internal_standard", "completeness", "intensities",
                     "concentrations", "profiles"]
    data = json.loads(json.dumps(result.report.to_dict()))
    assert data["steps"][1]["counts"]["pairs_low"] == 1
    assert data["steps"][3]["parameters"]["method"].startswith("nonderivatized")
    assert np.isnan(result.profiles.set_index("specimen_id").loc["S001", "C16"])
    assert medians(["C16"])["C16"] == pytest.approx(2.6)


def test_a_replicate_with_a_good_is_keeps_the_analyte_reportable() -> None:
    wells = [Well("A01", "S1", "patient", {"Phe": 50.0, "C8": 0.1}, is_factor={"C8": 0.05}),
             Well("A02", "S1", "patient", {"Phe": 60.0, "C8": 0.2}),
             Well("A03", "S2", "patient", {"Phe": 40.0, "C8": 0.1}),
             Well("A04", "S3", "patient", {"Phe": 40.0, "C8": 0.1}),
             Well("A05", "S4", "patient", {"Phe": 40.0, "C8": 0.1}, is_factor={"C8": 0.05})]
    result = quantify(plate(wells), default_method())
    profiles = result.profiles.set_index("specimen_id")
    assert profiles.loc["S1", "C8"] == pytest.approx(0.2)   # only the good replicate
    assert profiles.loc["S1", "Phe"] == pytest.approx(55.0)
    assert profiles.loc["S1", "not_reportable"] == ""
    assert profiles.loc["S4", "not_reportable"].startswith("C8: internal standard low")


# ---- properties -------------------------------------------------------------------------------

_conc = st.floats(min_value=1e-4, max_value=5e3, allow_nan=False)
# IS factors within 0.6..1.6: every well stays above 30% of the plate median (reportable)
_is_factor = st.floats(min_value=0.6, max_value=1.6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_conc, _conc, _is_factor), min_size=2, max_size=12),
       st.floats(min_value=1e2, max_value=1e7), st.randoms(use_true_random=False))
def test_any_plate_quantifies_exactly_and_row_order_never_matters(
    wells: list[tuple[float, float, float]], is_counts: float, rnd: object
) -> None:
    built = [Well(f"A{i + 1:02d}", f"S{i}", "patient", {"Phe": phe, "C8": c8},
                  is_factor={"Phe": f, "C8": f})
             for i, (phe, c8, f) in enumerate(wells)]
    m = plate(built, is_counts=is_counts)
    result = quantify(m, default_method())
    profiles = result.profiles.set_index("specimen_id")
    for w in built:
        for analyte, conc in w.conc.items():
            assert profiles.loc[w.sample_id, analyte] == pytest.approx(conc, rel=1e-9)
    shuffled = m.sample(frac=1.0, random_state=rnd.randint(0, 2**31))  # type: ignore[attr-defined]
    again = quantify(shuffled.reset_index(drop=True), default_method()).profiles
    pd.testing.assert_frame_equal(
        again.set_index("specimen_id").sort_index()[["Phe", "C8"]],
        profiles.sort_index()[["Phe", "C8"]])


def test_card_data_without_optional_columns_is_a_warning_naming_them(tmp_path: Path) -> None:
    header, *rows = CARDS.splitlines()
    kept = [i for i, name in enumerate(header.split(","))
            if name not in ("birth_weight_g", "transfused")]
    cut = "\n".join(",".join(line.split(",")[i] for i in kept) for line in (header, *rows))
    m = plate(standard_wells(3, analytes=["Phe"]))
    result = quantify(m, default_method(), card_data=_cards(tmp_path, cut + "\n"))
    [absent] = [f for f in result.report.step("profiles").findings
                if f.code == "card_columns_absent"]
    assert absent.severity == "warning"
    assert "lacks card column(s) birth_weight_g, transfused" in absent.message
    assert result.profiles["birth_weight_g"].isna().all()
