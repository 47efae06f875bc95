"""Derive a cutoff table from a laboratory's own screen-negative population.

For every marker (analyte or ratio) and every stratum with at least ``min_stratum_n`` values, the
upper cutoff is the ``upper_percentile`` (default 99.5th) and the lower cutoff the
``lower_percentile`` (default 0.5th) of the stratum's values -- the order statistic
``x[ceil(q n)]`` -- with percentile-bootstrap confidence intervals, plus the median and a quantile
grid for covariate-adjusted scores (Zhejiang used 0.5th/99.5th percentile cutoffs per birth-weight
stratum: Ann Clin Biochem 2018;55:92).

The bootstrap is exact and cheap: the k-th smallest of a resample of n values is the value at
rank ``ceil(n B)`` with ``B ~ Beta(k, n - k + 1)`` (see :func:`bootstrap_quantile_ci`), so each
replicate costs one draw instead of n.

Public names: ``derive_cutoffs``, ``bootstrap_quantile_ci``, ``population_digest``,
``DEFAULT_MIN_STRATUM_N``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.markers import default_markers, marker_table
from cutoffs.rules import RuleSet, default_rules
from cutoffs.strata import Strata, default_strata
from cutoffs.tables import QUANTILE_PROBS, CutoffEntry, CutoffTable

__all__ = [
    "DEFAULT_MIN_STRATUM_N",
    "bootstrap_quantile_ci",
    "derive_cutoffs",
    "population_digest",
]

#: With the 99.5th percentile, 1,000 babies leave five above the cutoff.
DEFAULT_MIN_STRATUM_N = 1000


def _rank(q: float, n: int) -> int:
    """1-based rank of the ``q`` quantile (inverted CDF): ceil(q n), at least 1."""
    return min(n, max(1, math.ceil(q * n - 1e-9)))


def bootstrap_quantile_ci(
    sorted_values: np.ndarray,
    q: float,
    *,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the ``q`` quantile of sorted values.

    Exactly equivalent to resampling the ``n`` values with replacement ``n_bootstrap`` times and
    taking each resample's ``ceil(q n)``-th smallest value: a resample's values are
    ``x[ceil(n U_i)]`` for uniform ``U_i``, so its k-th smallest is ``x[ceil(n U_(k))]`` and
    ``U_(k)`` is Beta(k, n - k + 1) distributed -- one draw per replicate instead of n.
    """
    n = sorted_values.size
    k = _rank(q, n)
    if n_bootstrap <= 0:
        value = float(sorted_values[k - 1])
        return value, value
    u = rng.beta(k, n - k + 1, size=n_bootstrap)
    ranks = np.clip(np.ceil(n * u).astype(np.int64), 1, n)
    estimates = np.sort(sorted_values[ranks - 1])
    alpha = (1 - confidence) / 2
    low = estimates[_rank(alpha, n_bootstrap) - 1]
    high = estimates[_rank(1 - alpha, n_bootstrap) - 1]
    return float(low), float(high)


def population_digest(population: pd.DataFrame) -> str:
    """SHA-256 of a population frame's content (columns, values), for ``derived_from``."""
    digest = hashlib.sha256()
    digest.update("\0".join(map(str, population.columns)).encode())
    hashed = pd.util.hash_pandas_object(population, index=False).to_numpy()
    digest.update(hashed.tobytes())
    return digest.hexdigest()


def _entry(marker: str, stratum: str, values: np.ndarray, upper_q: float, lower_q: float,
           n_bootstrap: int, confidence: float, rng: np.random.Generator) -> CutoffEntry:
    x = np.sort(values)
    n = x.size
    upper = float(x[_rank(upper_q, n) - 1])
    lower = float(x[_rank(lower_q, n) - 1])
    quantiles = tuple(float(x[_rank(p, n) - 1]) for p in QUANTILE_PROBS)
    median = float(x[_rank(0.5, n) - 1])
    upper_ci = _holding(upper, bootstrap_quantile_ci(
        x, upper_q, n_bootstrap=n_bootstrap, confidence=confidence, rng=rng))
    lower_ci = _holding(lower, bootstrap_quantile_ci(
        x, lower_q, n_bootstrap=n_bootstrap, confidence=confidence, rng=rng))
    return CutoffEntry(marker, stratum, n, median, upper, upper_ci, lower, lower_ci, quantiles)


def _holding(value: float, interval: tuple[float, float]) -> tuple[float, float]:
    """The interval widened, where needed, to hold its own estimate: with few replicates a
    percentile-bootstrap interval can miss the cutoff it belongs to, and a table must not state
    an interval that leaves out its cutoff."""
    return min(interval[0], value), max(interval[1], value)


def derive_cutoffs(
    population: pd.DataFrame,
    *,
    markers: Iterable[str] | None = None,
    strata: Strata | None = None,
    rules: RuleSet | None = None,
    upper_percentile: float = 99.5,
    lower_percentile: float = 0.5,
    min_stratum_n: int = DEFAULT_MIN_STRATUM_N,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    version: str | None = None,
    source: str | None = None,
    digest: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CutoffTable:
    """Percentile cutoffs per marker and stratum from a screen-negative population.

    Parameters
    ----------
    population
        Profiles (docs/architecture.md "Profiles") of screen-negative babies; covariate
        columns choose the strata.
    markers
        Canonical analyte codes and ratio names (default: every catalogue analyte present, every
        catalogue ratio they allow, and every marker the rules read).
    strata
        Strata definitions (default: ``cutoffs/data/strata.toml``).
    rules
        Rules whose markers are included by default (default: the packaged rules).
    upper_percentile, lower_percentile
        Percent, e.g. 99.5 and 0.5.
    min_stratum_n
        A stratum needs at least this many values of a marker to get an entry.
    n_bootstrap, confidence, seed
        Bootstrap replicates, interval coverage and random seed of the confidence intervals.
    version
        The table's version (default ``lab-`` and the first 12 hex digits of the digest).
    source, digest
        Name and SHA-256 of the population file for ``derived_from`` (digest default: of the
        frame's content).
    progress
        Called as ``progress(done, total)`` per stratum subset.

    Raises
    ------
    CutoffError
        For percentiles out of range, a population smaller than ``min_stratum_n``, or values
        that are not numbers.
    """
    if not 0 < lower_percentile < 50 < upper_percentile < 100:
        raise CutoffError("percentiles need 0 < lower < 50 < upper < 100",
                          field="upper_percentile")
    if min_stratum_n < 1:
        raise CutoffError("must be at least 1", field="min_stratum_n")
    if not 0 < confidence < 1:
        raise CutoffError("must lie between 0 and 1", field="confidence")
    if len(population) < min_stratum_n:
        raise CutoffError(
            f"the population has {len(population)} rows, fewer than min_stratum_n "
            f"{min_stratum_n}", field="min_stratum_n",
        )
    rules = rules if rules is not None else default_rules()
    strata = strata if strata is not None else default_strata()
    names = list(markers) if markers is not None else default_markers(population.columns, rules)
    file = population.attrs.get("source_file")
    table = marker_table(population, names, file=file)
    assignment = strata.assign(population, file=file)
    upper_q, lower_q = upper_percentile / 100, lower_percentile / 100
    rng = np.random.default_rng(seed)
    finite = {name: np.isfinite(table.values[name]) for name in names}
    entries: list[CutoffEntry] = []
    subsets = strata.subsets()
    for done, subset in enumerate(reversed(subsets), start=1):  # "all" first
        codes = assignment.combined(subset)
        for code in np.unique(codes[codes >= 0]):
            rows = codes == code
            if int(rows.sum()) < min_stratum_n:
                continue
            bins, rest = [], int(code)
            for d in reversed(subset):
                size = len(strata.dimensions[d].bins)
                bins.append(rest % size)
                rest //= size
            stratum = strata.key(subset, tuple(reversed(bins)))
            for name in names:
                keep = rows & finite[name]
                if int(keep.sum()) < min_stratum_n:
                    continue
                entries.append(_entry(name, stratum, table.values[name][keep], upper_q, lower_q,
                                      n_bootstrap, confidence, rng))
        if progress is not None:
            progress(done, len(subsets))
    if not entries:
        raise CutoffError("no marker has min_stratum_n finite values", field="min_stratum_n")
    digest = digest or population_digest(population)
    derived_from = {"sha256": digest, "n": int(len(population))}
    if source:
        derived_from["file"] = Path(source).name
    return CutoffTable(
        version=version or f"lab-{digest[:12]}",
        strata=strata,
        entries=tuple(entries),
        upper_percentile=float(upper_percentile),
        lower_percentile=float(lower_percentile),
        min_stratum_n=int(min_stratum_n),
        n_bootstrap=int(n_bootstrap),
        confidence=float(confidence),
        derived_from=derived_from,
        created=_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
    )
