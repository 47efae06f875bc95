"""An alert names the plate run whose result raised it (``alert.run_id``), so that
withdrawing the plate withdraws it also when no stored call of the card raised it (a repeat
card referred by the reflex second tier while its own calls are normal). Alerts stored before
take the run of the call that raised them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_alert_run_id_run", "run", ["run_id"], ["id"])
    op.execute("UPDATE alert SET run_id = (SELECT evaluation.run_id FROM evaluation "
               "WHERE evaluation.id = alert.evaluation_id) WHERE evaluation_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alert_run_id_run", type_="foreignkey")
        batch_op.drop_column("run_id")
