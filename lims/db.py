"""Database engine and sessions for the configured URL (SQLite file or PostgreSQL).

Public names: ``make_engine``, ``check_database``, ``init_db``, ``database_status``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import create_engine

from lims.errors import ConfigurationError, DatabaseUnavailableError
from lims.settings import Settings, redact_url

__all__ = ["check_database", "database_status", "init_db", "make_engine"]

#: PostgreSQL's SQLSTATE for a statement the connected role lacks the privilege for.
_INSUFFICIENT_PRIVILEGE = "42501"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _prepare_sqlite_file(url: str, path: Path) -> None:
    """Create the SQLite file's folder if needed; raise naming NBS_DATABASE_URL if it is unusable.

    The folder may not be creatable (``/proc/x``), a file may stand where a folder is needed
    (``Makefile/x.db``), the path may be a folder, or the folder may not be writable.
    """
    def unusable(problem: str) -> DatabaseUnavailableError:
        return DatabaseUnavailableError(
            f"NBS_DATABASE_URL={redact_url(url)} cannot be used: {problem}"
        )

    folder = path.parent
    blocking = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise unusable(f"{blocking} is a file, not a folder, so {path} cannot be created")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise unusable(f"the folder {folder} cannot be created: {exc.strerror or exc}") from None
    if path.is_dir():
        raise unusable(f"{path} is a folder, not a database file")
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise unusable(f"the database file {path} is not readable and writable")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise unusable(f"the folder {folder} is not writable, so {path.name} cannot be created")


def make_engine(settings: Settings) -> Engine:
    """An engine for ``settings.database_url``; creates the SQLite file's folder if needed.

    An unusable SQLite path (a folder that cannot be created, a file in the way, no write
    permission) raises DatabaseUnavailableError naming NBS_DATABASE_URL and the problem; a URL
    that does not parse raises ConfigurationError naming it.
    """
    try:
        make_url(settings.database_url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"NBS_DATABASE_URL: not a database URL: {exc}") from None
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None:
            _prepare_sqlite_file(settings.database_url, path)
        engine = create_engine(
            settings.database_url, connect_args={"check_same_thread": False, "timeout": 30}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        settings.database_url, pool_pre_ping=True, connect_args={"connect_timeout": 5}
    )


def check_database(engine: Engine) -> None:
    """Connect once; raise DatabaseUnavailableError naming NBS_DATABASE_URL if that fails."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig if orig else exc).strip().splitlines()[0]
        raise DatabaseUnavailableError(
            f"NBS_DATABASE_URL={redact_url(str(engine.url.render_as_string(hide_password=False)))}"
            f" cannot be reached: {reason}"
        ) from None


def database_status(engine: Engine) -> dict[str, str]:
    """``{"status": "ok"|"unavailable", "backend": ..., "detail": ...}`` for the health check."""
    try:
        check_database(engine)
    except DatabaseUnavailableError as exc:
        backend = engine.url.get_backend_name()
        return {"status": "unavailable", "backend": backend, "detail": str(exc)}
    return {"status": "ok", "backend": engine.url.get_backend_name()}


def init_db(engine: Engine) -> None:
    """Create or migrate the tables of the data model (``alembic upgrade head``)."""
    from lims.migrate import upgrade

    check_database(engine)
    try:
        upgrade(engine)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
            raise
        raise ConfigurationError(
            f"NBS_DATABASE_URL={redact_url(engine.url.render_as_string(hide_password=False))}: "
            f"the database needs a migration its user {engine.url.username!r} may not run; run "
            f"nbs init-db as the owner of the tables (with --service-role for the service's "
            f"role)") from None
