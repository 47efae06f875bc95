"""Time-critical alerts: opened in the ingest transaction, open until a named person
acknowledges them, escalated after ``workflow.toml``'s ``alert_escalation_minutes``.

Escalation is computed from the clock whenever alerts are listed or ``escalate_overdue`` runs
(``nbs alerts escalate``, the service's periodic task); each escalation is audited with who is
to be notified (``workflow.toml``'s ``alert_escalation_notify``). Acknowledgement and
escalation are conditional updates, so concurrent requests cannot overwrite each other.

A plate withdrawn after its results were stored withdraws the open alerts its calls raised
(``withdraw_for_run``: status ``withdrawn``, who, when and why, audited); a repeat card's
alert is withdrawn the same way when its earlier card no longer asks for a repeat in the
group of the reflex decision that opened it (``withdraw_decision_alerts``).

Public names: ``open_alert``, ``acknowledge``, ``close_for_override``, ``escalate_overdue``,
``Escalation``, ``alert_rows``, ``withdraw_for_run``, ``withdraw_decision_alerts``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from lims.alerts import repository
from lims.alerts.messages import ALERT_MESSAGES
from lims.audit import (
    SYSTEM,
    Actor,
    AuditEntry,
    last_list_read,
    record,
    record_list_read,
    record_many,
    snapshot,
)
from lims.errors import ConflictError, InvalidInputError, NotFoundError
from lims.models import Alert, Specimen, utcnow
from lims.reference import workflow_config
from lims.vocabulary import AlertStatus, Role

__all__ = ["BANNER_READ_EVERY", "Escalation", "acknowledge", "alert_rows", "banner_rows",
           "close_for_override", "escalate_overdue", "open_alert", "withdraw_decision_alerts",
           "withdraw_for_run"]


def open_alert(session: Session, actor: Actor, specimen: Specimen, *, disorder: str,
               message: str, evaluation_id: int | None, run_id: int | None = None,
               reflex_decision_id: int | None = None) -> Alert:
    """Add an open alert for a time-critical result (same transaction as the result);
    ``run_id``: the plate run whose result raised it; ``reflex_decision_id``: the repeat
    card's reflex decision that opened it, if one did."""
    assert specimen.id is not None
    alert = Alert(specimen_id=specimen.id, evaluation_id=evaluation_id, run_id=run_id,
                  reflex_decision_id=reflex_decision_id, disorder=disorder,
                  message=message[:1000], opened_at=utcnow())
    session.add(alert)
    session.flush()
    record(session, actor, "open", "alert", alert.id, infant_id=specimen.infant_id,
           after=snapshot(alert))
    return alert


def acknowledge(session: Session, actor: Actor, alert_id: int, *, full_name: str,
                note: str) -> Alert:
    """A named person takes responsibility for the alert, with a note of what was done (who
    was called, what was agreed): an acknowledgement with an empty note is refused.

    One conditional update: when people acknowledge at the same time, exactly one succeeds and
    the others get ``ConflictError`` naming who did.
    """
    name = full_name.strip()
    if not name:
        raise InvalidInputError("the acknowledging person must be named", field="full_name")
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"alert {alert_id} not found")
    if alert.status == AlertStatus.withdrawn:
        raise ConflictError(f"alert {alert_id} was withdrawn with its plate: "
                            f"{alert.withdrawal_reason}")
    if alert.status != AlertStatus.open:
        raise ConflictError(f"alert {alert_id} was already acknowledged by "
                            f"{repository.acknowledged_by(session, alert_id)}")
    note = note.strip()
    if not note:
        raise InvalidInputError("give a note: what was done about the alert (who was called, "
                                "what was agreed)", field="note")
    before = snapshot(alert)
    if not repository.acknowledge(session, alert_id, user_id=actor.user_id, name=name,
                                  note=note, at=utcnow()):
        raise ConflictError(f"alert {alert_id} was already acknowledged by "
                            f"{repository.acknowledged_by(session, alert_id)}")
    session.refresh(alert)
    record(session, actor, "acknowledge", "alert", alert.id,
           infant_id=repository.infant_of_specimen(session, alert.specimen_id),
           before=before, after=snapshot(alert), reason=note)
    return alert


def close_for_override(session: Session, actor: Actor, specimen: Specimen, *, full_name: str,
                       reason: str) -> list[int]:
    """Close the baby's open time-critical alerts when a reviewer overrides the calls to
    normal: each is acknowledged by the reviewer with the override's reason (a conditional
    update, as ``acknowledge``; one taken meanwhile is left to whoever took it) and audited
    (action ``close_by_override``). Returns the ids closed."""
    assert specimen.id is not None
    note = ALERT_MESSAGES.text("closed_by_override", barcode=specimen.barcode,
                               reason=reason)[:1000]
    closed = []
    for alert_id in repository.open_alerts_of_infant(session, specimen.infant_id):
        if repository.acknowledge(session, alert_id, user_id=actor.user_id, name=full_name,
                                  note=note, at=utcnow()):
            closed.append(alert_id)
    if closed:
        record_many(session, actor, [AuditEntry(
            "close_by_override", "alert", alert_id, infant_id=specimen.infant_id,
            after={"status": "acknowledged", "override_of_specimen": specimen.id},
            reason=note) for alert_id in closed])
    return closed


def withdraw_for_run(session: Session, actor: Actor, run_id: int, specimen_ids: Sequence[int],
                     *, note: str) -> list[int]:
    """Withdraw the open alerts raised from ``run_id``'s calls on these cards (their plate is
    withdrawn, lims.runs.withdrawal): each is marked ``withdrawn`` by the actor with ``note``
    (a conditional update: one a person acknowledged meanwhile stays theirs), audited (action
    ``withdraw``, before and after). Returns the ids withdrawn."""
    return _withdraw(session, actor, [(a, note) for a in repository.open_alerts_of_run(
        session, run_id, specimen_ids)])


def withdraw_decision_alerts(session: Session, actor: Actor, kept: Mapping[int, Collection[str]],
                             *, note: Callable[[int, str], str]) -> list[int]:
    """Withdraw the open alerts a repeat card's reflex decision opened on these cards
    (``kept``: card id -> the referral groups its earlier card still asks for a repeat in;
    an alert opened for one of them stays), found by the decision each names
    (``alert.reflex_decision_id``), as ``withdraw_for_run`` withdraws a plate's; ``note``:
    the withdrawal's note for a card id and the alert's group. Returns the ids withdrawn."""
    return _withdraw(session, actor, [
        (alert, note(alert.specimen_id, group))
        for alert, group in repository.open_alerts_of_decisions(session, list(kept))
        if group not in kept[alert.specimen_id]])


def _withdraw(session: Session, actor: Actor, alerts: Sequence[tuple[Alert, str]]) -> list[int]:
    withdrawn: list[int] = []
    entries = []
    for alert, note in alerts:
        assert alert.id is not None
        note = note[:1000]
        before = snapshot(alert)
        if not repository.withdraw(session, alert.id, user_id=actor.user_id,
                                   name=actor.username, note=note, at=utcnow()):
            continue
        session.refresh(alert)
        withdrawn.append(alert.id)
        entries.append(AuditEntry(
            "withdraw", "alert", alert.id,
            infant_id=repository.infant_of_specimen(session, alert.specimen_id),
            before=before, after=snapshot(alert), reason=note))
    record_many(session, actor, entries)
    return withdrawn


@dataclass(frozen=True, slots=True)
class Escalation:
    """One alert raised to ``escalation_level``, and who is to be notified (by role, and the
    active users holding those roles)."""

    alert_id: int
    specimen_id: int
    infant_id: int | None
    disorder: str
    opened_at: datetime
    previous_level: int
    escalation_level: int
    notify_roles: tuple[str, ...]
    notify_users: tuple[str, ...]


def escalate_overdue(session: Session, *, now: datetime | None = None,
                     interval_minutes: int | None = None,
                     actor: Actor = SYSTEM) -> list[Escalation]:
    """Raise the escalation level of every open alert overdue for its next escalation.

    Level n is due ``n`` intervals (``workflow.toml``'s ``alert_escalation_minutes``) after
    the alert opened. Each raise is a conditional update (still open, level still lower), so
    a scheduler, the command line and a listing escalating at once raise an alert once; each
    is audited with the roles ``alert_escalation_notify`` names for its level and the active
    users holding them.
    """
    now = now or utcnow()
    config = workflow_config()
    interval = timedelta(minutes=interval_minutes or config.alert_escalation_minutes)
    due = [(row, level) for row in repository.open_alerts(session)
           if (level := int((now - row.opened_at) / interval)) > row.escalation_level]
    if not due:
        return []
    users = repository.active_users_by_role(session)
    escalated: list[Escalation] = []
    entries: list[AuditEntry] = []
    for row, level in due:
        if not repository.raise_level(session, row.id, level, now):
            continue  # acknowledged or escalated meanwhile
        roles = config.notify_roles(level)
        names = tuple(u for role in roles for u in users.get(role, []))
        escalated.append(Escalation(
            alert_id=row.id, specimen_id=row.specimen_id, infant_id=row.infant_id,
            disorder=row.disorder, opened_at=row.opened_at,
            previous_level=row.escalation_level, escalation_level=level,
            notify_roles=roles, notify_users=names))
        entries.append(AuditEntry(
            "escalate", "alert", row.id, infant_id=row.infant_id,
            before={"escalation_level": row.escalation_level},
            after={"escalation_level": level, "notify_roles": list(roles),
                   "notify_users": list(names)},
            reason=f"{row.disorder} alert open for more than {level} x {interval}; "
                   f"notify {', '.join(roles)}"))
    record_many(session, actor, entries)
    return escalated


#: The alert banner (on every page, polled every minute) records its read again only when
#: the alerts it shows changed, or after this long.
BANNER_READ_EVERY = timedelta(minutes=30)


def _in_scope(session: Session, actor: Actor, status: str | None
              ) -> tuple[list[dict[str, Any]], list[int | None]]:
    """The alerts in the actor's scope (after escalating overdue ones) and their babies."""
    escalate_overdue(session)
    rows = repository.alert_rows(
        session, status=status,
        submitter_id=actor.submitter_id if actor.role == Role.submitter else None)
    return rows, [row.pop("infant_id") for row in rows]


def banner_rows(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """The open alerts in the actor's scope, for the banner of every page: as ``alert_rows``,
    but the read is recorded only when these alerts differ from the ones the user's last
    banner read recorded, or ``BANNER_READ_EVERY`` after it."""
    rows, infant_ids = _in_scope(session, actor, AlertStatus.open)
    ids = [r["id"] for r in rows]
    filters = {"status": AlertStatus.open.value, "view": "banner"}
    last = last_list_read(session, actor, "alert", filters)
    if last is None or last[0] != ids or utcnow() - last[1] >= BANNER_READ_EVERY:
        record_list_read(session, actor, "alert", ids, infant_ids, filters=filters)
    return rows


def alert_rows(session: Session, actor: Actor, *, status: str | None) -> list[dict[str, Any]]:
    """Alerts in the actor's scope as plain rows of ``repository.ALERT_PUBLIC_COLUMNS`` (Core
    queries, no ORM objects), after escalating overdue ones; the read is one audit event naming
    the alerts and their babies."""
    rows, infant_ids = _in_scope(session, actor, status)
    record_list_read(session, actor, "alert", [r["id"] for r in rows], infant_ids,
                     filters={"status": status})
    return rows
