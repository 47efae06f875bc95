"""Schemathesis over every operation of the OpenAPI schema: no request, however odd, gets a 5xx,
and every response conforms to the contract: its status is declared for the operation, its body
validates against the declared schema (the domain error model included), its content type and
headers are the declared ones.

Requests are signed in as the admin (the widest access) so bodies reach the services.
"""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response

from tests.lims.helpers import API, card, specimen_body, upload
from tests.lims.plates import plate_csv

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
#: Examples per operation (NBS_SCHEMATHESIS_EXAMPLES for a deeper run); operations that hash or
#: verify a password (Argon2) get fewer.
EXAMPLES = int(os.environ.get("NBS_SCHEMATHESIS_EXAMPLES", "10"))
SLOW_OPERATIONS = {"/api/v1/auth/login", "/api/v1/users", "/api/v1/specimens/{specimen_id}/"
                   "decisions", "/api/v1/review/release-normals",
                   "/api/v1/specimens/{specimen_id}/corrections"}

#: Operations that can end the admin's session (run after every other operation).
ENDS_SESSIONS = {"/api/v1/auth/logout", "/api/v1/users/{user_id}/deactivate"}


@pytest.mark.slow
def test_every_operation_answers_its_contract(client, world):
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
    assert sorted(set(failures)) == []


def _checked(response) -> Response:  # noqa: ANN001 - the test client's response
    """The response as schemathesis checks it (a streamed multipart request body, already
    sent, is left out of the failure's report)."""
    try:
        body = response.request.content
    except Exception:  # noqa: BLE001 - the client's RequestNotRead, whichever httpx it is
        body = b""
    request = requests.Request(method=response.request.method, url=str(response.request.url),
                               headers=dict(response.request.headers), data=body).prepare()
    return Response(status_code=response.status_code,
                    headers={k: [v] for k, v in response.headers.items()},
                    content=response.content, request=request, elapsed=0.0,
                    message=response.reason_phrase, encoding=response.encoding,
                    http_version=response.http_version, verify=True)


def _fuzz(client, operation, headers, failures):
    examples = max(1, EXAMPLES // 3) if operation.path in SLOW_OPERATIONS else EXAMPLES

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
        try:
            case.validate_response(_checked(response), checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                failures.append((operation.method.upper(), operation.path,
                                 response.status_code, getattr(failure, "title", ""),
                                 str(failure).strip().splitlines()[-1][:160],
                                 response.text[:160]))

    check()
