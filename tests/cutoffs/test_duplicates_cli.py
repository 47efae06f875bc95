"""``nbs evaluate --stage duplicate_mean``: the two rows of each specimen are averaged (§6.4)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cutoffs.errors import CutoffError
from lims.cli import app
from tests.cutoffs.builders import profiles

runner = CliRunner()
COVARIATES = {"birth_weight_g": 3300, "gestational_age_weeks": 39.0,
              "age_at_collection_hours": 40.0, "sex": "M", "tpn": 0, "transfused": 0}


def _duplicates(path: Path, first: list[dict[str, float]], second: list[dict[str, float]],
                *, interleave: bool = True) -> pd.DataFrame:
    a = profiles(*first, **COVARIATES)
    b = profiles(*second, **COVARIATES)
    a["well"], b["well"] = "A01", "A02"
    frame = pd.concat([a, b], ignore_index=True)
    if interleave:
        frame = frame.sort_values("specimen_id", kind="stable", ignore_index=True)
    frame.to_csv(path, index=False)
    return frame


def _evaluate(source: Path, out: Path, *extra: str) -> pd.DataFrame:
    result = runner.invoke(app, ["evaluate", str(source), "--out", str(out), "--stage",
                                 "duplicate_mean", *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    return pd.read_csv(out, keep_default_na=False)


def test_the_mean_of_the_duplicates_decides(tmp_path: Path):
    source = tmp_path / "duplicates.csv"
    # PKU: Phe 125 and 135 -> 130 (borderline); 300 and 280 -> 290 (positive); 140 and 80 ->
    # 110 (in range although the first duplicate alone is borderline)
    _duplicates(source, [{"Phe": 125.0}, {"Phe": 300.0}, {"Phe": 140.0}],
                [{"Phe": 135.0}, {"Phe": 280.0}, {"Phe": 80.0}])
    calls = _evaluate(source, tmp_path / "calls.csv", "--all", "--scores",
                      str(tmp_path / "scores.csv"))
    pku = calls[calls["disorder"] == "PKU"].set_index("specimen_id")
    assert len(pku) == 3 and len(calls) == 3 * calls["disorder"].nunique()  # one row each
    assert pku.loc["S001", "action"] == "request_repeat_specimen"
    assert pku.loc["S001", "reasons"].startswith("Phe=130>")
    assert pku.loc["S002", "action"] == "immediate_referral"
    assert pku.loc["S003", "first_tier"] == "normal"
    scores = pd.read_csv(tmp_path / "scores.csv")
    phe = scores[scores["marker"] == "Phe"].set_index("specimen_id")["value"]
    assert phe.to_dict() == {"S001": 130.0, "S002": 290.0, "S003": 110.0}


def test_one_row_per_specimen_is_already_the_mean(tmp_path: Path):
    source = tmp_path / "means.csv"
    profiles({"Phe": 130.0}, **COVARIATES).to_csv(source, index=False)
    calls = _evaluate(source, tmp_path / "calls.csv")
    assert calls.loc[calls["disorder"] == "PKU", "action"].tolist() == [
        "request_repeat_specimen"]


def test_a_missing_duplicate_value_leaves_the_marker_unread(tmp_path: Path):
    source = tmp_path / "duplicates.csv"
    _duplicates(source, [{"Phe": 300.0}], [{"Phe": float("nan")}])
    calls = _evaluate(source, tmp_path / "calls.csv")
    pku = calls[calls["disorder"] == "PKU"].iloc[0]
    assert pku["first_tier"] == "not_evaluable" and "Phe missing" in pku["reasons"]
    assert pku["action"] == "repeat_in_duplicate"


def _rejected(source: Path, tmp_path: Path) -> CutoffError:
    out = tmp_path / "rejected.csv"
    result = runner.invoke(app, ["evaluate", str(source), "--out", str(out), "--stage",
                                 "duplicate_mean"])
    assert isinstance(result.exception, CutoffError), result.output
    assert not out.exists()  # nothing partial written
    return result.exception


@pytest.mark.parametrize(("column", "value", "shown"), [
    ("birth_weight_g", 2100, "3300 on line 4, 2100 on line 5"),
    ("sex", "F", "M on line 4, F on line 5"),
    ("tpn", 1, "0 on line 4, 1 on line 5"),
    ("age_at_collection_hours", None, "40 on line 4, blank on line 5"),
    ("pivalate_exposure", 1, "0 on line 4, 1 on line 5"),  # an exclusion flag of the C5 rules
])
def test_duplicates_whose_covariates_disagree_are_rejected(tmp_path, column, value, shown):
    source = tmp_path / "duplicates.csv"
    frame = _duplicates(source, [{}, {}], [{}, {}])
    frame["pivalate_exposure"] = 0
    frame[column] = frame[column].astype(object)
    frame.loc[4 - 2 + 1, column] = value  # line 5: the second row of S002
    frame.to_csv(source, index=False)
    error = _rejected(source, tmp_path)
    assert (error.file, error.line, error.field) == (str(source), 4, column)
    assert f"specimen 'S002' disagree ({shown})" in str(error)


def test_a_specimen_without_its_second_duplicate_is_rejected(tmp_path: Path):
    source = tmp_path / "duplicates.csv"
    frame = _duplicates(source, [{}, {}], [{}])
    assert frame["specimen_id"].tolist() == ["S001", "S001", "S002"]
    error = _rejected(source, tmp_path)
    assert (error.file, error.line, error.field) == (str(source), 4, "specimen_id")
    assert "'S002' has 1 duplicate row (line 4), not 2" in str(error)


def test_an_initial_file_with_repeated_specimens_warns(tmp_path: Path):
    source = tmp_path / "duplicates.csv"
    _duplicates(source, [{}], [{}])
    result = runner.invoke(app, ["evaluate", str(source), "--out", str(tmp_path / "c.csv")])
    assert result.exit_code == 0
    assert "'S001' on lines 2, 3" in result.output and "--stage duplicate_mean" in result.output
