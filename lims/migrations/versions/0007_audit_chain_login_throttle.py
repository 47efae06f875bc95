"""The audit trail's hash chain (lims.audit_chain): each event's place (``seq``) and hash
(``chain_hash``), and the chain's head (``audit_chain``); the events already stored are
chained in the order they were written (by id). Failed sign-ins counted per client and per
unknown username (``login_throttle``).

The append-only triggers are lifted for the back-fill only, inside the migration's
transaction (on PostgreSQL as the tables' owner, on SQLite by dropping and re-creating them).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy import select, update

from lims.audit_chain import GENESIS, HASHED, event_hash
from lims.models import AuditEvent

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = {
    "update": "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
              "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END",
}


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_event", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_event_seq", "audit_event", ["seq"], unique=True)
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("locked_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "key"),
    )
    seq, digest = _chain_existing_events()
    op.execute(sa.text("INSERT INTO audit_chain (id, seq, chain_hash) VALUES (1, :seq, :hash)")
               .bindparams(seq=seq, hash=digest))


def _chain_existing_events() -> tuple[int, str]:
    bind = op.get_bind()
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    columns = [table.c[name] for name in ("id", *HASHED) if name != "seq"]
    rows = bind.execute(select(*columns).order_by(table.c.id)).mappings().all()
    if not rows:
        return 0, GENESIS
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER audit_event_no_update")
    else:
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
    seq, digest = 0, GENESIS
    for row in rows:
        seq += 1
        digest = event_hash(digest, {**row, "seq": seq})
        bind.execute(update(table).where(table.c.id == row["id"])
                     .values(seq=seq, chain_hash=digest))
    if sqlite:
        op.execute(_SQLITE_TRIGGERS["update"])
    else:
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
    return seq, digest


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("audit_chain")
    op.drop_index("ix_audit_event_seq", table_name="audit_event")
    op.drop_column("audit_event", "chain_hash")
    op.drop_column("audit_event", "seq")
