"""Diagnostic ratios between analytes: the ratio catalogue, ratio names, vectorised computation.

A ratio is a sum of analytes over a sum of analytes, named with canonical codes
(``msms/data/ratios.csv``): ``Phe/Tyr``, ``C5DC+C6OH/C8`` (``C5DC+C6OH`` is one analyte, an isobar),
``(C16+C18:1)/C2`` (a sum of two analytes goes in parentheses). Names are parsed by resolving every
part through the analyte catalogue, so vendor aliases work (``C5DC/C8`` -> ``C5DC+C6OH/C8``,
``Leu/Ala`` -> ``Xle/Ala``) and a ``+`` inside an isobar's code is never taken for a sum.

The catalogue (``msms/data/ratios.csv``) lists each ratio with the disorders it serves and its
source. A ratio whose denominator is zero or whose parts are missing, negative or not finite is a
missing value with a recorded reason, never infinity.

Public names: ``Ratio``, ``RatioError``, ``RATIOS_CSV``, ``load_ratios``, ``ratio_catalogue``,
``parse_ratio``, ``format_ratio_name``, ``get_ratio``, ``ratio_values_from_arrays``,
``undefined_reasons`` and the status codes ``OK``, ``NOT_MEASURED``, ``MISSING``,
``NOT_FINITE``, ``NEGATIVE``, ``ZERO_DENOMINATOR``, ``OUT_OF_RANGE``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from msms.catalogue import Catalogue, default_catalogue, read_rows
from msms.errors import DataError

__all__ = [
    "MISSING",
    "NEGATIVE",
    "NOT_FINITE",
    "NOT_MEASURED",
    "OK",
    "OUT_OF_RANGE",
    "RATIOS_CSV",
    "Ratio",
    "RatioError",
    "format_ratio_name",
    "get_ratio",
    "load_ratios",
    "parse_ratio",
    "ratio_catalogue",
    "ratio_values_from_arrays",
    "undefined_reasons",
    "ZERO_DENOMINATOR",
]

RATIOS_CSV = Path(str(resources.files("msms") / "data" / "ratios.csv"))
_COLUMNS = ("name", "numerator", "denominator", "disorders", "source")

# Status codes of one ratio value (see ratio_values_from_arrays); 0 means the value is defined.
OK, NOT_MEASURED, MISSING, NOT_FINITE, NEGATIVE, ZERO_DENOMINATOR, OUT_OF_RANGE = range(7)


class RatioError(DataError):
    """A ratio name or a row of the ratio catalogue cannot be used."""


@dataclass(frozen=True, slots=True)
class Ratio:
    """A ratio of two sums of analytes (canonical codes); ``name`` is its canonical name."""

    name: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    disorders: tuple[str, ...] = ()
    source: str = ""

    @property
    def analytes(self) -> tuple[str, ...]:
        """Every analyte the ratio reads, numerator first."""
        return self.numerator + self.denominator


def _side_name(codes: Sequence[str]) -> str:
    return codes[0] if len(codes) == 1 else "(" + "+".join(codes) + ")"


def format_ratio_name(numerator: Sequence[str], denominator: Sequence[str]) -> str:
    """The canonical name of a ratio of canonical codes: ``A/B``, ``(A+B)/C``, ``A/(B+C)``."""
    if not numerator or not denominator:
        raise RatioError("a ratio needs a numerator and a denominator")
    return f"{_side_name(numerator)}/{_side_name(denominator)}"


def _top_level_slashes(text: str) -> list[int]:
    depth, positions = 0, []
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "/" and depth == 0:
            positions.append(i)
    return positions


def _resolve_side(text: str, catalogue: Catalogue) -> tuple[str, ...] | None:
    """Canonical codes of one side (a sum), or None when some part names no analyte."""
    side = text.strip()
    if side.startswith("(") and side.endswith(")") and side.count("(") == 1:
        side = side[1:-1].strip()
    if not side or "(" in side or ")" in side:
        return None
    tokens = [t.strip() for t in side.split("+")]
    codes: list[str] = []
    i = 0
    while i < len(tokens):
        # longest run of tokens that names one analyte: "C5DC+C6OH" is an isobar, not a sum
        for j in range(len(tokens), i, -1):
            code = catalogue.try_resolve("+".join(tokens[i:j]))
            if code is not None:
                codes.append(code)
                i = j
                break
        else:
            return None
    return tuple(codes)


def parse_ratio(name: str, catalogue: Catalogue | None = None) -> Ratio:
    """Parse a ratio name into canonical numerator and denominator codes.

    Parameters
    ----------
    name
        ``A/B`` where each side is an analyte code or alias, or a sum ``(A+B)``; the isobars whose
        code holds a ``+`` (``C5DC+C6OH``) are recognised whole.
    catalogue
        The analyte catalogue used to resolve names (default: the packaged one).

    Returns
    -------
    Ratio
        With its canonical name, e.g. ``parse_ratio("C5DC/C8").name == "C5DC+C6OH/C8"``.

    Raises
    ------
    RatioError
        When no split of the name gives two sides made of known analytes, when more than one
        does, or when an analyte appears twice.
    """
    catalogue = catalogue or default_catalogue()
    text = name.strip()
    parsed: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for pos in _top_level_slashes(text):
        num = _resolve_side(text[:pos], catalogue)
        den = _resolve_side(text[pos + 1 :], catalogue)
        if num is not None and den is not None:
            parsed.append((num, den))
    if not parsed:
        raise RatioError(
            f"{name!r} is not a ratio of known analytes (write A/B or (A+B)/C with analyte codes)",
            field=name,
        )
    if len(set(parsed)) > 1:
        options = ", ".join(format_ratio_name(n, d) for n, d in parsed)
        raise RatioError(f"{name!r} is ambiguous: it could be {options}", field=name)
    numerator, denominator = parsed[0]
    every = numerator + denominator
    if len(set(every)) != len(every):
        raise RatioError(f"{name!r} uses an analyte twice", field=name)
    return Ratio(format_ratio_name(numerator, denominator), numerator, denominator)


def _codes(text: str, path: Path, line: int, field: str, catalogue: Catalogue) -> tuple[str, ...]:
    codes = tuple(part.strip() for part in text.split(" + "))
    for code in codes:
        if code not in catalogue.codes:
            raise RatioError(
                f"{code!r} is not a canonical analyte code", file=str(path), line=line, field=field
            )
    return codes


def load_ratios(
    path: Path | str = RATIOS_CSV, catalogue: Catalogue | None = None
) -> tuple[Ratio, ...]:
    """Read and validate a ratio catalogue CSV.

    Columns: ``name`` (canonical), ``numerator`` and ``denominator`` (canonical codes joined by
    ``" + "``), ``disorders`` (catalogue codes joined by ``|``), ``source``. The name must parse to
    the numerator and denominator given, and be the canonical spelling.

    Raises
    ------
    RatioError
        Naming the file, line and field of the first problem.
    """
    catalogue = catalogue or default_catalogue()
    path = Path(path)
    disorder_codes = {d.code for d in catalogue.disorders}
    ratios: list[Ratio] = []
    seen: dict[str, int] = {}
    for line, record in read_rows(path, _COLUMNS, RatioError):
        name = record["name"].strip()
        numerator = _codes(record["numerator"], path, line, "numerator", catalogue)
        denominator = _codes(record["denominator"], path, line, "denominator", catalogue)
        try:
            parsed = parse_ratio(name, catalogue)
        except RatioError as exc:
            raise RatioError(exc.reason, file=str(path), line=line, field="name") from None
        if (parsed.numerator, parsed.denominator) != (numerator, denominator):
            raise RatioError(
                f"{name!r} reads as {parsed.name}, not {format_ratio_name(numerator, denominator)}",
                file=str(path), line=line, field="name",
            )
        if parsed.name != name:
            raise RatioError(
                f"write the canonical name {parsed.name!r}", file=str(path), line=line, field="name"
            )
        if name in seen:
            raise RatioError(
                f"duplicate ratio {name!r} (first on line {seen[name]})",
                file=str(path), line=line, field="name",
            )
        seen[name] = line
        disorders = tuple(d.strip() for d in record["disorders"].split("|") if d.strip())
        unknown = [d for d in disorders if d not in disorder_codes]
        if unknown:
            raise RatioError(
                f"unknown disorder code(s) {', '.join(unknown)}",
                file=str(path), line=line, field="disorders",
            )
        source = record["source"].strip()
        if not source:
            raise RatioError("is empty", file=str(path), line=line, field="source")
        ratios.append(Ratio(name, numerator, denominator, disorders, source))
    if not ratios:
        raise RatioError("holds no ratios", file=str(path))
    return tuple(ratios)


@cache
def ratio_catalogue() -> tuple[Ratio, ...]:
    """The packaged ratio catalogue (loaded once)."""
    return load_ratios()


def get_ratio(name: str, catalogue: Catalogue | None = None) -> Ratio:
    """The catalogue entry a ratio name (any accepted spelling) denotes, else the parsed ratio."""
    parsed = parse_ratio(name, catalogue)
    for entry in ratio_catalogue():
        if entry.name == parsed.name:
            return entry
    return parsed


def ratio_values_from_arrays(
    ratio: Ratio, columns: Mapping[str, np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The values of one ratio over ``n`` rows and a status code per row (vectorised), from
    float arrays per analyte code (an absent code is not measured).

    ``values`` is float with NaN where the ratio is undefined; ``status`` is int8: 0 defined,
    1 an analyte column is absent, 2 a value is missing, 3 a value is not finite, 4 a value is
    negative, 5 the denominator is zero, 6 the quotient overflows (beyond float range).
    """
    status = np.zeros(n, dtype=np.int8)
    sums = []
    with np.errstate(all="ignore"):
        for side in (ratio.numerator, ratio.denominator):
            total = np.zeros(n)
            for code in side:
                values = columns.get(code)
                if values is None:
                    status[status == OK] = NOT_MEASURED
                    continue
                missing = np.isnan(values)
                status[(status == OK) & missing] = MISSING
                status[(status == OK) & ~missing & ~np.isfinite(values)] = NOT_FINITE
                status[(status == OK) & (values < 0)] = NEGATIVE
                total = total + values
            sums.append(total)
        numerator, denominator = sums
        status[(status == OK) & (denominator == 0)] = ZERO_DENOMINATOR
        defined = status == OK
        values = np.where(defined, numerator / np.where(defined, denominator, 1.0), np.nan)
    overflow = defined & ~np.isfinite(values)
    if overflow.any():
        status[overflow] = OUT_OF_RANGE
        values[overflow] = np.nan
    return values, status


def undefined_reasons(
    ratio: Ratio, rows: np.ndarray, columns: Mapping[str, np.ndarray]
) -> np.ndarray:
    """Why a ratio is undefined at ``rows`` (positions), as an object array of strings.

    The reason names the first part that is absent from ``columns`` (``C14:1 not measured``),
    missing, not finite or negative; otherwise the denominator is zero (``denominator C10 is 0``)
    or the quotient overflows.
    """
    reasons = np.full(rows.size, "quotient beyond the floating-point range", dtype=object)
    open_rows = np.ones(rows.size, dtype=bool)
    for code in ratio.analytes:
        if code not in columns:
            reasons[open_rows] = f"{code} not measured"
            return reasons
        values = columns[code][rows]
        missing = open_rows & np.isnan(values)
        reasons[missing] = f"{code} missing"
        open_rows &= ~missing
        for mask, text in (
            (open_rows & ~np.isfinite(values), "not finite"),
            (open_rows & (values < 0), "negative"),
        ):
            reasons[mask] = [f"{code}={v:g} {text}" for v in values[mask]]
            open_rows &= ~mask
    with np.errstate(all="ignore"):
        denominator = sum(columns[c][rows] for c in ratio.denominator if c in columns)
    zero = open_rows & (np.asarray(denominator) == 0)
    reasons[zero] = f"denominator {'+'.join(ratio.denominator)} is 0"
    return reasons
