"""Disorder scores: one number per specimen and disorder that weighs all of the disorder's
markers against babies like this one.

For each marker *m* of a disorder's signature (``cutoffs/data/signatures.csv``):

1. its **normal position** z: the value's covariate-adjusted position among babies like this
   one, as a standard-normal score -- inside the reference's quantile grid the normal quantile
   of the interpolated percentile, beyond the grid extended on the log scale with the tail's
   slope (a value 10x past the p99.9 keeps counting: nothing is clipped). The reference is the
   laboratory's cutoff table (its stratum's grid) where it has the marker, else the covariate
   model;
2. **signed** by the disorder's direction for the marker (+1 high, -1 low): y = sign x z;
3. **combined** with the disorder's :class:`ScoreSpec` (fitted by :mod:`cutoffs.score_weights`
   on the laboratory's screen-negative population): ``sum(w_m y_m) / scale`` with non-negative
   weights w and ``scale`` the spread of that sum among screen-negative babies, so the score is
   in normal SDs (about N(0, 1) among them). A ``guarded`` score is the larger of that and the
   highest signed position of a primary marker, so a strong primary marker is never diluted.

Weights are never negative, so a marker moving further toward the disease never lowers the
score. A marker that cannot be read adds nothing (its y is taken as 0, the normal median); with
none readable the score is missing. Pure and vectorised over a profiles DataFrame; cutoffs per
disorder come from :mod:`cutoffs.score_cutoffs` (docs/first_tier_scores.md).

Public names: ``NormalPositions``, ``ScoreSpec``, ``DisorderScores``, ``disorder_scores``,
``marker_positions``, ``METHODS``, ``ABOVE_ALL_Z``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from cutoffs.covariate_model import CovariateScoreModel, default_covariate_model
from cutoffs.markers import ABOVE_ALL, MarkerTable, marker_table
from cutoffs.score_spec import METHODS, ScoreSpec
from cutoffs.tables import QUANTILE_PROBS, CutoffTable

__all__ = ["ABOVE_ALL_Z", "METHODS", "DisorderScores", "NormalPositions", "ScoreSpec",
           "disorder_scores", "marker_positions"]

#: Threads computing marker positions (the service's machines have two cores).
_THREADS = 2
#: Position given to a ratio whose denominator is 0 and numerator positive (above every level).
ABOVE_ALL_Z = 40.0


#: Log-scale reach of the padding points that carry the tail slopes (no positive float's log
#: is beyond +-745, so every finite value falls inside).
_SPAN = 1e6


def _padded_grid(log_grid: np.ndarray, z_grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grid with one point far beyond each end on the line of that tail's slope (from the
    median to the end), so that one ``np.interp`` interpolates inside and extends beyond."""
    grid = log_grid + np.arange(log_grid.size) * 1e-12  # ties: keep the grid increasing
    mid = int(np.searchsorted(z_grid, 0.0))
    upper = z_grid[-1] / max(grid[-1] - grid[mid], 1e-9)
    lower = z_grid[0] / min(grid[0] - grid[mid], -1e-9)
    xp = np.concatenate(([grid[0] - _SPAN], grid, [grid[-1] + _SPAN]))
    fp = np.concatenate(([z_grid[0] - _SPAN * lower], z_grid, [z_grid[-1] + _SPAN * upper]))
    return xp, fp


def _z_padded(x: np.ndarray, padded: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Normal score of log values ``x`` on a padded grid (:func:`_padded_grid`); NaN stays NaN,
    -inf (a value <= 0) stays -inf."""
    z = np.interp(x, padded[0], padded[1])
    z[np.isneginf(x)] = -np.inf
    return z


def _z_from_grid(x: np.ndarray, log_grid: np.ndarray, z_grid: np.ndarray) -> np.ndarray:
    """Normal score of log values ``x`` in one increasing log grid, interpolated inside and
    extended linearly beyond the ends with the slope from the median to that end."""
    return _z_padded(np.asarray(x, dtype=float), _padded_grid(log_grid, z_grid))


@dataclass
class NormalPositions:
    """Normal positions (z) of values among babies like each specimen of ``profiles``.

    ``table`` (a laboratory's derived cutoff table) is used where it has a grid for the marker
    and the specimen's stratum; the covariate ``model`` everywhere else.
    """

    profiles: pd.DataFrame
    table: CutoffTable | None = None
    model: CovariateScoreModel = field(default_factory=default_covariate_model)
    file: str | None = None

    def __post_init__(self) -> None:
        self._bound = self.model.bind(self.profiles, file=self.file)
        self._assignment = (self.table.assign(self.profiles, file=self.file)
                            if self.table is not None else None)
        self._model_z = ndtri(np.asarray(self.model.probs))
        self._table_z = ndtri(np.asarray(QUANTILE_PROBS))
        self._grids: tuple[np.ndarray, np.ndarray] | None = None
        self._padded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._group_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray,
                                                       tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]]] = {}

    def _groups(self, choice: np.ndarray, rows: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions in ``rows`` grouped by stratum number: (order, group starts, numbers);
        cached per (choice, rows) pair, which markers with the same strata share."""
        key = (id(choice), id(rows))
        cached = self._group_cache.get(key)
        if cached is not None and cached[0] is choice and cached[1] is rows:
            return cached[2]
        numbers = choice[rows]
        order = np.argsort(numbers, kind="stable")
        sorted_numbers = numbers[order]
        starts = np.flatnonzero(np.r_[True, sorted_numbers[1:] != sorted_numbers[:-1]]) \
            if order.size else np.array([], dtype=np.int64)
        groups = (order, starts, sorted_numbers[starts])
        self._group_cache[key] = (choice, rows, groups)
        return groups

    def _table_grids(self) -> tuple[np.ndarray, np.ndarray]:
        """Log quantile grid of every table entry (a last row for "no entry") and whether it
        can be used (a full grid of positive values)."""
        if self._grids is None:
            assert self.table is not None
            width = len(QUANTILE_PROBS)
            grids = np.ones((len(self.table.entries) + 1, width))
            valid = np.zeros(len(self.table.entries) + 1, dtype=bool)
            for i, entry in enumerate(self.table.entries):
                if len(entry.quantiles) == width and min(entry.quantiles) > 0:
                    grids[i] = np.log(np.asarray(entry.quantiles))
                    valid[i] = True
            self._grids = (grids, valid)
        return self._grids

    def z(self, marker: str, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Normal score of ``values`` (one per position in ``rows``); NaN where no reference
        has the marker or the value is missing; -inf for a value <= 0."""
        values = np.asarray(values, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(values)  # NaN stays NaN, 0 is -inf
            logs[values < 0] = -np.inf
        out = np.full(values.size, np.nan)
        todo: np.ndarray | None = None  # positions without a usable table grid (None: all)
        if self.table is not None and self._assignment is not None:
            choice, vector = self.table.stratum_numbers(marker, self._assignment)
            grids, valid = self._table_grids()
            usable = (vector >= 0) & valid[vector]  # per stratum number
            if usable.any():
                order, starts, numbers = self._groups(choice, rows)
                ends = np.r_[starts[1:], order.size]
                # one gather into stratum order, contiguous interpolation per stratum, one
                # scatter back
                ordered_logs = logs[order]
                ordered = np.full(order.size, np.nan)
                for start, end, number in zip(starts.tolist(), ends.tolist(),
                                              numbers.tolist(), strict=True):
                    if not usable[number]:
                        continue
                    index = int(vector[number])
                    padded = self._padded.get(index)
                    if padded is None:
                        padded = self._padded[index] = _padded_grid(grids[index],
                                                                    self._table_z)
                    ordered[start:end] = np.interp(ordered_logs[start:end], *padded)
                out[order] = ordered
                todo = ~usable[choice[rows]]
        entry = self.model.markers.get(marker)
        if entry is not None and (todo is None or todo.any()):
            at = np.arange(values.size) if todo is None else np.flatnonzero(todo)
            offsets = self._bound.offsets(marker, rows[at])
            out[at] = np.interp(logs[at] - offsets,
                                *_padded_grid(np.log(np.asarray(entry.quantiles)),
                                              self._model_z))
        out[np.isneginf(logs) & ~np.isnan(out)] = -np.inf
        return out


def marker_positions(profiles: pd.DataFrame, names: Iterable[str], *,
                     table: CutoffTable | None = None,
                     model: CovariateScoreModel | None = None,
                     values: MarkerTable | None = None,
                     file: str | None = None) -> dict[str, np.ndarray]:
    """Normal position z of every named marker for every specimen (NaN where unread; a ratio
    above every level, zero denominator, at ``ABOVE_ALL_Z``). ``values``: the markers already
    computed for these profiles (every name), else they are computed here."""
    names = list(dict.fromkeys(names))
    normal = NormalPositions(profiles, table, model or default_covariate_model(), file)
    if values is None or any(n not in values.values for n in names):
        values = marker_table(profiles, names, file=file)
    rows = np.arange(len(profiles))
    computed = values

    def position(name: str) -> np.ndarray:
        usable = computed.usable(name)
        z = normal.z(name, np.where(usable, computed.values[name], np.nan), rows)
        z[computed.status[name] == ABOVE_ALL] = ABOVE_ALL_Z
        return z

    if not names:
        return {}
    # The first marker fills the shared lookups; the others, each independent of the rest,
    # run on two threads (numpy releases the interpreter lock while it interpolates).
    out = {names[0]: position(names[0])}
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        out.update(zip(names[1:], pool.map(position, names[1:]), strict=True))
    return out


@dataclass
class DisorderScores:
    """Scores per specimen (in profile order) and disorder, with every marker's normal
    position, for the reasons."""

    values: dict[str, np.ndarray]  # disorder -> score per specimen
    index: pd.Index
    specs: dict[str, ScoreSpec]
    positions: dict[str, np.ndarray]  # marker -> normal score z per specimen

    @property
    def scores(self) -> pd.DataFrame:
        """Float DataFrame: profile index, one column per disorder."""
        return pd.DataFrame(self.values, index=self.index)

    def push(self, disorder: str, rows: np.ndarray) -> np.ndarray:
        """How much each marker pushes the score up at ``rows`` (rows x markers): its weighted
        signed position, or for a guarded score's primary its own position when larger; NaN
        where the marker is unread."""
        spec = self.specs[disorder]
        y = np.column_stack([sign * self.positions[m][rows]
                             for m, sign in zip(spec.markers, spec.signs, strict=True)])
        push = y * (np.asarray(spec.weights) / spec.scale)
        if spec.method == "guarded":
            push = np.where(np.asarray(spec.primary), np.fmax(push, y), push)
        return push

    def top_markers(self, disorder: str, row: int, k: int = 2) -> list[tuple[str, float]]:
        """The ``k`` markers that push this specimen's score up most, with their percentile
        among babies like it (0-100)."""
        spec = self.specs[disorder]
        push = self.push(disorder, np.array([row]))[0]
        out = []
        for i in np.argsort(-np.nan_to_num(push, nan=-np.inf))[:k]:
            z = self.positions[spec.markers[i]][row]
            if not np.isnan(z):
                out.append((spec.markers[i], float(100 * ndtr(z))))
        return out


def disorder_scores(profiles: pd.DataFrame, specs: Mapping[str, ScoreSpec], *,
                    table: CutoffTable | None = None, model: CovariateScoreModel | None = None,
                    disorders: Iterable[str] | None = None,
                    positions: Mapping[str, np.ndarray] | None = None,
                    values: MarkerTable | None = None,
                    file: str | None = None) -> DisorderScores:
    """Score every specimen for every disorder of ``specs`` (see the module docstring).

    Parameters
    ----------
    profiles
        Profiles (covariates and analyte columns; the profiles contract, docs/architecture.md
        "Profiles").
    specs
        Per disorder, how its markers combine (:func:`cutoffs.score_weights.fit_score_specs`,
        or the score section of a cutoff table).
    table, model
        The laboratory's cutoff table (its strata's grids take precedence) and the covariate
        model for the markers and specimens the table does not cover (default: packaged).
    disorders
        Disorder codes to score (default: every spec).
    positions
        Marker positions already computed for these profiles (:func:`marker_positions`).
    values
        Marker values already computed for these profiles (:func:`cutoffs.markers.
        marker_table`).

    Returns
    -------
    DisorderScores
        ``scores``: float DataFrame (profile index, one column per disorder), NaN where none
        of the disorder's markers can be read.
    """
    codes = list(specs) if disorders is None else list(disorders)
    names = [m for c in codes for m in specs[c].markers]
    if positions is None:
        positions = marker_positions(profiles, names, table=table, model=model,
                                     values=values, file=file)
    out = {code: specs[code].score(positions) for code in codes}
    return DisorderScores(out, profiles.index, {c: specs[c] for c in codes}, dict(positions))
