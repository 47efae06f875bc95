"""Reading the package's TOML data files (wording, indicator definitions) into typed pydantic
models, with errors that name the file, the line and the field.

Public names: ``ReportDataError``, ``load_toml``, ``line_of``, ``DATA_DIR``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

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


def _header(parts: Sequence[str], *, array: bool) -> re.Pattern[str]:
    dotted = r"\s*\.\s*".join(rf'(?:{re.escape(p)}|"{re.escape(p)}")' for p in parts)
    return re.compile(rf"\[\[\s*{dotted}\s*\]\]" if array else rf"\[\s*{dotted}\s*\]")


def _key_line(lines: list[str], start: int, key: str) -> int | None:
    """The line of ``key = `` in the table that begins after line ``start`` (0: top level)."""
    pattern = re.compile(rf'^\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*=')
    for number in range(start + 1, len(lines) + 1):
        text = lines[number - 1]
        if text.lstrip().startswith("["):
            return None
        if pattern.match(text):
            return number
    return None


def line_of(text: str, loc: Sequence[str | int]) -> int | None:
    """The 1-based line where the value at ``loc`` (a pydantic error location) is written.

    Finds the deepest ``[table]`` (or the n-th ``[[array]]`` item) the location names, then the
    key inside it; None when nothing matches (the value is then reported without a line).
    """
    lines = text.splitlines()
    names = [str(p) for p in loc]
    for cut in range(len(names), -1, -1):
        parts, rest = names[:cut], loc[cut:]
        start = 0
        if parts:
            is_array = bool(rest) and isinstance(rest[0], int)
            pattern = _header(parts, array=is_array)
            hits = [n for n, line in enumerate(lines, 1) if pattern.fullmatch(line.strip())]
            index = int(rest[0]) if is_array else 0
            if len(hits) <= index:
                continue
            start = hits[index]
            rest = rest[1:] if is_array else rest
        if not rest:
            return start or None
        found = _key_line(lines, start, str(rest[0]))
        if found is not None:
            return found
        if parts:
            return start
    return None


def load_toml(path: Path, model: type[M]) -> M:
    """``path`` read as TOML and validated as ``model``; ReportDataError on the first problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportDataError(f"cannot read: {exc}", file=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"line (\d+)", str(exc))
        line = int(where.group(1)) if where else None
        raise ReportDataError(f"not valid TOML: {exc}", file=str(path), line=line) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        raise ReportDataError(first["msg"], file=str(path), line=line_of(text, loc),
                              field=".".join(str(p) for p in loc) or None) from None
