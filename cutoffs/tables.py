"""Cutoff tables: a laboratory's percentile cutoffs per marker and stratum, as versioned TOML.

A table holds, for each marker (analyte or ratio) and stratum with enough screen-negative babies,
the upper and lower percentile cutoffs with bootstrap confidence intervals, the median and a grid
of quantiles (for covariate-adjusted percentiles and multiples of the median). It records what it
was derived from (file, SHA-256, number of rows) and the strata definitions. ``nbs cutoffs derive``
writes one (:func:`cutoffs.derive.derive_cutoffs`); evaluation uses it on top of the rules'
literature levels (docs/evaluation.md: the table's cutoff becomes the marker's first level).

Public names: ``CutoffEntry``, ``CutoffTable``, ``read_cutoff_table``, ``write_cutoff_table``,
``QUANTILE_PROBS``, ``FORMAT``.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.rules import resolve_marker
from cutoffs.score_table import ScoreSection, read_score_section, score_section_lines
from cutoffs.strata import OVERALL, Assignment, Strata, strata_from_mapping
from msms.catalogue import default_catalogue
from msms.ratios import RatioError

__all__ = [
    "FORMAT",
    "QUANTILE_PROBS",
    "CutoffEntry",
    "CutoffTable",
    "read_cutoff_table",
    "write_cutoff_table",
]

#: Identifies the file format (first key of every table file).
FORMAT = "nbs-cutoff-table/1"
#: Probabilities of the stored quantile grid (fractions, not percent).
QUANTILE_PROBS: tuple[float, ...] = (
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999,
)
_ENTRY_KEYS = {"marker", "stratum", "n", "median", "upper", "upper_ci", "lower", "lower_ci",
               "quantiles", "source"}
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

    def entry_index(self, marker: str, assignment: Assignment) -> np.ndarray:
        """Index (into ``entries``) of the entry each specimen uses for ``marker``; -1 for none.

        The most specific stratum with an entry wins; ``all`` is the fall-back. The stratum
        choice is shared by markers with entries in the same strata and cached on the
        assignment.
        """
        key = (id(self), marker)
        cached = assignment.cache.get(key)
        if cached is not None:
            return cached
        vector = self._entry_vector(marker)
        index = vector[self._choice(vector[:-1] >= 0, assignment)]
        assignment.cache[key] = index
        return index

    def strata_of(self, marker: str, assignment: Assignment) -> tuple[np.ndarray, np.ndarray]:
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


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value!r}")
        return repr(float(f"{value:.6g}"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_fmt(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__}")


def write_cutoff_table(table: CutoffTable, path: Path | str) -> Path:
    """Write a table as TOML (readable by :func:`read_cutoff_table`); NaN numbers are left out."""
    path = Path(path)
    lines = [
        "# Cutoff table: cutoffs per marker and stratum (docs/evaluation.md).",
        f"format = {_fmt(FORMAT)}",
        f"kind = {_fmt(table.kind)}",
        f"version = {_fmt(table.version)}",
        f"created = {_fmt(table.created)}",
        f"upper_percentile = {_fmt(float(table.upper_percentile))}",
        f"lower_percentile = {_fmt(float(table.lower_percentile))}",
        f"min_stratum_n = {_fmt(int(table.min_stratum_n))}",
        f"n_bootstrap = {_fmt(int(table.n_bootstrap))}",
        f"confidence = {_fmt(float(table.confidence))}",
        f"quantile_probs = {_fmt(list(QUANTILE_PROBS))}",
        "",
        "[derived_from]",
    ]
    lines += [f"{k} = {_fmt(v)}" for k, v in table.derived_from.items()]
    strata = table.strata.to_mapping()
    lines += ["", "[strata]", f"version = {_fmt(strata['version'])}",
              f"max_depth = {_fmt(strata['max_depth'])}"]
    for dimension in strata["dimension"]:
        lines += ["", "[[strata.dimension]]", f"name = {_fmt(dimension['name'])}",
                  f"column = {_fmt(dimension['column'])}", "bins = ["]
        lines += [f"    {_fmt(b)}," for b in dimension["bins"]]
        lines.append("]")
    for e in table.entries:
        lines += ["", "[[cutoff]]", f"marker = {_fmt(e.marker)}", f"stratum = {_fmt(e.stratum)}"]
        numbers: list[tuple[str, Any]] = [
            ("n", int(e.n)), ("median", float(e.median)),
            ("upper", float(e.upper)), ("upper_ci", [float(v) for v in e.upper_ci]),
            ("lower", float(e.lower)), ("lower_ci", [float(v) for v in e.lower_ci]),
            ("quantiles", [float(v) for v in e.quantiles]),
        ]
        for key, value in numbers:
            values = value if isinstance(value, list) else [value]
            if values and all(isinstance(v, int) or math.isfinite(v) for v in values):
                lines.append(f"{key} = {_fmt(value)}")
        if e.source:
            lines.append(f"source = {_fmt(e.source)}")
    if table.scores is not None:
        lines += score_section_lines(table.scores)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _need(mapping: dict[str, Any], key: str, kind: Any, file: str, where: str) -> Any:
    value = mapping.get(key)
    if value is None:
        raise CutoffError("is missing", file=file, field=f"{where}{key}")
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise CutoffError("has the wrong type", file=file, field=f"{where}{key}")
    return value


def _finite(values: Iterable[Any], file: str, key: str) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise CutoffError("must hold finite numbers", file=file, field=key)
        out.append(float(v))
    return out


def _optional(raw: dict[str, Any], key: str, file: str, where: str) -> float:
    if key not in raw:
        return math.nan
    return _finite([_need(raw, key, int | float, file, where)], file, where + key)[0]


def _entry(raw: dict[str, Any], where: str, file: str, derived: bool, min_n: int,
           known_strata: set[str], seen: set[tuple[str, str]]) -> CutoffEntry:
    name = _need(raw, "marker", str, file, where)
    try:
        marker, _ = resolve_marker(name)
    except RatioError:
        raise CutoffError(f"{name!r} is neither a known analyte nor a ratio", file=file,
                          field=where + "marker") from None
    if marker != name:
        raise CutoffError(f"write the canonical name {marker!r}", file=file,
                          field=where + "marker")
    stratum = _need(raw, "stratum", str, file, where)
    if stratum not in known_strata:
        raise CutoffError(f"unknown stratum {stratum!r}", file=file, field=where + "stratum")
    if (marker, stratum) in seen:
        raise CutoffError(f"a second entry for {marker} in {stratum}", file=file,
                          field=where + "marker")
    seen.add((marker, stratum))
    source = raw.get("source", "")
    if not isinstance(source, str):
        raise CutoffError("must be a string", file=file, field=where + "source")
    if derived:
        for key in ("n", "median", "upper", "upper_ci", "lower", "lower_ci", "quantiles"):
            _need(raw, key, object, file, where)
    elif not source.strip():
        raise CutoffError("a literature cutoff must cite its source", file=file,
                          field=where + "source")
    n = int(_need(raw, "n", int, file, where)) if "n" in raw else 0
    if derived and n < min_n:
        raise CutoffError(f"n {n} is below min_stratum_n {min_n}", file=file, field=where + "n")
    median = _optional(raw, "median", file, where)
    upper = _optional(raw, "upper", file, where)
    lower = _optional(raw, "lower", file, where)
    if math.isnan(upper) and math.isnan(lower):
        raise CutoffError("needs an upper or a lower cutoff", file=file, field=where + "upper")
    cis = {}
    for key, value in (("upper_ci", upper), ("lower_ci", lower)):
        if key not in raw:
            cis[key] = _NAN2
            continue
        ci = _finite(_need(raw, key, list, file, where), file, where + key)
        if len(ci) != 2 or math.isnan(value) or not ci[0] <= value <= ci[1]:
            raise CutoffError("must be [low, high] around the cutoff", file=file,
                              field=where + key)
        cis[key] = (ci[0], ci[1])
    quantiles: list[float] = []
    if "quantiles" in raw:
        quantiles = _finite(_need(raw, "quantiles", list, file, where), file, where + "quantiles")
        if len(quantiles) != len(QUANTILE_PROBS) or any(
            b < a for a, b in zip(quantiles, quantiles[1:], strict=False)
        ):
            raise CutoffError(f"needs {len(QUANTILE_PROBS)} non-decreasing values", file=file,
                              field=where + "quantiles")
    if not math.isnan(upper) and not math.isnan(lower) and not lower < upper:
        raise CutoffError("needs lower < upper", file=file, field=where + "lower")
    if not math.isnan(median) and (
        (not math.isnan(lower) and median < lower) or (not math.isnan(upper) and median > upper)
    ):
        raise CutoffError("needs lower <= median <= upper", file=file, field=where + "median")
    return CutoffEntry(marker, stratum, n, median, upper, cis["upper_ci"], lower,
                       cis["lower_ci"], tuple(quantiles), source.strip())


def read_cutoff_table(path: Path | str) -> CutoffTable:
    """Read and validate a cutoff table TOML file.

    Raises
    ------
    CutoffError
        Naming the file and key of the first problem: an unknown marker or stratum, a
        non-monotone quantile grid, a confidence interval that does not hold its cutoff, a stratum
        smaller than the table's minimum, a duplicate entry.
    """
    path = Path(path)
    file = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=file) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CutoffError(f"not valid UTF-8 TOML: {exc}", file=file) from None
    if document.get("format") != FORMAT:
        raise CutoffError(f"is not {FORMAT!r}", file=file, field="format")
    allowed = {"format", "kind", "version", "created", "upper_percentile", "lower_percentile",
               "min_stratum_n", "n_bootstrap", "confidence", "quantile_probs", "derived_from",
               "strata", "cutoff", "score"}
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise CutoffError(f"unknown key(s) {', '.join(unknown)}", file=file, field=unknown[0])
    kind = document.get("kind", "derived")
    if kind not in KINDS:
        raise CutoffError(f"{kind!r} is not one of {', '.join(KINDS)}", file=file, field="kind")
    derived = kind == "derived"
    version = _need(document, "version", str, file, "")
    upper_pct = float(_need(document, "upper_percentile", int | float, file, "")
                      if derived or "upper_percentile" in document else 99.5)
    lower_pct = float(_need(document, "lower_percentile", int | float, file, "")
                      if derived or "lower_percentile" in document else 0.5)
    if not 0 < lower_pct < 50 < upper_pct < 100:
        raise CutoffError("needs 0 < lower < 50 < upper < 100", file=file,
                          field="upper_percentile")
    min_n = (_need(document, "min_stratum_n", int, file, "")
             if derived or "min_stratum_n" in document else 0)
    if "quantile_probs" in document or derived:
        probs = tuple(_finite(_need(document, "quantile_probs", list, file, ""), file,
                              "quantile_probs"))
        if probs != QUANTILE_PROBS:
            raise CutoffError("differs from this version's quantile grid", file=file,
                              field="quantile_probs")
    strata = strata_from_mapping(_need(document, "strata", dict, file, ""), file=file)
    known_strata = set(strata.keys())
    entries = []
    seen: set[tuple[str, str]] = set()
    raw_entries = document.get("cutoff", [])
    if not isinstance(raw_entries, list):
        raise CutoffError("must be an array of tables", file=file, field="cutoff")
    for i, raw in enumerate(raw_entries):
        where = f"cutoff[{i}]."
        if not isinstance(raw, dict):
            raise CutoffError("must be a table", file=file, field=f"cutoff[{i}]")
        extra = sorted(set(raw) - _ENTRY_KEYS)
        if extra:
            raise CutoffError(f"unknown key(s) {', '.join(extra)}", file=file,
                              field=where + extra[0])
        entries.append(_entry(raw, where, file, derived, min_n, known_strata, seen))
    if not entries:
        raise CutoffError("holds no cutoffs", file=file, field="cutoff")
    derived_from = document.get("derived_from", {})
    if not isinstance(derived_from, dict):
        raise CutoffError("must be a table", file=file, field="derived_from")
    n_boot = document.get("n_bootstrap", 0)
    confidence = document.get("confidence", 0.95)
    created = document.get("created", "")
    scores = (read_score_section(document["score"], file, _disorder_codes())
              if "score" in document else None)
    return CutoffTable(
        version=version, strata=strata, entries=tuple(entries), upper_percentile=upper_pct,
        lower_percentile=lower_pct, min_stratum_n=min_n,
        n_bootstrap=int(n_boot) if isinstance(n_boot, int) else 0,
        confidence=float(confidence) if isinstance(confidence, int | float) else 0.95,
        derived_from=dict(derived_from), created=str(created), file=file, kind=kind,
        scores=scores,
    )


def _disorder_codes() -> set[str]:
    return {d.code for d in default_catalogue().disorders}
