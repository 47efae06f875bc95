"""Which calls open a time-critical alert: a call for a time-critical disorder whose final
result is positive (a borderline call for such a disorder asks for a repeat, not an alert).

The ingest opens the alerts with this rule (``lims.runs.service``), and the pages that mark a
card or a well time-critical use it too (the plate map, the review queue, the specimen page,
the reflex worklist), as does every ``time_critical`` of a card or a call the API reports, so
that what is shown red is what raised an alert. ``alerting_calls`` is the rule in SQL, over
the stored calls (evaluations).

Public names: ``ALERTING_FINAL``, ``raises_alert``, ``alerting_calls``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_

from lims.vocabulary import Final

__all__ = ["ALERTING_FINAL", "alerting_calls", "raises_alert"]

#: the final result with which a time-critical disorder's call opens an alert
ALERTING_FINAL = Final.positive


def raises_alert(time_critical: bool, final: str) -> bool:
    """Whether a call (its disorder time-critical or not, its final result) opens an alert."""
    return bool(time_critical) and final == ALERTING_FINAL


def alerting_calls(time_critical: Any, final: Any) -> Any:
    """SQL: ``raises_alert`` on a stored call's ``time_critical`` and ``final`` columns."""
    return and_(time_critical.is_(True), final == ALERTING_FINAL)
