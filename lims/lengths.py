"""Lengths checked at the edge against the columns that store them: SQLite stores a value
longer than its ``VARCHAR(n)`` and PostgreSQL refuses it naming no field, so every input that
reaches a length-limited column is checked first, with one error naming the file, line and
field on both databases.

Public names: ``column_length``, ``check_length``, ``check_plate_lengths``.
"""

from __future__ import annotations

import pandas as pd
from sqlmodel import SQLModel

from lims.errors import InvalidInputError
from lims.models import HeldWell, Run

__all__ = ["check_length", "check_plate_lengths", "column_length"]


def column_length(model: type[SQLModel], column: str) -> int | None:
    """The declared length of ``model.column`` (None: unlimited)."""
    table = model.__table__  # type: ignore[attr-defined]
    return getattr(table.c[column].type, "length", None)


def check_length(model: type[SQLModel], column: str, value: object, *, field: str | None = None,
                 file: str | None = None, line: int | None = None) -> None:
    """Refuse ``value`` when it is longer than ``model.column`` stores."""
    limit = column_length(model, column)
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        name = field or column
        shown = repr(text[:24]) + ("..." if len(text) > 24 else "")
        raise InvalidInputError(f"{shown} is {len(text)} characters, more than the {limit} a "
                                f"{name} may have", field=name, file=file, line=line)


def _line(value: object) -> int | None:
    try:
        number = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _first_too_long(frame: pd.DataFrame, column: str, limit: int) -> int | None:
    if column not in frame.columns or frame.empty:
        return None
    lengths = frame[column].astype("string").str.len().fillna(0)
    over = lengths[lengths > limit]
    return None if over.empty else int(over.index[0])


def check_plate_lengths(file: str, plate_id: str, run_id: str, rows: pd.DataFrame) -> None:
    """Refuse a plate whose plate id, instrument run id or a sample id is longer than its
    column; a row's ``source_file``/``source_row`` (when ``rows`` has them) name its line."""
    checks = (("plate_id", Run, "plate_id"), ("sample_id", HeldWell, "sample_id"))
    for column, model, model_column in checks:
        limit = column_length(model, model_column)
        assert limit is not None
        index = _first_too_long(rows, column, limit)
        if index is not None:
            row = rows.loc[index]
            where = str(row.get("source_file") or file)
            check_length(model, model_column, row[column], field=column, file=where,
                         line=_line(row.get("source_row")))
    check_length(Run, "plate_id", plate_id, file=file)
    check_length(Run, "instrument_run_id", run_id, field="instrument_run_id", file=file)
