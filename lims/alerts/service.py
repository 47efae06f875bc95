"""Time-critical alerts: opened in the ingest transaction, open until a named person
acknowledges them, escalated after ``workflow.toml``'s ``alert_escalation_minutes``.

Escalation is computed from the clock whenever alerts are listed or ``escalate_overdue`` runs
(``nbs`` or a scheduler); each escalation is audited.

Public names: ``open_alert``, ``acknowledge``, ``escalate_overdue``, ``list_alerts``,
``alert_rows``, ``ALERT_PUBLIC_COLUMNS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.accession.service import check_scope
from lims.audit import SYSTEM, Actor, record, snapshot
from lims.errors import ConflictError, InvalidInputError, NotFoundError
from lims.models import Alert, Specimen, utcnow
from lims.reference import workflow_config

__all__ = ["ALERT_PUBLIC_COLUMNS", "acknowledge", "alert_rows", "escalate_overdue",
           "list_alerts", "open_alert"]

#: The columns an alert is shown with (``AlertPublic``).
ALERT_PUBLIC_COLUMNS: tuple[str, ...] = (
    "id", "specimen_id", "disorder", "message", "opened_at", "status", "escalation_level",
    "escalated_at", "acknowledged_by_name", "acknowledged_at",
)
_ALERT = Alert.__table__  # type: ignore[attr-defined]
_SPECIMEN = Specimen.__table__  # type: ignore[attr-defined]


def open_alert(session: Session, actor: Actor, specimen: Specimen, *, disorder: str,
               message: str, evaluation_id: int | None) -> Alert:
    """Add an open alert for a time-critical result (same transaction as the result)."""
    assert specimen.id is not None
    alert = Alert(specimen_id=specimen.id, evaluation_id=evaluation_id, disorder=disorder,
                  message=message[:1000], opened_at=utcnow())
    session.add(alert)
    session.flush()
    record(session, actor, "open", "alert", alert.id, infant_id=specimen.infant_id,
           after=snapshot(alert))
    return alert


def acknowledge(session: Session, actor: Actor, alert_id: int, *, full_name: str,
                note: str = "") -> Alert:
    """A named person takes responsibility for the alert."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"alert {alert_id} not found")
    if alert.status == "acknowledged":
        raise ConflictError(f"alert {alert_id} was already acknowledged by "
                            f"{alert.acknowledged_by_name}")
    if not full_name.strip():
        raise InvalidInputError("the acknowledging person must be named", field="full_name")
    before = snapshot(alert)
    alert.status = "acknowledged"
    alert.acknowledged_by = actor.user_id
    alert.acknowledged_by_name = full_name.strip()
    alert.acknowledged_at = utcnow()
    alert.acknowledgement_note = note
    session.add(alert)
    specimen = session.get(Specimen, alert.specimen_id)
    record(session, actor, "acknowledge", "alert", alert.id,
           infant_id=specimen.infant_id if specimen else None, before=before,
           after=snapshot(alert), reason=note)
    return alert


def escalate_overdue(session: Session, *, now: datetime | None = None,
                     interval_minutes: int | None = None) -> list[Alert]:
    """Raise the escalation level of every open alert overdue for its next escalation."""
    now = now or utcnow()
    interval = timedelta(minutes=interval_minutes or workflow_config().alert_escalation_minutes)
    escalated: list[Alert] = []
    overdue = [alert_id for alert_id, opened_at, level in session.execute(
        core_select(_ALERT.c.id, _ALERT.c.opened_at, _ALERT.c.escalation_level)
        .where(_ALERT.c.status == "open"))
        if int((now - opened_at) / interval) > level]
    if not overdue:
        return escalated
    for alert in session.exec(select(Alert).where(Alert.status == "open",
                                                  col(Alert.id).in_(overdue))):
        due_level = int((now - alert.opened_at) / interval)
        if due_level > alert.escalation_level:
            before = {"escalation_level": alert.escalation_level}
            alert.escalation_level = due_level
            alert.escalated_at = now
            session.add(alert)
            record(session, SYSTEM, "escalate", "alert", alert.id, before=before,
                   after={"escalation_level": due_level},
                   reason=f"open for more than {due_level} x {interval}")
            escalated.append(alert)
    return escalated


def list_alerts(session: Session, actor: Actor, *, status: str | None) -> list[Alert]:
    escalate_overdue(session)
    query = select(Alert).order_by(col(Alert.id))
    if status is not None:
        query = query.where(Alert.status == status)
    alerts = list(session.exec(query))
    if actor.role == "submitter":
        specimens = {a.specimen_id: session.get(Specimen, a.specimen_id) for a in alerts}
        visible = []
        for a in alerts:
            specimen = specimens[a.specimen_id]
            try:
                check_scope(actor, specimen.submitter_id if specimen else -1, "alert")
            except NotFoundError:
                continue
            visible.append(a)
        return visible
    return alerts


def alert_rows(session: Session, actor: Actor, *, status: str | None) -> list[dict[str, Any]]:
    """``list_alerts`` as plain rows of ``ALERT_PUBLIC_COLUMNS`` (Core queries, no ORM
    objects unless an alert is due for escalation)."""
    escalate_overdue(session)
    query = core_select(*(_ALERT.c[c] for c in ALERT_PUBLIC_COLUMNS)).order_by(_ALERT.c.id)
    if status is not None:
        query = query.where(_ALERT.c.status == status)
    if actor.role == "submitter":
        query = query.join(_SPECIMEN, _SPECIMEN.c.id == _ALERT.c.specimen_id).where(
            _SPECIMEN.c.submitter_id == actor.submitter_id)
    return [dict(r._mapping) for r in session.execute(query)]
