"""Cutoff tables: a laboratory's percentile cutoffs per marker and stratum, as versioned TOML.

A table holds, for each marker (analyte or ratio) and stratum with enough screen-negative babies,
the upper and lower percentile cutoffs with bootstrap confidence intervals, the median and a grid
of quantiles (for covariate-adjusted percentiles and multiples of the median). It records what it
was derived from (file, SHA-256, number of rows) and the strata definitions. ``nbs cutoffs derive``
writes one (:func:`cutoffs.derive.derive_cutoffs`); evaluation uses it on top of the rules'
literature levels (docs/evaluation.md: the table's cutoff becomes the marker's first level).

Public names: ``CutoffEntry``, ``CutoffTable``, ``CutoffTableFile`` (the file's schema),
``read_cutoff_table``, ``write_cutoff_table``,
``QUANTILE_PROBS``, ``FORMAT``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.rules import resolve_marker
from cutoffs.score_table import (
    ScoreSection,
    ScoreSectionFile,
    score_section_mapping,
    score_section_of,
)
from cutoffs.strata import OVERALL, Assignment, Strata, StrataFile, strata_of
from msms.datafiles import Count, DataFile, Schema, Text, load_toml, write_toml
from msms.ratios import RatioError

__all__ = [
    "FORMAT",
    "QUANTILE_PROBS",
    "CutoffEntry",
    "CutoffTable",
    "CutoffTableFile",
    "read_cutoff_table",
    "write_cutoff_table",
]

#: Identifies the file format (first key of every table file).
FORMAT = "nbs-cutoff-table/1"
#: Probabilities of the stored quantile grid (fractions, not percent).
QUANTILE_PROBS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999,
)
#: ``derived``: percentiles of a population (every number present); ``literature``: cutoffs
#: entered by hand from cited sources (``source`` required; n, median, intervals, grid optional).
KINDS = ("derived", "literature")
_NAN2 = (math.nan, math.nan)


@dataclass(frozen=True, slots=True)
class CutoffEntry:
    """Cutoffs of one marker in one stratum (values in the marker's unit; NaN = not given)."""

    marker: str
    stratum: str
    n: int
    median: float
    upper: float
    upper_ci: tuple[float, float]
    lower: float
    lower_ci: tuple[float, float]
    quantiles: tuple[float, ...]
    source: str = ""


@dataclass
class CutoffTable:
    """A derived cutoff table; build with :func:`cutoffs.derive.derive_cutoffs` or read one."""

    version: str
    strata: Strata
    entries: tuple[CutoffEntry, ...]
    upper_percentile: float = 99.5
    lower_percentile: float = 0.5
    min_stratum_n: int = 1000
    n_bootstrap: int = 200
    confidence: float = 0.95
    derived_from: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    file: str | None = None
    kind: str = "derived"
    #: per-disorder scores and their cutoffs (docs/first_tier_scores.md); None: per marker
    scores: ScoreSection | None = None
    _index: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    _lookups: dict[tuple[str, tuple[int, ...]], np.ndarray] = field(default_factory=dict,
                                                                   repr=False)
    _layout_cache: tuple[list[tuple[int, ...]], np.ndarray, int] | None = field(default=None,
                                                                               repr=False)

    def __post_init__(self) -> None:
        self._index = {(e.marker, e.stratum): i for i, e in enumerate(self.entries)}
        self._arrays = {
            "upper": np.array([e.upper for e in self.entries] + [np.nan]),
            "lower": np.array([e.lower for e in self.entries] + [np.nan]),
            "median": np.array([e.median for e in self.entries] + [np.nan]),
        }

    @property
    def markers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.marker for e in self.entries))

    def entry(self, marker: str, stratum: str = OVERALL) -> CutoffEntry:
        """The entry of a marker in a stratum (KeyError if the table has none)."""
        return self.entries[self._index[(marker, stratum)]]

    def assign(self, profiles: pd.DataFrame, *, file: str | None = None) -> Assignment:
        """The strata of each specimen, for :meth:`entry_index`."""
        return self.strata.assign(profiles, file=file)

    def _layout(self) -> tuple[list[tuple[int, ...]], np.ndarray, int]:
        """Subsets (most specific first), the offset of each in the global stratum numbering,
        and the number of strata."""
        layout = getattr(self, "_layout_cache", None)
        if layout is None:
            subsets = self.strata.subsets()
            sizes = [int(np.prod([len(self.strata.dimensions[d].bins) for d in subset]))
                     if subset else 1 for subset in subsets]
            offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
            layout = (subsets, offsets, int(sum(sizes)))
            self._layout_cache = layout
        return layout

    def _entry_vector(self, marker: str) -> np.ndarray:
        """Entry index per global stratum number for ``marker`` (-1: none), plus a trailing -1."""
        key = (marker, ())
        cached = self._lookups.get(key)
        if cached is not None:
            return cached
        subsets, offsets, total = self._layout()
        vector = np.full(total + 1, -1, dtype=np.int32)
        for subset, offset in zip(subsets, offsets, strict=True):
            sizes = [len(self.strata.dimensions[d].bins) for d in subset]
            for code in range(int(np.prod(sizes)) if sizes else 1):
                bins, rest = [], code
                for size in reversed(sizes):
                    bins.append(rest % size)
                    rest //= size
                stratum = self.strata.key(subset, tuple(reversed(bins)))
                vector[offset + code] = self._index.get((marker, stratum), -1)
        self._lookups[key] = vector
        return vector

    def _choice(self, available: np.ndarray, assignment: Assignment) -> np.ndarray:
        """Global stratum number each specimen uses, given which strata have an entry (the same
        for every marker with the same availability); -1 (last) when none."""
        key = (id(self), "choice", available.tobytes())
        cached = assignment.cache.get(key)
        if cached is not None:
            return cached
        subsets, offsets, total = self._layout()
        choice: np.ndarray | None = None
        open_rows: np.ndarray | None = None
        for subset, offset in zip(subsets, offsets, strict=True):
            size = (int(np.prod([len(self.strata.dimensions[d].bins) for d in subset]))
                    if subset else 1)
            here = available[offset:offset + size]
            if not here.any():
                continue
            codes = assignment.combined(subset)
            if open_rows is not None:
                codes = codes[open_rows]
            hit = codes >= 0
            hit[hit] = here[codes[hit]]
            found = np.where(hit, codes + offset, total)
            if open_rows is None:
                choice = found.astype(np.int64)
                open_rows = np.flatnonzero(~hit)
            else:
                choice[open_rows[hit]] = found[hit]  # type: ignore[index]
                open_rows = open_rows[~hit]
            if open_rows.size == 0:
                break
        if choice is None:
            choice = np.full(assignment.n, total, dtype=np.int64)
        assignment.cache[key] = choice
        return choice

    def entry_index(self, marker: str, assignment: Assignment,
                    rows: np.ndarray | None = None) -> np.ndarray:
        """Index (into ``entries``) of the entry each specimen uses for ``marker``; -1 for none
        (``rows``: at those specimen positions only, not kept).

        The most specific stratum with an entry wins; ``all`` is the fall-back. The stratum
        choice is shared by markers with entries in the same strata and cached on the
        assignment.
        """
        if rows is not None:
            choice, vector = self.stratum_numbers(marker, assignment)
            return vector[choice[rows]]
        key = (id(self), marker)
        cached = assignment.cache.get(key)
        if cached is not None:
            return cached
        vector = self._entry_vector(marker)
        index = vector[self._choice(vector[:-1] >= 0, assignment)]
        assignment.cache[key] = index
        return index

    def stratum_numbers(self, marker: str, assignment: Assignment
                        ) -> tuple[np.ndarray, np.ndarray]:
        """(the global stratum number each specimen uses for ``marker``, the entry index of
        each global stratum number with -1 last): specimens with the same number share an
        entry, and the first array is shared (cached) by markers with entries in the same
        strata."""
        vector = self._entry_vector(marker)
        return self._choice(vector[:-1] >= 0, assignment), vector

    def entry_values(self, field_name: str) -> np.ndarray:
        """Per-entry ``upper``, ``lower`` or ``median`` values, with NaN appended for index -1."""
        return self._arrays[field_name]

    def cutoffs(self, marker: str, direction: str, assignment: Assignment) -> np.ndarray:
        """The upper (direction ``high``) or lower cutoff per specimen; NaN where none applies."""
        index = self.entry_index(marker, assignment)
        return self._arrays["upper" if direction == "high" else "lower"][index]

    def medians(self, marker: str, assignment: Assignment) -> np.ndarray:
        return self._arrays["median"][self.entry_index(marker, assignment)]


def _number(value: float) -> float | None:
    """A number as written: six significant digits; NaN (not given) is left out."""
    return float(f"{value:.6g}") if math.isfinite(value) else None


def _numbers(values: Iterable[float]) -> list[float] | None:
    out = [float(f"{float(v):.6g}") for v in values]
    return out if out and all(math.isfinite(v) for v in out) else None


def write_cutoff_table(table: CutoffTable, path: Path | str) -> Path:
    """Write a table as TOML (readable by :func:`read_cutoff_table`); NaN numbers are left out."""
    document = {
        "format": FORMAT, "kind": table.kind, "version": table.version,
        "created": table.created,
        "upper_percentile": float(table.upper_percentile),
        "lower_percentile": float(table.lower_percentile),
        "min_stratum_n": int(table.min_stratum_n), "n_bootstrap": int(table.n_bootstrap),
        "confidence": float(table.confidence), "quantile_probs": list(QUANTILE_PROBS),
        "derived_from": table.derived_from,
        "strata": table.strata.to_mapping(),
        "cutoff": [
            {"marker": e.marker, "stratum": e.stratum, "n": int(e.n),
             "median": _number(e.median), "upper": _number(e.upper),
             "upper_ci": _numbers(e.upper_ci), "lower": _number(e.lower),
             "lower_ci": _numbers(e.lower_ci), "quantiles": _numbers(e.quantiles),
             "source": e.source or None}
            for e in table.entries
        ],
    }
    if table.scores is not None:
        document["score"] = score_section_mapping(table.scores)
    return write_toml(document, path,
                      comment="Cutoff table: cutoffs per marker and stratum (docs/evaluation.md).")


class _Entry(Schema):
    marker: Text
    stratum: Text
    n: Count | None = None
    median: float | None = None
    upper: float | None = None
    upper_ci: list[float] | None = None
    lower: float | None = None
    lower_ci: list[float] | None = None
    quantiles: list[float] | None = None
    source: str = ""


class CutoffTableFile(Schema):
    """The layout of a cutoff table file (docs/evaluation.md)."""

    format: Literal["nbs-cutoff-table/1"]
    kind: Literal["derived", "literature"] = "derived"
    version: str
    created: str = ""
    upper_percentile: float | None = None
    lower_percentile: float | None = None
    min_stratum_n: Count | None = None
    n_bootstrap: Count = 0
    confidence: float = 0.95
    quantile_probs: list[float] | None = None
    derived_from: dict[str, Any] = {}
    strata: StrataFile
    cutoff: list[_Entry] = []
    score: ScoreSectionFile | None = None


def _entry(file: DataFile, i: int, raw: _Entry, derived: bool, min_n: int,
           known_strata: set[str], seen: set[tuple[str, str]]) -> CutoffEntry:
    def error(message: str, key: str) -> Exception:
        return file.error(message, "cutoff", i, key)

    try:
        marker, _ = resolve_marker(raw.marker)
    except RatioError:
        raise error(f"{raw.marker!r} is neither a known analyte nor a ratio", "marker") from None
    if marker != raw.marker:
        raise error(f"write the canonical name {marker!r}", "marker")
    if raw.stratum not in known_strata:
        raise error(f"unknown stratum {raw.stratum!r}", "stratum")
    if (marker, raw.stratum) in seen:
        raise error(f"a second entry for {marker} in {raw.stratum}", "marker")
    seen.add((marker, raw.stratum))
    if derived:
        for key in ("n", "median", "upper", "upper_ci", "lower", "lower_ci", "quantiles"):
            if getattr(raw, key) is None:
                raise error(f"missing key {key!r}", key)
    elif not raw.source.strip():
        raise error("a literature cutoff must cite its source", "source")
    n = raw.n or 0
    if derived and n < min_n:
        raise error(f"n {n} is below min_stratum_n {min_n}", "n")
    nan = math.nan
    median, upper, lower = (nan if v is None else v for v in (raw.median, raw.upper, raw.lower))
    if math.isnan(upper) and math.isnan(lower):
        raise error("needs an upper or a lower cutoff", "upper")
    cis = {}
    for key, ci, value in (("upper_ci", raw.upper_ci, upper), ("lower_ci", raw.lower_ci, lower)):
        if ci is not None and (len(ci) != 2 or math.isnan(value) or not ci[0] <= value <= ci[1]):
            raise error("must be [low, high] around the cutoff", key)
        cis[key] = _NAN2 if ci is None else (ci[0], ci[1])
    quantiles = raw.quantiles or []
    if raw.quantiles is not None and (len(quantiles) != len(QUANTILE_PROBS) or any(
            b < a for a, b in zip(quantiles, quantiles[1:], strict=False))):
        raise error(f"needs {len(QUANTILE_PROBS)} non-decreasing values", "quantiles")
    if not math.isnan(upper) and not math.isnan(lower) and not lower < upper:
        raise error("needs lower < upper", "lower")
    if not math.isnan(median) and (
        (not math.isnan(lower) and median < lower) or (not math.isnan(upper) and median > upper)
    ):
        raise error("needs lower <= median <= upper", "median")
    return CutoffEntry(marker, raw.stratum, n, median, upper, cis["upper_ci"], lower,
                       cis["lower_ci"], tuple(quantiles), raw.source.strip())


def _settings(file: DataFile, doc: CutoffTableFile) -> tuple[float, float, int]:
    """Percentiles and minimum stratum size (required in a derived table)."""
    derived = doc.kind == "derived"
    for key in ("upper_percentile", "lower_percentile", "min_stratum_n", "quantile_probs"):
        if derived and getattr(doc, key) is None:
            raise file.error(f"missing key {key!r}", key)
    upper = 99.5 if doc.upper_percentile is None else doc.upper_percentile
    lower = 0.5 if doc.lower_percentile is None else doc.lower_percentile
    if not 0 < lower < 50 < upper < 100:
        raise file.error("needs 0 < lower < 50 < upper < 100", "upper_percentile")
    if doc.quantile_probs is not None and tuple(doc.quantile_probs) != QUANTILE_PROBS:
        raise file.error("differs from this version's quantile grid", "quantile_probs")
    return upper, lower, doc.min_stratum_n or 0


def read_cutoff_table(path: Path | str) -> CutoffTable:
    """Read and validate a cutoff table TOML file.

    Raises
    ------
    CutoffError
        Naming the file, line and key of the first problem: an unknown marker or stratum, a
        non-monotone quantile grid, a confidence interval that does not hold its cutoff, a stratum
        smaller than the table's minimum, a duplicate entry.
    """
    doc, file = load_toml(path, CutoffTableFile, error=CutoffError)
    upper_pct, lower_pct, min_n = _settings(file, doc)
    strata = strata_of(file, doc.strata, "strata")
    known_strata = set(strata.keys())
    seen: set[tuple[str, str]] = set()
    entries = tuple(_entry(file, i, raw, doc.kind == "derived", min_n, known_strata, seen)
                    for i, raw in enumerate(doc.cutoff))
    if not entries:
        raise file.error("holds no cutoffs", "cutoff")
    return CutoffTable(
        version=doc.version, strata=strata, entries=entries, upper_percentile=upper_pct,
        lower_percentile=lower_pct, min_stratum_n=min_n, n_bootstrap=doc.n_bootstrap,
        confidence=doc.confidence, derived_from=dict(doc.derived_from), created=doc.created,
        file=file.path, kind=doc.kind,
        scores=score_section_of(file, doc.score) if doc.score is not None else None,
    )
