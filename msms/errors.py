"""Errors raised by the MS/MS core.

Public names: ``MsmsError`` (base of every error the package raises), ``CatalogueError`` (a
reference catalogue row is malformed), ``UnknownAnalyteError`` (a name that resolves to no
analyte), ``DataError`` (an input table that cannot be used, with its location).
"""

from __future__ import annotations

__all__ = ["MsmsError", "CatalogueError", "UnknownAnalyteError", "DataError"]


def _where(file: str | None, line: int | None, field: str | None) -> str:
    parts = []
    if file:
        parts.append(str(file) if line is None else f"{file}:{line}")
    elif line is not None:
        parts.append(f"line {line}")
    if field:
        parts.append(f"field '{field}'")
    return ", ".join(parts)


class MsmsError(Exception):
    """Base class of the MS/MS core's errors."""


class DataError(MsmsError, ValueError):
    """An input cannot be used; ``file``, ``line`` and ``field`` say where (any may be None)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.reason = message
        where = _where(file, line, field)
        super().__init__(f"{where}: {message}" if where else message)


class CatalogueError(DataError):
    """A row of a reference catalogue is malformed (duplicate code, bad number, ...)."""


class UnknownAnalyteError(MsmsError, KeyError):
    """A name matches no analyte code or alias; ``suggestions`` lists close matches."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown analyte {name!r}{hint}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])
