"""Sample ids that are spreadsheet formulas come out of ``nbs read``, ``nbs quantify`` and
``nbs evaluate`` neutralised (a leading apostrophe), read back with a CSV reader; numbers,
negative ones included, are written as numbers."""

from __future__ import annotations

import csv
import io

import pandas as pd

from instruments.virtual import simulate_plate, write_plate
from lims.cli.common import TableFormat, emit_table
from msms.csvsafe import FORMULA_START
from tests.lims.helpers import nbs

CMD = "=cmd|' /C calc'!A0"
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"


def _rows(path):  # noqa: ANN001, ANN202 - a test helper
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _no_formula(rows) -> None:  # noqa: ANN001
    for row in rows:
        for cell in row:
            if len(cell) > 1 and cell[0] in FORMULA_START:
                float(cell)  # only a number may begin so


def _plate(tmp_path):  # noqa: ANN001, ANN202
    out = io.BytesIO()
    write_plate(simulate_plate(seed=11, plate_id="PX"), out, format="csv-long")
    text = out.getvalue().decode()
    frame = pd.read_csv(io.StringIO(text), dtype=str)
    patients = frame.loc[frame["Sample Type"] == "patient", "Sample ID"].unique()
    text = text.replace(f",{patients[0]},", f",\"{CMD}\",").replace(
        f",{patients[1]},", f",\"{SUM}\",")
    path = tmp_path / "plate.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_nbs_read_and_quantify_neutralise_formula_sample_ids(tmp_path):
    plate = _plate(tmp_path)
    done = nbs("read", str(plate), "--out", str(tmp_path / "m.csv"), timeout=180)
    assert done.returncode == 0, done.stderr
    rows = _rows(tmp_path / "m.csv")
    ids = {r[rows[0].index("sample_id")] for r in rows[1:]}
    assert {"'" + CMD, "'" + SUM} <= ids and CMD not in ids
    _no_formula(rows)

    done = nbs("quantify", str(plate), "--out", str(tmp_path / "profiles.csv"),
               "--concentrations", str(tmp_path / "conc.csv"), timeout=180)
    assert done.returncode == 0, done.stderr
    for name in ("profiles.csv", "conc.csv"):
        rows = _rows(tmp_path / name)
        column = rows[0].index("specimen_id" if name == "profiles.csv" else "sample_id")
        ids = {r[column] for r in rows[1:]}
        assert "'" + CMD in ids and "'" + SUM in ids, name
        _no_formula(rows)


def test_nbs_evaluate_neutralises_formula_specimen_ids(tmp_path):
    profiles = pd.DataFrame({"specimen_id": [CMD, SUM, "NB1"], "Phe": [900.0, 60.0, 55.0],
                             "Tyr": [40.0, 70.0, 65.0]})
    profiles.to_csv(tmp_path / "in.csv", index=False)
    done = nbs("evaluate", str(tmp_path / "in.csv"), "--all", "--out",
               str(tmp_path / "calls.csv"), timeout=180)
    assert done.returncode == 0, done.stderr
    rows = _rows(tmp_path / "calls.csv")
    ids = {r[rows[0].index("specimen_id")] for r in rows[1:]}
    assert ids == {"'" + CMD, "'" + SUM, "NB1"}
    _no_formula(rows)


def test_listings_as_csv_neutralise_their_cells(capsys):
    emit_table(["barcode", "note", "delta"], [[CMD, SUM, "-2.5"]], TableFormat.csv)
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["barcode", "note", "delta"], ["'" + CMD, "'" + SUM, "-2.5"]]
