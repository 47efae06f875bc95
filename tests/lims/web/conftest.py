"""Fixtures of the web pages' tests: a client on https (the session cookie is Secure outside
development) and signing in through the form."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from tests.lims.conftest import PASSWORD
from tests.lims.plates import CsvPipeline

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in_page(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token of the home page."""
    form = client.get("/login")
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_of(form.text), "next": "/lab"})
    assert response.status_code == 200 and response.url.path == "/lab", response.text
    return csrf_of(response.text)


@pytest.fixture
def web(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=CsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client
