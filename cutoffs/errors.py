"""Errors raised by the evaluation package.

Public names: ``CutoffError``.
"""

from __future__ import annotations

from msms.errors import DataError

__all__ = ["CutoffError"]


class CutoffError(DataError):
    """A rule, cutoff table or profile cannot be used; ``file``, ``line``, ``field`` say where."""
