"""The database role the service runs as on PostgreSQL: it may read and write the data, and only
read and append the append-only tables.

The append-only triggers (migrations 0001, 0002) stop UPDATE, DELETE and TRUNCATE of
``audit_event`` and ``release`` by anyone -- but a table's owner can disable a trigger
(``ALTER TABLE audit_event DISABLE TRIGGER ...``). A service connected as the owner of the tables
could therefore still rewrite the audit trail. Run ``nbs init-db --service-role ROLE`` as the
owner, then run the service with ``NBS_DATABASE_URL`` naming ``ROLE``: it does not own any table,
has no UPDATE, DELETE or TRUNCATE privilege on the append-only tables, and cannot create,
alter or drop tables. Run it again after every migration (``nbs init-db`` with a newer release),
so new tables are granted too. On PostgreSQL 14 and older every role (``PUBLIC``) may create
tables in the ``public`` schema; revoke that (``REVOKE CREATE ON SCHEMA public FROM PUBLIC``)
where the tables live there, since it is not this command's to take from other roles.

SQLite has no roles: the file's permissions are what protect it.

Public names: ``APPEND_ONLY_TABLES``, ``grant_service_role``, ``owns_append_only_tables``.
"""

from __future__ import annotations

import re

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from lims.errors import ConfigurationError

__all__ = ["APPEND_ONLY_TABLES", "grant_service_role", "owns_append_only_tables"]

#: Tables whose rows are never changed or removed once written.
APPEND_ONLY_TABLES = ("audit_event", "release", "issued_document")
#: Written only by migrations.
_MIGRATION_TABLES = ("alembic_version",)
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_$]{0,62}")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_service_role(engine: Engine, role: str) -> list[str]:
    """Grant ``role`` what the service needs in the tables' schema, and take away the rest.

    Returns the statements it ran. Raises ConfigurationError on SQLite, for a role name that is
    not a plain lower-case PostgreSQL identifier, for a role that does not exist, and for the
    role that owns the tables (it would keep every right).
    """
    if engine.dialect.name != "postgresql":
        raise ConfigurationError(
            "--service-role needs PostgreSQL: SQLite has no database roles (protect the file "
            "with its permissions instead)")
    if not _ROLE_NAME.fullmatch(role):
        raise ConfigurationError(
            f"--service-role {role!r} is not a plain role name (lower-case letters, digits, _)")
    with engine.begin() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
        if exists is None:
            raise ConfigurationError(
                f"--service-role {role}: no such role; create it first, e.g. "
                f"CREATE ROLE {role} LOGIN PASSWORD '...'")
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        tables = sorted(inspect(connection).get_table_names(schema=schema))
        if _could_lift_triggers(connection, schema, role):
            raise ConfigurationError(
                f"--service-role {role} owns the tables, is a member of their owner or is a "
                f"superuser, so it could lift the append-only triggers; the service must run "
                f"as another role")
        statements = _statements(role, schema, tables)
        for statement in statements:
            connection.execute(text(statement))
    return statements


def _statements(role: str, schema: str, tables: list[str]) -> list[str]:
    r, s = _quoted(role), _quoted(schema)
    statements = [f"GRANT USAGE ON SCHEMA {s} TO {r}",
                  f"REVOKE CREATE ON SCHEMA {s} FROM {r}"]
    for table in tables:
        t = f"{s}.{_quoted(table)}"
        statements.append(f"REVOKE ALL ON {t} FROM {r}")
        if table in _MIGRATION_TABLES:
            privileges = "SELECT"
        elif table in APPEND_ONLY_TABLES:
            privileges = "SELECT, INSERT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(f"GRANT {privileges} ON {t} TO {r}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
    return statements


def _owner_of(connection: Connection, schema: str, table: str) -> str | None:
    return connection.execute(
        text("SELECT tableowner FROM pg_tables WHERE schemaname = :schema AND tablename = :t"),
        {"schema": schema, "t": table},
    ).scalar_one_or_none()


def _could_lift_triggers(connection: Connection, schema: str, role: str) -> bool:
    """A superuser, the owner of an append-only table or a member of that owner."""
    superuser = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"), {"role": role}
    ).scalar_one_or_none()
    if superuser:
        return True
    for table in APPEND_ONLY_TABLES:
        owner = _owner_of(connection, schema, table)
        if owner is not None and connection.execute(
                text("SELECT pg_has_role(:role, :owner, 'USAGE')"),
                {"role": role, "owner": owner}).scalar_one():
            return True
    return False


def owns_append_only_tables(engine: Engine) -> bool:
    """True when the service's own database user owns an append-only table, is a member of its
    owner or is a superuser (PostgreSQL), and so could disable the triggers that keep the
    audit trail unchanged."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        user = connection.execute(text("SELECT current_user")).scalar_one()
        return _could_lift_triggers(connection, schema, user)
