"""The OpenAPI contract: the error model the service really sends, and every status each
operation can answer, declared on the schema FastAPI generates.

Every error the API answers (``lims.api``: a domain error, a refused database value, a busy
database) has the body ``ErrorBody``: ``detail`` (the message), ``error`` (its kind, e.g.
``InvalidInputError``) and, when known, ``field``, ``file``, ``line`` and ``allowed``. A request
that does not fit the declared parameters or body is answered 422 by FastAPI with its
``HTTPValidationError`` (``detail``: a list of ``loc``/``msg``/``type``), so an operation's 422
is either. The statuses each operation declares follow from what it is:

- 401 (with ``WWW-Authenticate``) when it needs a signed-in user; 403 when only some roles may;
- 404 when it names a record (a path id) or refers to one in its body or query (a field
  ``*_id``, a barcode, a username, ...);
- 409 when it writes (POST, PUT, PATCH, DELETE): a duplicate, a stored conflicting record or a
  transition not allowed from the record's state;
- 413 when it takes a file or a text body (an upload limit, an archive that inflates too far),
  and 400 when it takes a multipart body (one that cannot be parsed);
- 422 when it takes parameters or a body, or refuses a query parameter it does not declare
  (``lims.deps.known_query``: every route under ``/api/v1``); 429 (with ``Retry-After``) when
  the body holds a password (sign-in and signatures are throttled);
- 503 always (the database unreachable or busy).

A route's own ``responses`` (its descriptions, an HL7 acknowledgment's media type) are kept;
the error model is added where a route gives no content.

Public names: ``ErrorBody``, ``install_contract``, ``operation_statuses``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from lims.deps import current_user, known_query

__all__ = ["ErrorBody", "install_contract", "operation_statuses"]


class ErrorBody(BaseModel):
    """An error answered by the service."""

    detail: str
    error: str
    field: str | None = None
    file: str | None = None
    line: int | None = None
    allowed: list[str] | None = None


_DESCRIPTIONS = {
    400: "the request is not one this service takes",
    401: "not signed in, or the token is unknown or expired",
    403: "the signed-in user's role may not do this",
    404: "a record the request names does not exist (or is outside the user's scope)",
    409: "conflicts with what is stored (a duplicate, another file for the plate, a "
         "transition not allowed from the record's state)",
    413: "the file or body is larger than its limit",
    422: "a value was refused (the error names the field, and the file and line of an "
         "uploaded file), or the request does not fit the declared parameters",
    429: "too many failed password entries; try again after Retry-After seconds",
    503: "the database cannot be reached or is busy; try again",
}
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
#: Body and query fields that name a stored record (besides ``*_id``).
_REFERENCES = {"barcode", "previous_barcode", "submitter", "username", "clinic", "disorder"}
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_VALIDATION_REF = {"$ref": "#/components/schemas/HTTPValidationError"}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def _body_fields(route: APIRoute) -> set[str]:
    names: set[str] = set()
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(annotation.model_fields)
        names.add(param.name)
    return names


def operation_statuses(route: APIRoute, operation: dict[str, Any],
                       dependant: Dependant | None = None) -> set[int]:
    """The error statuses ``route`` can answer (the module's rules); ``dependant``: the route's
    dependencies as included (with its routers' own), else the route's."""
    calls = [d.call for d in _dependants(dependant or route.dependant)]
    statuses = {503}
    if current_user in calls:
        statuses.add(401)
        if any(getattr(c, "__qualname__", "").startswith("require.") for c in calls):
            statuses.add(403)
    parameters = operation.get("parameters") or []
    if parameters or operation.get("requestBody") or known_query in calls:
        statuses.add(422)
    names = {p.get("name", "") for p in parameters} | _body_fields(route)
    if any(p.get("in") == "path" for p in parameters) or any(
            n.endswith("_id") or n in _REFERENCES for n in names):
        statuses.add(404)
    if set(route.methods or ()) & _WRITES:
        statuses.add(409)
    content = operation.get("requestBody", {}).get("content", {})
    if any(kind.startswith(("multipart/", "text/")) for kind in content):
        statuses.add(413)
    if any(kind.startswith("multipart/") for kind in content):
        statuses.add(400)  # a multipart body that cannot be parsed
    if "password" in _body_fields(route):
        statuses.add(429)
    return statuses


def _declare(operation: dict[str, Any], status: int) -> None:
    responses = operation.setdefault("responses", {})
    response = responses.setdefault(str(status), {"description": _DESCRIPTIONS[status]})
    content = response.get("content") or {}
    json_schema = content.get("application/json", {}).get("schema")
    unspecified = not content or (set(content) == {"application/json"}
                                  and json_schema in ({}, None, _VALIDATION_REF))
    if unspecified:
        schema = {"anyOf": [_ERROR_REF, _VALIDATION_REF]} if status == 422 else _ERROR_REF
        response["content"] = {"application/json": {"schema": schema}}
    headers = {401: "WWW-Authenticate", 429: "Retry-After"}
    if status in headers:
        response.setdefault("headers", {})[headers[status]] = {
            "required": True, "schema": {"type": "string"}}


def _schema(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/"
                                                          "{model}")
    components.setdefault("HTTPValidationError", {
        "title": "HTTPValidationError", "type": "object",
        "properties": {"detail": {"title": "Detail", "type": "array",
                                  "items": {"$ref": "#/components/schemas/ValidationError"}}}})
    components.setdefault("ValidationError", {
        "title": "ValidationError", "type": "object", "required": ["loc", "msg", "type"],
        "properties": {"loc": {"title": "Location", "type": "array",
                               "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                       "msg": {"title": "Message", "type": "string"},
                       "type": {"title": "Error Type", "type": "string"}}})
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        for method in context.methods or ():
            operation = schema["paths"].get(context.path_format, {}).get(method.lower())
            if operation is None:
                continue
            included = getattr(context, "dependant", None)
            for status in sorted(operation_statuses(
                    route, operation, included if isinstance(included, Dependant) else None)):
                _declare(operation, status)
    app.openapi_schema = schema
    return schema


def install_contract(app: FastAPI) -> None:
    """Serve ``app``'s OpenAPI schema with the error model and every status declared."""
    app.openapi = lambda: _schema(app)  # type: ignore[method-assign]
