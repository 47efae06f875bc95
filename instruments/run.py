"""What every reader returns: a plate run (metadata, the measurements table of
docs/architecture.md "Measurements" and the issues found while reading).

Public names: ``Issue``, ``PlateRun``, ``SEVERITIES``, ``empty_measurements``,
``measurements_frame``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from msms.tables import MEASUREMENT_COLUMNS

__all__ = ["SEVERITIES", "Issue", "PlateRun", "empty_measurements", "measurements_frame"]

SEVERITIES: tuple[str, ...] = ("error", "warning", "info")

_FLOAT_COLUMNS = ("value",)
_INT_COLUMNS = ("source_row",)


@dataclass(frozen=True, slots=True)
class Issue:
    """One thing found while reading: ``severity`` is ``error``, ``warning`` or ``info``."""

    severity: str
    file: str | None
    line: int | None
    field: str | None
    message: str

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def __str__(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{self.severity}: {where}: {self.message}" if where else (
            f"{self.severity}: {self.message}")


def empty_measurements() -> pd.DataFrame:
    """A measurements table with the docs/architecture.md "Measurements" columns and no rows."""
    return measurements_frame([])


def measurements_frame(rows: Iterable[Mapping[str, Any]] | pd.DataFrame | Mapping[str, Any]
                       ) -> pd.DataFrame:
    """Build a measurements table with exactly ``MEASUREMENT_COLUMNS`` in order and fixed dtypes.

    ``rows`` is an iterable of row mappings, a DataFrame, or a mapping of every column name to
    its values (the fast path the readers use). ``value`` is float64, ``source_row`` int64,
    everything else a string.
    """
    if isinstance(rows, Mapping) and not isinstance(rows, pd.DataFrame):
        return _from_columns(rows)
    frame = rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    missing = [c for c in MEASUREMENT_COLUMNS if c not in frame.columns]
    if missing and len(frame):
        raise ValueError(f"measurement rows lack column(s) {', '.join(missing)}")
    data: dict[str, Any] = {}
    for column in MEASUREMENT_COLUMNS:
        if column in _FLOAT_COLUMNS:
            data[column] = (frame[column].astype("float64") if column in frame
                            else pd.Series([], dtype="float64"))
        elif column in _INT_COLUMNS:
            data[column] = (frame[column].astype("int64") if column in frame
                            else pd.Series([], dtype="int64"))
        else:
            data[column] = (frame[column].astype("str") if column in frame
                            else pd.Series([], dtype="str"))
    return pd.DataFrame(data, columns=list(MEASUREMENT_COLUMNS)).reset_index(drop=True)


def _from_columns(columns: Mapping[str, Any]) -> pd.DataFrame:
    missing = [c for c in MEASUREMENT_COLUMNS if c not in columns]
    if missing:
        raise ValueError(f"measurement columns lack {', '.join(missing)}")
    data: dict[str, Any] = {}
    for column in MEASUREMENT_COLUMNS:
        values = columns[column]
        if column in _FLOAT_COLUMNS:
            data[column] = np.asarray(values, dtype="float64")
        elif column in _INT_COLUMNS:
            data[column] = np.asarray(values, dtype="int64")
        else:
            cells = np.empty(len(values), dtype=object)
            cells[:] = values
            data[column] = pd.array(cells, dtype="str")  # converts any non-string cell
    return pd.DataFrame(data, columns=list(MEASUREMENT_COLUMNS))


@dataclass(frozen=True)
class PlateRun:
    """One plate (or autosampler run) as read from an instrument file.

    ``measurements`` has exactly ``msms.tables.MEASUREMENT_COLUMNS`` in that order; ``issues``
    holds the warnings and notes found while reading (a run with errors is never returned:
    :func:`instruments.read` raises :class:`~instruments.errors.ValidationError` instead).
    """

    run_id: str
    plate_id: str
    format: str
    source_file: str
    metadata: dict[str, str] = field(default_factory=dict)
    measurements: pd.DataFrame = field(default_factory=empty_measurements)
    issues: tuple[Issue, ...] = ()

    @property
    def wells(self) -> list[str]:
        """The wells that hold measurements, in plate order (row-major)."""
        wells = self.measurements["well"].unique().tolist()
        return sorted(wells, key=lambda w: (w[0], int(w[1:])))

    @property
    def samples(self) -> pd.DataFrame:
        """One row per (plate_id, well): sample_id and sample_type."""
        cols = ["plate_id", "well", "sample_id", "sample_type"]
        return self.measurements[cols].drop_duplicates().reset_index(drop=True)
