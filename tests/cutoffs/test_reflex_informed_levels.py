"""Each informed disorder's own informed level: a baby flagged for MCAD alone is held to
MCAD's level, flagged for VLCAD alone to VLCAD's, flagged for both to both; a disorder without
its own level, and every disorder of a calibration file written before them, to the group's.
The calibration keeps each level ``score_margin_sd`` below every non-mild case it holds, as if
the case's sequencing had missed both alleles, even where no calibration case did."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

from cutoffs.evaluate import evaluate
from cutoffs.reflex.calibrate import (
    CalibratedReflex,
    calibrate_reflex,
    read_calibration,
    write_calibration,
)
from cutoffs.reflex.decide import LITERATURE, Calibration, decide_groups, group_flags
from cutoffs.reflex.outcomes import run_flow, score_cutoffs, truth_of
from cutoffs.reflex.rules import default_reflex_rules
from cutoffs.tables import read_cutoff_table
from msms.population.screening import simulate_screening
from tests.cutoffs.builders import scored_table

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


@pytest.fixture(scope="module")
def detected(tmp_path_factory):
    """A calibration set whose non-mild VLCAD cases flagged for VLCAD alone all had a variant
    detected (the informed rule clears none of its cases: no level is needed on what it would
    clear), the table, and those cases' VLCAD excess."""
    table = read_cutoff_table(scored_table(tmp_path_factory.mktemp("informed") / "t.toml"))
    first, repeat = simulate_screening(8000, seed=11, disorder_rate=0.2)
    flags = group_flags(evaluate(first, cutoffs=table), RULES, score_cutoffs(table))
    fao = flags[flags["group"].eq("FAO").to_numpy() & flags["informed"].to_numpy()]
    fao = fao.join(truth_of(first).set_index("specimen_id"), on="specimen_id")
    alone = fao[fao["severity"].isin(["moderate", "severe"]) & fao["excess:VLCAD"].notna()]
    ids = first["specimen_id"].isin(alone["specimen_id"])
    assert (first.loc[ids, "ACADVL"] >= 1).all()  # a variant detected in each
    return table, first, repeat, alone.set_index("specimen_id")["excess:VLCAD"]


def _missed(first: pd.DataFrame, specimen: str) -> pd.DataFrame:
    """The calibration set with ``specimen``'s sequencing missing both alleles."""
    out = first.copy()
    out.loc[out["specimen_id"].eq(specimen), ["ACADM", "ACADVL"]] = 0.0
    return out


def _decision(first, repeat, table, calibration, specimen):  # type: ignore[no-untyped-def]
    flow = run_flow(first, repeat, table, RULES, calibration)
    row = flow[flow["specimen_id"].eq(specimen) & flow["group"].eq("FAO")]
    return str(row["decision"].iloc[0])


@pytest.mark.slow
@pytest.mark.parametrize("min_cases", [20, 10_000], ids=["own level", "group level"])
def test_the_informed_level_stays_a_margin_below_each_case_as_if_both_alleles_were_missed(
    detected, min_cases
):
    table, first, repeat, excess = detected
    rules = replace(RULES, min_cases_own_level=min_cases)
    assert len(excess) >= 20  # VLCAD gets its own level at 20, the group's at 10,000
    lowest = str(excess.idxmin())
    # with no informed level that case would be cleared had both its alleles been missed
    assert _decision(_missed(first, lowest), repeat, table, LITERATURE, lowest) == "clear"
    calibrated = calibrate_reflex(first, repeat, table, rules).calibration
    level = calibrated.informed_level("FAO", "VLCAD")
    assert level is not None
    assert level <= excess.min() - RULES.score_margin_sd < level + 1e-4
    own = calibrated.informed_clear_below_disorder
    assert ("VLCAD" in own) == (min_cases == 20)
    assert _decision(_missed(first, lowest), repeat, table, calibrated, lowest) != "clear"


def test_only_a_group_informed_by_a_genotype_is_capped_for_missed_alleles():
    assert RULES.group("FAO").genotyped
    assert not RULES.group("TYR").genotyped and not RULES.group("MET").genotyped
