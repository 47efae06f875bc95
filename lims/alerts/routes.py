"""Routes: escalate overdue alerts now (the service also does it periodically).

The other alert routes (list, acknowledge) are with the review routes.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from lims.alerts.models import EscalationPublic
from lims.alerts.service import escalate_overdue
from lims.api.deps import SessionDep, actor, require
from lims.models import User

__all__ = ["router"]

router = APIRouter(tags=["review"])
Responder = Annotated[User, Depends(require("reviewer", "follow_up", "admin"))]


@router.post("/alerts/escalate", response_model=list[EscalationPublic])
def escalate(session: SessionDep, user: Responder) -> list[EscalationPublic]:
    """Escalate every overdue open alert now; each escalation names who is to be notified."""
    escalated = escalate_overdue(session, actor=actor(user))
    session.commit()
    return [EscalationPublic.model_validate(e) for e in escalated]
