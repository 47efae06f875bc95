"""The LIMS's closed vocabularies, declared once: the routes, services, request and response
schemas and the documentation take their values from these enums (docs/architecture.md
"Extension points"). Each is a ``StrEnum``, so a member is stored and compared as its string.

Public names: ``QcDecision``, ``Stage``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["QcDecision", "Stage"]


class QcDecision(StrEnum):
    """A plate's QC decision (``msms.qc.decision.DECISIONS``)."""

    accept = "accept"
    accept_with_warnings = "accept_with_warnings"
    reject = "reject"


class Stage(StrEnum):
    """What a profile is, for evaluation (``cutoffs.evaluate.STAGES``): a first test, or the
    mean of an in-duplicate repeat, which decides."""

    initial = "initial"
    duplicate_mean = "duplicate_mean"
