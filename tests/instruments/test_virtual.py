"""The virtual instrument: plates that read back, in every format, to the simulated truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instruments.errors import InstrumentError
from instruments.transitions import from_method
from instruments.virtual import (
    PLATE_FORMATS,
    TRUTH_COLUMNS,
    InstrumentModel,
    SimulatedPlate,
    plate_layout,
    read_plate,
    simulate_plate,
    suffix,
    write_plate,
)
from msms.methods import default_method, load_method
from msms.qc.controls import default_control_lots
from msms.qc.plate import check_plate
from msms.quantify import quantify
from msms.tables import COVARIATE_COLUMNS

SEED = 11


@pytest.fixture(scope="module")
def plate() -> SimulatedPlate:
    return simulate_plate(seed=SEED)


def relative_errors(plate: SimulatedPlate, profiles: pd.DataFrame) -> np.ndarray:
    """|quantified - truth| / truth over every patient and analyte."""
    truth = plate.truth[plate.truth["sample_type"] == "patient"].set_index("sample_id")
    codes = list(plate.method.codes)
    measured = profiles.set_index("specimen_id").loc[truth.index, codes].to_numpy(float)
    expected = truth[codes].to_numpy(float)
    return (np.abs(measured - expected) / expected).ravel()


# ---- the plate ------------------------------------------------------------------------------


def test_layout_has_blanks_controls_and_patients_in_injection_order() -> None:
    layout = plate_layout()
    assert len(layout) == 96
    assert layout["well"].tolist()[:3] == ["A01", "A02", "A03"]
    assert layout["well"].tolist()[12] == "B01"
    counts = layout["sample_type"].value_counts().to_dict()
    assert counts == {"patient": 89, "blank": 3, "qc_low": 2, "qc_high": 2}
    assert layout.set_index("well").loc["A04", "sample_type"] == "blank"  # after the high control


def test_the_run_follows_the_measurement_contract(plate: SimulatedPlate) -> None:
    m = plate.run.measurements
    assert set(m["kind"]) == {"area", "is_area"}
    assert len(m) == 96 * 48 * 2
    assert m["well"].nunique() == 96
    assert (m["value"] >= 0).all() and m["value"].notna().all()
    assert plate.run.metadata["method"].startswith("nonderivatized")
    assert plate.run.plate_id == f"VP{SEED:06d}"
    # analytes sharing an internal standard see the same IS signal in a well
    is_rows = m[(m["kind"] == "is_area") & (m["well"] == "C05")].set_index("analyte")["value"]
    assert is_rows["C8"] == is_rows["C10"] == is_rows["C6"]
    assert is_rows["C8"] != is_rows["C16"]


def test_truth_holds_cohort_values_lot_targets_and_zero_blanks(plate: SimulatedPlate) -> None:
    truth = plate.truth.set_index("well")
    assert list(plate.truth.columns[:4]) == list(TRUTH_COLUMNS)
    low = default_control_lots().lots["VQC-L-2501"].targets
    assert truth.loc["A02", "Phe"] == low["Phe"].mean_umol_l
    assert truth.loc["H10", "lot"] == "VQC-L-2501"
    assert truth.loc["A03", "sample_id"] == "VQC-H-2501"
    assert (truth.loc[["A01", "A04", "H12"], list(plate.method.codes)] == 0).all().all()
    patients = plate.truth[plate.truth["sample_type"] == "patient"]
    assert patients["sample_id"].is_unique and len(patients) == 89
    assert set(plate.cards.columns) == {"specimen_id", *COVARIATE_COLUMNS}
    assert plate.cards["specimen_id"].tolist() == patients["sample_id"].tolist()


def test_the_same_seed_gives_the_same_plate(plate: SimulatedPlate) -> None:
    again = simulate_plate(seed=SEED)
    pd.testing.assert_frame_equal(plate.run.measurements, again.run.measurements)
    other = simulate_plate(seed=SEED + 1, cohort=None)
    assert not np.allclose(other.run.measurements["value"], plate.run.measurements["value"])


def test_the_same_seed_writes_the_same_bytes(plate: SimulatedPlate, tmp_path: Path) -> None:
    write_plate(plate, tmp_path / "a.csv", format="csv-wide")
    write_plate(simulate_plate(seed=SEED), tmp_path / "b.csv", format="csv-wide")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# ---- quantified values match the truth --------------------------------------------------------


def test_in_memory_plate_quantifies_to_the_truth(plate: SimulatedPlate) -> None:
    result = quantify(plate.run.measurements, plate.method)
    errors = relative_errors(plate, result.profiles)
    assert np.median(errors) < 0.05
    assert np.percentile(errors, 99) < 0.25
    # the noise is real: values are not copied through
    assert np.median(errors) > 0.005
    qc = check_plate(result)
    assert qc.decision.status in ("accept", "accept_with_warnings")
    assert not qc.decision.reasons


def _round_trip(plate: SimulatedPlate, fmt: str, tmp_path: Path) -> None:
    dest = tmp_path / f"plate{suffix(fmt)}"
    write_plate(plate, dest, format=fmt)
    run = read_plate(dest, format=fmt, method=plate.method)
    assert not [i for i in run.issues if i.severity == "error"]
    # the plate keeps its identity (the LIMS detects conflicting uploads by plate id)
    assert run.plate_id == plate.run.plate_id
    assert set(run.measurements["plate_id"]) == {plate.run.plate_id}
    # the file carries the simulated intensities
    keys = ["well", "analyte", "kind"]
    back = run.measurements.set_index(keys)["value"].sort_index()
    sent = plate.run.measurements.set_index(keys)["value"].sort_index()
    assert back.index.equals(sent.index)
    np.testing.assert_allclose(back.to_numpy(), sent.to_numpy(), rtol=1e-9)
    result = quantify(run.measurements, plate.method)
    errors = relative_errors(plate, result.profiles)
    assert np.median(errors) < 0.05, f"{fmt}: median relative error {np.median(errors):.3f}"
    assert check_plate(result).decision.status != "reject"


FAST_FORMATS = [f for f in PLATE_FORMATS if f != "mzml"]


@pytest.mark.parametrize("fmt", FAST_FORMATS)
def test_every_format_reads_back_to_the_truth(plate: SimulatedPlate, fmt: str,
                                             tmp_path: Path) -> None:
    _round_trip(plate, fmt, tmp_path)


@pytest.mark.slow
def test_mzml_plate_reads_back_to_the_truth(plate: SimulatedPlate, tmp_path: Path) -> None:
    _round_trip(plate, "mzml", tmp_path)


def test_a_butylated_plate_reads_back_to_the_truth(tmp_path: Path) -> None:
    method = load_method("butylated")
    plate = simulate_plate(seed=5, method=method)
    assert plate.run.metadata["method"].startswith("butylated")
    _round_trip(plate, "quandata", tmp_path)


def test_method_transitions_for_mzml_are_resolvable() -> None:
    table = from_method(default_method())
    table.check_resolvable(0.3)
    d3c8 = next(t for t in table.transitions if t.name == "D3-C8")
    assert d3c8.role == "is" and {"C6", "C8", "C10"} <= set(d3c8.analytes)
    assert table.analyte("Phe").precursor_mz == 166.086


# ---- faults for QC ---------------------------------------------------------------------------


def test_a_failed_is_spike_makes_the_well_not_reportable() -> None:
    plate = simulate_plate(seed=SEED, is_failures={"C07": 0.1})
    result = quantify(plate.run.measurements, plate.method)
    specimen = plate.truth.set_index("well").loc["C07", "sample_id"]
    row = result.profiles.set_index("specimen_id").loc[specimen]
    assert row[list(plate.method.codes)].isna().all()
    assert "internal standard low" in row["not_reportable"]
    qc = check_plate(result)
    assert qc.decision.status == "accept_with_warnings"
    assert any("well C07" in w for w in qc.decision.warnings)


def test_a_control_shifted_beyond_3sd_rejects_the_plate() -> None:
    plate = simulate_plate(seed=SEED, control_shifts={"A02": {"C3": 4.0}})
    qc = check_plate(quantify(plate.run.measurements, plate.method))
    assert qc.decision.status == "reject"
    assert any("C3 1-3s (lot VQC-L-2501)" in r for r in qc.decision.reasons)


def test_a_control_shifted_by_2_5sd_only_warns() -> None:
    # without analytical noise the shifted control reads 2.5 SD off its target
    quiet = InstrumentModel(analyte_cv=0.0, is_cv=0.0)
    plate = simulate_plate(seed=SEED, model=quiet, control_shifts={"H11": {"C14OH": 2.5}})
    qc = check_plate(quantify(plate.run.measurements, plate.method))
    values = qc.control_values.set_index(["well", "analyte"])
    assert values.loc[("H11", "C14OH"), "z"] == pytest.approx(2.5, abs=0.05)
    assert qc.decision.status == "accept_with_warnings"
    assert qc.decision.reasons == ()
    assert len(qc.decision.warnings) == 1
    assert "C14OH 1-2s (lot VQC-H-2501)" in qc.decision.warnings[0]


def test_carryover_shows_in_the_blank_after_the_high_control(plate: SimulatedPlate) -> None:
    qc = check_plate(quantify(plate.run.measurements, plate.method))
    step = qc.report.step("carryover")
    assert step.counts["blank_after_sample_pairs"] == 2  # A03 -> A04 and H11 -> H12
    assert 0.01 < step.counts["median_carryover_percent"] < 0.5
    no_carry = simulate_plate(seed=SEED, model=InstrumentModel(carryover_fraction=0.0))
    step0 = check_plate(quantify(no_carry.run.measurements, no_carry.method)).report.step(
        "carryover")
    assert step0.counts["median_carryover_percent"] < step.counts["median_carryover_percent"]


def test_a_given_cohort_is_used(plate: SimulatedPlate) -> None:
    truth = plate.truth[plate.truth["sample_type"] == "patient"]
    cohort = plate.cards.merge(truth.drop(columns=["well", "sample_type", "lot"])
                               .rename(columns={"sample_id": "specimen_id"}), on="specimen_id")
    cohort["Phe"] = 1000.0
    again = simulate_plate(seed=3, cohort=cohort)
    patients = again.truth[again.truth["sample_type"] == "patient"]
    assert (patients["Phe"] == 1000.0).all()
    with pytest.raises(InstrumentError, match="needs 89"):
        simulate_plate(seed=3, cohort=cohort.iloc[:10])


def test_unknown_formats_and_bad_arguments() -> None:
    with pytest.raises(InstrumentError, match="unknown plate format"):
        suffix("pdf")
    with pytest.raises(InstrumentError, match="seed"):
        simulate_plate(seed=-1)
