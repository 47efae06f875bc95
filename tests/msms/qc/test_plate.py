"""Plate QC end to end on built plates: the decision and its reasons."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from msms.qc.controls import HISTORY_COLUMNS
from msms.qc.plate import check_plate
from msms.qc.rules import load_rules
from msms.quantify import quantify
from tests.msms.qc.builders import (
    HIGH_LOT,
    LOW_LOT,
    Well,
    lot_targets,
    method_for,
    plate,
    standard_wells,
    wells_analytes,
)

CODES = ["Phe", "Tyr", "Xle", "C0", "C3", "C8", "C10"]


def qc(wells: list[Well], **kwargs: object):  # noqa: ANN201 - a test helper
    """Plate QC of built wells, quantified with the method narrowed to the wells' analytes (a
    small panel; the completeness checks have tests of their own)."""
    method = method_for(wells_analytes(wells))
    return check_plate(quantify(plate(wells, method=method), method),
                       **kwargs)  # type: ignore[arg-type]


def test_a_clean_plate_is_accepted() -> None:
    result = qc(standard_wells(8, analytes=CODES))
    assert result.decision.status == "accept"
    assert result.decision.reasons == () and result.decision.warnings == ()
    steps = [s.step for s in result.report.steps]
    assert steps[-4:] == ["blanks", "carryover", "controls", "westgard"]


def test_a_1_2s_alone_only_warns() -> None:
    result = qc(standard_wells(8, analytes=CODES, low_shift_sd={"Phe": 2.5}))
    assert result.decision.status == "accept_with_warnings"
    assert result.decision.reasons == ()
    assert result.decision.warnings == ("westgard: Phe 1-2s (lot VQC-L-2501): z = +2.50 (A02)",)


def test_a_1_3s_rejects_the_plate() -> None:
    result = qc(standard_wells(8, analytes=CODES, low_shift_sd={"C8": -3.4}))
    assert result.decision.status == "reject"
    assert result.decision.reasons == ("westgard: C8 1-3s (lot VQC-L-2501): z = -3.40 (A02)",)
    assert result.decision.rejected_analytes == ("C8",)


def test_both_levels_beyond_2s_on_the_same_side_is_2_2s_across_materials() -> None:
    result = qc(standard_wells(8, analytes=CODES, low_shift_sd={"C3": 2.2},
                               high_shift_sd={"C3": 2.4}))
    assert result.decision.status == "reject"
    assert any("C3 2-2s (across materials)" in r for r in result.decision.reasons)


def test_levels_beyond_opposite_2s_limits_is_r_4s() -> None:
    result = qc(standard_wells(8, analytes=CODES, low_shift_sd={"Tyr": 2.3},
                               high_shift_sd={"Tyr": -2.2}))
    assert result.decision.status == "reject"
    assert any("Tyr R-4s" in r for r in result.decision.reasons)


def _history(lot: str, analyte: str, zs: list[float]) -> pd.DataFrame:
    from msms.qc.controls import default_control_lots

    target = default_control_lots().lots[lot].targets[analyte]
    rows = [(f"RUN-0{i}", lot, analyte, target.mean_umol_l + z * target.sd_umol_l,
             f"2025-03-0{i + 1}T08:00:00")
            for i, z in enumerate(zs)]
    return pd.DataFrame(rows, columns=[*HISTORY_COLUMNS, "acquired_at"])


def test_history_turns_a_1s_shift_into_a_4_1s_rejection() -> None:
    wells = standard_wells(8, analytes=CODES, low_shift_sd={"Xle": 1.3})
    alone = qc(wells)
    assert alone.decision.status == "accept"
    history = _history(LOW_LOT, "Xle", [0.2, 1.2, 1.5, 1.1])
    result = qc(wells, history=history)
    assert result.decision.status == "reject"
    reason = result.decision.reasons[0]
    assert reason.startswith("westgard: Xle 4-1s (lot VQC-L-2501)")
    assert "(run RUN-01)" in reason and "+1.30 (A02)" in reason
    assert result.report.step("westgard").counts["history_values_used"] == 4


def test_history_is_sorted_by_acquired_at_and_limited_to_recent_runs() -> None:
    wells = standard_wells(8, analytes=CODES, low_shift_sd={"Xle": 1.3})
    history = _history(LOW_LOT, "Xle", [1.2, 1.5, 1.1, 0.2])
    # rows out of order: the 0.2 run is in fact the oldest
    history.loc[3, "acquired_at"] = "2025-02-01T08:00:00"
    assert qc(wells, history=history).decision.status == "reject"
    from dataclasses import replace

    from msms.qc.rules import default_rules

    two_runs = replace(default_rules(), westgard_history_runs=2)
    assert qc(wells, history=history, rules=two_runs).decision.status == "accept"


def test_a_missing_control_level_rejects() -> None:
    wells = [w for w in standard_wells(8, analytes=CODES) if w.sample_type != "qc_high"]
    result = qc(wells)
    assert result.decision.status == "reject"
    assert result.decision.reasons == ("controls: no usable high control on the plate",)


def test_a_control_with_a_failed_internal_standard_leaves_the_analyte_uncontrolled() -> None:
    wells = standard_wells(8, analytes=CODES)
    wells[1].is_factor = {"C0": 0.05}
    result = qc(wells)
    assert result.decision.status == "reject"
    assert "controls: no usable low control value for C0" in result.decision.reasons
    assert any(w.startswith("internal_standard: well A02") for w in result.decision.warnings)


def test_a_patient_well_with_a_low_is_only_warns() -> None:
    wells = standard_wells(8, analytes=CODES)
    wells[6].is_factor = {"C8": 0.1, "C10": 0.1}
    result = qc(wells)
    assert result.decision.status == "accept_with_warnings"
    assert "internal_standard: well A07 (patient S003): not reportable" in \
        result.decision.warnings[0]


def test_control_wells_without_lot_numbers_take_the_in_use_lot() -> None:
    wells = standard_wells(8, analytes=CODES)
    wells[1].sample_id = "QC LOW"
    result = qc(wells)
    assert result.decision.status == "accept"
    infos = [f for f in result.report.findings("info") if f.code == "lot_assumed"]
    assert len(infos) == 1 and "VQC-L-2501" in infos[0].message


def test_a_control_labelled_with_the_wrong_levels_lot_rejects() -> None:
    wells = standard_wells(8, analytes=CODES)
    wells[1].sample_id = HIGH_LOT
    result = qc(wells)
    assert result.decision.status == "reject"
    assert any("lot VQC-H-2501 is a high control" in r for r in result.decision.reasons)


def test_an_expired_lot_rejects_unless_the_rules_say_warn() -> None:
    import dataclasses
    import datetime as dt

    result = qc(standard_wells(8, analytes=CODES), run_date=dt.date(2028, 1, 5))
    assert result.decision.status == "reject"
    assert any("expired on 2027-12-31" in r for r in result.decision.reasons)
    warn = dataclasses.replace(load_rules(), expired_lot_action="warning")
    warned = qc(standard_wells(8, analytes=CODES), run_date=dt.date(2028, 1, 5), rules=warn)
    assert warned.decision.status == "accept_with_warnings"
    assert all("expired on 2027-12-31" in w for w in warned.decision.warnings)
    on_time = qc(standard_wells(8, analytes=CODES), run_date=dt.date(2027, 12, 31))
    assert on_time.decision.status == "accept"


def test_a_contaminated_blank() -> None:
    wells = standard_wells(8, analytes=CODES)
    wells[0].conc = {**wells[0].conc, "Phe": 0.2 * 95.0}   # 20% of the Phe p99 (95)
    warned = qc(wells)
    assert warned.decision.status == "accept_with_warnings"
    assert warned.decision.warnings == (
        "blanks: blank A01: Phe 19 umol/L (20% of p99) (limit 10% of p99)",)
    wells[0].conc = {**wells[0].conc, "Phe": 0.6 * 95.0}
    assert qc(wells).decision.status == "reject"


def test_carryover_from_a_high_well_into_the_next_blank() -> None:
    wells = standard_wells(8, analytes=CODES)
    high = lot_targets(HIGH_LOT)
    wells[3].conc = {**wells[3].conc, "C0": 0.01 * high["C0"]}   # 1% of the high control
    result = qc(wells)
    assert result.decision.status == "accept_with_warnings"
    step = result.report.step("carryover")
    assert step.counts["max_carryover_percent"] == pytest.approx(1.0)
    assert step.findings[0].message == "carryover above 0.5%: C0 1.00% (A03 -> A04)"
    wells[3].conc = {**wells[3].conc, "C0": 0.03 * high["C0"]}
    assert qc(wells).decision.status == "reject"


def test_no_blank_after_a_sample_means_no_carryover_estimate() -> None:
    wells = [w for w in standard_wells(8, analytes=CODES) if w.well != "A04"]
    result = qc(wells)
    assert result.decision.status == "accept"
    assert result.report.step("carryover").findings[0].code == "carryover_not_estimated"


def test_no_blank_at_all_warns() -> None:
    wells = [w for w in standard_wells(8, analytes=CODES) if w.sample_type != "blank"]
    result = qc(wells)
    assert result.decision.status == "accept_with_warnings"
    assert "blank_missing" in [f.code for f in result.report.findings("warning")]


def test_the_qc_report_is_json_with_the_decision_and_control_values() -> None:
    result = qc(standard_wells(8, analytes=CODES, low_shift_sd={"Phe": 2.5}))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["decision"]["status"] == "accept_with_warnings"
    assert data["method"] == "nonderivatized 0.1.0-default (unverified)"
    assert data["rules"].startswith("default-plate-qc")
    assert [s["step"] for s in data["steps"]][0] == "validate"
    values = pd.DataFrame(data["control_values"])
    assert len(values) == 2 * len(CODES)
    phe = values[(values.analyte == "Phe") & (values.lot == LOW_LOT)]
    assert phe["z"].item() == pytest.approx(2.5)
    # control values can be appended to a history table as they are
    assert set(HISTORY_COLUMNS) <= set(values.columns)


def test_history_given_as_stored_control_wells_resolves_lots() -> None:
    """A history of control wells (sample_id, sample_type) instead of lot numbers."""
    wells = standard_wells(8, analytes=CODES, low_shift_sd={"Xle": 1.3})
    history = _history(LOW_LOT, "Xle", [0.2, 1.2, 1.5, 1.1]).drop(columns=["lot"])
    history["sample_id"] = ["QC-LOW", LOW_LOT, "QC-LOW", "QC-LOW"]  # some without lot number
    history["sample_type"] = "qc_low"
    history["well"] = "A02"
    result = qc(wells, history=history)
    assert result.decision.status == "reject"
    assert result.decision.reasons[0].startswith("westgard: Xle 4-1s (lot VQC-L-2501)")
    # an empty history is no history
    assert qc(wells, history=history.iloc[0:0]).decision.status == "accept"
