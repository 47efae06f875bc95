"""Every command of ``nbs`` (docs/architecture.md "Command line"), in the order ``nbs --help``
lists them; each command or command group lives in a module of its own.

``COMMANDS`` names, per command, the module (a function importing it) and the attribute that
holds it (a command function or a ``typer.Typer`` group), the groups' sub-commands that live in
other modules, and the one-line help ``nbs --help`` shows. A command's module is imported only
when the command is run or its own help is asked for, so ``nbs evaluate`` does not import the
database service, the web app or model training; ``nbs --help`` lists the commands from the
table without importing any.

Public names: ``app``, ``COMMANDS``, ``HELP``, ``Entry``, ``Target``, ``load``, ``resolve``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # the click that typer vendors and builds its commands with
    from typer._click import Command, Context, HelpFormatter

__all__ = ["COMMANDS", "HELP", "Entry", "Target", "app", "load", "resolve"]

HELP = "Newborn-screening laboratory: instruments, quantitation, evaluation, LIMS."


#: Where a command lives: a function importing its module (a plain import, so that
#: import-linter and mypy see every command module) and the attribute holding it.
Target = tuple[Callable[[], ModuleType], str]


# ---- the command modules, each imported when its command is first resolved --------------------

def _system() -> ModuleType:
    from lims.cli import system

    return system

def _backup() -> ModuleType:
    from lims.cli import backup

    return backup

def _ingest() -> ModuleType:
    from lims.cli import ingest

    return ingest

def _read() -> ModuleType:
    from lims.cli import read

    return read

def _quantify() -> ModuleType:
    from lims.cli import quantify

    return quantify

def _evaluate() -> ModuleType:
    from lims.cli import evaluate

    return evaluate

def _catalogue() -> ModuleType:
    from lims.cli import catalogue

    return catalogue

def _users() -> ModuleType:
    from lims.cli import users

    return users

def _simulate() -> ModuleType:
    from lims.cli import simulate

    return simulate

def _simulate_plate() -> ModuleType:
    from lims.cli import simulate_plate

    return simulate_plate

def _alerts() -> ModuleType:
    from lims.cli import alerts

    return alerts

def _audit() -> ModuleType:
    from lims.cli import audit

    return audit

def _cases() -> ModuleType:
    from lims.cli import cases

    return cases

def _outcomes() -> ModuleType:
    from lims.cli import outcomes

    return outcomes

def _births() -> ModuleType:
    from lims.cli import births

    return births

def _hl7() -> ModuleType:
    from lims.cli import hl7

    return hl7

def _report() -> ModuleType:
    from lims.cli import report

    return report

def _cutoffs() -> ModuleType:
    from lims.cli import cutoffs

    return cutoffs

def _second_tier() -> ModuleType:
    from lims.cli import second_tier

    return second_tier

def _reflex_calibrate() -> ModuleType:
    from lims.cli import reflex_calibrate

    return reflex_calibrate


@dataclass(frozen=True)
class Entry:
    """One command of ``nbs``: where it lives (``target``), the one-line help ``nbs --help``
    lists, and for a group its sub-commands kept in other modules (``(name, target)``)."""

    name: str
    target: Target
    help: str
    subcommands: tuple[tuple[str, Target], ...] = ()

    def resolve(self) -> Any:
        """The command function or ``typer.Typer`` group, its module imported now."""
        return resolve(self.target)


COMMANDS: tuple[Entry, ...] = (
    Entry("init-db", (_system, "init_db_command"),
          "Create (or bring up to date) the tables of the configured database."),
    Entry("seed-demo", (_system, "seed_demo_command"),
          "Load demo data (simulated submitters, users and plates) into an empty database."),
    Entry("serve", (_system, "serve_command"),
          "Start the web application and API on the configured database."),
    Entry("backup", (_backup, "backup_command"),
          "Back up the configured database while the service runs (one consistent copy)."),
    Entry("restore", (_backup, "restore_command"),
          "Restore a backup into a new database (NBS_DATABASE_URL) and verify its audit chain."),
    Entry("ingest", (_ingest, "ingest_command"),
          "Read, quantify, check, store and evaluate one plate in one transaction."),
    Entry("read", (_read, "read_command"),
          "Read an instrument file, validate the plate and write its measurements (CSV, UTF-8)."),
    Entry("quantify", (_quantify, "quantify_command"),
          "Quantify a plate through its internal standards, check it, and write the profiles."),
    Entry("evaluate", (_evaluate, "evaluate_command"),
          "Evaluate every profile against the disorder rules and write the calls."),
    Entry("catalogue", (_catalogue, "catalogue_app"),
          "The reference catalogues of analytes and disorders."),
    Entry("users", (_users, "users_app"),
          "User accounts: create, reset a password, deactivate, unlock, list."),
    Entry("simulate", (_simulate, "simulate_app"),
          "Simulated newborn cohorts and instrument plates.",
          (("plate", (_simulate_plate, "plate_command")),)),
    Entry("alerts", (_alerts, "alerts_app"),
          "Time-critical alerts: list them, escalate overdue ones."),
    Entry("audit", (_audit, "audit_app"), "The audit trail: verify its hash chain."),
    Entry("cases", (_cases, "cases_app"),
          "Follow-up cases: list, open, contact, move, the overdue worklist."),
    Entry("outcomes", (_outcomes, "outcomes_app"),
          "Outcomes of follow-up as labelled data."),
    Entry("programme", (_outcomes, "programme_app"),
          "Programme measures from the follow-up cases.",
          (("births", (_births, "births_command")),)),
    Entry("hl7", (_hl7, "hl7_app"),
          "HL7 v2.5.1: result messages out (ORU^R01), card data in (OML^O21, CSV), MLLP."),
    Entry("report", (_report, "report_app"),
          "Documents to PDF: recall letters, result reports, QC reports, the monthly bulletin "
          "and report cards."),
    Entry("cutoffs", (_cutoffs, "cutoffs_app"),
          "Cutoff tables: derive a laboratory's own, show the ones in force."),
    Entry("second-tier", (_second_tier, "second_tier_app"),
          "The second tier: train, evaluate and inspect the machine-learned model on labelled "
          "outcomes; calibrate the reflex levels (calibrate-reflex).",
          (("calibrate-reflex", (_reflex_calibrate, "calibrate_reflex_command")),)),
)

_BY_NAME = {entry.name: entry for entry in COMMANDS}


def resolve(target: Target) -> Any:
    """The object a target names, its module imported now."""
    module, attribute = target
    return getattr(module(), attribute)


@cache
def load(name: str) -> Command:
    """The command ``name`` of ``COMMANDS`` as click runs it, its module imported now; built as
    ``typer.Typer.add_typer`` / ``.command`` would on the whole app (once per process)."""
    entry = _BY_NAME[name]
    found = entry.resolve()
    holder = typer.Typer()
    holder.callback()(lambda: None)
    if isinstance(found, typer.Typer):
        for sub_name, sub_target in entry.subcommands:
            found.command(sub_name)(resolve(sub_target))
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
