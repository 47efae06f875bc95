"""Errors raised by the LIMS: one base class, subclasses that say what went wrong, and the HTTP
status each one answers (``HTTP_STATUS``, the one place; ``lims.api`` turns them into
responses). The command line maps all of them to exit code 3.

Public names: ``LimsError``, ``ConfigurationError``, ``DatabaseUnavailableError``,
``InvalidInputError``, ``NotFoundError``, ``ConflictError``, ``IllegalTransitionError``,
``AuthenticationError``, ``PermissionDeniedError``, ``ThrottledError``,
``PayloadTooLargeError``, ``HTTP_STATUS``,
``http_status``, ``found``.
"""

from __future__ import annotations

from typing import TypeVar

from instruments.errors import ArchiveTooLargeError
from msms.errors import MsmsError

__all__ = [
    "HTTP_STATUS",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "DatabaseUnavailableError",
    "IllegalTransitionError",
    "InvalidInputError",
    "LimsError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ThrottledError",
    "found",
    "http_status",
]
T = TypeVar("T")


class LimsError(Exception):
    """Base class of the LIMS's errors."""


class ConfigurationError(LimsError):
    """A setting is invalid; the message names the setting (e.g. ``NBS_DATABASE_URL``)."""


class DatabaseUnavailableError(ConfigurationError):
    """The configured database cannot be reached."""


class InvalidInputError(LimsError):
    """An input was rejected; ``field`` names the field (and ``file``/``line`` where relevant)."""

    def __init__(self, message: str, *, field: str | None = None, file: str | None = None,
                 line: int | None = None) -> None:
        self.field = field
        self.file = file
        self.line = line
        self.detail = message  # without the place, for a caller that names it its own way
        where = ":".join(str(p) for p in (file, line) if p is not None)
        prefix = ", ".join(p for p in (where, f"field {field}" if field else "") if p)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class NotFoundError(LimsError):
    """The named record does not exist (or is outside the caller's scope)."""


def found(value: T | None, what: str) -> T:
    """``value``, or ``NotFoundError("<what> not found")`` when there is none (a record looked up
    by its id or key)."""
    if value is None:
        raise NotFoundError(f"{what} not found")
    return value


class ConflictError(LimsError):
    """The request conflicts with what is stored (duplicate barcode, another file for a plate);
    ``field`` names the field whose value conflicts, when one does."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class IllegalTransitionError(ConflictError):
    """A workflow transition is not allowed from the record's current state."""


class AuthenticationError(LimsError):
    """Wrong or missing credentials."""


class PermissionDeniedError(LimsError):
    """The user's role may not do this."""


class PayloadTooLargeError(LimsError):
    """An uploaded file or a request body is larger than its limit."""


class ThrottledError(LimsError):
    """Too many failed sign-ins; ``retry_after_s`` says when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


#: The HTTP status of each error, most specific first (the core's errors name a rejected
#: input; an archive that inflates past its limits is too large, 413). A business conflict
#: is never a 500.
HTTP_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (ThrottledError, 429),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (PayloadTooLargeError, 413),
    (ArchiveTooLargeError, 413),
    (MsmsError, 422),
    (ConfigurationError, 503),
    (LimsError, 400),
)


def http_status(exc: Exception) -> int:
    """The HTTP status that answers ``exc`` (500 for an error that is not a domain error)."""
    return next((code for kind, code in HTTP_STATUS if isinstance(exc, kind)), 500)
