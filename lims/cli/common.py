"""What the ``nbs`` commands share: the exit status of a rejected input, the database set-up of
the commands that use the LIMS (``open_database``, ``database``, ``in_session``), and tables on
the terminal
(``rich``) or as CSV.

Public names: ``EXIT_REJECTED``, ``TableFormat``, ``open_database``, ``database``, ``in_session``,
``print_table``, ``emit_table``.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from lims.errors import DatabaseUnavailableError
from lims.settings import Settings, get_settings, load_configured_rules, redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from lims.audit import Actor

__all__ = ["EXIT_REJECTED", "TableFormat", "database", "emit_table", "in_session", "open_database",
           "print_table"]

#: docs/architecture.md "Command line": the exit status when an input or a setting is rejected.
EXIT_REJECTED = 3
T = TypeVar("T")


class TableFormat(StrEnum):
    """How a command prints a table: aligned for a person, or CSV for a program."""

    table = "table"
    csv = "csv"


def open_database(settings: Settings | None = None, *, quiet: bool = False) -> Engine:
    """The configured database, brought up to date, with the laboratory's rule files checked
    and put in force first (a bad file or an unreachable database stops the command, named).

    Says on stderr which database it uses (unless ``quiet``). Only ``nbs init-db`` creates a
    database: a SQLite file that does not exist, or a database without the LIMS tables, stops
    the command naming NBS_DATABASE_URL (so a command run in another folder does not quietly
    start an empty ``./var/nbs.db``).
    """
    # the database service is imported by the commands that open it only
    from lims.db import check_database, init_db, make_engine
    from lims.migrate import current_revision

    settings = settings or get_settings()
    load_configured_rules(settings)
    where = redact_url(settings.database_url)
    path = settings.sqlite_path()
    if path is not None and not path.exists():
        raise DatabaseUnavailableError(
            f"NBS_DATABASE_URL={where} cannot be used: no database at {path.resolve()}; "
            f"create it with nbs init-db, or set NBS_DATABASE_URL to the laboratory's database")
    engine = make_engine(settings)
    check_database(engine)
    if current_revision(engine) is None:
        engine.dispose()
        raise DatabaseUnavailableError(
            f"NBS_DATABASE_URL={where} cannot be used: the database has no LIMS tables; "
            f"create them with nbs init-db")
    init_db(engine)
    if not quiet:
        shown = f"{where} ({path.resolve()})" if path is not None else where
        typer.echo(f"nbs: database {shown}", err=True)
    return engine


@contextmanager
def database(settings: Settings | None = None) -> Iterator[Engine]:
    """The configured database (``open_database``), its connections closed however the
    command ends."""
    engine = open_database(settings)
    try:
        yield engine
    finally:
        engine.dispose()


def in_session(work: Callable[[Session, Actor], T], actor: str | None = None) -> T:
    """Run ``work`` in a session of the configured database as ``actor`` (``--actor``) and
    commit; the database's connections are closed however it ends."""
    from sqlmodel import Session

    from lims.cli.actor import cli_actor

    with database() as engine, Session(engine, expire_on_commit=False) as session:
        result = work(session, cli_actor(actor))
        session.commit()
        return result


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]], *,
                noun: str = "rows", limit: int | None = None) -> None:
    """``rows`` aligned under ``header`` on stdout, one line each (the last column's cells
    end in an ellipsis where the terminal is too narrow), then how many there are; when they
    reach ``limit`` (the command's ``--limit``), that more may exist."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(name), *(len(row[j]) for row in cells)])
              for j, name in enumerate(header)]
    terminal = shutil.get_terminal_size((160, 24)).columns
    # the last column takes what is left, at least 10 characters: a narrow terminal wraps the
    # line, as it would a line of plain text, instead of losing a column
    widths[-1] = min(widths[-1], max(10, terminal - sum(widths[:-1]) - 2 * len(widths[:-1])))
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name, width in zip(header, widths, strict=True):
        table.add_column(name, no_wrap=True, overflow="ellipsis", width=width)
    for row in cells:
        table.add_row(*row)
    console = Console(width=max(terminal, sum(widths) + 2 * len(widths)), markup=False,
                      highlight=False, emoji=False)
    console.print(table)
    console.print(_count(len(rows), noun, limit))


def _count(n: int, noun: str, limit: int | None) -> str:
    """``(3 messages)``, ``(1 message)``; the nouns are plurals ending in s."""
    noun = noun[:-1] if n == 1 and noun.endswith("s") else noun
    if limit is not None and n >= limit:
        return f"(the first {n} {noun}: there may be more; --limit shows more)"
    return f"({n} {noun})"


def emit_table(header: Sequence[str], rows: Sequence[Sequence[str]], fmt: TableFormat, *,
               shown: Sequence[int] | None = None, limit: int | None = None) -> None:
    """Every column as CSV, or the ``shown`` columns (all by default) as a table; rows that
    reach ``limit`` are said to be the first ones (on stderr for CSV)."""
    if fmt is TableFormat.csv:
        from msms import csvsafe  # imports pandas (its frame functions): a table needs neither

        writer = csvsafe.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        if limit is not None and len(rows) >= limit:
            print(_count(len(rows), "rows", limit), file=sys.stderr)
        return
    keep = list(shown) if shown is not None else list(range(len(header)))
    print_table([header[i] for i in keep], [[row[i] for i in keep] for row in rows],
                limit=limit)
