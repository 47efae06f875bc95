"""Schemathesis over every operation of the OpenAPI schema: no request, however odd, gets a 5xx.

Requests are signed in as the admin (the widest access) so bodies reach the services.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.lims.helpers import API, card, specimen_body, upload
from tests.lims.plates import plate_csv

#: Examples per operation; operations that hash or verify a password (Argon2) get fewer.
EXAMPLES = 10
SLOW_OPERATIONS = {"/api/v1/auth/login", "/api/v1/users", "/api/v1/specimens/{specimen_id}/"
                   "decisions", "/api/v1/review/release-normals",
                   "/api/v1/specimens/{specimen_id}/corrections"}

#: Operations that can end the admin's session (run after every other operation).
ENDS_SESSIONS = {"/api/v1/auth/logout", "/api/v1/users/{user_id}/deactivate"}


@pytest.mark.slow
def test_no_operation_answers_5xx(client, world):
    tech = world.auth("technician")
    client.post(f"{API}/specimens", json=specimen_body(card(1), world.submitter_ids[0]),
                headers=tech)
    upload(client, world, "p.csv", plate_csv("P-S", {card(1): {"Xle": 900}, card(2): {}}))
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    headers = world.auth("admin")
    failures = []
    n_operations = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    # last: these may revoke the admin's token or deactivate the admin, ending the others' calls
    operations.sort(key=lambda operation: operation.path in ENDS_SESSIONS)
    for operation in operations:
        n_operations += 1
        _fuzz(client, operation, headers, failures)
    assert n_operations >= 30
    assert failures == []


def _fuzz(client, operation, headers, failures):
    examples = 4 if operation.path in SLOW_OPERATIONS else EXAMPLES

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        if isinstance(kwargs.get("data"), bytes | str):  # a text body (an HL7 order)
            kwargs["content"] = kwargs.pop("data")
        response = client.request(**{k: v for k, v in kwargs.items()
                                     if k in {"method", "url", "headers", "params",
                                              "json", "data", "files", "content"
                                              }})
        if response.status_code >= 500:
            failures.append((operation.method.upper(), operation.path, response.status_code,
                             response.text[:300], kwargs.get("url")))

    check()
