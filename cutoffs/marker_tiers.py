"""Marker tiers for the first tier (:mod:`cutoffs.evaluate`): each marker's borderline /
positive / critical levels per specimen and the tier (0 normal .. 3 critical) a value reaches.

A cutoff table gives each stratum its own first level, so a level is either one number or one
number per stratum number of the table, which each specimen's stratum number maps to it. Tiers are
computed where they are asked for: most specimens are normal for most disorders, so a rule
first finds the few specimens that can be out of range with one comparison per marker
(:meth:`MarkerTiers.past_any`, :meth:`MarkerTiers.critical`, against a per-entry threshold
that is gathered once) and takes the full tiers only at those (:meth:`MarkerTiers.at`).

Public names: ``Levels``, ``MarkerTiers``, ``marker_levels``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cutoffs.rules import MarkerRule

__all__ = ["Levels", "MarkerTiers", "marker_levels"]


@dataclass
class Levels:
    """Thresholds of one marker (NaN = level absent): scalars, or arrays over the cutoff table's
    stratum numbers (:meth:`cutoffs.tables.CutoffTable.stratum_numbers`) that ``index`` maps
    each specimen to (NaN where the stratum has no entry)."""

    borderline: float | np.ndarray
    positive: float | np.ndarray
    critical: float | np.ndarray
    index: np.ndarray | None = None

    def by_code(self) -> tuple[tuple[int, float | np.ndarray], ...]:
        return ((1, self.borderline), (2, self.positive), (3, self.critical))

    def first(self) -> float | np.ndarray:
        first = self.critical
        for level in (self.positive, self.borderline):
            first = np.where(np.isnan(level), first, level)
        return first

    def full(self, level: float | np.ndarray) -> float | np.ndarray:
        """A level for every specimen (a scalar stays a scalar)."""
        if np.ndim(level) == 0 or self.index is None:
            return level
        return np.asarray(level)[self.index]

    def at(self, level: float | np.ndarray, rows: np.ndarray) -> np.ndarray:
        """A level at the given specimen positions."""
        if np.ndim(level) == 0:
            return np.full(rows.size, float(level))
        if self.index is None:
            return np.asarray(level)[rows]
        return np.asarray(level)[self.index[rows]]


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)


def marker_levels(marker: MarkerRule, table_cutoff: np.ndarray | None) -> Levels:
    """Borderline / positive / critical thresholds of a rule marker for each specimen.

    Without a table cutoff the rule's literature levels apply. A table cutoff ``c`` (the lab's
    own percentile for the specimen's stratum; NaN where the table has no entry) becomes the
    borderline level, but never lies beyond the rule's positive level (else its critical level):
    a stratum whose own percentile is past a literature positive level (say Phe in babies on
    TPN) still calls such values at least borderline. The positive and critical levels are kept
    unless ``c`` is already past them (then they move to ``c``): a lab cutoff never lowers them.
    """
    levels = marker.levels
    b, p, c = _nan(levels.borderline), _nan(levels.positive), _nan(levels.critical)
    if table_cutoff is None:
        return Levels(b, p, c)
    cut = table_cutoff
    have = ~np.isnan(cut)
    high = marker.direction == "high"
    further = np.fmax if high else np.fmin
    nearer = np.fmin if high else np.fmax
    cap = p if not np.isnan(p) else c
    first = nearer(cut, cap)  # fmin/fmax ignore a NaN cap

    def moved(level: float) -> float | np.ndarray:
        if np.isnan(level):
            return level
        return np.where(have, further(level, cut), level)

    return Levels(np.where(have, first, b), moved(p), moved(c))


def _beyond(values: np.ndarray, level: float | np.ndarray, marker: MarkerRule) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if marker.direction == "high":
            return values >= level if marker.inclusive else values > level
        return values <= level if marker.inclusive else values < level


def _absent(level: float | np.ndarray) -> bool:
    return bool(np.ndim(level) == 0 and np.isnan(level))


@dataclass
class MarkerTiers:
    """One rule marker's levels and tiers over all specimens, computed on demand and kept
    (rules sharing a marker with the same levels share one).

    ``values``: the marker's value per specimen; ``usable``: whether it can be compared with a
    level (:meth:`cutoffs.markers.MarkerTable.usable`). A tier is the highest code whose level
    the value is past (0 when none); an unusable marker's tier is whatever its value gives and
    the caller decides what it counts as.
    """

    marker: MarkerRule
    levels: Levels
    values: np.ndarray
    usable: np.ndarray
    _full: np.ndarray | None = field(default=None, repr=False)
    _critical: np.ndarray | None = field(default=None, repr=False)
    _past_any: np.ndarray | None = field(default=None, repr=False)

    def full(self) -> np.ndarray:
        """The tier of every specimen (int8)."""
        if self._full is None:
            tier = np.zeros(self.values.size, dtype=np.int8)
            for code, level in self.levels.by_code():
                if not _absent(level):
                    tier[_beyond(self.values, self.levels.full(level), self.marker)] = code
            self._full = tier
        return self._full

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The tier at the given specimen positions (int8), as :meth:`full` gives it there."""
        if self._full is not None or rows.size == self.values.size:
            return self.full()[rows]
        values = self.values[rows]
        tier = np.zeros(rows.size, dtype=np.int8)
        for code, level in self.levels.by_code():
            if not _absent(level):
                tier[_beyond(values, self.levels.at(level, rows), self.marker)] = code
        return tier

    def critical(self) -> np.ndarray | None:
        """Where the marker is usable and at tier 3 (past its critical level); None when it has
        no critical level."""
        if _absent(self.levels.critical):
            return None
        if self._critical is None:
            if self._full is not None:
                past = self._full == 3
            else:
                past = _beyond(self.values, self.levels.full(self.levels.critical), self.marker)
            self._critical = past & self.usable
        return self._critical

    def past_any(self) -> np.ndarray:
        """Where the tier is at least 1: past the nearest of the levels (per entry, NaN levels
        ignored), which is past at least one of them."""
        if self._past_any is None:
            if self._full is not None:
                self._past_any = self._full >= 1
            else:
                nearest = np.fmin if self.marker.direction == "high" else np.fmax
                levels = [level for _, level in self.levels.by_code() if not _absent(level)]
                if not levels:
                    self._past_any = np.zeros(self.values.size, dtype=bool)
                else:
                    threshold = levels[0]
                    for level in levels[1:]:
                        threshold = nearest(threshold, level)
                    self._past_any = np.asarray(
                        _beyond(self.values, self.levels.full(threshold), self.marker),
                        dtype=bool)
        return self._past_any
