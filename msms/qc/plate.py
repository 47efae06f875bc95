"""Plate QC in one call: internal standards and well completeness (from quantitation), the
method's analytes all measured, blanks, carryover, control values and Westgard rules, then the
decision (docs/quantitation.md).

Public names: ``check_plate``, ``PlateQC``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from msms.catalogue import Catalogue, default_catalogue
from msms.qc.blanks import check_blanks, check_carryover
from msms.qc.completeness import check_method_coverage
from msms.qc.controls import (
    ControlLots,
    control_values,
    default_control_lots,
    evaluate_westgard,
)
from msms.qc.decision import Decision, decide
from msms.qc.report import ProcessingReport, to_jsonable
from msms.qc.rules import QCRules, default_rules
from msms.quantify import QuantResult

__all__ = ["PlateQC", "check_plate"]


@dataclass(frozen=True)
class PlateQC:
    """The outcome of plate QC.

    Attributes
    ----------
    decision
        accept / accept_with_warnings / reject, with reasons.
    report
        Quantitation's steps followed by the QC steps.
    control_values
        This run's control values and z-scores (append them to the control history).
    run_id, plate_id
        The plate's identifiers.
    """

    decision: Decision
    report: ProcessingReport
    control_values: pd.DataFrame
    run_id: str
    plate_id: str
    method: str
    rules: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable QC report: decision, method, rules, steps, control values."""
        values = self.control_values.astype(object).where(self.control_values.notna(), None)
        return to_jsonable({
            "run_id": self.run_id,
            "plate_id": self.plate_id,
            "decision": self.decision.to_dict(),
            "method": self.method,
            "rules": self.rules,
            **self.report.to_dict(),
            "control_values": values.to_dict(orient="records"),
        })


def check_plate(
    quant: QuantResult,
    *,
    lots: ControlLots | None = None,
    history: pd.DataFrame | None = None,
    rules: QCRules | None = None,
    run_date: dt.date | None = None,
    catalogue: Catalogue | None = None,
) -> PlateQC:
    """Run every plate-QC step on a quantified plate and decide.

    Parameters
    ----------
    quant
        What :func:`msms.quantify.quantify` returned for the plate (its internal-standard and
        completeness steps are part of the decision; an analyte of ``quant.method`` that no
        patient or control well measured rejects the plate).
    lots
        Control lots (default: the packaged virtual-instrument lots).
    history
        Earlier runs' control values (:data:`msms.qc.controls.HISTORY_COLUMNS`), oldest first;
        None: this run alone.
    rules
        Plate-QC rules (default: packaged).
    run_date
        The run's date, to check control-lot expiry.
    catalogue
        The analyte catalogue (default: packaged).
    """
    rules = rules or default_rules()
    lots = lots or default_control_lots()
    catalogue = catalogue or default_catalogue()
    conc = quant.concentrations
    coverage = check_method_coverage(quant.is_check.grid, quant.method)
    blanks = check_blanks(conc, rules, catalogue=catalogue)
    carryover = check_carryover(conc, rules, catalogue=catalogue)
    values, controls = control_values(conc, lots, rules, run_id=quant.run_id,
                                      run_date=run_date)
    westgard = evaluate_westgard(values, lots, rules, history=history)
    report = quant.report + ProcessingReport((coverage, blanks, carryover, controls, westgard))
    return PlateQC(
        decision=decide(report),
        report=report,
        control_values=values,
        run_id=quant.run_id,
        plate_id=quant.plate_id,
        method=quant.method.label,
        rules=rules.label,
    )
