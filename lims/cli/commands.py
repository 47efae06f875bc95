"""Every command of ``nbs`` (docs/architecture.md "Command line"), in the order ``nbs --help``
lists them; each command or command group lives in a module of its own.

``COMMANDS`` names, per command, the module (imported by ``command_module``) and the attribute
that holds it (a command function or a ``typer.Typer`` group), the groups' sub-commands that live in
other modules, and the one-line help ``nbs --help`` shows. A command's module is imported only
when the command is run or its own help is asked for, so ``nbs evaluate`` does not import the
database service, the web app or model training; ``nbs --help`` lists the commands from the
table without importing any.

Public names: ``app``, ``COMMANDS``, ``HELP``, ``Entry``, ``Target``, ``command_module``,
``load``, ``resolve``.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand, TyperGroup

if TYPE_CHECKING:  # the click that typer vendors and builds its commands with
    from typer._click import Command, Context, HelpFormatter

__all__ = ["COMMANDS", "HELP", "Entry", "Target", "app", "command_module", "load", "resolve"]

HELP = "Newborn-screening laboratory: instruments, quantitation, evaluation, LIMS."


#: Where a command lives: its module in ``lims.cli`` (imported by ``command_module``) and the
#: attribute holding it.
Target = tuple[str, str]


def command_module(name: str) -> ModuleType:
    """The command module ``lims.cli.<name>``, imported now through a plain import, so that
    import-linter and mypy see every command module."""
    match name:
        case "system":
            from lims.cli import system
            return system
        case "backup":
            from lims.cli import backup
            return backup
        case "ingest":
            from lims.cli import ingest
            return ingest
        case "read":
            from lims.cli import read
            return read
        case "quantify":
            from lims.cli import quantify
            return quantify
        case "evaluate":
            from lims.cli import evaluate
            return evaluate
        case "catalogue":
            from lims.cli import catalogue
            return catalogue
        case "users":
            from lims.cli import users
            return users
        case "simulate":
            from lims.cli import simulate
            return simulate
        case "simulate_plate":
            from lims.cli import simulate_plate
            return simulate_plate
        case "alerts":
            from lims.cli import alerts
            return alerts
        case "audit":
            from lims.cli import audit
            return audit
        case "cases":
            from lims.cli import cases
            return cases
        case "outcomes":
            from lims.cli import outcomes
            return outcomes
        case "births":
            from lims.cli import births
            return births
        case "hl7":
            from lims.cli import hl7
            return hl7
        case "report":
            from lims.cli import report
            return report
        case "cutoffs":
            from lims.cli import cutoffs
            return cutoffs
        case "second_tier":
            from lims.cli import second_tier
            return second_tier
        case "reflex_calibrate":
            from lims.cli import reflex_calibrate
            return reflex_calibrate
        case "genotypes":
            from lims.cli import genotypes
            return genotypes
    raise KeyError(f"no nbs command module {name!r}")


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
    Entry("init-db", ("system", "init_db_command"),
          "Create (or bring up to date) the tables of the configured database."),
    Entry("seed-demo", ("system", "seed_demo_command"),
          "Load demo data (simulated submitters, users and plates) into an empty database."),
    Entry("serve", ("system", "serve_command"),
          "Start the web application and API on the configured database."),
    Entry("backup", ("backup", "backup_command"),
          "Back up the configured database while the service runs (one consistent copy)."),
    Entry("restore", ("backup", "restore_command"),
          "Restore a backup into a new database (NBS_DATABASE_URL) and verify its audit chain."),
    Entry("ingest", ("ingest", "ingest_command"),
          "Read, quantify, check, store and evaluate one plate in one transaction."),
    Entry("read", ("read", "read_command"),
          "Read an instrument file, validate the plate and write its measurements (CSV, UTF-8)."),
    Entry("quantify", ("quantify", "quantify_command"),
          "Quantify a plate through its internal standards, check it, and write the profiles."),
    Entry("evaluate", ("evaluate", "evaluate_command"),
          "Evaluate every profile against the disorder rules and write the calls."),
    Entry("catalogue", ("catalogue", "catalogue_app"),
          "The reference catalogues of analytes and disorders."),
    Entry("users", ("users", "users_app"),
          "User accounts: create, reset a password, deactivate, unlock, list."),
    Entry("simulate", ("simulate", "simulate_app"),
          "Simulated newborn cohorts and instrument plates.",
          (("plate", ("simulate_plate", "plate_command")),)),
    Entry("alerts", ("alerts", "alerts_app"),
          "Time-critical alerts: list them, escalate overdue ones."),
    Entry("audit", ("audit", "audit_app"), "The audit trail: verify its hash chain."),
    Entry("cases", ("cases", "cases_app"),
          "Follow-up cases: list, open, contact, move, the overdue worklist."),
    Entry("outcomes", ("outcomes", "outcomes_app"),
          "Outcomes of follow-up as labelled data."),
    Entry("programme", ("outcomes", "programme_app"),
          "Programme measures from the follow-up cases.",
          (("births", ("births", "births_command")),)),
    Entry("hl7", ("hl7", "hl7_app"),
          "HL7 v2.5.1: result messages out (ORU^R01), card data in (OML^O21, CSV), MLLP."),
    Entry("report", ("report", "report_app"),
          "Documents to PDF: recall letters, result reports, QC reports, the monthly bulletin "
          "and report cards."),
    Entry("cutoffs", ("cutoffs", "cutoffs_app"),
          "Cutoff tables: derive a laboratory's own, show the ones in force."),
    Entry("second-tier", ("second_tier", "second_tier_app"),
          "The second tier: train, evaluate and inspect the machine-learned model on labelled "
          "outcomes; calibrate the reflex levels (calibrate-reflex); import genotype "
          "results (import-genotypes).",
          (("calibrate-reflex", ("reflex_calibrate", "calibrate_reflex_command")),
           ("import-genotypes", ("genotypes", "import_genotypes_command")))),
)

_BY_NAME = {entry.name: entry for entry in COMMANDS}


def resolve(target: Target) -> Any:
    """The object a target names, its module imported now."""
    module, attribute = target
    return getattr(command_module(module), attribute)


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
