"""``nbs cases``: follow-up cases from the command line (docs/followup.md).

- ``list [--state S] [--format table|csv]``: the cases, newest first.
- ``show CASE``: one case with its contacts, diagnosis, treatment and visits.
- ``open --specimen BARCODE|ID --suspected CODE [--suspected CODE ...] [--note TEXT]``: open
  by hand.
- ``contact CASE --method M --contacted WHO --result R [--at TIME] [--note TEXT]``.
- ``move CASE TRANSITION [--clinic ID] [--appointment TIME] [--outcome O] [--disorder CODE]
  [--severity mild|moderate|severe] [--tests TEXT] [--description TEXT] [--contacted WHO]
  [--method M] [--reason TEXT] [--at TIME]``.
- ``overdue [--remind]``: the overdue worklist; ``--remind`` raises the reminders (alerts).

Every command is audited as ``--actor``.

Public names: ``cases_app``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from sqlmodel import Session

from lims.audit import Actor
from lims.cli.actor import ActorOption
from lims.cli.common import TableFormat, emit_table, in_session
from lims.followup import service
from lims.followup.schemas import CaseCreate, ContactIn, TransitionIn
from lims.models import FollowUpCase
from lims.vocabulary import (
    CaseState,
    CaseTransition,
    ContactMethod,
    ContactResult,
    OutcomeClass,
    Severity,
)

__all__ = ["cases_app"]

cases_app = typer.Typer(help="Follow-up cases: list, open, contact, move, the overdue worklist.",
                        no_args_is_help=True)
_HEADER = ["id", "infant", "group", "suspected", "reason", "state", "due", "due by (UTC)",
           "outcome"]


def _row(r: dict[str, Any]) -> list[str]:
    due = r["due_at"]
    return [str(r["id"]), str(r["infant_id"]), r["referral_group"],
            " ".join(r["suspected"] or []), r["reason"], r["state"], r["due_action"],
            f"{due:%Y-%m-%d %H:%M}" if due else "", r["outcome"] or ""]


@cases_app.command("list")
def list_command(state: CaseState = typer.Option(None, help="only cases in this state"),
                 limit: int = typer.Option(100, min=1, max=10_000),
                 fmt: TableFormat = typer.Option(TableFormat.table, "--format"),
                 actor: ActorOption = None) -> None:
    """The follow-up cases, newest first."""
    rows = in_session(lambda s, a: service.list_cases(s, a, state=state, limit=limit), actor)
    emit_table(_HEADER, [_row(r) for r in rows], fmt, limit=limit)


@cases_app.command("overdue")
def overdue_command(remind: bool = typer.Option(False, "--remind", help="raise a reminder "
                                                "(an alert) for each newly overdue case"),
                    fmt: TableFormat = typer.Option(TableFormat.table, "--format"),
                    actor: ActorOption = None) -> None:
    """Open cases past their due date, most overdue first."""
    def work(session: Session, who: Actor) -> tuple[list[dict[str, Any]], list[int]]:
        alerts = service.remind_overdue(session, who) if remind else []
        return service.overdue_cases(session, who, limit=10_000), alerts
    rows, alerts = in_session(work, actor)
    emit_table(_HEADER, [_row(r) for r in rows], fmt)
    if remind:
        typer.echo(f"reminders raised: {len(alerts)}", err=True)


@cases_app.command("show")
def show_command(case_id: int = typer.Argument(..., min=1), actor: ActorOption = None) -> None:
    """One case with its log (as JSON)."""
    detail = in_session(lambda s, a: service.case_detail(s, a, case_id), actor)
    typer.echo(detail.model_dump_json(indent=2))


@cases_app.command("open")
def open_command(specimen: str = typer.Option(..., "--specimen",
                                              help="the card that prompted the case: its "
                                                   "barcode, or the specimen id"),
                 suspected: list[str] = typer.Option(..., "--suspected",
                                                     help="a suspected disorder code"),
                 note: str = typer.Option("", "--note"), actor: ActorOption = None) -> None:
    """Open a case by hand."""
    # the accession service (card schemas, serial screening) is needed here only
    from lims.accession.service import find_card

    def work(session: Session, who: Actor) -> FollowUpCase:
        card = find_card(session, specimen)
        assert card.id is not None
        return service.open_case(session, who, CaseCreate(specimen_id=card.id,
                                                          suspected=suspected, note=note))

    case = in_session(work, actor)
    typer.echo(f"case {case.id}: {case.state}, due {case.due_action} by {case.due_at}")


@cases_app.command("contact")
def contact_command(case_id: int = typer.Argument(..., min=1),
                    method: ContactMethod = typer.Option(..., "--method"),
                    contacted: str = typer.Option(..., "--contacted", help="who was reached "
                                                  "or tried (mother, clinician, ...)"),
                    result: ContactResult = typer.Option(..., "--result"),
                    at: datetime = typer.Option(None, "--at", help="when (default now; UTC)"),
                    note: str = typer.Option("", "--note"), actor: ActorOption = None) -> None:
    """Log a contact attempt (a reached family marks an opened case contacted)."""
    attempt = in_session(lambda s, a: service.record_contact(s, a, case_id, ContactIn(
        at=at, method=method, contacted=contacted, result=result, note=note)), actor)
    typer.echo(f"contact {attempt.id} logged on case {case_id}")


@cases_app.command("move")
def move_command(case_id: int = typer.Argument(..., min=1),
                 transition: CaseTransition = typer.Argument(...),
                 clinic: int = typer.Option(None, "--clinic", min=1),
                 appointment: datetime = typer.Option(None, "--appointment"),
                 outcome: OutcomeClass = typer.Option(None, "--outcome"),
                 disorder: str = typer.Option(None, "--disorder"),
                 severity: Severity = typer.Option(None, "--severity",
                                                   help="a confirmed case's severity"),
                 tests: str = typer.Option("", "--tests", help="confirmatory tests"),
                 description: str = typer.Option("", "--description",
                                                 help="the treatment started"),
                 contacted: str = typer.Option(None, "--contacted",
                                               help="contact: who was reached"),
                 method: ContactMethod = typer.Option(None, "--method",
                                                      help="contact: how (default other)"),
                 reason: str = typer.Option("", "--reason"),
                 at: datetime = typer.Option(None, "--at", help="when (default now; UTC)"),
                 actor: ActorOption = None) -> None:
    """Apply a transition (an illegal one names those allowed, exit 3)."""
    body = TransitionIn(transition=transition, at=at, reason=reason, clinic_id=clinic,
                        appointment_at=appointment, outcome=outcome, disorder=disorder,
                        severity=severity, contacted=contacted, method=method,
                        confirmatory_tests=tests, description=description)
    case = in_session(lambda s, a: service.transition(s, a, case_id, body), actor)
    typer.echo(f"case {case_id}: {case.state}; next {case.due_action or 'nothing'}"
               + (f" by {case.due_at:%Y-%m-%d %H:%M} UTC" if case.due_at else ""))
