"""Each well's internal-standard signal on its run (table ``well_signal``: the well's sample id
and type, the lowest fraction of the plate median over the well's internal standards, which
standard, the status), stored on
ingest for the plate map of the plate page and the run QC report. Runs stored before this
revision have none: their plate maps show no signal.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "well_signal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("well", sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
        sa.Column("sample_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sample_type", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("internal_standard", sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=False),
        sa.Column("fraction", sa.Float(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "well"),
    )
    with op.batch_alter_table("well_signal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_well_signal_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("well_signal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_well_signal_run_id"))
    op.drop_table("well_signal")
