"""Alembic environment: migrations run on the connection ``lims.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import lims.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("lims.migrate.upgrade passes the connection; run `nbs init-db`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
