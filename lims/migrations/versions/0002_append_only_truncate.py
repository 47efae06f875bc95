"""The append-only tables refuse TRUNCATE too (PostgreSQL).

0001's row triggers refuse UPDATE and DELETE, but TRUNCATE fires no row triggers, so
``TRUNCATE audit_event`` emptied the audit trail. A statement-level BEFORE TRUNCATE trigger on
each append-only table calls the same function and refuses it, also when the table is reached
by ``TRUNCATE ... CASCADE`` from another table. SQLite has no TRUNCATE (its ``DELETE FROM``
without WHERE still fires the row trigger), so nothing changes there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 18:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Tables whose rows are never updated or deleted (the audit trail; released results).
_APPEND_ONLY = ("audit_event", "release")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
