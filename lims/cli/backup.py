"""``nbs backup FILE`` and ``nbs restore FILE`` (``lims.backup``): a consistent backup of the
running LIMS database, and its restore into a new database with the audit chain verified.

Public names: ``backup_command``, ``restore_command``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from lims.backup import backup, restore
from lims.cli.audit import EXIT_BROKEN
from lims.cli.progress import step
from lims.settings import get_settings

__all__ = ["backup_command", "restore_command"]


def backup_command(file: Path = typer.Argument(..., help="the backup to write (must not "
                                               "exist): a SQLite file, or a pg_dump archive")
                   ) -> None:
    """Back up the configured database while the service runs (one consistent copy)."""
    with step(f"backing up to {file}"):
        made = backup(get_settings(), file)
    typer.echo(made)


def restore_command(file: Path = typer.Argument(..., help="a backup made by nbs backup")
                    ) -> None:
    """Restore a backup into a new database (NBS_DATABASE_URL) and verify its audit chain.

    Exits 1 if the restored audit chain is broken."""
    with step(f"restoring {file} and verifying its audit chain"):
        restored = restore(get_settings(), file)
    typer.echo(f"restored {file}: {restored.releases} releases")
    chain = restored.chain
    if not chain.intact:
        typer.echo(f"audit chain BROKEN after {chain.events} intact events: {chain.problem}",
                   err=True)
        raise typer.Exit(EXIT_BROKEN)
    typer.echo(f"audit chain intact: {chain.events} events; head position {chain.head.seq}, "
               f"hash {chain.head.hash}")
