"""The OpenAPI contract declares the error model the service sends and the statuses each
operation can answer; real error bodies validate against it."""

from __future__ import annotations

import pytest

from lims.contract import ErrorBody
from tests.lims.helpers import API, specimen_body


@pytest.fixture
def schema(client):  # noqa: ANN001, ANN201 - fixtures
    return client.get("/openapi.json").json()


def test_every_operation_declares_its_statuses(schema):
    ops = {(m.upper(), p): o for p, item in schema["paths"].items() for m, o in item.items()}
    upload = ops[("POST", f"{API}/runs")]["responses"]
    assert {"400", "401", "403", "409", "413", "422", "503"} <= set(upload)
    login = ops[("POST", f"{API}/auth/login")]["responses"]
    assert login["429"]["headers"]["Retry-After"]["required"] is True
    assert "429" in ops[("POST", f"{API}/specimens/{{specimen_id}}/decisions")]["responses"]
    assert {"401", "403", "404", "422"} <= set(ops[("GET", f"{API}/runs/{{run_id}}")]["responses"])
    assert "403" not in ops[("GET", f"{API}/auth/me")]["responses"]
    # no parameter, but an undeclared query parameter is refused (lims.deps.known_query)
    assert "422" in ops[("GET", f"{API}/submitters")]["responses"]
    assert "422" not in ops[("GET", "/health")]["responses"]
    for (method, path), op in ops.items():
        if "security" in op:
            assert op["responses"]["401"]["headers"]["WWW-Authenticate"], (method, path)
        if method in {"POST", "PATCH"} and path.startswith(API):
            assert "409" in op["responses"], (method, path)
    unprocessable = upload["422"]["content"]["application/json"]["schema"]
    assert unprocessable == {"anyOf": [{"$ref": "#/components/schemas/ErrorBody"},
                                       {"$ref": "#/components/schemas/HTTPValidationError"}]}


def test_real_error_bodies_fit_the_declared_model(client, world, schema):
    tech = world.auth("technician")
    body = specimen_body("10000001", world.submitter_ids[0])
    body["submitter_id"] = 999
    answers = [
        client.post(f"{API}/specimens", json=body, headers=tech),          # 404 or 422
        client.get(f"{API}/submitters", params={"code": "N"}, headers=tech),  # 422
        client.get(f"{API}/runs/99", headers=tech),                          # 404
        client.get(f"{API}/runs", headers={"Authorization": "Bearer nope"}),  # 401
        client.get(f"{API}/hl7/endpoints", headers=world.auth("submitter")),  # 403
    ]
    assert schema["components"]["schemas"]["ErrorBody"]["required"] == ["detail", "error"]
    for response in answers:
        assert response.status_code >= 400, response.text
        if response.status_code == 422 and isinstance(response.json()["detail"], list):
            detail, = response.json()["detail"]  # FastAPI's HTTPValidationError
            assert set(detail) >= {"loc", "msg", "type"} and detail["loc"] == ["query", "code"]
            continue
        assert set(response.json()) <= set(ErrorBody.model_fields), response.text
        ErrorBody.model_validate(response.json())
    assert answers[1].status_code == 422
    assert answers[3].headers["WWW-Authenticate"] == "Bearer"
    unparsable = client.post(f"{API}/runs", content=b"--x\r\nContent-Disposition: form-data; "
                             b'name="file"; filename="a"\r\n', headers={
                                 **tech, "Content-Type": "multipart/form-data; boundary=x"})
    assert unparsable.status_code in (400, 422), unparsable.text
    if unparsable.status_code == 400:
        ErrorBody.model_validate(unparsable.json())
