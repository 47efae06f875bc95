"""The QC data files (plate rules, control lots) and the control-history table: loading and
validation errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from msms.catalogue import default_catalogue
from msms.errors import DataError
from msms.qc.controls import (
    CONTROL_LOTS_TOML,
    default_control_lots,
    load_control_lots,
    read_control_history,
)
from msms.qc.rules import RULES_TOML, WESTGARD_RULES, default_rules, load_rules


def test_packaged_rules() -> None:
    rules = default_rules()
    assert rules.westgard_actions == {"1-2s": "warning", "1-3s": "reject", "2-2s": "reject",
                                      "R-4s": "reject", "4-1s": "reject", "10-x": "warning"}
    assert rules.required_levels == ("low", "high")
    assert rules.verified is False and rules.label.endswith("(unverified)")
    assert "Westgard" in RULES_TOML.read_text(encoding="utf-8")


def test_packaged_lots_cover_the_catalogue_at_two_levels() -> None:
    lots = default_control_lots()
    assert [(lot.lot, lot.level) for lot in lots.lots.values()] == [
        ("VQC-L-2501", "low"), ("VQC-H-2501", "high")]
    cat = default_catalogue()
    for lot in lots.lots.values():
        assert list(lot.targets) == list(cat.codes)
        for code, target in lot.targets.items():
            assert 0.05 <= target.sd_umol_l / target.mean_umol_l <= 0.16, code
    high = lots.lots["VQC-H-2501"].targets
    assert all(high[a.code].mean_umol_l > a.pop_p99_umol_l for a in cat.analytes)
    assert "FICTIONAL" in CONTROL_LOTS_TOML.read_text(encoding="utf-8")


def _edit(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _line(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("low_fraction_of_plate_median = 0.30", "low_fraction_of_plate_median = 1.5",
         "internal_standard.low_fraction_of_plate_median", "must lie in"),
        ('injection_order = "row"', 'injection_order = "snake"', "carryover.injection_order",
         "must be one of"),
        ('"4-1s" = "reject"', '"4-1s" = "panic"', "westgard.actions.4-1s", "must be one of"),
        ('"10-x" = "warning"', '"12-x" = "warning"', "westgard.actions.12-x", "unknown Westgard"),
        ("reject_fraction_of_p99 = 0.50", "reject_fraction_of_p99 = 0.05",
         "blanks.reject_fraction_of_p99", "must not be below warn_fraction_of_p99"),
        ("history_runs = 20", "history_runs = 2.5", "westgard.history_runs", "integer"),
        ('required_levels = ["low", "high"]', 'required_levels = ["low", "mid"]',
         "controls.required_levels", "not a value of levels"),
    ],
)
def test_bad_rules_name_file_line_and_key(tmp_path: Path, old: str, new: str, field: str,
                                          message: str) -> None:
    path = _edit(tmp_path, RULES_TOML, old, new)
    with pytest.raises(DataError) as info:
        load_rules(path)
    assert (info.value.file, info.value.field) == (str(path), field)
    assert info.value.line == _line(path, new.split(" = ")[0].strip())
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("Phe = { mean_umol_l = 52.0", "Phx = { mean_umol_l = 52.0",
         'lots.VQC-L-2501.targets.Phx', "unknown analyte 'Phx'"),
        ("Phe = { mean_umol_l = 52.0", "PHE = { mean_umol_l = 52.0",
         'lots.VQC-L-2501.targets.PHE', "canonical code 'Phe'"),
        ("Phe = { mean_umol_l = 52.0, sd_umol_l = 3.6 }",
         "Phe = { mean_umol_l = 52.0, sd_umol_l = 0 }",
         "lots.VQC-L-2501.targets.Phe.sd_umol_l", "must be > 0"),
        ("expires = 2027-12-31", 'expires = "soon"', "lots.VQC-L-2501.expires", "TOML date"),
        ('level = "low"', "level = 1", "lots.VQC-L-2501.level", "must be a string, got 1"),
    ],
)
def test_bad_lots_name_file_line_and_key(tmp_path: Path, old: str, new: str, field: str,
                                         message: str) -> None:
    path = _edit(tmp_path, CONTROL_LOTS_TOML, old, new)
    with pytest.raises(DataError) as info:
        load_control_lots(path)
    assert (info.value.file, info.value.field) == (str(path), field)
    assert info.value.line == _line(path, new.split(" = ")[0].strip() + " = ")
    assert message in str(info.value)


HISTORY = """\
run_id,lot,analyte,conc_umol_l,acquired_at
R1,VQC-L-2501,Phe,52.3,2025-01-02T08:00:00
R2,VQC-L-2501,Phe,50.1,2025-01-03T08:00:00
"""


def test_control_history_reads(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_text(HISTORY, encoding="utf-8")
    history = read_control_history(path)
    assert history["conc_umol_l"].tolist() == [52.3, 50.1]
    assert history["run_id"].tolist() == ["R1", "R2"]


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("R2,VQC-L-2501,Phe,50.1", "R2,VQC-L-2501,Phe,fifty", 3, "conc_umol_l"),
        ("R2,VQC-L-2501,Phe,50.1", "R2,VQC-L-2501,Phe,-5", 3, "conc_umol_l"),
        ("R1,VQC-L-2501", ",VQC-L-2501", 2, "run_id"),
        ("2025-01-03T08:00:00", "yesterday", 3, "acquired_at"),
        ("run_id,lot", "run,lot", 1, "run_id"),
    ],
)
def test_bad_history_names_file_line_and_field(tmp_path: Path, old: str, new: str, line: int,
                                               field: str) -> None:
    path = tmp_path / "history.csv"
    path.write_text(HISTORY.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_control_history(path)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), line, field)


def test_history_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        read_control_history(tmp_path / "absent.csv")


def test_every_westgard_rule_has_an_action() -> None:
    assert set(default_rules().westgard_actions) == set(WESTGARD_RULES)
    frame = pd.DataFrame({"a": [1]})
    assert len(frame) == 1
