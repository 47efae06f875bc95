"""Covariate-adjusted scores: each value's percentile and multiple of the median (MoM) among
babies like this one.

References:

- a laboratory's cutoff table (:class:`TableReference`): the quantile grid and median of the
  most specific stratum (birth weight, gestational age, age at collection, TPN, ...) that has
  enough screen-negative babies, falling back to all babies; percentiles interpolate the grid;
- the covariate model (:class:`ModelReference`, :mod:`cutoffs.covariate_model`): the default
  when there is no table -- the catalogue's population figures at a reference condition moved by
  the population model's cited covariate effects (birth weight, gestational age, age at
  collection, sex, TPN), for analytes and ratios; estimates a laboratory replaces with its own
  table;
- :class:`FallbackReference`: a table first, the covariate model for markers the table has no
  entry for (what :func:`default_reference` gives when a table is in force);
- the catalogue alone (:func:`catalogue_reference`): a log-normal per analyte through the
  catalogue's population median and p99, one stratum, no covariates (kept for comparison).

Every scored row names its reference and the stratum (or, for the model, the covariates) used.

Public names: ``Reference``, ``BoundReference``, ``MarkerScores``, ``TableReference``,
``ModelReference``, ``FallbackReference``, ``CatalogueReference``, ``catalogue_reference``,
``model_reference``, ``default_reference``, ``score``, ``reference_quantiles``,
``format_score``, ``format_scores``, ``SCORE_COLUMNS``, ``QUANTILE_COLUMNS``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import numpy as np
import pandas as pd

from cutoffs.covariate_model import BoundCovariates, CovariateScoreModel, default_covariate_model
from cutoffs.markers import marker_table
from cutoffs.profiles import specimen_ids
from cutoffs.strata import OVERALL, Assignment
from cutoffs.tables import QUANTILE_PROBS, CutoffTable
from msms.catalogue import default_catalogue
from msms.tables import PROFILE_ID

__all__ = [
    "QUANTILE_COLUMNS",
    "SCORE_COLUMNS",
    "BoundReference",
    "CatalogueReference",
    "FallbackReference",
    "MarkerScores",
    "ModelReference",
    "Reference",
    "TableReference",
    "catalogue_reference",
    "default_reference",
    "format_score",
    "format_scores",
    "model_reference",
    "reference_quantiles",
    "score",
]

#: The columns of :func:`reference_quantiles`.
QUANTILE_COLUMNS: tuple[str, ...] = (PROFILE_ID, "marker", "probability", "value")
SCORE_COLUMNS: tuple[str, ...] = (
    PROFILE_ID, "marker", "value", "percentile", "mom", "stratum", "reference_n", "reference",
)
_LOW, _HIGH = 100 * QUANTILE_PROBS[0], 100 * QUANTILE_PROBS[-1]
_Z99 = 2.3263478740408408  # standard normal quantile of 0.99


@dataclass
class MarkerScores:
    """Scores of one marker's values: arrays aligned with the values scored."""

    percentile: np.ndarray  # 0-100, NaN where there is no score
    mom: np.ndarray  # value / median of babies like this one
    stratum: np.ndarray  # object: the stratum, or the covariates the model used ('' if none)
    reference_n: np.ndarray  # babies in the stratum (0: not a laboratory population)
    reference: np.ndarray  # object: the reference's name ('' where it has no entry)


class BoundReference(Protocol):
    """A reference bound to one set of specimens (their strata or covariates are known)."""

    def percentile_mom(self, marker: str, values: np.ndarray, rows: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Percentile (0-100) and MoM of ``values`` at the specimen positions ``rows``."""
        ...

    def scores(self, marker: str, values: np.ndarray, rows: np.ndarray) -> MarkerScores:
        """Everything :func:`score` reports for ``values`` at ``rows``."""
        ...

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        """Short text per value, e.g. ``P99.6, 5.2 MoM`` ('' where the reference has none)."""
        ...

    def quantiles(self, marker: str, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The values at ``probs`` (fractions) among babies like each specimen at ``rows``:
        shape ``(rows, probs)``, the inverse of ``percentile_mom``'s percentile (NaN where the
        reference has no distribution for the marker, or outside its grid)."""
        ...


class Reference(Protocol):
    """Something that can score values once it knows the specimens' covariates."""

    @property
    def name(self) -> str: ...

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> BoundReference: ...

    def default_markers(self, profiles: pd.DataFrame) -> list[str]:
        """The markers :func:`score` reports when none are named."""
        ...


def format_score(percentile: float, mom: float) -> str:
    """``P99.6, 5.2 MoM``; beyond the grid ``>P99.9`` / ``<P0.1``; '' when both are missing."""
    parts = []
    if not math.isnan(percentile):
        if percentile >= _HIGH:
            parts.append(f">P{_HIGH:g}")
        elif percentile <= _LOW:
            parts.append(f"<P{_LOW:g}")
        else:
            parts.append(f"P{percentile:.1f}")
    if not math.isnan(mom):
        parts.append(f"{mom:.2g} MoM" if mom < 10 else f"{mom:.0f} MoM")
    return ", ".join(parts)


def _describe(bound: BoundReference, marker: str, values: np.ndarray, rows: np.ndarray
              ) -> list[str]:
    pct, mom = bound.percentile_mom(marker, values, rows)
    return format_scores(pct, mom)


def format_scores(percentile: np.ndarray, mom: np.ndarray) -> list[str]:
    """:func:`format_score` of each pair, one list comprehension per kind of number."""
    percentile = np.asarray(percentile, dtype=float)
    mom = np.asarray(mom, dtype=float)
    n = percentile.size
    has_p, has_m = ~np.isnan(percentile), ~np.isnan(mom)
    p_text = np.full(n, "", dtype=object)
    above, below = percentile >= _HIGH, percentile <= _LOW  # NaN is neither
    p_text[above] = f">P{_HIGH:g}"
    p_text[below] = f"<P{_LOW:g}"
    at = np.flatnonzero(has_p & ~above & ~below)
    p_text[at] = [f"P{p:.1f}" for p in percentile[at].tolist()]
    m_text = np.full(n, "", dtype=object)
    small = mom < 10
    at = np.flatnonzero(small)
    m_text[at] = [f"{m:.2g} MoM" for m in mom[at].tolist()]
    at = np.flatnonzero(has_m & ~small)
    m_text[at] = [f"{m:.0f} MoM" for m in mom[at].tolist()]
    joined = p_text + np.where(has_p & has_m, ", ", "").astype(object) + m_text
    out: list[str] = joined.tolist()
    return out


def _interp_percentile(values: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Percentile of each value within its own quantile grid (one grid row per value)."""
    probs = 100 * np.asarray(QUANTILE_PROBS)
    out = np.full(values.size, np.nan)
    valid = ~np.isnan(grids).any(axis=1) & np.isfinite(values)
    if not valid.any():
        return out
    v, g = values[valid], grids[valid]
    # break ties so that interpolation between grid points is defined
    span = np.maximum(np.abs(g).max(axis=1), 1e-300)[:, None]
    g = g + np.arange(g.shape[1])[None, :] * span * 1e-12
    k = (g <= v[:, None]).sum(axis=1)
    result = np.empty(v.size)
    result[k == 0] = _LOW
    result[v > g[:, -1]] = _HIGH
    inside = (k > 0) & ~(v > g[:, -1])
    r = np.flatnonzero(inside)
    lo = np.minimum(k[r] - 1, g.shape[1] - 2)
    x0, x1 = g[r, lo], g[r, lo + 1]
    p0, p1 = probs[lo], probs[lo + 1]
    result[r] = p0 + (v[r] - x0) / (x1 - x0) * (p1 - p0)
    out[valid] = result
    return out


def _invert_grid(grids: np.ndarray, grid_probs: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """The values at ``probs`` of each row's quantile grid, interpolated linearly as
    ``_interp_percentile`` interpolates percentiles (NaN outside the grid or for a blank
    grid)."""
    out = np.full((grids.shape[0], probs.size), np.nan)
    inside = (probs >= grid_probs[0]) & (probs <= grid_probs[-1])
    for i, grid in enumerate(grids):
        if not np.isnan(grid).any():
            out[i, inside] = np.interp(probs[inside], grid_probs, grid)
    return out


@dataclass
class _BoundTable:
    table: CutoffTable
    assignment: Assignment
    _grids: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        entries = self.table.entries
        blank = [np.nan] * len(QUANTILE_PROBS)
        self._grids = np.array([list(e.quantiles) or blank for e in entries] + [blank])
        self._strata = np.array([e.stratum for e in entries] + [""], dtype=object)
        self._n = np.array([e.n for e in entries] + [0])
        self._medians = np.array([e.median for e in entries] + [np.nan])

    def percentile_mom(self, marker: str, values: np.ndarray, rows: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        index = self.table.entry_index(marker, self.assignment, rows)
        median = self._medians[index]
        with np.errstate(all="ignore"):
            mom = np.where(median > 0, values / median, np.nan)
        return _interp_percentile(values, self._grids[index]), mom

    def quantiles(self, marker: str, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        index = self.table.entry_index(marker, self.assignment, rows)
        return _invert_grid(self._grids[index], np.asarray(QUANTILE_PROBS), probs)

    def scores(self, marker: str, values: np.ndarray, rows: np.ndarray) -> MarkerScores:
        index = self.table.entry_index(marker, self.assignment, rows)
        pct, mom = self.percentile_mom(marker, values, rows)
        name = np.where(index >= 0, f"cutoffs {self.table.version}", "").astype(object)
        return MarkerScores(pct, mom, self._strata[index], self._n[index], name)

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        return _describe(self, marker, values, rows)


@dataclass
class TableReference:
    """Scores against a laboratory cutoff table's strata."""

    table: CutoffTable

    @property
    def name(self) -> str:
        return f"cutoffs {self.table.version}"

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> _BoundTable:
        return _BoundTable(self.table, self.table.assign(profiles, file=file))

    def default_markers(self, profiles: pd.DataFrame) -> list[str]:
        return list(self.table.markers)


@dataclass
class _BoundModel:
    name: str
    bound: BoundCovariates

    def percentile_mom(self, marker: str, values: np.ndarray, rows: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        return self.bound.percentile_mom(marker, values, rows)

    def scores(self, marker: str, values: np.ndarray, rows: np.ndarray) -> MarkerScores:
        pct, mom = self.percentile_mom(marker, values, rows)
        n = values.size
        if marker in self.bound.model.markers:
            stratum = self.bound.describe_rows(rows)
            name = np.full(n, self.name, dtype=object)
        else:
            stratum = np.full(n, "", dtype=object)
            name = stratum.copy()
        return MarkerScores(pct, mom, stratum, np.zeros(n, dtype=int), name)

    def quantiles(self, marker: str, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return self.bound.quantiles(marker, probs, rows)

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        return _describe(self, marker, values, rows)


@dataclass
class ModelReference:
    """Scores against the covariate model (:mod:`cutoffs.covariate_model`; estimates)."""

    model: CovariateScoreModel

    @property
    def name(self) -> str:
        return f"covariate model {self.model.version} (population-model estimates)"

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> _BoundModel:
        return _BoundModel(self.name, self.model.bind(profiles, file=file))

    def default_markers(self, profiles: pd.DataFrame) -> list[str]:
        return self.model.marker_names(profiles.columns)


class _BoundFallback:
    """The primary reference's scores; the fallback's where the primary has none."""

    def __init__(self, primary: BoundReference, fallback: Reference, profiles: pd.DataFrame,
                 file: str | None) -> None:
        self.primary = primary
        self._fallback = fallback
        self._profiles = profiles
        self._file = file
        self._bound: BoundReference | None = None

    def _second(self) -> BoundReference:
        if self._bound is None:  # bound only when needed: a full table rarely needs it
            self._bound = self._fallback.bind(self._profiles, file=self._file)
        return self._bound

    @staticmethod
    def _need(pct: np.ndarray, mom: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.isnan(pct) & np.isnan(mom) & ~np.isnan(values)

    def percentile_mom(self, marker: str, values: np.ndarray, rows: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        pct, mom = self.primary.percentile_mom(marker, values, rows)
        need = self._need(pct, mom, values)
        if need.any():
            pct, mom = pct.copy(), mom.copy()
            pct[need], mom[need] = self._second().percentile_mom(marker, values[need],
                                                                 rows[need])
        return pct, mom

    def scores(self, marker: str, values: np.ndarray, rows: np.ndarray) -> MarkerScores:
        first = self.primary.scores(marker, values, rows)
        need = self._need(first.percentile, first.mom, values)
        if need.any():
            second = self._second().scores(marker, values[need], rows[need])
            for name in ("percentile", "mom", "stratum", "reference_n", "reference"):
                column = getattr(first, name).copy()
                column[need] = getattr(second, name)
                setattr(first, name, column)
        return first

    def quantiles(self, marker: str, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The primary's where it scores the marker (for these specimens), else the
        fallback's: the same choice ``percentile_mom`` makes for a value."""
        out = self.primary.quantiles(marker, probs, rows)
        probe = np.ones(rows.size)  # any finite value: is the primary scoring here at all?
        need = self._need(*self.primary.percentile_mom(marker, probe, rows), probe)
        if need.any():
            out[need] = self._second().quantiles(marker, probs, rows[need])
        return out

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        return _describe(self, marker, values, rows)


@dataclass
class FallbackReference:
    """``primary`` (a laboratory table) first; ``fallback`` (the covariate model) for the
    values the primary cannot score (no entry for the marker)."""

    primary: Reference
    fallback: Reference

    @property
    def name(self) -> str:
        return f"{self.primary.name}, else {self.fallback.name}"

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> _BoundFallback:
        return _BoundFallback(self.primary.bind(profiles, file=file), self.fallback, profiles,
                              file)

    def default_markers(self, profiles: pd.DataFrame) -> list[str]:
        names = dict.fromkeys(self.primary.default_markers(profiles))
        names.update(dict.fromkeys(self.fallback.default_markers(profiles)))
        return list(names)


@dataclass
class CatalogueReference:
    """Log-normal per analyte from the catalogue's population median and p99 (estimates)."""

    median: dict[str, float]
    sigma: dict[str, float]
    name: str = "catalogue population estimates"

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> CatalogueReference:
        return self

    def default_markers(self, profiles: pd.DataFrame) -> list[str]:
        return [a.code for a in default_catalogue().analytes if a.code in profiles.columns]

    def percentile_mom(self, marker: str, values: np.ndarray, rows: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        if marker not in self.median:
            nan = np.full(values.size, np.nan)
            return nan, nan.copy()
        median, sigma = self.median[marker], self.sigma[marker]
        with np.errstate(all="ignore"):
            mom = values / median
            z = np.where(values > 0, np.log(np.where(values > 0, values, 1.0) / median) / sigma,
                         -np.inf)
        from scipy.special import ndtr  # only when scoring: evaluating does not need SciPy

        pct = np.where(np.isfinite(values), 100 * ndtr(z), np.nan)
        pct = np.where(np.isneginf(z) & np.isfinite(values), 0.0, pct)
        return pct, mom

    def quantiles(self, marker: str, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if marker not in self.median:
            return np.full((rows.size, probs.size), np.nan)
        from scipy.special import ndtri  # only when scoring

        values = self.median[marker] * np.exp(self.sigma[marker] * ndtri(probs))
        return np.broadcast_to(values, (rows.size, probs.size)).copy()

    def scores(self, marker: str, values: np.ndarray, rows: np.ndarray) -> MarkerScores:
        pct, mom = self.percentile_mom(marker, values, rows)
        n = values.size
        known = marker in self.median
        return MarkerScores(pct, mom, np.full(n, OVERALL if known else "", dtype=object),
                            np.zeros(n, dtype=int),
                            np.full(n, self.name if known else "", dtype=object))

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        return _describe(self, marker, values, rows)


@cache
def catalogue_reference() -> CatalogueReference:
    """The packaged catalogue alone as a reference (analytes only, no covariates)."""
    median, sigma = {}, {}
    for analyte in default_catalogue().analytes:
        m, p99 = analyte.pop_median_umol_l, analyte.pop_p99_umol_l
        if m > 0 and p99 > m:
            median[analyte.code] = m
            sigma[analyte.code] = math.log(p99 / m) / _Z99
    return CatalogueReference(median, sigma)


@cache
def model_reference() -> ModelReference:
    """The packaged covariate model as a reference (``cutoffs/data/covariate_model.toml``)."""
    return ModelReference(default_covariate_model())


def default_reference(cutoffs: CutoffTable | None = None) -> Reference:
    """What scores are relative to: a laboratory's table when one is in force (the covariate
    model for markers it has no entry for), else the covariate model."""
    if cutoffs is None:
        return model_reference()
    return FallbackReference(TableReference(cutoffs), model_reference())


def score(
    profiles: pd.DataFrame,
    reference: Reference | CutoffTable | None = None,
    markers: Iterable[str] | None = None,
    *,
    rows: np.ndarray | None = None,
    file: str | None = None,
) -> pd.DataFrame:
    """Covariate-adjusted percentile and MoM of each specimen's markers (long table).

    Parameters
    ----------
    profiles
        docs/architecture.md "Profiles" profiles (covariates choose the stratum).
    reference
        A reference, or a cutoff table (scored as :func:`default_reference` of it: the table,
        then the covariate model for markers it lacks); default: the covariate model.
    markers
        Canonical analyte codes or ratio names (default: the reference's markers that the
        profiles allow -- a table's markers, the model's analytes and ratios).
    rows
        Positions of the specimens to score (default: all).

    Returns
    -------
    pandas.DataFrame
        ``SCORE_COLUMNS``: ``percentile`` 0-100 (clipped to the grid, 0.1-99.9, for a table or
        the model), ``mom`` = value / median of babies like this one, ``stratum`` used (for the
        model: the covariates it used), its size ``reference_n`` (0 when the reference is not a
        laboratory population), and the name of the reference that scored the row ('' where no
        reference has the marker). Missing values give NaN scores.
    """
    ref: Reference
    if isinstance(reference, CutoffTable) or reference is None:
        ref = default_reference(reference)
    else:
        ref = reference
    markers = ref.default_markers(profiles) if markers is None else list(markers)
    ids = specimen_ids(profiles, file=file)
    positions = np.arange(len(profiles)) if rows is None else np.asarray(rows, dtype=int)
    table = marker_table(profiles, markers, file=file)
    bound = ref.bind(profiles, file=file)
    columns: dict[str, list[np.ndarray]] = {c: [] for c in (
        PROFILE_ID, "marker", "value", "percentile", "mom", "stratum", "reference_n",
        "reference", "_row")}
    for marker in markers:
        values = table.values[marker][positions]
        values = np.where(np.isfinite(values), values, np.nan)
        got = bound.scores(marker, values, positions)
        n = positions.size
        for name, column in ((PROFILE_ID, ids[positions]),
                             ("marker", np.full(n, marker, dtype=object)), ("value", values),
                             ("percentile", got.percentile), ("mom", got.mom),
                             ("stratum", got.stratum), ("reference_n", got.reference_n),
                             ("reference", got.reference), ("_row", positions)):
            columns[name].append(np.asarray(column))
    if not markers:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS})
    # one frame built from whole columns: a frame per marker costs more than the scores
    out = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()}
                       ).sort_values("_row", kind="stable", ignore_index=True)
    return out[list(SCORE_COLUMNS)]


def reference_quantiles(
    profiles: pd.DataFrame,
    reference: Reference | CutoffTable | None,
    markers: Iterable[str],
    probs: Iterable[float],
    *,
    rows: np.ndarray | None = None,
    file: str | None = None,
) -> pd.DataFrame:
    """The reference distribution of each marker among babies like each specimen: the values
    at ``probs`` (fractions, e.g. 0.01 for P1) of the reference :func:`score` uses, so that a
    value equal to the quantile at ``p`` scores percentile ``100 p``.

    Returns
    -------
    pandas.DataFrame
        ``QUANTILE_COLUMNS``: one row per specimen, marker and probability; ``value`` NaN where
        the reference has no distribution for the marker (or ``p`` lies outside its grid).
    """
    ref: Reference
    if isinstance(reference, CutoffTable) or reference is None:
        ref = default_reference(reference)
    else:
        ref = reference
    names = list(markers)
    p = np.asarray(list(probs), dtype=float)
    ids = specimen_ids(profiles, file=file)
    positions = np.arange(len(profiles)) if rows is None else np.asarray(rows, dtype=int)
    bound = ref.bind(profiles, file=file)
    parts = []
    for marker in names:
        grid = bound.quantiles(marker, p, positions)
        parts.append(pd.DataFrame({
            PROFILE_ID: np.repeat(ids[positions], p.size),
            "marker": marker,
            "probability": np.tile(p, positions.size),
            "value": grid.reshape(-1)}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in QUANTILE_COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(QUANTILE_COLUMNS)]
