"""Real exports type every control ``QC`` and put the level in the name (``QC-HIGH-L2301``,
``QCL``): a profile maps sample-name patterns to sample types (``[sample_name_types]``, data in
the profile), and ``nbs read`` reads a plate whose composition plate QC would reject, with
warnings, leaving the refusal to QC (``nbs quantify`` exits 3 naming the missing level)."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd

import instruments
from instruments import load_profile
from tests.instruments.builders import plate_run
from tests.lims.helpers import nbs

NAMES = {"QC_LOW-003": "QCL", "QC_LOW-004": "QC-LOW-L2300",
         "QC_HIGH-005": "QC-HIGH-L2301", "QC_HIGH-006": "QCH"}


def _export(tmp_path, *, drop_high: bool = False):  # noqa: ANN001, ANN202 - a test helper
    path = tmp_path / "plate.txt"
    instruments.write(plate_run(n_wells=12), path, format="masslynx")
    text = path.read_text(encoding="utf-8")
    for old, new in NAMES.items():
        text = text.replace(f"\t{old}\t", f"\t{new}\t")
    text = re.sub(r"\tQC (Low|High)\t", "\tQC\t", text)
    if drop_high:  # the high controls' wells hold patients
        text = re.sub(r"\t(QC-HIGH-L2301|QCH)\tQC\t", lambda m: f"\tNB9{len(m.group(1))}\t"
                      "Analyte\t", text)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_profile_reads_the_control_level_from_the_name(tmp_path):
    assert "\tQC\t" in _export(tmp_path).read_text(encoding="utf-8")
    run = instruments.read(_export(tmp_path))
    types = run.measurements.drop_duplicates("well").set_index("sample_id")["sample_type"]
    assert {k: types[k] for k in NAMES.values()} == {
        "QCL": "qc_low", "QC-LOW-L2300": "qc_low", "QC-HIGH-L2301": "qc_high",
        "QCH": "qc_high"}
    assert not [i for i in run.issues if i.severity != "info"]


def test_a_profile_without_the_patterns_reads_them_as_qc_other(tmp_path):
    prof = load_profile("masslynx")
    bare = dataclasses.replace(prof, sample_name_types=())
    run = instruments.read(_export(tmp_path), profile=bare)
    assert set(run.measurements["sample_type"]) == {"blank", "qc_other", "patient"}


def test_nbs_read_reads_a_plate_qc_would_reject_and_quantify_refuses_it(tmp_path):
    path = _export(tmp_path, drop_high=True)
    done = nbs("read", str(path), "--out", str(tmp_path / "m.csv"), timeout=180)
    assert done.returncode == 0, done.stderr
    assert "has no qc_high control well (validation.require_controls)" in done.stderr
    table = pd.read_csv(tmp_path / "m.csv")
    assert table["well"].nunique() == 12 and "qc_high" not in set(table["sample_type"])

    done = nbs("quantify", str(path), "--out", str(tmp_path / "p.csv"), timeout=180)
    assert done.returncode == 3
    assert "QC reject:" in done.stderr and "qc_high" in done.stderr
    assert not (tmp_path / "p.csv").exists()
