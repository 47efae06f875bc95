"""What the page benchmarks share: the bench users' password, signing a test client in
through the login form, and a percentile of the timings.

Public names: ``PASSWORD``, ``sign_in``, ``percentile``.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

__all__ = ["PASSWORD", "percentile", "sign_in"]

PASSWORD = "bench-password-long"


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (the nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def sign_in(client: TestClient, username: str) -> None:
    """Sign ``client`` in as ``username`` through the login form (its CSRF token included)."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token.group(1), "next": "/lab"})
    assert response.status_code == 200, response.text
