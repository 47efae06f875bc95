"""The ``/api/v1`` API: every domain's routes under one router, and the domain errors turned
into JSON responses with the status ``lims.errors.HTTP_STATUS`` gives them. A query parameter
a route does not declare is refused (422 naming it), never ignored.

A new domain adds its ``routes.router`` here (docs/architecture.md "Extension points").

Public names: ``api_router``, ``install_error_handlers``.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException

from lims.accession.routes import router as accession_router
from lims.alerts.routes import router as alerts_router
from lims.auth.routes import router as auth_router
from lims.deps import known_query
from lims.documents.routes import router as documents_router
from lims.errors import AuthenticationError, LimsError, ThrottledError, http_status
from lims.followup.routes import router as followup_router
from lims.interfaces.routes import router as hl7_router
from lims.reflex.routes import router as reflex_router
from lims.review.routes import router as review_router
from lims.runs.routes import router as runs_router
from msms.errors import MsmsError

__all__ = ["api_router", "install_error_handlers"]

#: Every route refuses a query parameter it does not declare (``lims.deps.known_query``).
api_router = APIRouter(prefix="/api/v1", dependencies=[Depends(known_query)])
for _router in (auth_router, accession_router, runs_router, review_router, alerts_router,
                followup_router, hl7_router, documents_router, reflex_router):
    api_router.include_router(_router)


def _body(exc: Exception) -> dict[str, object]:
    body: dict[str, object] = {"detail": str(exc), "error": type(exc).__name__}
    for attr in ("field", "file", "line", "allowed"):
        value = getattr(exc, attr, None)
        if value is not None:
            body[attr] = value
    return body


async def _domain(_request: Request, exc: Exception) -> JSONResponse:
    headers = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, ThrottledError):
        headers["Retry-After"] = str(exc.retry_after_s)
    return JSONResponse(_body(exc), status_code=http_status(exc), headers=headers)


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return JSONResponse({"detail": f"conflicts with a stored record: {reason}",
                         "error": "ConflictError"}, status_code=409)


async def _busy(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "the database is busy; try again", "error": "DatabaseBusy"},
                        status_code=503, headers={"Retry-After": "1"})


async def _unstorable(_request: Request, exc: Exception) -> JSONResponse:
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return JSONResponse({"detail": f"a value cannot be stored: {reason}",
                         "error": "InvalidInputError"}, status_code=422)


async def _framework(request: Request, exc: Exception) -> Response:
    """The framework's own refusals under ``/api`` (a body that cannot be parsed, an unknown
    path or method) in the body every other error has; elsewhere FastAPI's."""
    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith(api_router.prefix + "/"):
        return await http_exception_handler(request, exc)
    try:
        kind = HTTPStatus(exc.status_code).phrase.replace(" ", "")
    except ValueError:
        kind = "HTTPError"
    return JSONResponse({"detail": str(exc.detail), "error": kind},
                        status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``: domain and core errors, the database's refusals
    (a unique key: 409; a value it cannot store: 422; busy: 503), and the framework's own
    refusals under ``/api`` in the same body (``lims.contract.ErrorBody``)."""
    app.add_exception_handler(LimsError, _domain)
    app.add_exception_handler(MsmsError, _domain)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(OperationalError, _busy)
    app.add_exception_handler(HTTPException, _framework)
