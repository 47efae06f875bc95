"""Covariate-adjusted scores: each value's percentile and multiple of the median (MoM) among
babies like this one.

Two references:

- a derived cutoff table (:class:`TableReference`): the quantile grid and median of the most
  specific stratum (birth weight, gestational age, age at collection, TPN, ...) that has enough
  screen-negative babies, falling back to all babies; percentiles interpolate the grid;
- the catalogue (:func:`catalogue_reference`): a log-normal per analyte fitted to the catalogue's
  population median and p99 (estimates, one stratum, analytes only) -- for when a laboratory has
  not derived its own table yet.

Public names: ``Reference``, ``BoundReference``, ``TableReference``, ``CatalogueReference``,
``catalogue_reference``, ``score``, ``format_score``, ``SCORE_COLUMNS``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

import numpy as np
import pandas as pd

from cutoffs.markers import marker_table
from cutoffs.profiles import specimen_ids
from cutoffs.strata import OVERALL, Assignment
from cutoffs.tables import QUANTILE_PROBS, CutoffTable
from msms.catalogue import default_catalogue
from msms.tables import PROFILE_ID

__all__ = [
    "SCORE_COLUMNS",
    "BoundReference",
    "CatalogueReference",
    "Reference",
    "TableReference",
    "catalogue_reference",
    "format_score",
    "score",
]

SCORE_COLUMNS: tuple[str, ...] = (
    PROFILE_ID, "marker", "value", "percentile", "mom", "stratum", "reference_n", "reference",
)
_LOW, _HIGH = 100 * QUANTILE_PROBS[0], 100 * QUANTILE_PROBS[-1]
_Z99 = 2.3263478740408408  # standard normal quantile of 0.99


class BoundReference(Protocol):
    """A reference bound to one set of specimens (their strata are known)."""

    def scores(
        self, marker: str, values: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(percentile 0-100, MoM, stratum name, reference n) for ``values`` at ``rows``."""
        ...

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        """Short text per value, e.g. ``P99.6, 5.2 MoM`` ('' where the reference has none)."""
        ...


class Reference(Protocol):
    """Something that can score values once it knows the specimens' covariates."""

    @property
    def name(self) -> str: ...

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> BoundReference: ...


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
    pct, mom, _, _ = bound.scores(marker, values, rows)
    out = []
    for p, m in zip(pct.tolist(), mom.tolist(), strict=True):
        if p != p and m != m:  # both NaN
            out.append("")
        elif p == p and m == m and _LOW < p < _HIGH and m < 10:
            out.append(f"P{p:.1f}, {m:.2g} MoM")
        else:
            out.append(format_score(p, m))
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

    def scores(self, marker: str, values: np.ndarray, rows: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        index = self.table.entry_index(marker, self.assignment)[rows]
        median = self._medians[index]
        with np.errstate(all="ignore"):
            mom = np.where(median > 0, values / median, np.nan)
        pct = _interp_percentile(values, self._grids[index])
        return pct, mom, self._strata[index], self._n[index]

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        return _describe(self, marker, values, rows)


@dataclass
class TableReference:
    """Scores against a derived cutoff table's strata."""

    table: CutoffTable

    @property
    def name(self) -> str:
        return f"cutoffs {self.table.version}"

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> _BoundTable:
        return _BoundTable(self.table, self.table.assign(profiles, file=file))


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, |error| < 1.5e-7)."""
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741
                + t * (-1.453152027 + t * 1.061405429))))
    erf = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.sign(z) * erf)


@dataclass
class CatalogueReference:
    """Log-normal per analyte from the catalogue's population median and p99 (estimates)."""

    median: dict[str, float]
    sigma: dict[str, float]
    name: str = "catalogue population estimates"

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> CatalogueReference:
        return self

    def scores(self, marker: str, values: np.ndarray, rows: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = values.size
        if marker not in self.median:
            nan = np.full(n, np.nan)
            return nan, nan.copy(), np.full(n, "", dtype=object), np.zeros(n, dtype=int)
        median, sigma = self.median[marker], self.sigma[marker]
        with np.errstate(all="ignore"):
            mom = values / median
            z = np.where(values > 0, np.log(np.where(values > 0, values, 1.0) / median) / sigma,
                         -np.inf)
        pct = np.where(np.isfinite(values), 100 * _normal_cdf(z), np.nan)
        pct = np.where(np.isneginf(z) & np.isfinite(values), 0.0, pct)
        return pct, mom, np.full(n, OVERALL, dtype=object), np.zeros(n, dtype=int)

    def describe(self, marker: str, values: np.ndarray, rows: np.ndarray) -> list[str]:
        return _describe(self, marker, values, rows)


@cache
def catalogue_reference() -> CatalogueReference:
    """The packaged catalogue as a reference (analytes only; ratios get no score)."""
    median, sigma = {}, {}
    for analyte in default_catalogue().analytes:
        m, p99 = analyte.pop_median_umol_l, analyte.pop_p99_umol_l
        if m > 0 and p99 > m:
            median[analyte.code] = m
            sigma[analyte.code] = math.log(p99 / m) / _Z99
    return CatalogueReference(median, sigma)


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
        DESIGN §4.2 profiles (covariates choose the stratum).
    reference
        A cutoff table (or :class:`TableReference`), or the catalogue reference (default).
    markers
        Canonical analyte codes or ratio names (default: the reference table's markers, or every
        catalogue analyte present in the profiles).
    rows
        Positions of the specimens to score (default: all).

    Returns
    -------
    pandas.DataFrame
        ``SCORE_COLUMNS``: ``percentile`` 0-100 (clipped to the grid, 0.1-99.9, for a table),
        ``mom`` = value / stratum median, ``stratum`` used, its size ``reference_n`` (0 for the
        catalogue), and the reference's name. Missing values give NaN scores.
    """
    ref: Reference
    if isinstance(reference, CutoffTable):
        ref = TableReference(reference)
    else:
        ref = reference if reference is not None else catalogue_reference()
    if markers is None:
        if isinstance(ref, TableReference):
            markers = ref.table.markers
        else:
            markers = [a.code for a in default_catalogue().analytes if a.code in profiles.columns]
    markers = list(markers)
    ids = specimen_ids(profiles, file=file)
    positions = np.arange(len(profiles)) if rows is None else np.asarray(rows, dtype=int)
    table = marker_table(profiles, markers, file=file)
    bound = ref.bind(profiles, file=file)
    parts = []
    for marker in markers:
        values = table.values[marker][positions]
        values = np.where(np.isfinite(values), values, np.nan)
        pct, mom, stratum, n = bound.scores(marker, values, positions)
        parts.append(pd.DataFrame({
            PROFILE_ID: ids[positions], "marker": marker, "value": values, "percentile": pct,
            "mom": mom, "stratum": stratum, "reference_n": n, "reference": ref.name,
            "_row": positions,
        }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS})
    out = pd.concat(parts, ignore_index=True).sort_values("_row", kind="stable",
                                                          ignore_index=True)
    return out[list(SCORE_COLUMNS)]
