"""The per-card figures of the programme measures (docs/followup.md "Measures"): one row per
specimen with the month it was received, hours from birth to collection, from collection to
receipt and from birth to its first release, each with its whole hour; and the cards per
month, figure, submitter and whole hour (``card_hour_count``); both filled from the cards
already there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_HOURS = {
    "sqlite": "((julianday({later}) - julianday({earlier})) * 24.0)",
    "postgresql": "(extract(epoch from {later} - {earlier}) / 3600.0)",
}
_HOUR = {"sqlite": "CAST({0} AS INTEGER)", "postgresql": "CAST(floor({0}) AS INTEGER)"}
_MONTH = {"sqlite": "CAST(strftime('%Y%m', s.received_at) AS INTEGER)",
          "postgresql": "CAST(to_char(timezone('UTC', s.received_at), 'YYYYMM') AS INTEGER)"}


def _fill(dialect: str) -> str:
    def hours(later: str, earlier: str) -> str:
        return _HOURS[dialect].format(later=later, earlier=earlier)

    age = hours("s.collected_at", "i.birth_at")
    transit = hours("s.received_at", "s.collected_at")
    result = hours("r.released_at", "i.birth_at")
    hour = _HOUR[dialect].format
    return (
        "INSERT INTO card_measure (specimen_id, month, submitter_id, initial, unsatisfactory, "
        "age_at_collection_h, age_bin, transit_h, transit_bin, age_at_result_h, result_bin) "
        f"SELECT s.id, {_MONTH[dialect]}, s.submitter_id, s.kind = 'initial', "
        f"s.unsatisfactory_code IS NOT NULL, {age}, {hour(age)}, {transit}, {hour(transit)}, "
        f"{result}, {hour(result)} FROM specimen s JOIN infant i ON i.id = s.infant_id "
        "LEFT OUTER JOIN release r ON r.specimen_id = s.id AND r.version = 1")


#: Per figure: its hour column, whether of first cards only, the extra count.
_FIGURES = {
    "age_at_collection": ("age_bin", True,
                          "CASE WHEN age_at_collection_h < 24 THEN 1 ELSE 0 END"),
    "transit": ("transit_bin", False, "CASE WHEN unsatisfactory THEN 1 ELSE 0 END"),
    "age_at_result": ("result_bin", True, "0"),
}


def _count(figure: str) -> str:
    hour, first_only, extra = _FIGURES[figure]
    initial = " AND initial" if first_only else ""
    return (
        "INSERT INTO card_hour_count (month, figure, submitter_id, hour, cards, extra) "
        f"SELECT month, '{figure}', submitter_id, {hour}, count(*), coalesce(sum({extra}), 0) "
        f"FROM card_measure WHERE {hour} IS NOT NULL{initial} "
        f"GROUP BY month, submitter_id, {hour}")


def upgrade() -> None:
    op.create_table(
        "card_measure",
        sa.Column("specimen_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("submitter_id", sa.Integer(), nullable=False),
        sa.Column("initial", sa.Boolean(), nullable=False),
        sa.Column("unsatisfactory", sa.Boolean(), nullable=False),
        sa.Column("age_at_collection_h", sa.Float(), nullable=False),
        sa.Column("age_bin", sa.Integer(), nullable=False),
        sa.Column("transit_h", sa.Float(), nullable=False),
        sa.Column("transit_bin", sa.Integer(), nullable=False),
        sa.Column("age_at_result_h", sa.Float(), nullable=True),
        sa.Column("result_bin", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("specimen_id"),
    )
    op.execute(_fill(op.get_bind().dialect.name))
    op.create_index("ix_card_measure_age", "card_measure",
                    ["month", "initial", "submitter_id", "age_bin", "age_at_collection_h"])
    op.create_index("ix_card_measure_transit", "card_measure",
                    ["month", "submitter_id", "transit_bin", "transit_h", "unsatisfactory"])
    op.create_index("ix_card_measure_result", "card_measure",
                    ["month", "initial", "submitter_id", "result_bin", "age_at_result_h"])
    op.create_table(
        "card_hour_count",
        sa.Column("month", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("figure", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("submitter_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hour", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cards", sa.Integer(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "figure", "submitter_id", "hour"),
    )
    for figure in _FIGURES:
        op.execute(_count(figure))


def downgrade() -> None:
    op.drop_table("card_hour_count")
    op.drop_index("ix_card_measure_result", table_name="card_measure")
    op.drop_index("ix_card_measure_transit", table_name="card_measure")
    op.drop_index("ix_card_measure_age", table_name="card_measure")
    op.drop_table("card_measure")
