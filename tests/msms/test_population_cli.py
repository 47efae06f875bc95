"""``nbs simulate cohort`` end to end: files, truth split, determinism, usage errors."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lims.cli import app
from lims.cli.simulate import write_csv
from msms.catalogue import ANALYTES_CSV, default_catalogue
from msms.population import SIMULATED_DISORDERS, TRUTH_COLUMNS, simulate_cohort
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

CODES = list(default_catalogue().codes)
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["simulate", "cohort", *args])
    return result.exit_code, result.output


def test_cohort_with_truth_file(tmp_path: Path) -> None:
    out, truth = tmp_path / "profiles.csv", tmp_path / "truth.csv"
    code, output = _run("--n", "3000", "--seed", "5", "--out", str(out), "--truth", str(truth),
                        "--disorder-rate", "0.1")
    assert code == 0, output
    with out.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == [PROFILE_ID, *COVARIATE_COLUMNS, *CODES]
    profiles = pd.read_csv(out)
    truth_table = pd.read_csv(truth, keep_default_na=False)
    assert list(truth_table.columns) == [PROFILE_ID, *TRUTH_COLUMNS]
    assert len(profiles) == len(truth_table) == 3000
    assert (profiles[PROFILE_ID] == truth_table[PROFILE_ID]).all()
    affected = truth_table[truth_table["true_disorder"] != ""]
    assert 200 < len(affected) < 400
    assert set(affected["true_disorder"]) <= set(SIMULATED_DISORDERS)
    assert set(affected["severity"]) <= {"mild", "moderate", "severe"}


def test_without_truth_the_profiles_hold_only_the_contract_columns(tmp_path: Path) -> None:
    out = tmp_path / "profiles.csv"
    code, output = _run("--n", "200", "--seed", "1", "--out", str(out))
    assert code == 0, output
    assert list(pd.read_csv(out).columns) == [PROFILE_ID, *COVARIATE_COLUMNS, *CODES]


def test_same_seed_same_bytes_different_seed_different(tmp_path: Path) -> None:
    files = []
    for name, seed in (("a", "11"), ("b", "11"), ("c", "12")):
        path = tmp_path / f"{name}.csv"
        assert _run("--n", "1500", "--seed", seed, "--out", str(path))[0] == 0
        files.append(path.read_bytes())
    assert files[0] == files[1]
    assert files[0] != files[2]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    out = str(tmp_path / "p.csv")
    assert _run("--n", "10", "--out", out)[0] == 2  # no seed
    assert _run("--n", "-1", "--seed", "1", "--out", out)[0] == 2
    assert _run("--n", "10", "--seed", "1", "--out", out, "--disorder-rate", "2")[0] == 2


@pytest.mark.slow
def test_the_nbs_script_reports_progress_and_rejects_unwritable_output(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("nbs")
    ok = subprocess.run([str(script), "simulate", "cohort", "--n", "60000", "--seed", "3",
                         "--out", str(tmp_path / "big.csv")],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "simulated 50,000 / 60,000 babies" in ok.stderr
    assert "simulated 60,000 / 60,000 babies" in ok.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    bad = subprocess.run([str(script), "simulate", "cohort", "--n", "10", "--seed", "3",
                          "--out", str(blocker / "p.csv")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 3
    assert "p.csv" in bad.stderr


@pytest.mark.slow
def test_a_configured_catalogue_sets_the_population_figures(tmp_path: Path) -> None:
    """With NBS_ANALYTES_CSV the simulation calibrates to the laboratory's own figures."""
    source = default_catalogue()
    rows = list(csv.reader(ANALYTES_CSV.read_text(encoding="utf-8").splitlines()))
    header = rows[0]
    code_i, median_i = header.index("code"), header.index("pop_median_umol_l")
    for row in rows[1:]:
        if row[code_i] == "Phe":
            row[median_i] = "70.0"
    own = tmp_path / "analytes.csv"
    with own.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    out = tmp_path / "p.csv"
    env = {**os.environ, "NBS_ANALYTES_CSV": str(own)}
    script = Path(sys.executable).with_name("nbs")
    done = subprocess.run([str(script), "simulate", "cohort", "--n", "20000", "--seed", "1",
                           "--out", str(out)], capture_output=True, text=True, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    median = pd.read_csv(out)["Phe"].median()
    assert abs(median / 70.0 - 1) < 0.03
    assert source.analyte("Phe").pop_median_umol_l == 52.0
    # a catalogue without an analyte the parameters use is rejected, naming file and key
    # (C8:1: no disorder names it, so the disorder catalogue still loads)
    broken = tmp_path / "broken.csv"
    with broken.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(r for r in rows if r[code_i] != "C8:1")
    env["NBS_ANALYTES_CSV"] = str(broken)
    bad = subprocess.run([str(script), "simulate", "cohort", "--n", "10", "--seed", "1",
                          "--out", str(out)], capture_output=True, text=True, env=env,
                         check=False)
    assert bad.returncode == 3
    assert re.search(r"effects\.toml:\d+, field 'effect\[\d+\]\.analytes'", bad.stderr)
    assert "unknown analyte code 'C8:1'" in bad.stderr



def test_fast_csv_writer_matches_pandas(tmp_path: Path) -> None:
    frame = simulate_cohort(2_000, seed=6, disorder_rate=0.1)
    frame.loc[3, "Phe"] = float("nan")
    frame.loc[4, "birth_weight_g"] = pd.NA
    frame.loc[5, "fp_mechanism"] = 'odd, "quoted"\nname'
    ours = tmp_path / "ours.csv"
    write_csv(frame, ours)
    expected = frame.to_csv(index=False, lineterminator="\n")
    assert ours.read_text(encoding="utf-8") == expected


def test_disorder_rate_1_affects_every_baby(tmp_path: Path) -> None:
    """Every one of 1,000 babies is affected at --disorder-rate 1 (X-ALD's boys-only share
    does not leave girls unaffected), and the same seed still gives the same bytes."""
    out, truth = tmp_path / "p.csv", tmp_path / "t.csv"
    args = ["simulate", "cohort", "--n", "1000", "--seed", "3", "--disorder-rate", "1",
            "--out", str(out), "--truth", str(truth)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(truth, keep_default_na=False)
    assert len(frame) == 1000 and (frame["true_disorder"] != "").all()
    first = out.read_bytes(), truth.read_bytes()
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (out.read_bytes(), truth.read_bytes()) == first
