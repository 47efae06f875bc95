"""The reflex second tier in the LIMS (docs/second_tier.md "In the LIMS"): the reflex
worklist (``reflex_request``), second-tier runs and their results (``second_tier_run``,
``second_tier_result``), the reflex decision per card and referral group (``reflex_decision``),
and the card's context the decision reads (parenteral nutrition start and stop, pivalate
exposure, the mother's B12 status, diet and a known disorder).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    with op.batch_alter_table("specimen", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tpn_started_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column("tpn_stopped_at", sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column("pivalate_exposure", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("maternal_b12_low", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column("maternal_diet", _text(32), nullable=False,
                                      server_default=""))
        batch_op.add_column(sa.Column("maternal_disorder", _text(200), nullable=False,
                                      server_default=""))
    op.create_table(
        "second_tier_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", _text(64), nullable=False),
        sa.Column("plate_id", _text(64), nullable=False),
        sa.Column("instrument_run_id", _text(128), nullable=False),
        sa.Column("file_name", _text(255), nullable=False),
        sa.Column("format", _text(32), nullable=False),
        sa.Column("method_version", _text(64), nullable=False),
        sa.Column("reflex_version", _text(64), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("n_specimens", sa.Integer(), nullable=False),
        sa.Column("n_results", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["uploaded_by"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_sha256"),
    )
    op.create_table(
        "second_tier_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("specimen_id", sa.Integer(), nullable=False),
        sa.Column("well", _text(4), nullable=False),
        sa.Column("assay", _text(32), nullable=False),
        sa.Column("conc_umol_l", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["second_tier_run.id"]),
        sa.ForeignKeyConstraint(["specimen_id"], ["specimen.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_second_tier_result_run_id", "second_tier_result", ["run_id"])
    op.create_index("ix_second_tier_result_specimen", "second_tier_result",
                    ["specimen_id", "assay"])
    op.create_table(
        "reflex_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("specimen_id", sa.Integer(), nullable=False),
        sa.Column("source_run_id", sa.Integer(), nullable=False),
        sa.Column("groups", _text(200), nullable=False),
        sa.Column("assays", _text(500), nullable=False),
        sa.Column("time_critical", sa.Boolean(), nullable=False),
        sa.Column("status", _text(16), nullable=False),
        sa.Column("requested_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("completed_run_id", sa.Integer(), nullable=True),
        sa.Column("completed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["completed_run_id"], ["second_tier_run.id"]),
        sa.ForeignKeyConstraint(["source_run_id"], ["run.id"]),
        sa.ForeignKeyConstraint(["specimen_id"], ["specimen.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reflex_request_specimen_id", "reflex_request", ["specimen_id"])
    op.create_index("ix_reflex_request_status", "reflex_request", ["status"])
    op.create_table(
        "reflex_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("specimen_id", sa.Integer(), nullable=False),
        sa.Column("second_tier_run_id", sa.Integer(), nullable=True),
        sa.Column("group_code", _text(16), nullable=False),
        sa.Column("disorder", _text(32), nullable=False),
        sa.Column("decision", _text(24), nullable=False),
        sa.Column("reason_code", _text(32), nullable=False),
        sa.Column("reason", _text(500), nullable=False),
        sa.Column("version", _text(64), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["second_tier_run_id"], ["second_tier_run.id"]),
        sa.ForeignKeyConstraint(["specimen_id"], ["specimen.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reflex_decision_specimen_id", "reflex_decision", ["specimen_id"])


def downgrade() -> None:
    op.drop_index("ix_reflex_decision_specimen_id", table_name="reflex_decision")
    op.drop_table("reflex_decision")
    op.drop_index("ix_reflex_request_status", table_name="reflex_request")
    op.drop_index("ix_reflex_request_specimen_id", table_name="reflex_request")
    op.drop_table("reflex_request")
    op.drop_index("ix_second_tier_result_specimen", table_name="second_tier_result")
    op.drop_index("ix_second_tier_result_run_id", table_name="second_tier_result")
    op.drop_table("second_tier_result")
    op.drop_table("second_tier_run")
    with op.batch_alter_table("specimen", schema=None) as batch_op:
        for column in ("maternal_disorder", "maternal_diet", "maternal_b12_low",
                       "pivalate_exposure", "tpn_stopped_at", "tpn_started_at"):
            batch_op.drop_column(column)
