"""Schema migrations with alembic, run programmatically (``nbs init-db``).

The migration scripts are package data under ``lims/migrations/``.

Public names: ``upgrade``, ``alembic_config``, ``current_revision``, ``MIGRATIONS``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "upgrade"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """An alembic configuration pointing at the packaged migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to ``revision`` (default: the newest)."""
    config = alembic_config()
    with engine.begin() as connection:
        _drop_pre_migration_marker(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _drop_pre_migration_marker(connection: Connection) -> None:
    """Databases made before migrations existed hold only ``system_info`` (a demo marker)."""
    tables = set(inspect(connection).get_table_names())
    if tables == {"system_info"}:
        connection.execute(text("DROP TABLE system_info"))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
