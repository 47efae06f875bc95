"""CSV formula injection: text cells a spreadsheet would run are neutralised with a leading
apostrophe; numbers (negative ones too) and one-character cells are left as they are."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from msms import csvsafe

ATTACKS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0",
           "-2+3+cmd|' /C calc'!A0", "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://x\")"]


@pytest.mark.parametrize("cell", ATTACKS)
def test_formula_cells_are_neutralised(cell):
    assert csvsafe.neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-1.5", "+3", "-1e-05", "-0", "-inf", "-1,5", "-", "+", "",
                                  "NB0001", "2026-03-01", "a=b", "QC-HIGH"])
def test_numbers_and_plain_text_are_left_alone(cell):
    assert csvsafe.neutralise(cell) == cell


def test_a_frame_written_and_read_back():
    frame = pd.DataFrame({"specimen_id": [ATTACKS[0], "NB1", ATTACKS[1]],
                          "Phe": [-1.25, 80.0, float("nan")], "note": ["-x", "-2.5", None],
                          "@col": ["a", "b", "c"]})
    text = csvsafe.frame_to_csv(frame, lineterminator="\n", float_format="%.6g")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["specimen_id", "Phe", "note", "'@col"]
    assert rows[1] == ["'" + ATTACKS[0], "-1.25", "'-x", "a"]
    assert rows[2] == ["NB1", "80", "-2.5", "b"]
    assert rows[3][0] == "'" + ATTACKS[1]
    assert frame["specimen_id"].iloc[0] == ATTACKS[0]  # the caller's frame is not changed


def test_the_writer_neutralises_every_row():
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")
    writer.writerow(["id", "value"])
    writer.writerows([[ATTACKS[0], -3], ["ok", "-4.5"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["id", "value"], ["'" + ATTACKS[0], "-3"], ["ok", "-4.5"]]
