"""CSV cells a spreadsheet would run as formulas, neutralised: every CSV the system writes goes
through here (``nbs read``, ``nbs quantify``, ``nbs evaluate``, ``nbs outcomes export``, the
tables of ``--format csv``, the instrument and plate-map writers).

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading apostrophe (``'=cmd|' /C calc'!A0``), which spreadsheets show as text; the
OWASP "CSV injection" advice. Left as they are: numbers (``-1.5``, ``+3``, ``-1e-05``, numeric
columns), and one-character cells (a polarity ``-`` or ``+`` is no formula). A neutralised
cell read back keeps its apostrophe: the value is then what a spreadsheet showed.

Public names: ``FORMULA_START``, ``neutralise``, ``neutralise_row``, ``neutralise_frame``,
``frame_to_csv``, ``writer``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = ["FORMULA_START", "frame_to_csv", "neutralise", "neutralise_frame", "neutralise_row",
           "writer"]

#: The first characters that make a spreadsheet read a cell as a formula (or hide one).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = r"^[=+\-@\t\r]."


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ".", 1))  # a decimal comma (semicolon-separated files)
    except ValueError:
        return False
    return "_" not in text


def neutralise(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run."""
    if (isinstance(value, str) and len(value) > 1 and value[0] in FORMULA_START
            and not _is_number(value)):
        return "'" + value
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    """Each cell of ``row`` neutralised."""
    return [neutralise(cell) for cell in row]


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with its text cells and column names neutralised (numeric columns
    untouched); ``frame`` itself when nothing needs it."""
    columns = [c for c in frame.columns
               if frame[c].dtype == object or isinstance(frame[c].dtype, pd.StringDtype)]
    changed: dict[Any, pd.Series] = {}
    for column in columns:
        values = frame[column]
        hits = values.astype("string").str.contains(_PATTERN, regex=True, na=False)
        if hits.any():
            changed[column] = values.where(~hits, values[hits].map(neutralise))
    names = [neutralise(c) if isinstance(c, str) else c for c in frame.columns]
    if not changed and names == list(frame.columns):
        return frame
    out = frame.assign(**{str(k): v for k, v in changed.items()}) if changed else frame.copy()
    out.columns = names
    return out


def frame_to_csv(frame: pd.DataFrame, path: Any = None, **options: Any) -> str | None:
    """``DataFrame.to_csv`` of the neutralised frame (``index=False`` unless given)."""
    options.setdefault("index", False)
    return neutralise_frame(frame).to_csv(path, **options)


class _Writer:
    def __init__(self, handle: Any, **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle: Any, **options: Any) -> _Writer:
    """A ``csv.writer`` whose rows are neutralised."""
    return _Writer(handle, **options)
