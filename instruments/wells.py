"""Well positions: parse the spellings instruments and punchers use and normalise them to
``A01``..``H12`` (96-well) or ``A01``..``P24`` (384-well).

Accepted spellings (``fmt``):

- ``"A1"`` / ``"A01"``: row letter and column number (either is read by both);
- ``"vial"``: the Waters autosampler position ``tray:row,column``, e.g. ``1:A,3`` (the tray is
  returned separately);
- ``"row-major"`` / ``"column-major"``: a well number 1..96 (or 1..384) counted along rows
  (A01, A02, ...) or down columns (A01, B01, ...);
- ``"auto"``: any of the letter or vial spellings (numbers are ambiguous and need a named order).

Public names: ``PLATE_SIZES``, ``WELL_FORMATS``, ``parse_well``, ``format_well``, ``plate_wells``,
``well_sort_key``.
"""

from __future__ import annotations

import re

__all__ = [
    "PLATE_SIZES",
    "WELL_FORMATS",
    "format_well",
    "parse_well",
    "plate_wells",
    "well_sort_key",
]

#: plate size -> (rows, columns)
PLATE_SIZES: dict[int, tuple[int, int]] = {96: (8, 12), 384: (16, 24)}
WELL_FORMATS: tuple[str, ...] = ("auto", "A1", "A01", "vial", "row-major", "column-major")

_LETTER = re.compile(r"^\s*([A-Za-z])\s*0*(\d{1,3})\s*$")
_VIAL = re.compile(r"^\s*(\d+)\s*:\s*([A-Za-z])\s*,\s*0*(\d{1,3})\s*$")
_NUMBER = re.compile(r"^\s*0*(\d{1,4})\s*$")


def _check(row: int, col: int, plate_size: int, text: str) -> str:
    rows, cols = PLATE_SIZES[plate_size]
    if not (0 <= row < rows and 1 <= col <= cols):
        last = f"{chr(ord('A') + rows - 1)}{cols:02d}"
        raise ValueError(f"well {text!r} is outside a {plate_size}-well plate (A01..{last})")
    return f"{chr(ord('A') + row)}{col:02d}"


def parse_well(text: str, *, fmt: str = "auto", plate_size: int = 96) -> tuple[str | None, str]:
    """Parse one well position and return ``(tray, well)``.

    ``tray`` is the autosampler tray/plate number of a vial position (``None`` otherwise) and
    ``well`` is normalised to a letter and two digits (``A03``).

    Raises
    ------
    ValueError
        With a message saying what is wrong (unreadable, or outside the plate).
    """
    if fmt not in WELL_FORMATS:
        raise ValueError(f"unknown well format {fmt!r}; use one of {', '.join(WELL_FORMATS)}")
    if plate_size not in PLATE_SIZES:
        raise ValueError(f"plate size must be one of {sorted(PLATE_SIZES)}, got {plate_size}")
    text = str(text)
    if fmt in ("auto", "A1", "A01", "vial"):
        match = _VIAL.match(text)
        if match and fmt in ("auto", "vial"):
            tray, letter, col = match.groups()
            return tray, _check(ord(letter.upper()) - ord("A"), int(col), plate_size, text)
        match = _LETTER.match(text)
        if match and fmt != "vial":
            letter, col = match.groups()
            return None, _check(ord(letter.upper()) - ord("A"), int(col), plate_size, text)
        expected = {"vial": "tray:row,column such as 1:A,3", "auto": "A1, A01 or 1:A,3"}.get(
            fmt, "a row letter and column number such as A1 or A01")
        raise ValueError(f"cannot read well {text!r}: expected {expected}")
    match = _NUMBER.match(text)
    if not match:
        raise ValueError(f"cannot read well number {text!r}")
    number = int(match.group(1))
    rows, cols = PLATE_SIZES[plate_size]
    if not 1 <= number <= rows * cols:
        raise ValueError(f"well number {number} is outside a {plate_size}-well plate "
                         f"(1..{rows * cols})")
    index = number - 1
    if fmt == "row-major":
        row, col = divmod(index, cols)
    else:
        col, row = divmod(index, rows)
    return None, _check(row, col + 1, plate_size, text)


def format_well(well: str, fmt: str, *, plate_size: int = 96, tray: str = "1") -> str:
    """Render a normalised well (``A03``) in a spelling ``parse_well`` reads back."""
    _, norm = parse_well(well, fmt="A01", plate_size=plate_size)
    row, col = ord(norm[0]) - ord("A"), int(norm[1:])
    rows, cols = PLATE_SIZES[plate_size]
    if fmt in ("A01", "auto"):
        return norm
    if fmt == "A1":
        return f"{norm[0]}{col}"
    if fmt == "vial":
        return f"{tray}:{norm[0]},{col}"
    if fmt == "row-major":
        return str(row * cols + col)
    if fmt == "column-major":
        return str((col - 1) * rows + row + 1)
    raise ValueError(f"unknown well format {fmt!r}")


def plate_wells(plate_size: int = 96) -> list[str]:
    """Every well of a plate in row-major order (A01, A02, ..., H12)."""
    rows, cols = PLATE_SIZES[plate_size]
    return [f"{chr(ord('A') + r)}{c:02d}" for r in range(rows) for c in range(1, cols + 1)]


def well_sort_key(well: str) -> tuple[str, int]:
    """Sort key putting normalised wells in row-major order."""
    return well[0], int(well[1:])
