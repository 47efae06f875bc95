"""Back up the LIMS database while the service runs, and restore a backup into a new database.

- SQLite: SQLite's online backup API copies the database page by page into a new file, a
  consistent copy even while the service writes (``sqlite3.Connection.backup``); restoring
  copies it the same way into the file ``NBS_DATABASE_URL`` names, which must not exist yet.
- PostgreSQL: ``pg_dump --format=custom`` of the schema the tables live in (one consistent
  snapshot); restoring runs ``pg_restore`` into a database (or schema) without the LIMS tables.
  The PostgreSQL client programs (``pg_dump``, ``pg_restore``) must be on ``PATH``, of a
  version at least the server's.

A restore never writes over a database that has the LIMS tables. After restoring, the
restored database's audit chain is verified (``lims.audit_chain.verify``) and its releases
counted.

Public names: ``BackupError``, ``Restored``, ``backup``, ``restore``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from lims.audit_chain import ChainReport, verify
from lims.db import check_database, make_engine
from lims.errors import ConfigurationError, InvalidInputError
from lims.migrate import current_revision
from lims.models import Release
from lims.settings import Settings, redact_url

__all__ = ["BackupError", "Restored", "backup", "restore"]


class BackupError(ConfigurationError):
    """A backup or a restore could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class Restored:
    """What a restore brought back: releases, and the audit chain's verification."""

    releases: int
    chain: ChainReport


def _libpq_url(engine: Engine) -> str:
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on PATH: install the PostgreSQL client programs "
                          f"(e.g. apt-get install postgresql-client)")
    return path


def _run(command: list[str], what: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.returncode}")
    return done.stdout


def backup(settings: Settings, destination: Path) -> str:
    """Write a consistent backup of the configured database to ``destination`` (which must not
    exist); a description of what was written."""
    if destination.exists():
        raise InvalidInputError("exists already; a backup never overwrites a file",
                                file=str(destination))
    engine = make_engine(settings)
    try:
        check_database(engine)
        if current_revision(engine) is None:
            raise BackupError(f"NBS_DATABASE_URL={redact_url(settings.database_url)} has no "
                              f"LIMS tables to back up")
        if engine.dialect.name == "sqlite":
            source = settings.sqlite_path()
            assert source is not None
            with sqlite3.connect(source) as src, sqlite3.connect(destination) as dst:
                src.backup(dst)
            src.close()
            dst.close()
            return f"SQLite online backup of {source} -> {destination}"
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--schema={schema}", f"--file={destination}", f"--dbname={_libpq_url(engine)}"],
             "pg_dump")
        return f"pg_dump (custom format) of schema {schema} -> {destination}"
    except BaseException:
        if destination.exists() and destination.stat().st_size == 0:
            destination.unlink()
        raise
    finally:
        engine.dispose()


def restore(settings: Settings, source: Path) -> Restored:
    """Restore the backup ``source`` into the database ``settings`` names, which must be new
    (SQLite: no file; PostgreSQL: no LIMS tables); verify the restored audit chain."""
    if not source.is_file():
        raise InvalidInputError("no such file", file=str(source))
    where = redact_url(settings.database_url)
    path = settings.sqlite_path()
    if settings.is_sqlite:
        if path is None:
            raise BackupError(f"NBS_DATABASE_URL={where}: restore into a SQLite file")
        if path.exists():
            raise BackupError(f"NBS_DATABASE_URL={where}: {path} exists; restore into a new "
                              f"file (a restore never writes over a database)")
        with sqlite3.connect(source) as src:
            if src.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise InvalidInputError("not an intact SQLite database", file=str(source))
            with sqlite3.connect(path) as dst:
                src.backup(dst)
            dst.close()
        src.close()
    engine = make_engine(settings)
    try:
        check_database(engine)
        if not settings.is_sqlite:
            if current_revision(engine) is not None:
                raise BackupError(f"NBS_DATABASE_URL={where} has the LIMS tables; restore "
                                  f"into a database without them")
            _pg_restore(engine, source)
        with engine.connect() as connection:
            releases = connection.execute(select(func.count()).select_from(
                Release.__table__)).scalar_one()  # type: ignore[attr-defined]
        return Restored(int(releases), verify(engine))
    finally:
        engine.dispose()


def _pg_restore(engine: Engine, source: Path) -> None:
    """``pg_restore`` the archive, leaving out the creation of a schema that exists already
    (``public``)."""
    pg_restore = _tool("pg_restore")
    listing = _run([pg_restore, "--list", str(source)], "pg_restore --list")
    with engine.connect() as connection:
        schemas = set(connection.execute(text(
            "SELECT nspname FROM pg_namespace")).scalars())
    keep = [line for line in listing.splitlines()
            if not (" SCHEMA - " in line and line.split()[-2] in schemas)]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as handle:
        handle.write("\n".join(keep) + "\n")
    try:
        _run([pg_restore, "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--use-list={handle.name}",
              f"--dbname={_libpq_url(engine)}", str(source)], "pg_restore")
    finally:
        Path(handle.name).unlink()
