"""Plate-QC rules as data: internal-standard, completeness, blank, carryover and control limits
and the action each Westgard rule triggers (``msms/data/qc/plate_rules.toml``).

Public names: ``QCRules``, ``QCRulesFile`` (the file's schema), ``load_rules``,
``default_rules``, ``RULES_TOML``, ``WESTGARD_RULES``, ``ACTIONS``, ``INJECTION_ORDERS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import Field

from msms.datafiles import (
    Count,
    DataFile,
    Fraction,
    LenientSchema,
    NonNegative,
    Range,
    Text,
    load_toml,
    not_below,
)

__all__ = [
    "ACTIONS",
    "INJECTION_ORDERS",
    "RULES_TOML",
    "WESTGARD_RULES",
    "QCRules",
    "QCRulesFile",
    "default_rules",
    "load_rules",
]

RULES_TOML = Path(str(resources.files("msms") / "data" / "qc" / "plate_rules.toml"))
WESTGARD_RULES: tuple[str, ...] = ("1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x")
#: What a rule violation does: nothing (``off``), a warning, or rejection of the plate.
ACTIONS: tuple[str, ...] = ("off", "warning", "reject")
INJECTION_ORDERS: tuple[str, ...] = ("row", "column")


@dataclass(frozen=True)
class QCRules:
    """Validated plate-QC limits (see the TOML file for what each means)."""

    name: str
    version: str
    verified: bool
    notice: str
    is_low_fraction_of_plate_median: float
    is_max_fraction_of_wells_not_reportable: float
    completeness_max_fraction_of_wells_incomplete: float
    blank_min_count: int
    blank_warn_fraction_of_p99: float
    blank_reject_fraction_of_p99: float
    injection_order: str
    carryover_min_preceding_multiple_of_p99: float
    carryover_warn_percent: float
    carryover_reject_percent: float
    required_levels: tuple[str, ...]
    control_levels: Mapping[str, str]
    westgard_history_runs: int
    westgard_actions: Mapping[str, str]
    source_file: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" + ("" if self.verified else " (unverified)")


Action = Literal["off", "warning", "reject"]


class _Head(LenientSchema):
    name: Text
    version: Text
    verified: bool = False
    notice: str = ""


class _InternalStandard(LenientSchema):
    low_fraction_of_plate_median: Fraction
    max_fraction_of_wells_not_reportable: Fraction


class _Completeness(LenientSchema):
    max_fraction_of_wells_incomplete: Fraction


class _Blanks(LenientSchema):
    min_count: Count
    warn_fraction_of_p99: NonNegative
    reject_fraction_of_p99: NonNegative
    _reject = not_below("reject_fraction_of_p99", "warn_fraction_of_p99")


class _Carryover(LenientSchema):
    injection_order: Literal["row", "column"]
    min_preceding_multiple_of_p99: NonNegative
    warn_percent: Annotated[float, Range(0, 100)]
    reject_percent: Annotated[float, Range(0, 100)]
    _reject = not_below("reject_percent", "warn_percent")


class _Controls(LenientSchema):
    levels: Annotated[dict[str, str], Field(min_length=1)]
    required_levels: list[str] = []


class _Westgard(LenientSchema):
    history_runs: Count
    actions: dict[str, Action]


class QCRulesFile(LenientSchema):
    """The layout of a plate-QC rules file (``msms/data/qc/plate_rules.toml``)."""

    rules: _Head
    internal_standard: _InternalStandard
    completeness: _Completeness
    blanks: _Blanks
    carryover: _Carryover
    controls: _Controls
    westgard: _Westgard


def _rules(file: DataFile, doc: QCRulesFile) -> QCRules:
    unknown = [x for x in doc.controls.required_levels if x not in doc.controls.levels.values()]
    if unknown:
        raise file.error(f"required level {unknown[0]!r} is not a value of levels", "controls",
                         "required_levels")
    for rule in doc.westgard.actions:
        if rule not in WESTGARD_RULES:
            raise file.error(f"unknown Westgard rule {rule!r} (known: "
                             f"{', '.join(WESTGARD_RULES)})", "westgard", "actions", rule)
    head, blanks, carryover = doc.rules, doc.blanks, doc.carryover
    return QCRules(
        name=head.name, version=head.version, verified=head.verified,
        notice=head.notice,
        is_low_fraction_of_plate_median=doc.internal_standard.low_fraction_of_plate_median,
        is_max_fraction_of_wells_not_reportable=(
            doc.internal_standard.max_fraction_of_wells_not_reportable),
        completeness_max_fraction_of_wells_incomplete=(
            doc.completeness.max_fraction_of_wells_incomplete),
        blank_min_count=blanks.min_count,
        blank_warn_fraction_of_p99=blanks.warn_fraction_of_p99,
        blank_reject_fraction_of_p99=blanks.reject_fraction_of_p99,
        injection_order=carryover.injection_order,
        carryover_min_preceding_multiple_of_p99=carryover.min_preceding_multiple_of_p99,
        carryover_warn_percent=carryover.warn_percent,
        carryover_reject_percent=carryover.reject_percent,
        required_levels=tuple(doc.controls.required_levels),
        control_levels=MappingProxyType(dict(doc.controls.levels)),
        westgard_history_runs=doc.westgard.history_runs,
        westgard_actions=MappingProxyType(
            {rule: doc.westgard.actions.get(rule, "off") for rule in WESTGARD_RULES}),
        source_file=file.path,
    )


def load_rules(path: str | Path = RULES_TOML) -> QCRules:
    """Read and validate plate-QC rules; a problem raises DataError naming file, line and key."""
    doc, file = load_toml(path, QCRulesFile)
    return _rules(file, doc)


@cache
def default_rules() -> QCRules:
    """The packaged plate-QC rules (loaded once)."""
    return load_rules()
