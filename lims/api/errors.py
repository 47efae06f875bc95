"""Domain errors -> HTTP responses, in one place. A business conflict is never a 500.

Public names: ``STATUS``, ``install_error_handlers``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from lims.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    IllegalTransitionError,
    InvalidInputError,
    LimsError,
    NotFoundError,
    PermissionDeniedError,
    ThrottledError,
)
from msms.errors import MsmsError

__all__ = ["STATUS", "install_error_handlers"]

#: Most specific first.
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (ThrottledError, 429),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (IllegalTransitionError, 409),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (MsmsError, 422),
    (ConfigurationError, 503),
    (LimsError, 400),
)


def _status(exc: Exception) -> int:
    for kind, code in STATUS:
        if isinstance(exc, kind):
            return code
    return 500


def _body(exc: Exception) -> dict[str, object]:
    body: dict[str, object] = {"detail": str(exc), "error": type(exc).__name__}
    for attr in ("field", "file", "line"):
        value = getattr(exc, attr, None)
        if value is not None:
            body[attr] = value
    return body


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def domain(_request: Request, exc: Exception) -> JSONResponse:
        code = _status(exc)
        headers = {}
        if isinstance(exc, AuthenticationError):
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, ThrottledError):
            headers["Retry-After"] = str(exc.retry_after_s)
        return JSONResponse(_body(exc), status_code=code, headers=headers)

    async def integrity(_request: Request, exc: Exception) -> JSONResponse:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return JSONResponse({"detail": f"conflicts with a stored record: {reason}",
                             "error": "ConflictError"}, status_code=409)

    async def busy(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "the database is busy; try again",
                             "error": "DatabaseBusy"}, status_code=503,
                            headers={"Retry-After": "1"})

    async def unstorable(_request: Request, exc: Exception) -> JSONResponse:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return JSONResponse({"detail": f"a value cannot be stored: {reason}",
                             "error": "InvalidInputError"}, status_code=422)

    app.add_exception_handler(LimsError, domain)
    app.add_exception_handler(DataError, unstorable)
    app.add_exception_handler(MsmsError, domain)
    app.add_exception_handler(IntegrityError, integrity)
    app.add_exception_handler(OperationalError, busy)
