"""Each informed disorder's own informed level: a baby flagged for MCAD alone is held to
MCAD's level, flagged for VLCAD alone to VLCAD's, flagged for both to both; a disorder without
its own level, and every disorder of a calibration file written before them, to the group's."""

from __future__ import annotations

import json

import pandas as pd

from cutoffs.reflex.calibrate import CalibratedReflex, read_calibration, write_calibration
from cutoffs.reflex.decide import Calibration, decide_groups
from cutoffs.reflex.rules import default_reflex_rules

RULES = default_reflex_rules()
CUTS = {"MCAD": 3.0, "VLCAD": 3.0}
#: excess over the cutoff of each baby's MCAD and VLCAD flags (None: not flagged)
BABIES = {
    "mcad_high": (0.3, None),
    "vlcad_high": (None, 0.5),
    "mcad_low_vlcad_high": (0.1, 0.5),
    "mcad_high_vlcad_low": (0.3, 0.1),
    "mcad_low": (0.1, None),
}


def _decide(calibration: Calibration) -> dict[str, str]:
    profiles = pd.DataFrame(
        [{"specimen_id": s, "C8": 0.3, "C0": 20.0, "ACADM": 0, "ACADVL": 0} for s in BABIES]
    )
    calls = pd.DataFrame(
        [
            (s, d, "borderline", CUTS[d] + e)
            for s, pair in BABIES.items()
            for d, e in zip(("MCAD", "VLCAD"), pair, strict=True)
            if e is not None
        ],
        columns=["specimen_id", "disorder", "first_tier", "score"],
    )
    out = decide_groups(calls, profiles, RULES, calibration, score_cutoffs=CUTS)
    return dict(zip(out["specimen_id"], out["reason_code"], strict=True))


def test_each_flagged_disorder_is_held_to_its_own_level_else_the_groups():
    own = _decide(
        Calibration(informed_clear_below={"FAO": 0.2}, informed_clear_below_disorder={"VLCAD": 1e9})
    )
    assert own == {
        "mcad_high": "FAO_NO_VARIANT_UNINFORMED",
        "vlcad_high": "FAO_NO_VARIANT",
        "mcad_low_vlcad_high": "FAO_NO_VARIANT",
        "mcad_high_vlcad_low": "FAO_NO_VARIANT_UNINFORMED",
        "mcad_low": "FAO_NO_VARIANT",
    }
    # an own level below the group's holds its flags where the group's would not
    tight = _decide(
        Calibration(informed_clear_below={"FAO": 0.2}, informed_clear_below_disorder={"MCAD": 0.05})
    )
    assert tight["mcad_low"] == "FAO_NO_VARIANT_UNINFORMED"
    assert tight["vlcad_high"] == "FAO_NO_VARIANT_UNINFORMED"  # VLCAD: the group's 0.2


def test_a_calibration_file_without_own_informed_levels_reads_and_decides_as_before(tmp_path):
    group_only = Calibration(informed_clear_below={"FAO": 0.2})
    calibrated = CalibratedReflex(group_only, RULES.version, RULES.sha256, "t", 0.05, {}, 10)
    path = write_calibration(calibrated, tmp_path / "old.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "informed_clear_below_disorder" not in doc  # the file as written before them
    read = read_calibration(path)
    assert read.version == doc["version"]  # the version it was written with
    assert read.calibration.informed_clear_below_disorder == {}
    assert _decide(read.calibration) == {
        "mcad_high": "FAO_NO_VARIANT_UNINFORMED",
        "vlcad_high": "FAO_NO_VARIANT_UNINFORMED",
        "mcad_low_vlcad_high": "FAO_NO_VARIANT_UNINFORMED",
        "mcad_high_vlcad_low": "FAO_NO_VARIANT_UNINFORMED",
        "mcad_low": "FAO_NO_VARIANT",
    }
    own = CalibratedReflex(
        Calibration(
            informed_clear_below={"FAO": 0.2}, informed_clear_below_disorder={"VLCAD": 1e9}
        ),
        RULES.version,
        RULES.sha256,
        "t",
        0.05,
        {},
        10,
    )
    back = read_calibration(write_calibration(own, tmp_path / "own.json"))
    assert back.calibration.informed_clear_below_disorder == {"VLCAD": 1e9}
    assert back.version == own.version != read.version
