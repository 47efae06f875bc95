"""The live births each submitting unit reports per month, the denominator of the coverage
measure (docs/followup.md "Measures").

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_births",
        sa.Column("submitter_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("births", sa.Integer(), nullable=False),
        sa.Column("recorded_by_name", sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=False),
        sa.Column("recorded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["submitter_id"], ["submitter.id"]),
        sa.PrimaryKeyConstraint("submitter_id", "month"),
    )


def downgrade() -> None:
    op.drop_table("live_births")
