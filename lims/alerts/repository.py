"""Queries of alerts: conditional acknowledgement and escalation (concurrent requests cannot
overwrite each other), the overdue open alerts, alert rows for listing.

Public names: ``ALERT_PUBLIC_COLUMNS``, ``acknowledge``, ``acknowledged_by``,
``infant_of_specimen``, ``open_alerts``, ``raise_level``, ``active_users_by_role``,
``alert_rows``, ``open_counts``; for a withdrawn plate: ``open_alerts_of_run``, ``withdraw``;
for a repeat card's retired reflex decisions: ``open_alerts_of_decisions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Row, func, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.models import Alert, Evaluation, ReflexDecisionRecord, Specimen, User
from lims.vocabulary import AlertStatus

__all__ = ["ALERT_PUBLIC_COLUMNS", "acknowledge", "acknowledged_by", "active_users_by_role",
           "alert_rows", "infant_of_specimen", "open_alerts", "open_alerts_of_decisions",
           "open_alerts_of_run", "open_counts",
           "raise_level", "withdraw"]

#: The columns an alert is shown with (``AlertPublic``).
ALERT_PUBLIC_COLUMNS: tuple[str, ...] = (
    "id", "specimen_id", "disorder", "message", "opened_at", "status", "escalation_level",
    "escalated_at", "acknowledged_by_name", "acknowledged_at", "acknowledgement_note",
    "withdrawn_by_name", "withdrawn_at", "withdrawal_reason",
)
_ALERT = Alert.__table__  # type: ignore[attr-defined]
_SPECIMEN = Specimen.__table__  # type: ignore[attr-defined]
_USER = User.__table__  # type: ignore[attr-defined]
_EVALUATION = Evaluation.__table__  # type: ignore[attr-defined]
_STILL_OPEN = (_ALERT.c.status == AlertStatus.open, _ALERT.c.acknowledged_at.is_(None))


def acknowledge(session: Session, alert_id: int, *, user_id: int | None, name: str,
                note: str, at: datetime) -> bool:
    """Mark the alert acknowledged unless someone did already (False then)."""
    taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_ALERT).where(_ALERT.c.id == alert_id, *_STILL_OPEN)
        .values(status=AlertStatus.acknowledged, acknowledged_by=user_id,
                acknowledged_by_name=name, acknowledged_at=at, acknowledgement_note=note))
    return taken.rowcount == 1


def acknowledged_by(session: Session, alert_id: int) -> str:
    return str(session.execute(core_select(_ALERT.c.acknowledged_by_name)
                               .where(_ALERT.c.id == alert_id)).scalar_one())


def infant_of_specimen(session: Session, specimen_id: int) -> int | None:
    return session.execute(core_select(_SPECIMEN.c.infant_id)
                           .where(_SPECIMEN.c.id == specimen_id)).scalar()


def open_alerts_of_infant(session: Session, infant_id: int) -> list[int]:
    """The ids of the baby's open, unacknowledged alerts (on any of its specimens)."""
    return list(session.execute(
        core_select(_ALERT.c.id).join(_SPECIMEN, _SPECIMEN.c.id == _ALERT.c.specimen_id)
        .where(_SPECIMEN.c.infant_id == infant_id, *_STILL_OPEN)
        .order_by(_ALERT.c.id)).scalars())


def open_alerts_of_run(session: Session, run_id: int,
                       specimen_ids: Sequence[int]) -> list[Alert]:
    """The open, unacknowledged alerts raised from ``run_id``'s results on these cards."""
    if not specimen_ids:
        return []
    raised = core_select(_EVALUATION.c.id).where(_EVALUATION.c.run_id == run_id)
    return list(session.exec(select(Alert).where(
        or_(col(Alert.run_id) == run_id, col(Alert.evaluation_id).in_(raised)),
        col(Alert.specimen_id).in_(list(specimen_ids)),
        col(Alert.status) == AlertStatus.open, col(Alert.acknowledged_at).is_(None))
        .order_by(col(Alert.id))))


def open_alerts_of_decisions(session: Session, specimen_ids: Sequence[int]
                             ) -> list[tuple[Alert, str]]:
    """The open, unacknowledged alerts a reflex decision of these cards opened (a repeat
    card's, ``lims.reflex.repeat_alerts``: ``alert.reflex_decision_id``), each with the
    referral group of that decision."""
    if not specimen_ids:
        return []
    rows = session.exec(select(Alert, ReflexDecisionRecord.group_code).join(
        ReflexDecisionRecord, col(Alert.reflex_decision_id) == col(ReflexDecisionRecord.id))
        .where(col(Alert.specimen_id).in_(sorted(set(specimen_ids))),
               col(Alert.status) == AlertStatus.open, col(Alert.acknowledged_at).is_(None))
        .order_by(col(Alert.id)))
    return [(alert, str(group)) for alert, group in rows]


def withdraw(session: Session, alert_id: int, *, user_id: int | None, name: str, note: str,
             at: datetime) -> bool:
    """Mark the alert withdrawn unless someone acknowledged it meanwhile (False then)."""
    done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_ALERT).where(_ALERT.c.id == alert_id, *_STILL_OPEN)
        .values(status=AlertStatus.withdrawn, withdrawn_by=user_id, withdrawn_by_name=name,
                withdrawn_at=at, withdrawal_reason=note))
    return done.rowcount == 1


def open_alerts(session: Session) -> Sequence[Row[Any]]:
    """Every open, unacknowledged alert with its baby, oldest first."""
    return session.execute(
        core_select(_ALERT.c.id, _ALERT.c.specimen_id, _ALERT.c.disorder, _ALERT.c.opened_at,
                    _ALERT.c.escalation_level, _SPECIMEN.c.infant_id)
        .join(_SPECIMEN, _SPECIMEN.c.id == _ALERT.c.specimen_id)
        .where(*_STILL_OPEN).order_by(_ALERT.c.id)).all()


def raise_level(session: Session, alert_id: int, level: int, at: datetime) -> bool:
    """Raise the alert to ``level`` unless it was acknowledged or escalated meanwhile."""
    raised: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_ALERT).where(_ALERT.c.id == alert_id, *_STILL_OPEN,
                             _ALERT.c.escalation_level < level)
        .values(escalation_level=level, escalated_at=at))
    return raised.rowcount == 1


def active_users_by_role(session: Session) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {}
    for username, role in session.execute(
            core_select(_USER.c.username, _USER.c.role)
            .where(_USER.c.active.is_(True)).order_by(_USER.c.username)):
        users.setdefault(role, []).append(username)
    return users


def alert_rows(session: Session, *, status: str | None,
               submitter_id: int | None) -> list[dict[str, Any]]:
    """Alerts as plain rows of ``ALERT_PUBLIC_COLUMNS``, the card's ``barcode`` and
    ``infant_id`` (one Core query), of ``submitter_id``'s babies only when given."""
    query = (core_select(*(_ALERT.c[c] for c in ALERT_PUBLIC_COLUMNS), _SPECIMEN.c.barcode,
                         _SPECIMEN.c.infant_id)
             .join(_SPECIMEN, _SPECIMEN.c.id == _ALERT.c.specimen_id).order_by(_ALERT.c.id))
    if status is not None:
        query = query.where(_ALERT.c.status == status)
    if submitter_id is not None:
        query = query.where(_SPECIMEN.c.submitter_id == submitter_id)
    return [dict(r._mapping) for r in session.execute(query)]


def open_counts(session: Session, specimen_ids: Sequence[int]) -> dict[int, int]:
    """How many open alerts each of these specimens has (only those with one)."""
    if not specimen_ids:
        return {}
    return {specimen_id: count for specimen_id, count in session.execute(
        core_select(_ALERT.c.specimen_id, func.count())
        .where(_ALERT.c.specimen_id.in_(list(specimen_ids)),
               _ALERT.c.status == AlertStatus.open)
        .group_by(_ALERT.c.specimen_id))}
