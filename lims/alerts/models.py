"""Response models of alert escalation.

Public names: ``EscalationPublic``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = ["EscalationPublic"]


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
