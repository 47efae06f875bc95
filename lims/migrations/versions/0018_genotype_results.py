"""A second-tier result can be a genotype from a molecular laboratory's file
(``POST /api/v1/second-tier-genotypes``): its count of pathogenic variants is the result's
value, and three new columns keep what the laboratory reported with it: the variants as HGVS
text (``variants``), the laboratory's reference (``lab_reference``) and when it was reported
(``reported_at``). Empty for the results of LC-MS/MS runs, stored before or after.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("second_tier_result", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("variants", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lab_reference", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("second_tier_result", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
        batch_op.drop_column("lab_reference")
        batch_op.drop_column("variants")
