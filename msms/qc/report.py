"""The processing report: what each quantitation and QC step did, changed or excluded.

Every step returns a :class:`StepReport` (its parameters, counts and findings); a
:class:`ProcessingReport` collects them in order and serialises to plain JSON. A
:class:`Finding` has a severity: ``info`` (recorded only), ``warning`` (the plate can be accepted
with warnings) or ``reject`` (the plate cannot be accepted).

Public names: ``Finding``, ``StepReport``, ``ProcessingReport``, ``SEVERITIES``, ``to_jsonable``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

__all__ = ["SEVERITIES", "Finding", "ProcessingReport", "StepReport", "to_jsonable"]

SEVERITIES: tuple[str, ...] = ("info", "warning", "reject")


def to_jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, NaN, dates, tuples and mappings as plain JSON types."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a step found: ``code`` is a short machine-readable name (``is_low``,
    ``westgard_1-3s``, ...), ``message`` says it for a person."""

    step: str
    severity: str
    code: str
    message: str
    well: str | None = None
    analyte: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step, "severity": self.severity, "code": self.code,
            "message": self.message,
        }
        if self.well is not None:
            out["well"] = self.well
        if self.analyte is not None:
            out["analyte"] = self.analyte
        if self.detail:
            out["detail"] = to_jsonable(self.detail)
        return out


@dataclass(frozen=True)
class StepReport:
    """One processing step: what it was given (``parameters``), what it counted, what it found."""

    step: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    counts: Mapping[str, Any] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "description": self.description,
            "parameters": to_jsonable(self.parameters),
            "counts": to_jsonable(self.counts),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class ProcessingReport:
    """Steps in the order they ran."""

    steps: tuple[StepReport, ...] = ()

    def __add__(self, other: ProcessingReport | StepReport) -> ProcessingReport:
        extra = other.steps if isinstance(other, ProcessingReport) else (other,)
        return ProcessingReport(self.steps + extra)

    def step(self, name: str) -> StepReport:
        """The (first) step of that name."""
        for s in self.steps:
            if s.step == name:
                return s
        raise KeyError(f"no step {name!r} (steps: {', '.join(s.step for s in self.steps)})")

    def findings(self, severity: str | Iterable[str] | None = None) -> tuple[Finding, ...]:
        """All findings in step order, optionally only of the given severity or severities."""
        wanted = ({severity} if isinstance(severity, str) else set(severity)) if severity else None
        return tuple(f for s in self.steps for f in s.findings
                     if wanted is None or f.severity in wanted)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps]}
