# ruff: noqa: E501  (written as alembic autogenerate writes it, then reviewed)
"""Documents (docs/reports.md "In the LIMS"): every issued version of a recall letter, result
report, QC report, bulletin or report card with its bytes and SHA-256 (append-only: triggers
refuse UPDATE and DELETE, and TRUNCATE on PostgreSQL), and each submitter's document language.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLE = "issued_document"


def upgrade() -> None:
    with op.batch_alter_table("submitter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default="en"))
    op.create_table(_TABLE,
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("document_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("replaces_id", sa.Integer(), nullable=True),
    sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column("specimen_id", sa.Integer(), nullable=True),
    sa.Column("case_id", sa.Integer(), nullable=True),
    sa.Column("run_id", sa.Integer(), nullable=True),
    sa.Column("submitter_id", sa.Integer(), nullable=True),
    sa.Column("infant_id", sa.Integer(), nullable=True),
    sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column("size_bytes", sa.Integer(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.Column("correction_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column("issued_by", sa.Integer(), nullable=True),
    sa.Column("issued_by_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column("issued_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["case_id"], ["followup_case.id"], ),
    sa.ForeignKeyConstraint(["infant_id"], ["infant.id"], ),
    sa.ForeignKeyConstraint(["issued_by"], ["app_user.id"], ),
    sa.ForeignKeyConstraint(["replaces_id"], ["issued_document.id"], ),
    sa.ForeignKeyConstraint(["run_id"], ["run.id"], ),
    sa.ForeignKeyConstraint(["specimen_id"], ["specimen.id"], ),
    sa.ForeignKeyConstraint(["submitter_id"], ["submitter.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("document_id", "version")
    )
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_issued_document_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_document_specimen_id"), ["specimen_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_document_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_issued_document_submitter_id"), ["submitter_id"], unique=False)
    _append_only(_TABLE)


def _append_only(table: str) -> None:
    """Refuse UPDATE and DELETE on ``table`` (and TRUNCATE on PostgreSQL), as 0001 and 0002
    do for the audit trail."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
        return
    op.execute(
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_{verb}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_no_truncate ON {_TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {_TABLE}_append_only ON {_TABLE}")
        op.execute(f"DROP FUNCTION IF EXISTS {_TABLE}_append_only()")
    with op.batch_alter_table(_TABLE, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_document_submitter_id"))
        batch_op.drop_index(batch_op.f("ix_issued_document_case_id"))
        batch_op.drop_index(batch_op.f("ix_issued_document_specimen_id"))
        batch_op.drop_index(batch_op.f("ix_issued_document_document_id"))
    op.drop_table(_TABLE)
    with op.batch_alter_table("submitter", schema=None) as batch_op:
        batch_op.drop_column("document_language")
