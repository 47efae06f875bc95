"""Plate quality control (docs/quantitation.md): internal standards, blanks and carryover, control
materials by lot with Westgard multirules over their history, and the plate decision, each step
recording what it did in a processing report.

Modules: ``rules`` (limits as data), ``internal_standard``, ``completeness`` (every analyte of
the method in every patient and control well), ``blanks``, ``controls``,
``westgard`` (pure rules over z-scores), ``decision``, ``report``, ``plate`` (all steps in one
call: ``msms.qc.plate.check_plate``, after :func:`msms.quantify.quantify`, which runs the steps
of this package it needs; so this package does not import it), ``wells``, ``messages`` (the
phrases every finding's message is written with, and read back by in another language).

Public names: ``Decision``, ``decide``, ``QCRules``,
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
    "ProcessingReport",
    "QCRules",
    "StepReport",
    "decide",
    "default_control_lots",
    "default_rules",
    "load_control_lots",
    "load_rules",
    "read_control_history",
]

