"""The messages alerts are opened with: English text in ``alert.message`` (what the API and
the audit trail show), written with phrases that read it back as a code and fields, so that
the pages show it in their own language (``msms.phrases``; ``lims.web.phrases``).

Public names: ``ALERT_MESSAGES``.
"""

from __future__ import annotations

from msms.phrases import Phrasebook

__all__ = ["ALERT_MESSAGES"]

ALERT_MESSAGES = Phrasebook((
    #: a time-critical result (``lims.runs.service``); ``reasons`` are the call's
    ("time_critical", "time-critical {disorder} on card {barcode}: {reasons}"),
    #: a repeat card decided after its release (``lims.reflex.repeat_alerts``): a referral
    #: group its earlier card was sent back for, not cleared
    ("released_repeat", "released card {barcode}, the repeat of card {first}, is decided "
                        "again: {group} {decision} ({reason_code})"),
    #: a follow-up case past its due date (``lims.followup.service.remind_overdue``)
    ("followup_overdue",
     "follow-up case {case} ({label}) is overdue: {due_action} was due {due_at}"),
    #: the acknowledgement note of an alert closed by a reviewer's override
    #: (``lims.alerts.service.close_for_override``); ``reason`` is the override's
    ("closed_by_override", "closed by the override of specimen {barcode}: {reason}"),
), fields={"barcode": r"\S+", "case": r"\d+", "disorder": r"\S+", "due_action": r"\S+",
           "due_at": r"\S+", "first": r"\S+", "group": r"\S+",
           "decision": r"\S+", "reason_code": r"\S+"})
