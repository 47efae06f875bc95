"""Errors raised by the LIMS.

Public names: ``LimsError``, ``ConfigurationError``, ``DatabaseUnavailableError``.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "DatabaseUnavailableError", "LimsError"]


class LimsError(Exception):
    """Base class of the LIMS's errors."""


class ConfigurationError(LimsError):
    """A setting is invalid; the message names the setting (e.g. ``NBS_DATABASE_URL``)."""


class DatabaseUnavailableError(ConfigurationError):
    """The configured database cannot be reached."""
