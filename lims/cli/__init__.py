"""The ``nbs`` command line (DESIGN §5).

Exit codes: 0 success, 2 usage error, 3 an input or setting was rejected (the message names the
file and line or field, or the setting). Each command group lives in its own module and is
registered in ``_COMMAND_MODULES``.

Public names: ``app``, ``main``.
"""

from __future__ import annotations

import importlib
import sys

import typer

from lims.errors import LimsError
from msms.errors import MsmsError

__all__ = ["app", "main"]

app = typer.Typer(
    name="nbs",
    help="Newborn-screening laboratory: instruments, quantitation, evaluation, LIMS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: Modules that add their commands to ``app`` when imported.
_COMMAND_MODULES = (
    "lims.cli.catalogue",
    "lims.cli.system",
    "lims.cli.simulate",
    "lims.cli.simulate_plate",
    "lims.cli.ingest",
    "lims.cli.alerts",
    "lims.cli.read",
    "lims.cli.quantify",
    "lims.cli.cutoffs", "lims.cli.evaluate",
    "lims.cli.second_tier",
)

for _module in _COMMAND_MODULES:
    importlib.import_module(_module)

EXIT_REJECTED = 3


def main() -> None:
    """Entry point of the ``nbs`` script."""
    try:
        app()
    except (MsmsError, LimsError) as exc:
        typer.echo(f"nbs: error: {exc}", err=True)
        sys.exit(EXIT_REJECTED)
