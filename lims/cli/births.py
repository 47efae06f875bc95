"""``nbs programme births FILE``: record the live births each submitting unit reported per
month, from a CSV with the columns ``submitter`` (code), ``month`` (YYYY-MM) and
``live_births``; the denominator of the bulletin's coverage (``lims.followup.births``). A
month recorded again is replaced. The file is stored whole or not at all; a bad line is named
by file, line and field. Audited as ``--actor``.

Public names: ``births_command``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lims.cli.actor import ActorOption
from lims.cli.common import in_session
from lims.errors import InvalidInputError
from lims.followup.births import import_births

__all__ = ["births_command"]


def births_command(file: Path = typer.Argument(..., help="the live-births CSV", dir_okay=False),
                   actor: ActorOption = None) -> None:
    """Record live births per submitting unit and month from a CSV file."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read: {exc.strerror}", file=str(file)) from None
    lines = in_session(lambda s, a: import_births(s, a, data, file.name), actor)
    typer.echo(f"{lines} live-birth figure(s) recorded from {file}")
