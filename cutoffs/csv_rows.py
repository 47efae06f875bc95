"""Rows of a small cited CSV data file, with the line number of each row for error messages.

Public names: ``read_rows``, ``number``, ``text``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from pathlib import Path

from cutoffs.errors import CutoffError

__all__ = ["number", "read_rows", "text"]


def read_rows(path: Path, required: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line, row)`` for each data row; CutoffError naming the file when a required
    column is missing or a row has more fields than the header."""
    file = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=file) from exc
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise CutoffError(f"missing column(s) {', '.join(missing)}", file=file, line=1)
        for row in reader:
            if None in row:
                raise CutoffError("more fields than the header", file=file,
                                  line=reader.line_num)
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items()}


def number(row: dict[str, str], key: str, file: str, line: int, *, positive: bool = True,
           optional: bool = False) -> float:
    """The field as a finite float (NaN when empty and ``optional``)."""
    raw = row.get(key, "")
    if raw == "":
        if optional:
            return math.nan
        raise CutoffError("a number is required", file=file, line=line, field=key)
    try:
        value = float(raw)
    except ValueError:
        raise CutoffError(f"{raw!r} is not a number", file=file, line=line, field=key) from None
    if not math.isfinite(value) or (positive and value <= 0):
        raise CutoffError(f"{raw!r} must be a finite number{' > 0' if positive else ''}",
                          file=file, line=line, field=key)
    return value


def text(row: dict[str, str], key: str, file: str, line: int,
         choices: Sequence[str] | None = None) -> str:
    """The field as non-empty text (one of ``choices`` when given)."""
    value = row.get(key, "")
    if not value:
        raise CutoffError("a value is required", file=file, line=line, field=key)
    if choices is not None and value not in choices:
        raise CutoffError(f"{value!r} is not one of {', '.join(choices)}", file=file, line=line,
                          field=key)
    return value
