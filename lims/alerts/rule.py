"""Which calls open a time-critical alert: a call for a time-critical disorder whose final
result is positive (a borderline call for such a disorder asks for a repeat, not an alert).

The ingest opens the alerts with this rule (``lims.runs.service``), and the pages that mark a
card or a well time-critical use it too (the plate map, the review queue, the specimen page),
so that what is shown red is what raised an alert.

Public names: ``ALERTING_FINAL``, ``raises_alert``.
"""

from __future__ import annotations

from lims.vocabulary import Final

__all__ = ["ALERTING_FINAL", "raises_alert"]

#: the final result with which a time-critical disorder's call opens an alert
ALERTING_FINAL = Final.positive


def raises_alert(time_critical: bool, final: str) -> bool:
    """Whether a call (its disorder time-critical or not, its final result) opens an alert."""
    return bool(time_critical) and final == ALERTING_FINAL
