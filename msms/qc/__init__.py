"""Plate quality control (DESIGN §6.2): internal standards, blanks and carryover, control
materials by lot with Westgard multirules over their history, and the plate decision, each step
recording what it did in a processing report.

Modules: ``rules`` (limits as data), ``internal_standard``, ``completeness`` (every analyte of
the method in every patient and control well), ``blanks``, ``controls``,
``westgard`` (pure rules over z-scores), ``decision``, ``report``, ``plate`` (all steps in one
call), ``wells``.

Public names: ``check_plate``, ``PlateQC``, ``Decision``, ``decide``, ``QCRules``,
``load_rules``, ``default_rules``, ``ControlLots``, ``load_control_lots``,
``default_control_lots``, ``read_control_history``, ``ProcessingReport``, ``StepReport``,
``Finding``.
"""

from msms.qc.controls import (
    ControlLots,
    default_control_lots,
    load_control_lots,
    read_control_history,
)
from msms.qc.decision import Decision, decide
from msms.qc.report import Finding, ProcessingReport, StepReport
from msms.qc.rules import QCRules, default_rules, load_rules

__all__ = [
    "ControlLots",
    "Decision",
    "Finding",
    "PlateQC",
    "ProcessingReport",
    "QCRules",
    "StepReport",
    "check_plate",
    "decide",
    "default_control_lots",
    "default_rules",
    "load_control_lots",
    "load_rules",
    "read_control_history",
]


def __getattr__(name: str) -> object:
    # check_plate needs msms.quantify, which imports msms.qc submodules: load it lazily
    if name in ("check_plate", "PlateQC"):
        from msms.qc import plate

        return getattr(plate, name)
    raise AttributeError(f"module 'msms.qc' has no attribute {name!r}")
