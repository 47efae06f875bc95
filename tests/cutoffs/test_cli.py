"""``nbs cutoffs derive|show`` and ``nbs evaluate`` end to end, as a laboratory uses them."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cutoffs.errors import CutoffError
from cutoffs.evaluate import CALL_COLUMNS
from cutoffs.rules import default_rules
from cutoffs.tables import read_cutoff_table
from lims.cli import app
from msms.population import simulate_cohort, split_truth

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    population, truth = split_truth(simulate_cohort(4000, seed=21))
    population = population[truth["true_disorder"].eq("").to_numpy()]
    population.to_csv(root / "population.csv", index=False)
    cohort, truth = split_truth(simulate_cohort(300, seed=22, disorder_rate=0.2))
    cohort.to_csv(root / "profiles.csv", index=False)
    truth.to_csv(root / "truth.csv", index=False)
    return root


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_derive_show_evaluate(files):
    table_path = files / "cutoffs.toml"
    output = _ok("cutoffs", "derive", str(files / "population.csv"), "--out", str(table_path),
                 "--min-stratum-n", "500", "--bootstrap", "50", "--version", "lab-cli-1")
    assert "version lab-cli-1" in output
    table = read_cutoff_table(table_path)
    assert table.version == "lab-cli-1" and table.derived_from["file"] == "population.csv"
    assert table.min_stratum_n == 500 and table.upper_percentile == 99.5

    shown = _ok("cutoffs", "show", str(table_path), "--marker", "Phe", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(shown.split("\n", 1)[1] if shown.startswith("#")
                                           else shown)))
    assert rows and {r["marker"] for r in rows} == {"Phe"}
    assert rows[0]["stratum"] == "all" and float(rows[0]["upper"]) > float(rows[0]["median"])

    calls_path = files / "calls.csv"
    output = _ok("evaluate", str(files / "profiles.csv"), "--out", str(calls_path), "--cutoffs",
                 str(table_path), "--scores", str(files / "scores.csv"))
    assert "300 profiles x 46 disorders" in output
    with calls_path.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == list(CALL_COLUMNS)
    calls = pd.read_csv(calls_path, dtype=str, keep_default_na=False)
    assert len(calls) > 0 and (calls["first_tier"] != "normal").all()
    assert set(calls["time_critical"]) <= {"true", "false"}
    assert calls["cutoff_version"].str.endswith("+lab-cli-1").all()
    assert calls["second_tier_probability"].eq("").all() and calls["model_version"].eq("").all()
    scores = pd.read_csv(files / "scores.csv")
    assert set(scores["specimen_id"]) == set(calls["specimen_id"])


def test_evaluate_all_pairs_with_literature_levels(files):
    out = files / "all.csv"
    _ok("evaluate", str(files / "profiles.csv"), "--out", str(out), "--all")
    calls = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(calls) == 300 * len(default_rules())
    assert calls["cutoff_version"].eq(default_rules().rule("PKU").version).all()
    assert {"normal", "negative", "none"} <= set(calls["first_tier"]) | set(calls["final"]) | set(
        calls["action"])


def test_show_literature_levels():
    output = _ok("cutoffs", "show", "--disorder", "PKU", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(output)))
    assert [(r["marker"], r["positive"]) for r in rows] == [("Phe", "150"), ("Phe/Tyr", "1.7")]


def test_rejected_input_names_file_line_and_field(files):
    bad = files / "bad.csv"
    frame = pd.read_csv(files / "profiles.csv").head(5)
    frame["C8"] = frame["C8"].astype(object)
    frame.loc[3, "C8"] = "high"
    frame.to_csv(bad, index=False)
    result = runner.invoke(app, ["evaluate", str(bad), "--out", str(files / "x.csv")])
    assert isinstance(result.exception, CutoffError)
    assert (result.exception.file, result.exception.line, result.exception.field) == (
        str(bad), 5, "C8")
    assert not (files / "x.csv").exists()  # nothing partial written


@pytest.mark.parametrize(("old", "new", "message"), [
    ("C3", "C3x", "did you mean C3?"),
    ("Phe", "phe", "names the analyte Phe another way"),
    ("C5DC+C6OH", "C05DC", "names the analyte C5DC+C6OH another way"),
    ("birth_weight_g", "birthweight", "did you mean birth_weight_g?"),
    ("gestational_age_weeks", "Gestational Age (weeks)", "did you mean gestational_age_weeks?"),
    ("age_at_collection_hours", "age_at_collection_h", "did you mean age_at_collection_hours?"),
])
@pytest.mark.parametrize("command", [["evaluate"], ["cutoffs", "derive"]])
def test_a_misnamed_analyte_or_covariate_column_is_refused_naming_it(
        files, tmp_path: Path, old, new, message, command):
    """A typo or a vendor alias in the header would leave every specimen's disorders that read
    the analyte not evaluable (or the table without its cutoffs) without a word; a covariate
    named another way would be ignored, every specimen evaluated as if it were unknown."""
    source = "profiles.csv" if command == ["evaluate"] else "population.csv"
    bad = tmp_path / "misnamed.csv"
    pd.read_csv(files / source).rename(columns={old: new}).to_csv(bad, index=False)
    result = runner.invoke(app, [*command, str(bad), "--out", str(tmp_path / "out.csv")])
    assert isinstance(result.exception, CutoffError), result.output
    assert (result.exception.file, result.exception.line, result.exception.field) == (
        str(bad), 1, new)
    assert message in str(result.exception)
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_analyte_column_is_named_and_other_columns_are_carried(files, tmp_path: Path):
    partial = tmp_path / "partial.csv"
    frame = pd.read_csv(files / "profiles.csv").drop(columns=["Phe"])
    frame["citation"] = "a published case"  # an extra column: carried, not an error
    frame.to_csv(partial, index=False)
    result = runner.invoke(app, ["evaluate", str(partial), "--out", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    assert "has no column for Phe: the disorders that read them are not evaluable" in (
        result.output)


def test_a_missing_covariate_column_is_named(files, tmp_path: Path):
    partial = tmp_path / "nocov.csv"
    pd.read_csv(files / "profiles.csv").drop(columns=["birth_weight_g", "tpn"]).to_csv(
        partial, index=False)
    result = runner.invoke(app, ["evaluate", str(partial), "--out", str(tmp_path / "c.csv")])
    assert result.exit_code == 0, result.output
    assert ("has no column for birth_weight_g, tpn: the cutoffs' strata and the scores cannot "
            "take them into account") in result.output
    whole = runner.invoke(app, ["evaluate", str(files / "profiles.csv"), "--out",
                                str(tmp_path / "w.csv")])
    assert whole.exit_code == 0 and "strata and the scores" not in whole.output


def test_a_missing_reflex_calibration_is_said_before_the_profiles_are_read(files,
                                                                          tmp_path: Path):
    result = runner.invoke(app, ["evaluate", str(files / "profiles.csv"), "--reflex",
                                 str(tmp_path / "none.json"), "--out", str(tmp_path / "c.csv")])
    assert result.exit_code != 0
    assert "reading" not in result.output and "evaluating" not in result.output, result.output
    assert "none.json" in f"{result.output}{result.exception}"
    assert not (tmp_path / "c.csv").exists()


def test_a_file_cut_short_is_refused_naming_its_last_line(files, tmp_path: Path):
    text = (files / "profiles.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(lines[:40]) + "\n" + lines[40][: len(lines[40]) // 2],
                   encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(cut), "--out", str(tmp_path / "c.csv")])
    assert isinstance(result.exception, CutoffError), result.output
    assert (result.exception.file, result.exception.line) == (str(cut), 41)
    assert "fields (the file may be cut short)" in str(result.exception)
    assert not (tmp_path / "c.csv").exists()


@pytest.mark.slow
def test_exit_code_three_through_the_nbs_command(files):
    bad = files / "no_id.csv"
    bad.write_text("id,Phe\n1,50\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "lims.cli", "evaluate", str(bad), "--out",
                           str(files / "y.csv")], capture_output=True, text=True,
                          env={**os.environ}, timeout=120, check=False)
    assert done.returncode == 3
    assert f"{bad}:1, field 'specimen_id'" in done.stderr


def test_derive_rejects_a_too_small_population(files, tmp_path: Path):
    small = tmp_path / "small.csv"
    pd.read_csv(files / "population.csv").head(50).to_csv(small, index=False)
    result = runner.invoke(app, ["cutoffs", "derive", str(small), "--out",
                                 str(tmp_path / "c.toml")])
    assert isinstance(result.exception, CutoffError)
    assert result.exception.field == "min_stratum_n"
    assert not (tmp_path / "c.toml").exists()


def test_derive_with_a_target_flag_rate_then_evaluate_parquet(files):
    table_path = files / "scored.toml"
    cases = files / "cases.csv"
    cohort = pd.read_csv(files / "profiles.csv", dtype={"specimen_id": str})
    truth = pd.read_csv(files / "truth.csv", dtype={"specimen_id": str}, keep_default_na=False)
    mcad = cohort[truth["true_disorder"].eq("MCAD").to_numpy()].assign(disorder="MCAD")
    mcad.to_csv(cases, index=False)
    result = runner.invoke(app, ["cutoffs", "derive", str(files / "population.csv"), "--out",
                                 str(table_path), "--min-stratum-n", "500", "--bootstrap", "0",
                                 "--target-flag-rate", "0.02", "--disorder-target",
                                 "XALD=0.004", "--cases", str(cases)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "expected on the derivation population" in result.output
    xald = next(line.split() for line in result.output.splitlines() if line.startswith("XALD "))
    assert 0.2 < float(xald[3]) < 0.6  # flagged % of the derivation population
    table = read_cutoff_table(table_path)
    assert table.scores is not None and table.scores.disorders["XALD"].tail_share == 0.004
    if len(mcad):
        assert table.scores.disorders["MCAD"].floor_source.startswith("confirmed cases")

    parquet_in = files / "profiles.parquet"
    cohort.to_parquet(parquet_in, index=False)
    _ok("evaluate", str(parquet_in), "--out", str(files / "calls.parquet"), "--cutoffs",
        str(table_path))
    _ok("evaluate", str(files / "profiles.csv"), "--out", str(files / "calls2.csv"), "--cutoffs",
        str(table_path))
    from_parquet = pd.read_parquet(files / "calls.parquet")
    from_csv = pd.read_csv(files / "calls2.csv", dtype={"specimen_id": str})
    assert list(from_parquet.columns) == list(CALL_COLUMNS)
    assert from_parquet.time_critical.dtype == bool
    assert from_parquet.specimen_id.tolist() == from_csv.specimen_id.tolist()
    assert from_parquet.reasons.tolist() == from_csv.reasons.tolist()
    assert from_parquet.score.to_numpy() == pytest.approx(from_csv.score.to_numpy(), rel=1e-5,
                                                          nan_ok=True)


def test_bad_disorder_target_and_parquet_without_specimen_id_are_refused(files):
    result = runner.invoke(app, ["cutoffs", "derive", str(files / "population.csv"), "--out",
                                 str(files / "x.toml"), "--min-stratum-n", "500",
                                 "--bootstrap", "0", "--target-flag-rate", "0.02",
                                 "--disorder-target", "NOPE=0.1"])
    assert isinstance(result.exception, CutoffError)
    assert result.exception.field == "--disorder-target" and "NOPE" in str(result.exception)
    assert not (files / "x.toml").exists()
    bad = files / "bad.parquet"
    pd.DataFrame({"Phe": [50.0]}).to_parquet(bad)
    result = runner.invoke(app, ["evaluate", str(bad), "--out", str(files / "y.csv")])
    assert isinstance(result.exception, CutoffError)
    assert result.exception.field == "specimen_id" and result.exception.file == str(bad)


def test_tables_derived_with_other_settings_get_other_versions(files, tmp_path: Path):
    """The default version names the population and the settings: calls made with a table
    with disorder scores and one without never carry the same cutoff version."""
    def version(name: str, *extra: str) -> str:
        _ok("cutoffs", "derive", str(files / "population.csv"), "--out", str(tmp_path / name),
            "--min-stratum-n", "500", "--bootstrap", "0", *extra)
        return read_cutoff_table(tmp_path / name).version

    plain, again = version("a.toml"), version("b.toml")
    other = version("c.toml", "--upper-percentile", "99.0")
    assert plain == again and plain.startswith("lab-") and len(plain) == 16
    assert other != plain
