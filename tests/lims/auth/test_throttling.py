"""Sign-in and signing-password throttling under parallel requests (real threads, real
databases): the lockout holds however the failures interleave."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import Session, select

from lims.auth.service import LOCKOUT_MINUTES, MAX_FAILED_LOGINS
from lims.models import AuditEvent, User, utcnow
from tests.lims.conftest import PASSWORD

API = "/api/v1"
PARALLEL = 20


def _login(client, username: str, password: str) -> int:
    return client.post(f"{API}/auth/login",
                       json={"username": username, "password": password}).status_code


def _user(engine, username: str) -> User:
    with Session(engine) as session:
        return session.exec(select(User).where(User.username == username)).one()


def _actions(engine, action: str) -> int:
    with Session(engine) as session:
        return len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _sign(client, world, password: str) -> int:
    return client.post(f"{API}/review/release-normals", json={"password": password},
                       headers=world.auth("reviewer")).status_code


def test_parallel_wrong_passwords_lock_the_account(client, world, engine):
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        codes = sorted(pool.map(lambda _: _login(client, "technician", "wrong-password"),
                                range(PARALLEL)))
    assert codes == [401] * MAX_FAILED_LOGINS + [429] * (PARALLEL - MAX_FAILED_LOGINS)
    user = _user(engine, "technician")
    assert user.locked_until is not None
    assert user.locked_until > utcnow() + timedelta(minutes=LOCKOUT_MINUTES - 1)
    assert _actions(engine, "login_failed") == MAX_FAILED_LOGINS
    assert _actions(engine, "login_refused_locked") == PARALLEL - MAX_FAILED_LOGINS
    assert _login(client, "technician", PASSWORD) == 429


def test_a_right_password_resets_the_count_and_an_expired_lock_lets_in(client, world, engine):
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert _login(client, "admin", "wrong-password") == 401
    assert _user(engine, "admin").failed_logins == MAX_FAILED_LOGINS - 1
    assert _login(client, "admin", PASSWORD) == 200
    assert _user(engine, "admin").failed_logins == 0
    for _ in range(MAX_FAILED_LOGINS):
        assert _login(client, "admin", "wrong-password") == 401
    assert _login(client, "admin", PASSWORD) == 429
    with Session(engine) as session:  # the lock runs out
        user = session.exec(select(User).where(User.username == "admin")).one()
        user.locked_until = utcnow() - timedelta(seconds=1)
        session.add(user)
        session.commit()
    assert _login(client, "admin", PASSWORD) == 200
    assert _user(engine, "admin").locked_until is None


def test_wrong_signing_passwords_lock_like_sign_ins(client, world, engine):
    codes = [_sign(client, world, "wrong-password") for _ in range(7)]
    assert codes == [401] * MAX_FAILED_LOGINS + [429] * (7 - MAX_FAILED_LOGINS)
    assert _sign(client, world, PASSWORD) == 429  # the right one no longer signs
    assert _login(client, "reviewer", PASSWORD) == 429  # nor signs in: one lockout
    assert _actions(engine, "signature_failed") == MAX_FAILED_LOGINS
    user = _user(engine, "reviewer")
    assert user.locked_until is not None and user.failed_logins == 0


def test_failed_sign_ins_and_signatures_share_one_count(client, world, engine):
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert _login(client, "reviewer", "wrong-password") == 401
    assert _sign(client, world, "wrong-password") == 401
    assert _sign(client, world, PASSWORD) == 429


def test_a_right_signature_resets_the_count(client, world, engine):
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert _sign(client, world, "wrong-password") == 401
    assert _sign(client, world, PASSWORD) == 200
    assert _user(engine, "reviewer").failed_logins == 0
    assert _sign(client, world, "wrong-password") == 401
    assert _sign(client, world, PASSWORD) == 200


def test_parallel_wrong_signatures_lock_the_account(client, world, engine):
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        codes = sorted(pool.map(lambda _: _sign(client, world, "wrong-password"),
                                range(PARALLEL)))
    assert codes == [401] * MAX_FAILED_LOGINS + [429] * (PARALLEL - MAX_FAILED_LOGINS)
    assert _sign(client, world, PASSWORD) == 429
    assert _user(engine, "reviewer").locked_until is not None
