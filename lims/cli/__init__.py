"""The ``nbs`` command line (docs/architecture.md "Command line").

Exit codes: 0 success, 1 a broken audit chain, 2 usage error, 3 an input or setting was rejected
(the message names the file and line or field, or the setting) or a plate QC rejected. The
commands are listed in ``lims.cli.commands``, one module per command or group; ``nbs COMMAND``
imports that command's module only, not the others (the database service, the web app, model
training), which would take longer to import than evaluating a plate.

Public names: ``app`` (loaded when first asked for), ``main``.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from lims.errors import LimsError
from msms.errors import MsmsError

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name == "app":
        from lims.cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``nbs`` script: ``args`` (by default the command line's) are parsed
    and run, and the process exits with the status the module's docstring lists."""
    named = {} if args is None else {"args": args, "prog_name": "nbs"}
    try:
        from lims.cli.commands import app

        app(**named)
    except (MsmsError, LimsError) as exc:
        from lims.cli.common import EXIT_REJECTED  # only when needed

        typer.echo(f"nbs: error: {exc}", err=True)
        sys.exit(EXIT_REJECTED)
