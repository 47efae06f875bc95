"""Sign-in, Argon2, throttling, tokens and role checks through HTTP."""

from __future__ import annotations

from sqlmodel import Session, select

from lims.auth.service import MAX_FAILED_LOGINS
from lims.models import AuditEvent, User
from tests.lims.conftest import PASSWORD


def test_login_issues_a_token_that_works(client, world, engine):
    response = client.post("/api/v1/auth/login",
                           json={"username": "reviewer", "password": PASSWORD})
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "reviewer"
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "reviewer")).one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_wrong_password_then_locked_even_with_the_right_one(client, world, engine):
    for _ in range(MAX_FAILED_LOGINS):
        bad = client.post("/api/v1/auth/login", json={"username": "technician",
                                                      "password": "wrong-password"})
        assert bad.status_code == 401
    locked = client.post("/api/v1/auth/login", json={"username": "technician",
                                                     "password": PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    with Session(engine) as session:
        failures = session.exec(select(AuditEvent).where(AuditEvent.action == "login_failed"))
        assert len(list(failures)) == MAX_FAILED_LOGINS


def test_no_token_and_bad_token_are_401(client, world):
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me",
                      headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_only_admin_manages_users(client, world):
    body = {"username": "newtech", "full_name": "New Tech", "role": "technician",
            "password": "a-long-enough-password"}
    assert client.post("/api/v1/users", json=body,
                       headers=world.auth("reviewer")).status_code == 403
    created = client.post("/api/v1/users", json=body, headers=world.auth("admin"))
    assert created.status_code == 201, created.text
    again = client.post("/api/v1/users", json=body, headers=world.auth("admin"))
    assert again.status_code == 409
