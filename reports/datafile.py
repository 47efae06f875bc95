"""Reading the package's TOML data files (wording, indicator definitions) into typed pydantic
models through the project's data-file toolkit (``msms.datafiles``), with errors that name the
file, the line and the field.

Public names: ``ReportDataError``, ``load_toml``, ``line_of``, ``DATA_DIR``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from msms import datafiles
from msms.datafiles import line_of
from reports import ReportError

__all__ = ["DATA_DIR", "ReportDataError", "line_of", "load_toml"]

DATA_DIR = Path(str(resources.files("reports") / "data"))

M = TypeVar("M", bound=BaseModel)


class ReportDataError(ReportError, ValueError):
    """A data file of the package cannot be used; ``file``, ``line`` and ``field`` say where."""

    def __init__(self, message: str, *, file: str, line: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = file if line is None else f"{file}:{line}"
        if field:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


def load_toml(path: Path, model: type[M]) -> M:
    """``path`` read as TOML and validated as ``model``; ReportDataError on the first problem."""
    return datafiles.load_toml(path, model, error=ReportDataError)[0]
