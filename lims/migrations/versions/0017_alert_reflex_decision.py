"""An alert a repeat card's reflex decision opened names that decision
(``alert.reflex_decision_id``, and through it the referral group it was opened for), so that
the alerts of a group the earlier card no longer asks for a repeat in are withdrawn by that
stored link instead of being inferred from the card's calls.

Alerts stored before are linked where their message names the decision: a released repeat's
alert (``released card B, the repeat of card A, is decided again: GROUP DECISION (CODE)``) to
the card's latest decision in that group with that outcome, and a repeat's time-critical
referral (``...: repeat of card A: referral (CODE)``) to the card's latest referral with that
reason code, the alert's disorder's first; both made no later than the alert opened. Other
alerts stay unlinked.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_RELEASED = re.compile(r"^released card \S+, the repeat of card \S+, is decided again: "
                       r"(?P<group>\S+) (?P<decision>\S+) \((?P<code>\S+)\)$")
_TIME_CRITICAL = re.compile(r"^time-critical \S+ on card \S+: repeat of card \S+: "
                            r"referral \((?P<code>\S+)\)$")
_CANDIDATES = sa.text(
    "SELECT alert.id AS alert_id, alert.message, alert.disorder AS alert_disorder, "
    "d.id AS decision_id, d.group_code, d.decision, d.reason_code, d.disorder "
    "FROM alert JOIN reflex_decision d ON d.specimen_id = alert.specimen_id "
    "AND d.created_at <= alert.opened_at "
    "WHERE alert.message LIKE 'released card %' OR alert.message LIKE 'time-critical %' "
    "ORDER BY alert.id, d.id")


def _decision_of(message: str, disorder: str, rows: list[sa.Row]) -> int | None:
    """The decision row (of the card's, oldest first) the alert's message names, if any."""
    if (m := _RELEASED.match(message)) is not None:
        hits = [r for r in rows if (r.group_code, r.decision, r.reason_code)
                == (m["group"], m["decision"], m["code"])]
    elif (m := _TIME_CRITICAL.match(message)) is not None:
        referred = [r for r in rows if (r.decision, r.reason_code) == ("referral", m["code"])]
        hits = [r for r in referred if r.disorder == disorder] or referred
    else:
        return None
    return int(hits[-1].decision_id) if hits else None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reflex_decision_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_alert_reflex_decision_id_reflex_decision",
                                    "reflex_decision", ["reflex_decision_id"], ["id"])
    bind = op.get_bind()
    by_alert: dict[int, list[sa.Row]] = {}
    for row in bind.execute(_CANDIDATES):
        by_alert.setdefault(int(row.alert_id), []).append(row)
    for alert_id, rows in by_alert.items():
        decision_id = _decision_of(rows[0].message, rows[0].alert_disorder, rows)
        if decision_id is not None:
            bind.execute(sa.text("UPDATE alert SET reflex_decision_id = :d WHERE id = :a"),
                         {"d": decision_id, "a": alert_id})


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alert_reflex_decision_id_reflex_decision",
                                 type_="foreignkey")
        batch_op.drop_column("reflex_decision_id")
