"""Security headers on every response, a size limit on JSON bodies, sign-out revoking the
token, and a deactivated user's tokens revoked at once."""

from __future__ import annotations

from sqlmodel import Session, select

from lims.models import ApiToken, AuditEvent
from lims.security import MAX_JSON_BYTES
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API


def test_every_response_carries_the_security_headers(client, world):
    for path, headers in (("/health", {}), ("/", {}), (f"{API}/specimens", world.auth("admin")),
                          (f"{API}/specimens", {}), ("/no-such-page", {}), ("/docs", {})):
        response = client.get(path, headers=headers)
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["x-frame-options"] == "DENY", path
        csp = response.headers["content-security-policy"]
        assert csp.startswith("default-src 'self'") and "frame-ancestors 'none'" in csp, path
        if path.startswith(API):
            assert response.headers["cache-control"] == "no-store", path
    for path in ("/health", "/docs", "/redoc"):  # no page's policy names another host
        assert "http" not in client.get(path).headers["content-security-policy"], path


def test_an_oversized_json_body_is_refused_before_it_is_read(client, world):
    big = b'{"username": "admin", "password": "' + b"x" * MAX_JSON_BYTES + b'"}'
    declared = client.post(f"{API}/auth/login", content=big,
                           headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.json()["error"] == "PayloadTooLarge"

    def chunks():  # no Content-Length: sent chunked
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    chunked = client.post(f"{API}/auth/login", content=chunks(),
                          headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    small = client.post(f"{API}/auth/login", json={"username": "admin", "password": PASSWORD})
    assert small.status_code == 200


def test_logout_revokes_the_token(client, world, engine):
    token = client.post(f"{API}/auth/login", json={"username": "reviewer",
                                                   "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/auth/me", headers=auth).status_code == 200  # cached now
    assert client.post(f"{API}/auth/logout", headers=auth).status_code == 204
    assert client.get(f"{API}/auth/me", headers=auth).status_code == 401
    assert client.post(f"{API}/auth/logout", headers=auth).status_code == 401
    with Session(engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "logout")).one()


def test_deactivating_a_user_revokes_its_tokens_at_once(client, world, engine):
    reviewer = world.users["reviewer"]
    assert client.get(f"{API}/auth/me", headers=world.auth("reviewer")).status_code == 200
    done = client.post(f"{API}/users/{reviewer.id}/deactivate", headers=world.auth("admin"))
    assert done.status_code == 200 and done.json()["active"] is False
    assert client.get(f"{API}/auth/me", headers=world.auth("reviewer")).status_code == 401
    with Session(engine) as session:
        assert session.exec(select(ApiToken).where(ApiToken.user_id == reviewer.id)).all() == []
    assert client.post(f"{API}/users/{reviewer.id}/deactivate",
                       headers=world.auth("technician")).status_code == 403
    assert client.post(f"{API}/users/999/deactivate",
                       headers=world.auth("admin")).status_code == 404
