"""The Westgard verdicts of each run, judged at ingest (table ``westgard_verdict``: per control
lot x analyte the rule broken with its action and the values involved, or none, and the run's
value furthest from target), which the plate page reads instead of judging the history again.
Runs stored before this revision have none: their plate page judges them from the history.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "westgard_verdict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("lot", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("analyte", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("z", sa.Float(), nullable=False),
        sa.Column("across_materials", sa.Boolean(), nullable=False),
        sa.Column("observations", sqlmodel.sql.sqltypes.AutoString(length=1000),
                  nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("westgard_verdict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_westgard_verdict_run_id"), ["run_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("westgard_verdict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_westgard_verdict_run_id"))
    op.drop_table("westgard_verdict")
