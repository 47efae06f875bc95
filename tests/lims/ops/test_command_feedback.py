"""Long commands say what they are doing on stderr; card data without some covariate columns
is accepted with a warning naming them."""

from __future__ import annotations

import re
from pathlib import Path

from instruments.virtual import simulate_plate, write_plate
from msms.population import simulate_cohort, split_truth
from tests.conftest import ROOT
from tests.lims.helpers import nbs


def test_evaluate_reports_each_step_on_stderr(tmp_path: Path) -> None:
    profiles, _ = split_truth(simulate_cohort(300, seed=3))
    profiles.to_csv(tmp_path / "profiles.csv", index=False)
    result = nbs("evaluate", str(tmp_path / "profiles.csv"), "--out", str(tmp_path / "c.csv"),
                 cwd=ROOT, timeout=180)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert f"nbs: reading {tmp_path / 'profiles.csv'} ..." in lines
    assert "nbs: evaluating 300 profiles x 46 disorders ..." in lines
    assert any(re.fullmatch(r"nbs: evaluating 300 profiles x 46 disorders: done in "
                            r"\d+\.\d s", line) for line in lines), lines
    assert any(line.startswith("nbs: writing ") for line in lines)
    assert result.stdout == ""


def test_quantify_warns_of_absent_card_columns(tmp_path: Path) -> None:
    plate = simulate_plate(seed=4, plate_id="CARDS-4")
    path = tmp_path / "CARDS-4.txt"
    write_plate(plate, path, format="masslynx")
    plate.cards.drop(columns=["birth_weight_g"]).to_csv(tmp_path / "cards.csv", index=False)
    result = nbs("quantify", str(path), "--card-data", str(tmp_path / "cards.csv"), "--out",
                 str(tmp_path / "profiles.csv"), cwd=ROOT, timeout=180)
    assert result.returncode == 0, result.stderr
    assert (f"nbs: warning: {tmp_path / 'cards.csv'} lacks card column(s) birth_weight_g: "
            f"those covariates are left empty") in result.stderr
