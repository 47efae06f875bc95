"""``nbs read`` end to end, as a technician would run it."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

import instruments
from msms.tables import MEASUREMENT_COLUMNS
from tests.instruments.builders import plate_run
from tests.instruments.conftest import FIXTURES

NBS = [sys.executable, "-c", "from lims.cli import main; main()"]


def test_nbs_read_writes_measurements(tmp_path):
    instruments.write(plate_run(n_wells=12), tmp_path / "plate.txt", format="masslynx")
    out = tmp_path / "m.csv"
    done = subprocess.run([*NBS, "read", str(tmp_path / "plate.txt"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    assert list(table.columns) == list(MEASUREMENT_COLUMNS)
    assert table["well"].nunique() == 12 and "masslynx: plate PLATE0001" in done.stderr


def test_nbs_read_rejects_with_exit_3_naming_file_and_line(tmp_path):
    done = subprocess.run([*NBS, "read", str(FIXTURES / "masslynx" / "190522_97.txt"), "--out",
                           str(tmp_path / "m.csv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert "190522_97.txt:8, field 'Area': unmapped analyte 'CAT'" in done.stderr
    assert not (tmp_path / "m.csv").exists()


def test_nbs_read_to_a_missing_directory_is_a_clear_error(tmp_path):
    instruments.write(plate_run(n_wells=12), tmp_path / "plate.txt", format="masslynx")
    out = tmp_path / "no-such-dir" / "m.csv"
    done = subprocess.run([*NBS, "read", str(tmp_path / "plate.txt"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert f"{out}, field '--out': cannot write: no directory" in done.stderr
    assert not out.parent.exists()


def test_nbs_read_prints_twenty_errors_and_writes_all_with_errors(tmp_path):
    # a long file read with the wide profile: each Analyte, Kind and Unit cell is not a number
    run = plate_run(n_wells=12)
    instruments.write(run, tmp_path / "long.csv", format="delimited", profile="generic_long")
    issues = tmp_path / "issues.csv"
    done = subprocess.run([*NBS, "read", str(tmp_path / "long.csv"), "--profile", "generic_wide",
                           "--out", str(tmp_path / "m.csv"), "--errors", str(issues)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3
    printed = [line for line in done.stderr.splitlines() if line.startswith("nbs: error: ")]
    assert len(printed) == 21  # twenty errors and the summary
    first = run.measurements["analyte"].iloc[0]
    assert printed[0] == (f"nbs: error: {tmp_path / 'long.csv'}:2, field 'Analyte': {first!r} "
                          f"is not a number")
    table = pd.read_csv(issues)
    assert list(table.columns) == ["severity", "file", "line", "field", "message"]
    errors = table[table["severity"] == "error"]
    assert f"and {len(errors) - 20} more error(s); all written to {issues}" in done.stderr
    cells = errors[errors["message"].str.endswith("is not a number")]
    # the Analyte, Kind and Unit cell of every row, each with its line
    assert len(cells) == 3 * len(run.measurements)
    assert set(cells["field"]) == {"Analyte", "Kind", "Unit"}
    assert sorted(set(cells["line"])) == list(range(2, len(run.measurements) + 2))
    assert not (tmp_path / "m.csv").exists()


def test_nbs_read_places_a_single_mzml_injection_with_a_plate_map(tmp_path):
    (tmp_path / "table.csv").write_text(
        "name,role,analytes,precursor_mz,product_mz,polarity\n"
        "S,analyte,Phe,456.7,678.9,+\n", encoding="utf-8")
    (tmp_path / "lab.toml").write_text(
        '[profile]\nname = "lab"\nformat = "mzml"\n[mzml]\ntransitions = "table.csv"\n'
        '[validation]\nrequire_blank = false\nrequire_controls = []\n', encoding="utf-8")
    (tmp_path / "map.csv").write_text("file,well,barcode,sample_type\n"
                                      "pyteomics_tiny.pwiz.1.1.mzML,A05,NB9,patient\n",
                                      encoding="utf-8")
    fixture = FIXTURES / "mzml" / "pyteomics_tiny.pwiz.1.1.mzML"
    out = tmp_path / "m.csv"
    done = subprocess.run([*NBS, "read", str(fixture), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and "--plate-map" in done.stderr
    done = subprocess.run([*NBS, "read", str(fixture), "--plate-map", str(tmp_path / "map.csv"),
                           "--profile", str(tmp_path / "lab.toml"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    assert table[["well", "sample_id", "analyte", "value"]].values.tolist() == [
        ["A05", "NB9", "Phe", 8.0]]
