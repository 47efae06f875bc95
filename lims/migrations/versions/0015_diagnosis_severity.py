"""A diagnosis records the case's severity (``diagnosis.severity``: mild, moderate or severe for
a confirmed disorder, empty otherwise), so that the laboratory's outcomes can calibrate the
reflex second tier (docs/second_tier.md A9). Diagnoses recorded before keep an empty
severity: the calibration export leaves their babies out and counts them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("diagnosis", schema=None) as batch_op:
        batch_op.add_column(sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("diagnosis", schema=None) as batch_op:
        batch_op.drop_column("severity")
