"""``nbs alerts``: time-critical alerts from the command line.

- ``list [--status open|acknowledged|all]``: the alerts (overdue ones are escalated first, as
  the API does), with who acknowledged or withdrew each, when, and the acknowledgement's note
  or the withdrawal's reason, as the alerts page shows them; the read is audited under
  ``--actor``.
- ``escalate``: escalate every overdue open alert now and print each escalation with who is to
  be notified (``workflow.toml``'s ``alert_escalation_notify``); exit 0 also when nothing was
  due. For a scheduler (cron, a systemd timer) when the service's own periodic escalation
  (``NBS_ALERT_ESCALATION_CHECK_SECONDS``) is off.

Public names: ``alerts_app``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import typer

from lims.alerts.scheduler import escalate_now
from lims.alerts.service import alert_rows
from lims.cli.actor import ActorOption, cli_actor
from lims.cli.common import database, in_session, print_table

__all__ = ["alerts_app"]

alerts_app = typer.Typer(help="Time-critical alerts: list them, escalate overdue ones.",
                         no_args_is_help=True)


class Status(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    withdrawn = "withdrawn"
    all = "all"


@alerts_app.command("list")
def list_command(
    status: Status = typer.Option(Status.open, help="which alerts"),
    actor: ActorOption = None,
) -> None:
    """The time-critical alerts, oldest first."""
    rows = in_session(lambda s, a: alert_rows(
        s, a, status=None if status is Status.all else status.value), actor)
    print_table(["id", "card", "disorder", "opened (UTC)", "status", "level",
                 "acknowledged or withdrawn by", "at (UTC)", "note or reason"],
                [[r["id"], r["barcode"], r["disorder"], _minute(r["opened_at"]),
                  r["status"], r["escalation_level"], *_taken(r)] for r in rows],
                noun="alerts")


def _minute(at: datetime | None) -> str:
    return "" if at is None else f"{at:%Y-%m-%d %H:%M}"


def _taken(row: dict[str, Any]) -> tuple[str, str, str]:
    """Who acknowledged or withdrew the alert, when, and the note or the reason (on one
    line), as the alerts page shows them."""
    if row["status"] == "withdrawn":
        who, at, text = row["withdrawn_by_name"], row["withdrawn_at"], row["withdrawal_reason"]
    else:
        who, at, text = (row["acknowledged_by_name"], row["acknowledged_at"],
                         row["acknowledgement_note"])
    return who or "", _minute(at), " ".join((text or "").split())


@alerts_app.command("escalate")
def escalate_command(actor: ActorOption = None) -> None:
    """Escalate every overdue open alert and print what was escalated."""
    with database() as engine:
        escalated = escalate_now(engine, cli_actor(actor))
    for e in escalated:
        typer.echo(f"alert {e.alert_id} ({e.disorder}, specimen {e.specimen_id}, opened "
                   f"{e.opened_at:%Y-%m-%d %H:%M} UTC): level {e.previous_level} -> "
                   f"{e.escalation_level}; notify {', '.join(e.notify_roles)}"
                   f" ({', '.join(e.notify_users) or 'no active user holds these roles'})")
    typer.echo(f"escalated {len(escalated)} alert(s)" if escalated
               else "no alert is overdue")
