"""Sign-in throttling per client and per account alike: an unknown username is answered as a
known one with a wrong password; one address trying many usernames is locked out; an admin's
unlock lets a locked reviewer sign again (audited)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.auth.service import CLIENT_MAX_FAILURES, MAX_FAILED_LOGINS
from lims.models import AuditEvent
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API


def _answers(client, username: str, n: int) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        response = client.post(f"{API}/auth/login",
                               json={"username": username, "password": "wrong-password"})
        out.append((response.status_code, response.json()["detail"].split(" in ")[0]))
    return out


def test_unknown_and_known_usernames_get_the_same_answers(client, world):
    known, unknown = _answers(client, "reviewer", 7), _answers(client, "nobody-here", 7)
    assert known == unknown
    assert [status for status, _ in known] == [401] * MAX_FAILED_LOGINS + [429, 429]


def test_one_address_trying_many_usernames_is_locked_out(client, world):
    for i in range(CLIENT_MAX_FAILURES):
        answer = client.post(f"{API}/auth/login",
                             json={"username": f"guess{i % 40}", "password": "x"})
        assert answer.status_code == 401, i
    right = client.post(f"{API}/auth/login", json={"username": "admin", "password": PASSWORD})
    assert right.status_code == 429 and "Retry-After" in right.headers
    other = TestClient(client.app, client=("192.0.2.7", 40000))
    assert other.post(f"{API}/auth/login", json={"username": "admin",
                                                 "password": PASSWORD}).status_code == 200


def test_an_admin_unlock_lets_a_locked_reviewer_sign(client, world, engine):
    _answers(client, "reviewer", MAX_FAILED_LOGINS)
    sign = {"password": PASSWORD}
    assert client.post(f"{API}/review/release-normals", json=sign,
                       headers=world.auth("reviewer")).status_code == 429
    reviewer_id = world.users["reviewer"].id
    assert client.post(f"{API}/users/{reviewer_id}/unlock",
                       headers=world.auth("technician")).status_code == 403
    unlocked = client.post(f"{API}/users/{reviewer_id}/unlock", headers=world.auth("admin"))
    assert unlocked.status_code == 200
    assert client.post(f"{API}/review/release-normals", json=sign,
                       headers=world.auth("reviewer")).status_code == 200
    with Session(engine) as session:
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "unlock")).all()
    assert event.username == "admin" and event.entity_id == str(reviewer_id)
    assert event.before is not None and event.before["locked_until"] is not None
