"""Request and response models of alerts: listing, acknowledgement, escalation.

Public names: ``AlertPublic``, ``AcknowledgeIn``, ``EscalationPublic``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from lims.vocabulary import AlertStatus

__all__ = ["AcknowledgeIn", "AlertPublic", "EscalationPublic"]


class AlertPublic(BaseModel):
    """An alert: open, acknowledged by a named person (``acknowledged_*``: who, when and the
    note of what was done), or withdrawn with its plate (``withdrawn_*`` and the reason)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    specimen_id: int
    disorder: str
    message: str
    opened_at: datetime
    status: AlertStatus
    escalation_level: int
    escalated_at: datetime | None
    acknowledged_by_name: str
    acknowledged_at: datetime | None
    #: what the acknowledging person did about it (an override's closure names the override)
    acknowledgement_note: str
    withdrawn_by_name: str
    withdrawn_at: datetime | None
    withdrawal_reason: str
    #: The card's barcode (in listings).
    barcode: str = ""


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: str = Field(min_length=1, max_length=200)
    #: what was done about the alert; required (checked by ``service.acknowledge``, after
    #: whether the alert is still open, so a late acknowledgement is told who took it)
    note: str = Field(default="", max_length=1000)


class EscalationPublic(BaseModel):
    """An alert raised to ``escalation_level``, and who is to be notified."""

    model_config = ConfigDict(from_attributes=True)
    alert_id: int
    specimen_id: int
    disorder: str
    opened_at: datetime
    previous_level: int
    escalation_level: int
    notify_roles: list[str]
    notify_users: list[str]
