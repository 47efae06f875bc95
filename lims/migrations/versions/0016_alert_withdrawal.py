"""A withdrawn alert records its withdrawal in columns of its own (``withdrawn_by``,
``withdrawn_by_name``, ``withdrawn_at``, ``withdrawal_reason``) instead of the acknowledgement
columns, which now belong to a person's acknowledgement only. Alerts withdrawn before keep
their history: their values move from the acknowledgement columns to the new ones (and back on
downgrade).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_WITHDRAWN = "status = 'withdrawn'"


def _text(length: int) -> sa.types.TypeEngine[str]:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_by_name", _text(200), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("withdrawn_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column("withdrawal_reason", _text(1000), nullable=False,
                                      server_default=""))
        batch_op.create_foreign_key("fk_alert_withdrawn_by_app_user", "app_user",
                                    ["withdrawn_by"], ["id"])
    op.execute("UPDATE alert SET withdrawn_by = acknowledged_by, "
               "withdrawn_by_name = acknowledged_by_name, withdrawn_at = acknowledged_at, "
               f"withdrawal_reason = acknowledgement_note WHERE {_WITHDRAWN}")
    op.execute("UPDATE alert SET acknowledged_by = NULL, acknowledged_by_name = '', "
               f"acknowledged_at = NULL, acknowledgement_note = '' WHERE {_WITHDRAWN}")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.alter_column("withdrawn_by_name", server_default=None)
        batch_op.alter_column("withdrawal_reason", server_default=None)


def downgrade() -> None:
    op.execute("UPDATE alert SET acknowledged_by = withdrawn_by, "
               "acknowledged_by_name = withdrawn_by_name, acknowledged_at = withdrawn_at, "
               f"acknowledgement_note = withdrawal_reason WHERE {_WITHDRAWN}")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alert_withdrawn_by_app_user", type_="foreignkey")
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_at")
        batch_op.drop_column("withdrawn_by_name")
        batch_op.drop_column("withdrawn_by")
