"""Signing in and out of the pages, the session cookie, CSRF, roles, password change, the
language, and the API documentation served from the app."""

from __future__ import annotations

import re

import pytest

from lims.settings import Settings
from tests.lims.conftest import PASSWORD
from tests.lims.web.conftest import csrf_of, sign_in_page


def test_a_page_needs_a_session_and_signing_in_sets_a_hardened_cookie(web, world):
    first = web.get("/lab/review", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/lab/review"
    form = web.get("/login")
    response = web.post("/login", data={"username": "reviewer", "password": PASSWORD,
                                        "csrf_token": csrf_of(form.text), "next": "/lab/review"},
                        follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/lab/review"
    cookie = next(v for k, v in response.headers.multi_items()
                  if k == "set-cookie" and v.startswith("nbs_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert web.get("/lab/review").status_code == 200


def test_a_wrong_password_or_a_missing_csrf_token_signs_nobody_in(web, world):
    form = web.get("/login")
    wrong = web.post("/login", data={"username": "technician", "password": "nope",
                                     "csrf_token": csrf_of(form.text)})
    assert wrong.status_code == 401 and "Wrong username or password." in wrong.text
    forged = web.post("/login", data={"username": "technician", "password": PASSWORD,
                                      "csrf_token": "forged"})
    assert forged.status_code == 403
    assert web.get("/lab", follow_redirects=False).status_code == 303


def test_an_external_next_is_not_followed(web, world):
    form = web.get("/login")
    response = web.post("/login", data={"username": "technician", "password": PASSWORD,
                                        "csrf_token": csrf_of(form.text),
                                        "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/lab"


def test_signing_out_ends_the_session_even_for_a_copied_cookie(web, world):
    csrf = sign_in_page(web, "technician")
    copied = web.cookies.get("nbs_session")
    assert web.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    out = web.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303
    web.cookies.set("nbs_session", copied, domain="testserver.local")
    assert web.get("/lab", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_not_a_session(web, world):
    web.cookies.set("nbs_session", "eyJ0IjoiYWJjIn0.forged.sig", domain="testserver.local")
    assert web.get("/lab", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(("role", "sees", "not_sees"), [
    ("technician", ["/lab/accession", "/lab/runs", "/lab/worklists"], ["/lab/review"]),
    ("reviewer", ["/lab/review", "/lab/alerts"], ["/lab/accession", "/lab/runs"]),
    ("follow_up", ["/lab/alerts", "/lab/search"], ["/lab/review", "/lab/runs"]),
])
def test_the_navigation_and_the_pages_follow_the_role(web, world, role, sees, not_sees):
    sign_in_page(web, role)
    home = web.get("/lab").text
    links = set(re.findall(r'<nav>(.*?)</nav>', home, re.S)[0].split('href="')[1:])
    paths = {link.split('"')[0] for link in links}
    assert set(sees) <= paths and not set(not_sees) & paths
    for path in not_sees:
        assert web.get(path).status_code == 403


def test_changing_the_password_checks_the_current_one_and_signs_out_other_sessions(
        web, world, settings, engine):
    csrf = sign_in_page(web, "technician")
    api = web.post("/api/v1/auth/login", json={"username": "technician", "password": PASSWORD})
    token = api.json()["access_token"]
    wrong = web.post("/lab/password", data={"csrf_token": csrf, "current_password": "nope",
                                            "new_password": "a-new-long-password",
                                            "new_password_again": "a-new-long-password"})
    assert wrong.status_code == 422 and "the current password is wrong" in wrong.text
    short = web.post("/lab/password", data={"csrf_token": csrf, "current_password": PASSWORD,
                                            "new_password": "short", "new_password_again":
                                            "short"})
    assert short.status_code == 422
    done = web.post("/lab/password", data={"csrf_token": csrf, "current_password": PASSWORD,
                                           "new_password": "a-new-long-password",
                                           "new_password_again": "a-new-long-password"})
    assert done.status_code == 200 and "Your password was changed" in done.text
    assert web.get("/lab").status_code == 200  # this session stays
    assert web.get("/api/v1/auth/me", headers={
        "Authorization": f"Bearer {token}"}).status_code == 401  # the other one ends
    assert web.post("/api/v1/auth/login", json={
        "username": "technician", "password": "a-new-long-password"}).status_code == 200


def test_the_language_follows_the_browser_then_the_users_choice(web, world):
    assert "登录" in web.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Sign in" in web.get("/login", headers={"Accept-Language": "en-GB"}).text
    sign_in_page(web, "reviewer")
    web.post("/language", data={"lang": "zh_CN", "next": "/lab/review"})
    page = web.get("/lab/review", headers={"Accept-Language": "en"})
    assert "审核队列" in page.text and 'lang="zh-CN"' in page.text
    web.post("/language", data={"lang": "en", "next": "/lab"})
    assert "Review queue" in web.get("/lab/review", headers={"Accept-Language": "zh"}).text


def test_the_api_documentation_loads_only_the_apps_own_files(web):
    for path, assets in (("/docs", ["swagger-ui-bundle.js", "swagger-ui.css"]),
                         ("/redoc", ["redoc.standalone.js"])):
        html = web.get(path).text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        assert "fonts.googleapis" not in html
        for asset in assets:
            url = next(u for u in urls if u.endswith(asset))
            assert web.get(url).status_code == 200
    assert web.get("/static/vendor/htmx/htmx.min.js").status_code == 200


def test_production_needs_a_strong_secret_key():
    with pytest.raises(ValueError, match="NBS_SECRET_KEY"):
        Settings(environment="production", secret_key="short-secret")
    Settings(environment="production", secret_key="x" * 40)
