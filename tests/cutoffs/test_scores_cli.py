"""Scores against the covariate model and a table, and ``nbs cutoffs show``, through the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cutoffs.covariate_model import default_covariate_model, load_covariate_model
from lims.cli import app
from msms.population import simulate_cohort, split_truth

runner = CliRunner()
MODEL_NAME = f"covariate model {default_covariate_model().version} (population-model estimates)"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("scores-cli")
    cohort, _ = split_truth(simulate_cohort(400, seed=31, disorder_rate=0.2))
    cohort.to_csv(root / "small.csv", index=False)
    population, truth = split_truth(simulate_cohort(3000, seed=32))
    population[truth["true_disorder"].eq("").to_numpy()].to_csv(root / "population.csv",
                                                                index=False)
    return root


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_scores_without_a_table_use_the_covariate_model(files):
    _ok("evaluate", str(files / "small.csv"), "--out", str(files / "calls.csv"), "--scores",
        str(files / "scores.csv"))
    scores = pd.read_csv(files / "scores.csv", keep_default_na=False)
    assert scores["reference"].eq(MODEL_NAME).all()
    assert scores["stratum"].str.startswith("BW=").all()
    assert not scores["stratum"].eq("all").any()
    ratios = scores[scores["marker"].str.contains("/", regex=False)]
    assert {"Phe/Tyr", "C8/C10", "C3/C2"} <= set(ratios["marker"])
    assert (ratios["percentile"] != "").all()
    calls = pd.read_csv(files / "calls.csv", keep_default_na=False)
    assert set(scores["specimen_id"]) == set(calls["specimen_id"])


def test_scores_with_a_table_keep_the_table_first(files):
    table = files / "cutoffs.toml"
    _ok("cutoffs", "derive", str(files / "population.csv"), "--out", str(table),
        "--min-stratum-n", "1000", "--bootstrap", "0", "--version", "lab-s-1")
    _ok("evaluate", str(files / "small.csv"), "--out", str(files / "calls2.csv"), "--cutoffs",
        str(table), "--scores", str(files / "scores2.csv"))
    scores = pd.read_csv(files / "scores2.csv", keep_default_na=False)
    assert scores["reference"].eq("cutoffs lab-s-1").all()
    assert scores["reference_n"].astype(int).ge(1000).all()


def test_show_prints_what_a_table_was_derived_from_readably(files):
    table = files / "shown.toml"
    _ok("cutoffs", "derive", str(files / "population.csv"), "--out", str(table),
        "--min-stratum-n", "1000", "--bootstrap", "0", "--version", "lab-show-1")
    output = _ok("cutoffs", "show", str(table), "--marker", "Phe")
    header = next(line for line in output.splitlines() if line.startswith("#"))
    assert "{" not in header and "'" not in header
    n = len(pd.read_csv(files / "population.csv"))
    assert f"derived from population.csv ({n:,} babies, SHA-256 " in header
    assert "version lab-show-1; percentiles 0.5 / 99.5" in header and "created 20" in header


def test_the_covariate_model_command_regenerates_a_model(tmp_path: Path):
    out = tmp_path / "model.toml"
    output = _ok("cutoffs", "covariate-model", "--out", str(out), "--n", "10000", "--seed", "3")
    model = load_covariate_model(out)
    assert f"version {model.version} -> {out}" in output
    assert model.provenance["generator"] == "nbs cutoffs covariate-model --n 10000 --seed 3"
    assert {"Phe", "Phe/Tyr", "C8/C10"} <= set(model.markers)
