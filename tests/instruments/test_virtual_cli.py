"""End to end through the command line: ``nbs simulate plate`` then ``nbs quantify``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lims.cli import app
from msms.qc.controls import CONTROL_LOTS_TOML
from msms.tables import COVARIATE_COLUMNS

runner = CliRunner()
SEED = 21


def nbs(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plate")
    result = nbs("simulate", "plate", "--format", "csv-wide", "--seed", SEED, "--out",
                 folder / "plate.csv", "--truth", folder / "truth.csv", "--cards",
                 folder / "cards.csv", "--plate-id", "P-21")
    assert result.exit_code == 0, result.output
    return folder


def _errors(profiles: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    patients = truth[truth["sample_type"] == "patient"].set_index("sample_id")
    codes = [c for c in patients.columns if c in profiles.columns]
    got = profiles.set_index("specimen_id").loc[patients.index, codes].to_numpy(float)
    want = patients[codes].to_numpy(float)
    return np.abs(got - want) / want


def test_simulate_then_quantify(simulated: Path) -> None:
    out = simulated / "profiles.csv"
    result = nbs("quantify", simulated / "plate.csv", "--format", "delimited", "--profile",
                 "generic_wide", "--card-data", simulated / "cards.csv", "--out", out,
                 "--qc-report", simulated / "qc.json", "--concentrations",
                 simulated / "conc.csv")
    assert result.exit_code == 0, result.output
    profiles = pd.read_csv(out, dtype={"specimen_id": str})
    truth = pd.read_csv(simulated / "truth.csv", dtype={"sample_id": str})
    assert list(profiles.columns[:7]) == ["specimen_id", *COVARIATE_COLUMNS]
    assert len(profiles) == 89 and profiles.shape[1] == 7 + 48 + 3
    cards = pd.read_csv(simulated / "cards.csv", dtype={"specimen_id": str})
    joined = profiles.merge(cards, on="specimen_id", suffixes=("", "_card"))
    assert (joined["birth_weight_g"] == joined["birth_weight_g_card"]).all()
    assert np.median(_errors(profiles, truth)) < 0.05
    report = json.loads((simulated / "qc.json").read_text(encoding="utf-8"))
    assert report["decision"]["status"] in ("accept", "accept_with_warnings")
    assert report["plate_id"] == "P-21"
    assert report["format"] == "delimited"
    assert [s["step"] for s in report["steps"]][-1] == "westgard"
    assert len(report["control_values"]) == 4 * 48
    conc = pd.read_csv(simulated / "conc.csv")
    assert len(conc) == 96 * 48 and set(conc["sample_type"]) == {"blank", "qc_low", "qc_high",
                                                                 "patient"}


def test_the_same_seed_writes_the_same_file(simulated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.csv"
    assert nbs("simulate", "plate", "--format", "csv-wide", "--seed", SEED, "--out", again,
               "--plate-id", "P-21").exit_code == 0
    assert again.read_bytes() == (simulated / "plate.csv").read_bytes()


def test_a_plate_failing_westgard_exits_3_without_profiles(simulated: Path,
                                                           tmp_path: Path) -> None:
    # a lot file whose low-level Phe target sits far below what the plate reads: 1-3s
    lots = tmp_path / "lots.toml"
    lots.write_text(CONTROL_LOTS_TOML.read_text(encoding="utf-8").replace(
        "Phe = { mean_umol_l = 52.0, sd_umol_l = 3.6 }",
        "Phe = { mean_umol_l = 30.0, sd_umol_l = 3.6 }"), encoding="utf-8")
    out = tmp_path / "profiles.csv"
    result = nbs("quantify", simulated / "plate.csv", "--format", "delimited", "--profile",
                 "generic_wide", "--control-lots", lots, "--out", out, "--qc-report",
                 tmp_path / "qc.json")
    assert result.exit_code == 3
    assert "Phe 1-3s (lot VQC-L-2501)" in result.output
    assert "no profiles written" in result.output
    assert not out.exists()
    report = json.loads((tmp_path / "qc.json").read_text(encoding="utf-8"))
    assert report["decision"]["status"] == "reject"


def test_control_history_is_used(simulated: Path, tmp_path: Path) -> None:
    report = tmp_path / "qc.json"
    history = tmp_path / "history.csv"
    rows = [("RUN-OLD-1", "VQC-L-2501", "Phe", 52.1, "2025-01-01T08:00:00"),
            ("RUN-OLD-2", "VQC-L-2501", "Phe", 51.0, "2025-01-02T08:00:00")]
    pd.DataFrame(rows, columns=["run_id", "lot", "analyte", "conc_umol_l", "acquired_at"]) \
        .to_csv(history, index=False)
    result = nbs("quantify", simulated / "plate.csv", "--format", "delimited", "--profile",
                 "generic_wide", "--control-history", history, "--out",
                 tmp_path / "p.csv", "--qc-report", report)
    assert result.exit_code == 0, result.output
    westgard = json.loads(report.read_text(encoding="utf-8"))["steps"][-1]
    assert westgard["counts"]["history_values_used"] == 2


def test_bad_inputs_exit_3_naming_file_line_and_field(simulated: Path, tmp_path: Path) -> None:
    cards = tmp_path / "cards.csv"
    text = (simulated / "cards.csv").read_text(encoding="utf-8").splitlines()
    fields = text[2].split(",")
    fields[4] = "X"  # sex
    text[2] = ",".join(fields)
    cards.write_text("\n".join(text) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "lims.cli", "quantify", str(simulated / "plate.csv"),
         "--format", "delimited", "--profile", "generic_wide", "--card-data", str(cards),
         "--out", str(tmp_path / "p.csv")],
        capture_output=True, text=True, check=False)
    assert proc.returncode == 3, proc.stderr
    assert f"{cards}:3, field 'sex'" in proc.stderr
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("fmt", ["csv-long", "csv-wide"])
def test_delimited_plates_quantify_with_format_auto(fmt: str, tmp_path: Path) -> None:
    plate, truth = tmp_path / "x.csv", tmp_path / "truth.csv"
    assert nbs("simulate", "plate", "--format", fmt, "--seed", 5, "--out", plate,
               "--truth", truth).exit_code == 0
    out = tmp_path / "p.csv"
    result = nbs("quantify", plate, "--out", out)  # neither --format nor --profile
    assert result.exit_code == 0, result.output
    profiles = pd.read_csv(out, dtype={"specimen_id": str})
    assert len(profiles) == 89
    assert np.median(_errors(profiles, pd.read_csv(truth, dtype={"sample_id": str}))) < 0.05


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", "plate", "--format", "pdf", "--seed", "1",
                                 "--out", str(tmp_path / "x")])
    assert result.exit_code == 2
    result = runner.invoke(app, ["quantify", str(tmp_path / "x"), "--out",
                                 str(tmp_path / "p.csv"), "--prefer", "both"])
    assert result.exit_code == 2


@pytest.mark.slow
def test_an_mzml_plate_through_the_command_line(tmp_path: Path) -> None:
    plate, truth = tmp_path / "plate.zip", tmp_path / "truth.csv"
    assert nbs("simulate", "plate", "--format", "mzml", "--seed", 4, "--out", plate,
               "--truth", truth).exit_code == 0
    out = tmp_path / "profiles.csv"
    result = nbs("quantify", plate, "--out", out)  # format detected; transitions from the method
    assert result.exit_code == 0, result.output
    profiles = pd.read_csv(out, dtype={"specimen_id": str})
    assert np.median(_errors(profiles, pd.read_csv(truth, dtype={"sample_id": str}))) < 0.05
