"""The plate decision: accept, accept with warnings, or reject, with reasons (docs/quantitation.md).

Any ``reject`` finding rejects the plate; otherwise any ``warning`` finding accepts it with
warnings; otherwise it is accepted. ``info`` findings never change the decision.

Public names: ``Decision``, ``decide``, ``DECISIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from msms.qc.report import ProcessingReport

__all__ = ["DECISIONS", "Decision", "decide"]

DECISIONS: tuple[str, ...] = ("accept", "accept_with_warnings", "reject")


@dataclass(frozen=True)
class Decision:
    """The outcome of plate QC.

    ``reasons`` are the messages of the reject findings, ``warnings`` those of the warning
    findings; ``rejected_analytes`` names the analytes a reject finding is about (empty when the
    whole plate failed for a reason not tied to one analyte, e.g. a missing control level).
    """

    status: str
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]
    rejected_analytes: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return self.status != "reject"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reasons": list(self.reasons),
                "warnings": list(self.warnings),
                "rejected_analytes": list(self.rejected_analytes)}


def decide(report: ProcessingReport) -> Decision:
    """The decision the findings of ``report`` imply."""
    rejects = report.findings("reject")
    warnings = report.findings("warning")
    analytes: list[str] = []
    for f in rejects:
        named = [f.analyte] if f.analyte else list(f.detail.get("analytes", []))
        analytes.extend(a for a in named if a not in analytes)
    status = "reject" if rejects else ("accept_with_warnings" if warnings else "accept")
    return Decision(
        status=status,
        reasons=tuple(f"{f.step}: {f.message}" for f in rejects),
        warnings=tuple(f"{f.step}: {f.message}" for f in warnings),
        rejected_analytes=tuple(analytes),
    )
