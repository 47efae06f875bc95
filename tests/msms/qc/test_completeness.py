"""Completeness against the quantitation method: incomplete wells are not reportable; a plate that
lacks analytes, or whose file was cut short, is rejected with reasons naming analytes and wells.

Built plates test each rule; simulated plates cut short in the instrument formats test them on
what a reader really returns."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import instruments
from instruments.errors import InstrumentError
from instruments.virtual import SimulatedPlate, simulate_plate, suffix, write_plate
from msms.methods import default_method
from msms.qc.completeness import check_completeness, check_method_coverage
from msms.qc.grid import plate_grid
from msms.qc.plate import check_plate
from msms.quantify import quantify
from tests.msms.qc.builders import method_for, plate, standard_wells

CODES = ["Phe", "Tyr", "Xle", "C0", "C3", "C8", "C10"]


def _drop(m: pd.DataFrame, well: str, analytes: list[str]) -> pd.DataFrame:
    """The measurements without ``analytes`` (every kind) in ``well``."""
    return m[~((m["well"] == well) & m["analyte"].isin(analytes))].reset_index(drop=True)


# ---- built plates ---------------------------------------------------------------------------


def test_a_complete_plate_has_no_findings() -> None:
    method = method_for(CODES)
    result = quantify(plate(standard_wells(6, analytes=CODES), method=method), method)
    step = result.report.step("completeness")
    assert step.findings == () and step.counts["wells_incomplete"] == 0
    assert check_plate(result).decision.status == "accept"


def test_a_well_missing_an_analyte_is_not_reportable_but_the_plate_stands() -> None:
    method = method_for(CODES)
    m = _drop(plate(standard_wells(8, analytes=CODES), method=method), "A07", ["C8"])
    result = quantify(m, method)
    conc = result.concentrations.set_index(["well", "analyte"])
    # every value of the well is withheld, and the missing pair is listed as not measured
    assert not conc.loc["A07", "reportable"].any()
    assert conc.loc["A07", "conc_umol_l"].isna().all()
    assert conc.loc[("A07", "C8"), "reason"] == "not measured in this well"
    assert conc.loc[("A07", "Phe"), "reason"] == "well incomplete: C8 not measured"
    assert conc.drop(index="A07", level="well")["reportable"].all()
    profile = result.profiles.set_index("specimen_id").loc["S003"]
    assert math.isnan(profile["Phe"]) and math.isnan(profile["C8"])
    assert profile["not_reportable"] == "A07: well incomplete: C8 not measured"
    [finding] = result.report.step("completeness").findings
    assert (finding.severity, finding.code, finding.well) == ("warning", "well_incomplete", "A07")
    assert "C8 not measured" in finding.message and "S003" in finding.message
    decision = check_plate(result).decision
    assert decision.status == "accept_with_warnings"
    assert any("A07" in w and "C8" in w for w in decision.warnings)


def test_a_replicate_keeps_the_specimen_reportable() -> None:
    method = method_for(CODES)
    wells = standard_wells(8, analytes=CODES)
    wells[6].sample_id = wells[5].sample_id  # A07 repeats the specimen of A06
    m = _drop(plate(wells, method=method), "A06", ["Tyr"])
    profile = quantify(m, method).profiles.set_index("specimen_id").loc[wells[5].sample_id]
    assert profile["wells"] == "A06|A07"
    assert not math.isnan(profile["Tyr"]) and profile["not_reportable"] == ""


def test_an_incomplete_control_well_rejects_through_the_controls() -> None:
    method = method_for(CODES)
    m = _drop(plate(standard_wells(8, analytes=CODES), method=method), "A02", ["C3"])
    decision = check_plate(quantify(m, method)).decision
    assert decision.status == "reject"
    assert any(r.startswith("controls:") for r in decision.reasons)


def test_an_analyte_of_the_method_measured_nowhere_rejects_the_plate() -> None:
    method = method_for(CODES)
    m = plate(standard_wells(6, analytes=CODES), method=method)
    m = m[~m["analyte"].isin(["C8", "C10"])]
    qc = check_plate(quantify(m, method))
    assert qc.decision.status == "reject"
    [finding] = qc.report.step("method_coverage").findings
    assert finding.code == "analytes_not_measured"
    assert finding.detail["analytes"] == ["C8", "C10"]
    assert finding.detail["wells"] == ["A02", "A03", *[f"A{i:02d}" for i in range(5, 11)]]
    [reason] = [r for r in qc.decision.reasons if r.startswith("method_coverage")]
    assert "2 of the 7 analytes" in reason and reason.endswith(
        "not measured in all 8 patient and control wells (A02, A03, A05, A06 and 4 more): "
        "C8, C10; the file is incomplete (cut short?) or was exported for another method")
    assert set(qc.decision.rejected_analytes) == {"C8", "C10"}


def test_the_full_method_against_a_small_panel_rejects() -> None:
    qc = check_plate(quantify(plate(standard_wells(4, analytes=CODES)), default_method()))
    [finding] = qc.report.step("method_coverage").findings
    assert len(finding.detail["analytes"]) == 48 - len(CODES)


def test_an_analyte_missing_in_many_wells_rejects() -> None:
    method = method_for(CODES)
    m = plate(standard_wells(8, analytes=CODES), method=method)
    for well in ("A05", "A06", "A07"):  # 3 of 10 patient and control wells (limit 20%)
        m = _drop(m, well, ["Xle"])
    steps = quantify(m, method).report.step("completeness")
    rejects = [f for f in steps.findings if f.severity == "reject"]
    assert [(f.code, f.analyte) for f in rejects] == [("analyte_missing_in_wells", "Xle")]
    assert rejects[0].detail["wells"] == ["A05", "A06", "A07"]
    assert "Xle not measured in 3 of 10 patient and control wells (30%" in rejects[0].message


def test_an_incomplete_last_well_looks_cut_short() -> None:
    method = method_for(CODES)
    m = _drop(plate(standard_wells(8, analytes=CODES), method=method), "A12", ["C8", "C10"])
    decision = check_plate(quantify(m, method)).decision
    assert decision.status == "reject"
    assert ("completeness: the last well of the file, A12, lacks C8, C10: the file looks cut "
            "short; export it again") in decision.reasons


def test_a_last_well_without_its_internal_standard_rows_looks_cut_short() -> None:
    method = method_for(CODES)
    m = plate(standard_wells(8, analytes=CODES), method=method)
    m = m[~((m["well"] == "A12") & (m["kind"] == "is_area") & m["analyte"].isin(["C8"]))]
    rejects = quantify(m, method).report.findings("reject")
    assert [f.code for f in rejects if f.step == "completeness"] == ["file_truncated"]
    assert "the internal standard of C8" in rejects[-1].message


def test_blanks_are_not_checked() -> None:
    method = method_for(CODES)
    m = _drop(plate(standard_wells(4, analytes=CODES), method=method), "A01", ["Phe"])
    assert quantify(m, method).report.step("completeness").findings == ()


def test_vendor_concentrations_count_as_measured() -> None:
    method = method_for(CODES)
    m = plate(standard_wells(4, analytes=CODES), method=method, vendor=True)
    grid = plate_grid(m)
    assert check_completeness(grid, method).incomplete.sum() == 0
    assert check_method_coverage(grid, method).findings == ()


# ---- simulated plates cut short -------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated() -> SimulatedPlate:
    return simulate_plate(seed=8)


def _file(simulated: SimulatedPlate, tmp: Path, fmt: str) -> bytes:
    path = tmp / f"plate{suffix(fmt)}"
    write_plate(simulated, path, format=fmt)
    return path.read_bytes()


def _qc(data: bytes, name: str, **options: object):  # noqa: ANN202 - a test helper
    run = instruments.read(data, name=name, **options)  # type: ignore[arg-type]
    return check_plate(quantify(run.measurements, default_method()))


def test_a_masslynx_summary_cut_in_its_third_compound_is_rejected(simulated, tmp_path) -> None:
    data = _file(simulated, tmp_path, "masslynx")
    assert _qc(data, "plate8.txt").decision.status == "accept"
    qc = _qc(data[:20000], "trunc.txt")
    assert qc.decision.status == "reject"
    coverage = qc.report.step("method_coverage").findings[0]
    assert len(coverage.detail["analytes"]) == 45 and "Phe" in coverage.detail["analytes"]
    assert {"Ala", "Arg"}.isdisjoint(coverage.detail["analytes"])
    assert len(coverage.detail["wells"]) == 93  # 89 patients, 4 controls
    reasons = " | ".join(qc.decision.reasons)
    assert "Cit not measured in" in reasons and "the file looks cut short" in reasons
    assert "45 of the 48 analytes" in reasons and "Xle" in reasons


def test_a_long_csv_cut_at_a_line_end_is_rejected(simulated, tmp_path) -> None:
    data = _file(simulated, tmp_path, "csv-long")
    lines = data.split(b"\n")
    qc = _qc(b"\n".join(lines[:1000]) + b"\n", "trunc.csv", profile="generic_long")
    assert qc.decision.status == "reject"
    assert any("the last well of the file, A11," in r for r in qc.decision.reasons)


@pytest.fixture(scope="module")
def long_csv_lines(simulated, tmp_path_factory) -> list[bytes]:
    return _file(simulated, tmp_path_factory.mktemp("long"), "csv-long").split(b"\n")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=200, max_value=9000))
def test_a_long_csv_cut_anywhere_inside_a_well_is_never_accepted(long_csv_lines, cut) -> None:
    lines = long_csv_lines
    header, rows = lines[0], lines[1:cut]
    next_row = lines[cut]
    if rows[-1].split(b",")[1] != next_row.split(b",")[1]:
        return  # cut exactly between two wells: the file is a smaller, complete plate
    data = b"\n".join([header, *rows]) + b"\n"
    try:
        qc = _qc(data, "trunc.csv", profile="generic_long")
    except InstrumentError:
        return  # unreadable is refused too
    assert qc.decision.status == "reject"


@pytest.mark.parametrize("fmt", ["quandata", "csv-wide"])
def test_other_formats_cut_short_are_refused(simulated, tmp_path, fmt) -> None:
    data = _file(simulated, tmp_path, fmt)
    for cut in (20000, len(data) // 2, len(data) - 50):
        try:
            qc = _qc(data[:cut], f"trunc{suffix(fmt)}")
        except InstrumentError:
            continue
        assert qc.decision.status == "reject", (fmt, cut)


def test_an_mzml_plate_missing_its_last_wells_or_cut_short_is_refused(simulated, tmp_path):
    data = _file(simulated, tmp_path, "mzml")
    with pytest.raises(InstrumentError):
        _qc(data[: len(data) // 2], "trunc.zip")
    # a zip that lost part of one well's file: re-pack the members, the last one cut
    source = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(n for n in source.namelist() if n.endswith(".mzML"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in names[:-1]:
            target.writestr(name, source.read(name))
        last = source.read(names[-1])
        target.writestr(names[-1], last[: len(last) // 2])
    with pytest.raises(InstrumentError):
        _qc(buffer.getvalue(), "repacked.zip")
