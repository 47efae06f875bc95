"""The parsing layer's output: what a file says, exactly, before any name is mapped.

Each format module's ``parse()`` returns a :class:`RawRun`: run metadata, one
:class:`RawRecord` per value found in the file (vendor compound name, sample name and id,
position text, vendor sample type, value, the line and field it came from) and the issues met
while parsing. :func:`instruments.normalise.normalise` turns it into a
:class:`~instruments.run.PlateRun` (the importing step), so parsing never guesses.

Public names: ``RawRecord``, ``RawRun``, ``parse_number``, ``UNIT_SYNONYMS``, ``COUNTS``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from instruments.run import Issue

__all__ = ["COUNTS", "UNIT_SYNONYMS", "RawRecord", "RawRun", "parse_number"]

#: The unit of intensities (areas, heights, plateau means).
COUNTS = "counts"
#: Spellings of µmol/L accepted for vendor concentrations; anything else is rejected.
UNIT_SYNONYMS: dict[str, str] = {
    "umol/l": "umol/L", "µmol/l": "umol/L", "μmol/l": "umol/L", "um": "umol/L", "µm": "umol/L",
    "μm": "umol/L", "micromol/l": "umol/L", "nmol/ml": "umol/L",
}

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(slots=True)
class RawRecord:
    """One value as the file gives it."""

    compound: str
    kind: str
    value: float
    unit: str
    sample_name: str
    sample_id: str
    position: str
    vendor_type: str
    line: int
    source_row: int
    field: str
    plate_id: str = ""
    source_file: str = ""


@dataclass
class RawRun:
    """A parsed file: metadata, records and the issues met while parsing."""

    format: str
    source_file: str
    metadata: dict[str, str] = field(default_factory=dict)
    records: list[RawRecord] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    run_id: str = ""
    plate_id: str = ""

    def error(self, message: str, *, line: int | None = None, field: str | None = None,
              file: str | None = None) -> None:
        self.issues.append(Issue("error", file or self.source_file, line, field, message))

    def warn(self, message: str, *, line: int | None = None, field: str | None = None,
             file: str | None = None) -> None:
        self.issues.append(Issue("warning", file or self.source_file, line, field, message))

    def info(self, message: str, *, line: int | None = None, field: str | None = None,
             file: str | None = None) -> None:
        self.issues.append(Issue("info", file or self.source_file, line, field, message))


def parse_number(text: str, *, decimal: str = ".") -> float | None:
    """A float from a cell, or None when the cell is not a plain number.

    Thousands separators are not accepted (``1,234`` with a decimal point is ambiguous); with
    ``decimal=","`` the comma is the decimal mark. ``inf``/``nan`` spelled out are refused.
    """
    cell = text.strip()
    if decimal == ",":
        if "." in cell:
            return None
        cell = cell.replace(",", ".")
    # float() is the fast path; what it takes beyond a plain number (digit-group underscores,
    # spelled-out infinities and NaN, non-ASCII digits) is refused as the pattern refuses it
    try:
        value = float(cell)
    except ValueError:
        return None
    if math.isfinite(value) and cell.isascii() and "_" not in cell:
        return value
    return value if _NUMBER.match(cell) and math.isfinite(value) else None
