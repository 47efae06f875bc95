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
