"""Errors raised by the instrument readers.

Public names: ``InstrumentError``.
"""

from __future__ import annotations

from msms.errors import DataError

__all__ = ["InstrumentError"]


class InstrumentError(DataError):
    """An instrument file cannot be read; ``file``, ``line`` and ``field`` say where."""
