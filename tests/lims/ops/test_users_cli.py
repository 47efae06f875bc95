"""``nbs users``: create a user, reset a password, deactivate, unlock and list, each audited;
a reset or a deactivation revokes the user's tokens."""

from __future__ import annotations

import subprocess

from sqlmodel import Session, select

from lims.models import AuditEvent
from tests.conftest import ROOT
from tests.lims.helpers import API, nbs, nbs_here

NEW = "a-long-new-password-1"


def users(settings, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    """``nbs users ...`` run in this process, by the command's own entry function."""
    actor = [] if args[0] == "list" else ["--actor", "it.admin"]
    return nbs_here("users", *args, *actor, env={"NBS_DATABASE_URL": settings.database_url},
                    cwd=ROOT, input=f"{password}\n{password}\n" if password else "")


def _login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/auth/login", json={"username": username, "password": password})


def _actions(engine, username: str = "it.admin") -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return [e.action for e in session.exec(select(AuditEvent).where(
            AuditEvent.username == username).order_by(AuditEvent.id))]


def test_create_reset_deactivate_unlock_and_list(settings, engine, world, client):
    created = users(settings, "create", "alice", "--role", "reviewer", "--full-name",
                    "Alice Reviewer", password=NEW)
    assert created.returncode == 0, created.stderr
    assert "user alice (reviewer) created" in created.stdout
    token = _login(client, "alice", NEW).json()["access_token"]
    short = users(settings, "create", "bob", "--role", "reviewer", "--full-name", "Bob",
                  password="short")
    assert short.returncode == 3 and "field password" in short.stderr

    reset = users(settings, "reset-password", "alice", password=NEW + "x")
    assert reset.returncode == 0 and "1 token(s) revoked" in reset.stdout
    assert client.get(f"{API}/auth/me",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _login(client, "alice", NEW).status_code == 401
    assert _login(client, "alice", NEW + "x").status_code == 200

    for _ in range(5):
        _login(client, "alice", "wrong-password")
    assert _login(client, "alice", NEW + "x").status_code == 429
    assert users(settings, "unlock", "alice").returncode == 0
    assert _login(client, "alice", NEW + "x").status_code == 200

    deactivated = users(settings, "deactivate", "reviewer")
    assert deactivated.returncode == 0, deactivated.stderr
    assert client.get(f"{API}/auth/me", headers=world.auth("reviewer")).status_code == 401
    assert _login(client, "reviewer", "correct-horse-battery").status_code == 401

    listed = users(settings, "list")
    lines = {line.split()[1]: line for line in listed.stdout.splitlines()[1:-1]}
    assert " no " in lines["reviewer"] and " yes " in lines["alice"]
    # and as its own process, with the exit status of a refused input
    unknown = nbs("users", "unlock", "nobody", "--actor", "it.admin",
                  env={"NBS_DATABASE_URL": settings.database_url}, cwd=ROOT)
    assert unknown.returncode == 3 and "nobody" in unknown.stderr, unknown.stderr
    assert _actions(engine) == ["create", "reset_password", "unlock", "deactivate"]
