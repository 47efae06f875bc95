"""``nbs audit verify``: check the audit trail's hash chain (``lims.audit_chain``).

Prints how many events were checked and the chain's head (its position and hash: record it
somewhere the database's users cannot write, and compare later), or the first broken link.
Exit 0 when the chain is intact, 1 when it is broken.

Public names: ``audit_app``.
"""

from __future__ import annotations

import typer

from lims.audit_chain import verify
from lims.cli.common import database

__all__ = ["audit_app"]

#: The exit status of a broken chain.
EXIT_BROKEN = 1

audit_app = typer.Typer(help="The audit trail: verify its hash chain.", no_args_is_help=True)


@audit_app.command("verify")
def verify_command() -> None:
    """Recompute every audit event's hash; report the first broken link."""
    with database() as engine:
        report = verify(engine)
    if not report.intact:
        typer.echo(f"audit chain BROKEN after {report.events} intact events: {report.problem}",
                   err=True)
        raise typer.Exit(EXIT_BROKEN)
    typer.echo(f"audit chain intact: {report.events} events; head position "
               f"{report.head.seq}, hash {report.head.hash}")
