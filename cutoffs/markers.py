"""Marker values for evaluation: analytes and ratios as float arrays with a status per row.

A marker is an analyte code or a canonical ratio name. For comparisons against levels, a ratio
whose denominator is 0 while its numerator is positive compares as +infinity (it is above every
finite level; a 0/0 ratio stays undefined); reasons still call it undefined and say why.

Public names: ``MarkerTable``, ``marker_table``, ``marker_table_from_values``,
``default_markers``, ``ABOVE_ALL``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.profiles import numeric_column
from cutoffs.reason_phrases import MISSING
from cutoffs.rules import RuleSet, resolve_marker
from msms import ratios as r
from msms.catalogue import Catalogue, default_catalogue

__all__ = ["ABOVE_ALL", "MarkerTable", "default_markers", "marker_table",
           "marker_table_from_values"]

#: Status of a ratio whose denominator is 0 and numerator positive: compares as +infinity.
ABOVE_ALL = 7


def default_markers(columns: Iterable[str], rules: RuleSet) -> list[str]:
    """The markers a population with these columns allows: the catalogue's analytes, the ratio
    catalogue's ratios and the rules' markers whose analytes are all present (in that order)."""
    present = set(columns)
    names = dict.fromkeys(a.code for a in default_catalogue().analytes if a.code in present)
    for ratio in r.ratio_catalogue():
        if set(ratio.analytes) <= present:
            names[ratio.name] = None
    for name in rules.markers():
        canonical, is_ratio = resolve_marker(name)
        parts = r.parse_ratio(canonical).analytes if is_ratio else (canonical,)
        if set(parts) <= present:
            names[canonical] = None
    return list(names)


@dataclass
class MarkerTable:
    """Float values and int8 statuses (``msms.ratios`` codes; 0 = usable) per marker name."""

    n: int
    values: dict[str, np.ndarray] = field(default_factory=dict)
    status: dict[str, np.ndarray] = field(default_factory=dict)
    ratios: dict[str, r.Ratio] = field(default_factory=dict)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    clean: dict[str, bool] = field(default_factory=dict)
    _usable: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def usable(self, name: str) -> np.ndarray:
        """Rows where the marker can be compared with a level (a value, or above all)."""
        usable = self._usable.get(name)
        if usable is None:
            status = self.status[name]
            usable = self._usable[name] = (status == r.OK) | (status == ABOVE_ALL)
        return usable

    def why_missing(self, name: str, rows: np.ndarray) -> np.ndarray:
        """A short reason per row (positions) for a marker that is not usable there."""
        if name in self.ratios:
            ratio = self.ratios[name]
            reasons = r.undefined_reasons(ratio, rows, self.columns)
            return np.array([MISSING.text("ratio_undefined", marker=name, why=why)
                             for why in reasons], dtype=object)
        status = self.status[name][rows]
        values = self.values[name][rows]
        out = np.empty(rows.size, dtype=object)
        out[status == r.NOT_MEASURED] = MISSING.text("not_measured", marker=name)
        out[status == r.MISSING] = MISSING.text("missing", marker=name)
        infinite = status == r.NOT_FINITE
        out[infinite] = [MISSING.text("not_finite", marker=name, value=v)
                         for v in values[infinite]]
        return out


def _analyte_status(values: np.ndarray) -> np.ndarray:
    status = np.zeros(values.size, dtype=np.int8)
    missing = np.isnan(values)
    status[missing] = r.MISSING
    status[~missing & ~np.isfinite(values)] = r.NOT_FINITE
    return status


_RESOLVED: dict[tuple[str, int], tuple[Catalogue, str, r.Ratio | None]] = {}


def _resolved(name: str, catalogue: Catalogue) -> tuple[str, r.Ratio | None]:
    """Canonical name and parsed ratio (None for an analyte), cached per catalogue object."""
    hit = _RESOLVED.get((name, id(catalogue)))
    if hit is not None and hit[0] is catalogue:
        return hit[1], hit[2]
    canonical, is_ratio = resolve_marker(name, catalogue)
    ratio = r.parse_ratio(canonical, catalogue) if is_ratio else None
    if len(_RESOLVED) > 10_000:
        _RESOLVED.clear()
    _RESOLVED[(name, id(catalogue))] = (catalogue, canonical, ratio)
    return canonical, ratio


def _clean(table: MarkerTable, code: str) -> bool:
    """Whether an analyte is measured and every value is a finite number >= 0 (cached)."""
    clean = table.clean.get(code)
    if clean is None:
        values = table.columns.get(code)
        clean = values is not None and not table.status[code].any() and not (values < 0).any()
        table.clean[code] = clean
    return clean


def _ratio_values(ratio: r.Ratio, table: MarkerTable) -> tuple[np.ndarray, np.ndarray]:
    """:func:`msms.ratios.ratio_values_from_arrays`, with the same arithmetic in fewer passes
    when every analyte of the ratio is clean (:func:`_clean`) and no denominator is 0."""
    if not all(_clean(table, code) for code in ratio.analytes):
        return r.ratio_values_from_arrays(ratio, table.columns, table.n)
    sums = []
    for side in (ratio.numerator, ratio.denominator):
        total = table.columns[side[0]] + 0.0  # as 0 + x: a new array, -0.0 made 0.0
        for code in side[1:]:
            total += table.columns[code]
        sums.append(total)
    numerator, denominator = sums
    if not denominator.all():
        return r.ratio_values_from_arrays(ratio, table.columns, table.n)
    with np.errstate(all="ignore"):
        numerator /= denominator
    if not np.isfinite(numerator).all():
        return r.ratio_values_from_arrays(ratio, table.columns, table.n)
    return numerator, np.zeros(table.n, dtype=np.int8)


def _add_ratio(table: MarkerTable, name: str, ratio: r.Ratio) -> None:
    values, status = _ratio_values(ratio, table)
    zero = status == r.ZERO_DENOMINATOR
    if zero.any():
        with np.errstate(all="ignore"):
            numerator = sum(table.columns[c] for c in ratio.numerator)
        above = zero & (np.asarray(numerator) > 0)
        status = status.copy()
        status[above] = ABOVE_ALL
        values = values.copy()
        values[above] = np.inf
    table.values[name] = values
    table.status[name] = status
    table.ratios[name] = ratio


def _build(
    table: MarkerTable, names: Iterable[str], catalogue: Catalogue
) -> MarkerTable:
    for name in names:
        if name in table.values:
            continue
        canonical, ratio = _resolved(name, catalogue)
        if canonical != name:
            raise CutoffError(f"marker {name!r} is not canonical (use {canonical!r})", field=name)
        if ratio is not None:
            _add_ratio(table, name, ratio)
    return table


def marker_table(
    profiles: pd.DataFrame,
    names: Iterable[str],
    *,
    file: str | None = None,
    catalogue: Catalogue | None = None,
) -> MarkerTable:
    """Compute the named markers (canonical names) for every profile, vectorised.

    Analyte columns absent from the profiles give status ``NOT_MEASURED`` for every row; a
    value that is not a number raises CutoffError naming the line and field.
    """
    catalogue = catalogue or default_catalogue()
    names = list(dict.fromkeys(names))
    table = MarkerTable(len(profiles))
    analytes: list[str] = []
    for name in names:
        canonical, ratio = _resolved(name, catalogue)
        analytes.extend(ratio.analytes if ratio is not None else (canonical,))
    for code in dict.fromkeys(analytes):
        if code in profiles.columns:
            values = numeric_column(profiles, code, file=file)
            table.columns[code] = values
            table.values[code] = values
            table.status[code] = _analyte_status(values)
        else:
            table.values[code] = np.full(table.n, np.nan)
            table.status[code] = np.full(table.n, r.NOT_MEASURED, dtype=np.int8)
    return _build(table, names, catalogue)


def marker_table_from_values(
    values: pd.DataFrame | Mapping[str, np.ndarray], names: Iterable[str]
) -> MarkerTable:
    """A marker table from values given directly per marker (analytes and ratios alike).

    Used to evaluate marker values that were computed elsewhere (and by the boundary tests, which
    set each marker independently). ``+inf`` in a ratio column means "denominator 0"; a column
    that is absent is ``NOT_MEASURED``.
    """
    frame = values if isinstance(values, pd.DataFrame) else pd.DataFrame(dict(values))
    table = MarkerTable(len(frame))
    for name in dict.fromkeys(names):
        if name in frame.columns:
            array = numeric_column(frame, name)
            status = _analyte_status(array)
            if "/" in name:
                status[np.isposinf(array)] = ABOVE_ALL
            table.values[name] = array
            table.status[name] = status
        else:
            table.values[name] = np.full(table.n, np.nan)
            table.status[name] = np.full(table.n, r.NOT_MEASURED, dtype=np.int8)
    return table
