"""What the page benchmarks share: the bench users' password, signing a test client in
through the login form, timing repeated requests of a page, and a percentile of the timings
(also used by the other service benchmarks).

Public names: ``PASSWORD``, ``sign_in``, ``page_times``, ``percentile``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

import numpy as np
from fastapi.testclient import TestClient

__all__ = ["PASSWORD", "page_times", "percentile", "sign_in"]

PASSWORD = "bench-password-long"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of ``values`` (the nearest rank)."""
    return float(np.percentile(values, q, method="nearest"))


def page_times(client: TestClient, path: str, requests: int, warm: int) -> list[float]:
    """Milliseconds of ``requests`` sequential GETs of ``path`` (each must answer 200), the
    first ``warm`` not counted."""
    times = []
    for k in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code)
        if k >= warm:
            times.append(elapsed)
    return times


def sign_in(client: TestClient, username: str) -> None:
    """Sign ``client`` in as ``username`` through the login form (its CSRF token included)."""
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token.group(1), "next": "/lab"})
    assert response.status_code == 200, response.text
