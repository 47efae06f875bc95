"""Every command of ``nbs`` (docs/architecture.md "Command line"), in the order ``nbs --help``
lists them; each command or command group lives in a module of its own.

``COMMANDS`` names, per command, the ``module:attribute`` that holds it (a command function or a
``typer.Typer`` group), the groups' sub-commands that live in other modules, and the one-line
help ``nbs --help`` shows. A command's module is imported only when the command is run or its
own help is asked for, so ``nbs evaluate`` does not import the database service, the web app or
model training; ``nbs --help`` lists the commands from the table without importing any.

Public names: ``app``, ``COMMANDS``, ``HELP``, ``Entry``, ``load``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # the click that typer vendors and builds its commands with
    from typer._click import Command, Context, HelpFormatter

__all__ = ["COMMANDS", "HELP", "Entry", "app", "load"]

HELP = "Newborn-screening laboratory: instruments, quantitation, evaluation, LIMS."


@dataclass(frozen=True)
class Entry:
    """One command of ``nbs``: where it lives (``target``, ``module:attribute``), the one-line
    help ``nbs --help`` lists, and for a group its sub-commands kept in other modules
    (``(name, "module:attribute")``)."""

    name: str
    target: str
    help: str
    subcommands: tuple[tuple[str, str], ...] = ()


COMMANDS: tuple[Entry, ...] = (
    Entry("init-db", "lims.cli.system:init_db_command",
          "Create (or bring up to date) the tables of the configured database."),
    Entry("seed-demo", "lims.cli.system:seed_demo_command",
          "Load demo data (simulated submitters, users and plates) into an empty database."),
    Entry("serve", "lims.cli.system:serve_command",
          "Start the web application and API on the configured database."),
    Entry("backup", "lims.cli.backup:backup_command",
          "Back up the configured database while the service runs (one consistent copy)."),
    Entry("restore", "lims.cli.backup:restore_command",
          "Restore a backup into a new database (NBS_DATABASE_URL) and verify its audit chain."),
    Entry("ingest", "lims.cli.ingest:ingest_command",
          "Read, quantify, check, store and evaluate one plate in one transaction."),
    Entry("read", "lims.cli.read:read_command",
          "Read an instrument file, validate the plate and write its measurements (CSV, UTF-8)."),
    Entry("quantify", "lims.cli.quantify:quantify_command",
          "Quantify a plate through its internal standards, check it, and write the profiles."),
    Entry("evaluate", "lims.cli.evaluate:evaluate_command",
          "Evaluate every profile against the disorder rules and write the calls."),
    Entry("catalogue", "lims.cli.catalogue:catalogue_app",
          "The reference catalogues of analytes and disorders."),
    Entry("users", "lims.cli.users:users_app",
          "User accounts: create, reset a password, deactivate, unlock, list."),
    Entry("simulate", "lims.cli.simulate:simulate_app",
          "Simulated newborn cohorts and instrument plates.",
          (("plate", "lims.cli.simulate_plate:plate_command"),)),
    Entry("alerts", "lims.cli.alerts:alerts_app",
          "Time-critical alerts: list them, escalate overdue ones."),
    Entry("audit", "lims.cli.audit:audit_app", "The audit trail: verify its hash chain."),
    Entry("cases", "lims.cli.cases:cases_app",
          "Follow-up cases: list, open, contact, move, the overdue worklist."),
    Entry("outcomes", "lims.cli.outcomes:outcomes_app",
          "Outcomes of follow-up as labelled data."),
    Entry("programme", "lims.cli.outcomes:programme_app",
          "Programme measures from the follow-up cases.",
          (("births", "lims.cli.births:births_command"),)),
    Entry("hl7", "lims.cli.hl7:hl7_app",
          "HL7 v2.5.1: result messages out (ORU^R01), card data in (OML^O21, CSV), MLLP."),
    Entry("report", "lims.cli.report:report_app",
          "Documents to PDF: recall letters, result reports, QC reports, the monthly bulletin "
          "and report cards."),
    Entry("cutoffs", "lims.cli.cutoffs:cutoffs_app",
          "Cutoff tables: derive a laboratory's own, show the ones in force."),
    Entry("second-tier", "lims.cli.second_tier:second_tier_app",
          "The second tier: train, evaluate and inspect the machine-learned model on labelled "
          "outcomes; calibrate the reflex levels (calibrate-reflex).",
          (("calibrate-reflex", "lims.cli.reflex_calibrate:calibrate_reflex_command"),)),
)

_BY_NAME = {entry.name: entry for entry in COMMANDS}


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@cache
def load(name: str) -> Command:
    """The command ``name`` of ``COMMANDS`` as click runs it, its module imported now; built as
    ``typer.Typer.add_typer`` / ``.command`` would on the whole app (once per process)."""
    entry = _BY_NAME[name]
    found = _resolve(entry.target)
    holder = typer.Typer()
    holder.callback()(lambda: None)
    if isinstance(found, typer.Typer):
        for sub_name, sub_target in entry.subcommands:
            found.command(sub_name)(_resolve(sub_target))
        holder.add_typer(found, name=name)
    else:
        holder.command(name)(found)
    group = typer.main.get_group(holder)
    return group.commands[name]


class _Commands(MutableMapping[str, "Command"]):
    """The table's commands by name, in its order; a command is loaded when looked up."""

    def __getitem__(self, name: str) -> Command:
        if name not in _BY_NAME:
            raise KeyError(name)
        return load(name)

    def __setitem__(self, name: str, command: Command) -> None:
        raise TypeError(f"nbs commands are registered in {__name__}.COMMANDS, not {name!r}")

    def __delitem__(self, name: str) -> None:
        raise TypeError(f"nbs commands are registered in {__name__}.COMMANDS, not {name!r}")

    def __iter__(self) -> Iterator[str]:
        return iter(_BY_NAME)

    def __len__(self) -> int:
        return len(_BY_NAME)


class LazyGroup(TyperGroup):
    """The ``nbs`` group: its commands come from ``COMMANDS`` and load when resolved; while
    its own help is written, the listing takes each command's one-line help from the table."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _Commands()
        self._listing = False

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        if self._listing and cmd_name in _BY_NAME:
            return TyperCommand(cmd_name, help=_BY_NAME[cmd_name].help)
        return self.commands.get(cmd_name)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="nbs",
    cls=LazyGroup,
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _nbs() -> None:
    pass
