"""Routes: time-critical alerts: list them (overdue ones are escalated first), acknowledge one,
escalate overdue ones now (the service also does it periodically).

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from lims.alerts import service
from lims.alerts.schemas import AcknowledgeIn, AlertPublic, EscalationPublic
from lims.audit import Actor
from lims.deps import PathId, SessionDep, require
from lims.models import Alert, User
from lims.vocabulary import AlertStatus, Role

__all__ = ["router"]

router = APIRouter(tags=["alerts"])
Responder = Annotated[User, Depends(require(Role.reviewer, Role.follow_up, Role.admin))]
Staff = Annotated[User, Depends(require(Role.technician, Role.reviewer, Role.follow_up,
                                        Role.admin))]


def _alert_rows(session: Session, who: Actor, status: AlertStatus | None) -> list[
        dict[str, Any]]:
    rows = service.alert_rows(session, who, status=status)
    session.commit()
    return rows


@router.get("/alerts", response_model=list[AlertPublic])
async def list_alerts(session: SessionDep, user: Staff,
                      status: AlertStatus | None = None) -> list[dict[str, Any]]:
    """Time-critical alerts (overdue ones are escalated when listed)."""
    return await run_in_threadpool(_alert_rows, session, Actor.of(user), status)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic,
             responses={409: {"description": "already acknowledged"}})
def acknowledge(alert_id: PathId, body: AcknowledgeIn, session: SessionDep,
                user: Responder) -> Alert:
    """A named person acknowledges the alert and takes it on."""
    alert = service.acknowledge(session, Actor.of(user), alert_id, full_name=body.full_name,
                                note=body.note)
    session.commit()
    return alert


@router.post("/alerts/escalate", response_model=list[EscalationPublic])
def escalate(session: SessionDep, user: Responder) -> list[EscalationPublic]:
    """Escalate every overdue open alert now; each escalation names who is to be notified."""
    escalated = service.escalate_overdue(session, actor=Actor.of(user))
    session.commit()
    return [EscalationPublic.model_validate(e) for e in escalated]
