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

import math
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cutoffs.covariate_model import CovariateScoreModel, default_covariate_model
from cutoffs.markers import ABOVE_ALL, MarkerTable, marker_table
from cutoffs.normal_dist import normal_cdf, normal_quantile
from cutoffs.score_spec import LOWEST_SIGNED_POSITION, METHODS, MarkerPosition, ScoreSpec, ScoreSum
from cutoffs.tables import QUANTILE_PROBS, CutoffTable

__all__ = ["ABOVE_ALL_Z", "METHODS", "DisorderScores", "NormalPositions", "ScoreSpec",
           "disorder_scores", "marker_positions"]

#: Threads computing marker positions (the service's machines have two cores).
_THREADS = 2
#: Markers whose positions are computed ahead of the disorder scores that add them.
_AHEAD = 4
#: Position given to a ratio whose denominator is 0 and numerator positive (above every level).
ABOVE_ALL_Z = 40.0


#: Relative margin by which a screen's bounds (:func:`_screened_rows`) stay clear of rounding.
_MARGIN = 1e-9

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
        self._model_z = normal_quantile(np.asarray(self.model.probs))
        self._table_z = normal_quantile(np.asarray(QUANTILE_PROBS))
        self._grids: tuple[np.ndarray, np.ndarray] | None = None
        self._padded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._group_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray,
                                                       tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]]] = {}
        #: id of a stratum-number array -> (the array, whether each number is used)
        self._used: dict[int, tuple[np.ndarray, np.ndarray]] = {}

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

    def _padded_of(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The padded grid (:func:`_padded_grid`) of table entry ``index``, made once."""
        padded = self._padded.get(index)
        if padded is None:
            grids, _ = self._table_grids()
            padded = self._padded[index] = _padded_grid(grids[index], self._table_z)
        return padded

    def _entries_used(self, marker: str) -> np.ndarray | None:
        """The table entries the specimens' positions of ``marker`` come from, or None when
        some specimen's comes from the covariate model (no table grid for its stratum)."""
        if self.table is None or self._assignment is None:
            return None
        choice, vector = self.table.stratum_numbers(marker, self._assignment)
        used = self._used.get(id(choice))
        if used is None or used[0] is not choice:
            used = self._used[id(choice)] = (choice, np.bincount(choice, minlength=vector.size)
                                             > 0)
        entries = vector[np.flatnonzero(used[1])]
        _, valid = self._table_grids()
        if not entries.size or (entries < 0).any() or not valid[entries].all():
            return None
        return np.unique(entries)

    def bound_value(self, marker: str, position: float, sign: int) -> float | None:
        """A value v of ``marker`` such that every specimen whose value is a finite number on
        the near side of it (``<= v`` for ``sign`` +1, ``>= v`` for -1) has a signed position
        ``sign * z`` at most ``position``, with a margin for rounding; None when no value is
        or when a specimen's position comes from the covariate model (its offsets differ per
        specimen). A value <= 0 (position -inf) is on the near side of a rising marker only."""
        entries = self._entries_used(marker)
        if entries is None or not math.isfinite(position):
            return None
        target = position if sign > 0 else -position  # z <= target, or z >= target
        ends: list[float] = []
        for entry in entries.tolist():
            xp, fp = self._padded_of(entry)
            if sign > 0 and target >= fp[-1]:
                ends.append(math.inf)  # every finite value is within it
                continue
            if sign < 0 and target <= fp[0]:
                ends.append(-math.inf)  # every positive value is within it
                continue
            if (sign > 0 and target < fp[0]) or (sign < 0 and target > fp[-1]):
                return None
            end = float(np.interp(target, fp, xp))
            end -= sign * _MARGIN * max(1.0, abs(end))
            reached = float(np.interp(end, xp, fp))
            if (reached > target) if sign > 0 else (reached < target):
                return None
            ends.append(end)
        if sign > 0:
            end = min(ends)
            if end == math.inf:
                return float(np.finfo(float).max)
            return math.exp(end) * (1 - _MARGIN)
        end = max(ends)
        if end == -math.inf:
            return float(np.nextafter(0.0, 1.0))
        value = math.exp(end) * (1 + _MARGIN) if end < 700 else math.inf
        return value if math.isfinite(value) else None

    def z(self, marker: str, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Normal score of ``values`` (one per position in ``rows``); NaN where no reference
        has the marker or the value is missing; -inf for a value <= 0."""
        values = np.asarray(values, dtype=float)
        with np.errstate(invalid="ignore"):
            nonpositive = values <= 0  # NaN is not
        any_nonpositive = bool(nonpositive.any())
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(values)  # NaN stays NaN, 0 is -inf
        if any_nonpositive:
            logs[nonpositive] = -np.inf
        out: np.ndarray | None = None
        todo: np.ndarray | None = None  # positions without a usable table grid (None: all)
        if self.table is not None and self._assignment is not None:
            choice, vector = self.table.stratum_numbers(marker, self._assignment)
            _, valid = self._table_grids()
            usable = (vector >= 0) & valid[vector]  # per stratum number
            if usable.any():
                order, starts, numbers = self._groups(choice, rows)
                ends = np.r_[starts[1:], order.size]
                every = bool(usable[numbers].all())
                sizes = np.where(usable[numbers], ends - starts, 0)
                big = int(np.argmax(sizes)) if sizes.size else 0
                if sizes.size and 2 * int(sizes[big]) > order.size:
                    # most specimens share one stratum: it is interpolated in place over
                    # every position, and only the others go through the gather below
                    out = np.interp(logs, *self._padded_of(int(vector[numbers[big]])))
                    size = int(sizes[big])
                    order = np.r_[order[:starts[big]], order[ends[big]:]]
                    starts = np.r_[starts[:big], starts[big + 1:] - size]
                    ends = np.r_[ends[:big], ends[big + 1:] - size]
                    numbers = np.r_[numbers[:big], numbers[big + 1:]]
                else:
                    out = np.empty(values.size)
                # one gather into stratum order, contiguous interpolation per stratum, one
                # scatter back
                ordered_logs = logs[order]
                ordered = np.empty(order.size) if every else np.full(order.size, np.nan)
                for start, end, number in zip(starts.tolist(), ends.tolist(),
                                              numbers.tolist(), strict=True):
                    if usable[number]:
                        ordered[start:end] = np.interp(ordered_logs[start:end],
                                                       *self._padded_of(int(vector[number])))
                out[order] = ordered
                todo = (np.array([], dtype=np.int64) if every
                        else np.flatnonzero(~usable[choice[rows]]))
        if out is None:
            out = np.full(values.size, np.nan)
        entry = self.model.markers.get(marker)
        if entry is not None and (todo is None or todo.size):
            at = np.arange(values.size) if todo is None else todo
            offsets = self._bound.offsets(marker, rows[at])
            out[at] = np.interp(logs[at] - offsets,
                                *_padded_grid(np.log(np.asarray(entry.quantiles)),
                                              self._model_z))
        if any_nonpositive:
            out[nonpositive & ~np.isnan(out)] = -np.inf
        return out


class _Positions(Mapping[str, np.ndarray]):
    """Normal positions of the markers of ``values`` over every specimen of ``profiles``,
    computed when asked for: all of a marker's (``positions[name]``, kept once computed) or at
    some specimen positions only (:meth:`at`)."""

    def __init__(self, profiles: pd.DataFrame, names: list[str], table: CutoffTable | None,
                 model: CovariateScoreModel | None, values: MarkerTable | None,
                 file: str | None) -> None:
        self.names = names
        self.normal = NormalPositions(profiles, table, model or default_covariate_model(), file)
        if values is None or any(n not in values.values for n in names):
            values = marker_table(profiles, names, file=file)
        self.markers = values
        self.rows = np.arange(len(profiles))
        self._kept: dict[str, np.ndarray] = {}

    def at(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Positions of one marker at the specimen positions ``rows``."""
        kept = self._kept.get(name)
        if kept is not None:
            return kept[rows]
        table = self.markers
        usable, values, status = table.usable(name), table.values[name], table.status[name]
        if rows is not self.rows:  # all of them: no copies
            usable, values, status = usable[rows], values[rows], status[rows]
        z = self.normal.z(name, values if usable.all() else np.where(usable, values, np.nan),
                          rows)
        z[status == ABOVE_ALL] = ABOVE_ALL_Z
        return z

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._kept:
            if name not in self.names:
                raise KeyError(name)
            self._kept[name] = self.at(name, self.rows)
        return self._kept[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def marker_positions(profiles: pd.DataFrame, names: Iterable[str], *,
                     table: CutoffTable | None = None,
                     model: CovariateScoreModel | None = None,
                     values: MarkerTable | None = None,
                     file: str | None = None) -> dict[str, np.ndarray]:
    """Normal position z of every named marker for every specimen (NaN where unread; a ratio
    above every level, zero denominator, at ``ABOVE_ALL_Z``). ``values``: the markers already
    computed for these profiles (every name), else they are computed here."""
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    positions = _Positions(profiles, names, table, model, values, file)
    # The first marker fills the shared lookups; the others, each independent of the rest,
    # run on two threads (numpy releases the interpreter lock while it interpolates).
    out = {names[0]: positions[names[0]]}
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        out.update(zip(names[1:], pool.map(positions.at, names[1:],
                                           [positions.rows] * (len(names) - 1)), strict=True))
    return out


def _streamed_scores(positions: _Positions, specs: Mapping[str, ScoreSpec],
                     codes: list[str]) -> dict[str, np.ndarray]:
    """Every disorder's score, each marker's positions computed once (two threads, a few
    markers ahead) and dropped once the last disorder that reads it has added it."""
    order = list(dict.fromkeys(m for c in codes for m in specs[c].markers))
    last_use = {m: i for i, c in enumerate(codes) for m in specs[c].markers}
    if not order:
        return {}
    rows = positions.rows
    ready: dict[str, MarkerPosition] = {}
    out: dict[str, np.ndarray] = {}
    scratch = np.empty(rows.size)

    def compute(name: str) -> MarkerPosition:
        return MarkerPosition.of(positions.at(name, rows))

    ready[order[0]] = compute(order[0])  # fills the shared lookups before the threads start
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        pending: dict[str, Future[MarkerPosition]] = {}
        ahead = iter(order[1:])

        def top_up() -> None:
            while len(pending) < _AHEAD:
                name = next(ahead, None)
                if name is None:
                    return
                pending[name] = pool.submit(compute, name)

        top_up()
        for i, code in enumerate(codes):
            total = ScoreSum(specs[code], rows.size, scratch)
            for m in specs[code].markers:
                if m not in ready:
                    ready[m] = pending.pop(m).result()
                    top_up()
                total.add(ready[m])
            out[code] = total.result()
            for m in specs[code].markers:
                if last_use[m] == i:
                    ready.pop(m, None)
    return out


def _score_at(positions: _Positions, spec: ScoreSpec, rows: np.ndarray) -> np.ndarray:
    """One disorder's scores at the specimen positions ``rows`` (the same arithmetic as over
    every specimen, value by value)."""
    if not rows.size:
        return np.empty(0)
    total = ScoreSum(spec, rows.size)
    for m in spec.markers:
        total.add(MarkerPosition.of(positions.at(m, rows)))
    return total.result()


def _screened_rows(positions: _Positions, spec: ScoreSpec, cutoff: float) -> np.ndarray | None:
    """The specimen positions whose score can be above ``cutoff`` (a superset), found with
    one comparison of each marker's values; None when the score cannot be bounded so (a
    marker placed by the covariate model, a cutoff too low).

    Each weighted marker gets an equal share of ``cutoff x scale`` (and a guarded score's
    primary marker at most ``cutoff``): a specimen whose every marker is read, with a value on
    the near side of the value at which its signed position reaches that share
    (:meth:`NormalPositions.bound_value`, the lowest such value over the strata present), has
    a score at or below the cutoff, since the score is the weighted sum of the signed
    positions over the scale. Every other specimen is kept."""
    weights = np.asarray(spec.weights)
    if not math.isfinite(cutoff) or weights.sum() <= 0 or set(spec.signs) - {1, -1}:
        return None
    share = cutoff * spec.scale / float(weights.sum())
    share -= _MARGIN * max(1.0, abs(share))
    if share <= LOWEST_SIGNED_POSITION:
        return None
    own = cutoff - _MARGIN * max(1.0, abs(cutoff))
    table = positions.markers
    near = np.ones(table.n, dtype=bool)
    for name, sign, weight, primary in zip(spec.markers, spec.signs, spec.weights,
                                           spec.primary, strict=True):
        usable = table.usable(name)
        if not usable.all():
            near &= usable
        limit = share if weight > 0 else math.inf
        if spec.method == "guarded" and primary:
            limit = min(limit, own)
        if limit == math.inf:
            continue
        value = positions.normal.bound_value(name, limit, sign)
        if value is None:
            return None
        values = table.values[name]
        near &= (values <= value) if sign > 0 else (values >= value)
    return np.flatnonzero(~near)


def _screened_scores(positions: _Positions, specs: Mapping[str, ScoreSpec], codes: list[str],
                     cutoffs: Mapping[str, float]
                     ) -> tuple[dict[str, np.ndarray], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Every disorder's scores: over every specimen where the score cannot be bounded by its
    cutoff, else (the positions of the specimens whose score can be above the cutoff, their
    scores) (:func:`_screened_rows`)."""
    values: dict[str, np.ndarray] = {}
    screened: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for code in codes:
        rows = _screened_rows(positions, specs[code], cutoffs[code]) if code in cutoffs \
            else None
        if rows is None:
            values[code] = _score_at(positions, specs[code], positions.rows)
        else:
            screened[code] = (rows, _score_at(positions, specs[code], rows))
    return values, screened


@dataclass
class DisorderScores:
    """Scores per specimen (in profile order) and disorder, with every marker's normal
    position (computed when asked for), for the reasons."""

    values: dict[str, np.ndarray]  # disorder -> score per specimen (not screened)
    index: pd.Index
    specs: dict[str, ScoreSpec]
    positions: Mapping[str, np.ndarray]  # marker -> normal score z per specimen
    #: disorder -> (the specimen positions whose score can be above the disorder's cutoff,
    #: their scores); every other specimen's score is at or below the cutoff and computed
    #: only when asked for (``disorder_scores(..., screen=...)``)
    screened: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def scores(self) -> pd.DataFrame:
        """Float DataFrame: profile index, one column per disorder (every score computed)."""
        rows = np.arange(len(self.index))
        return pd.DataFrame({code: self.at(code, rows) if code in self.screened
                             else self.values[code] for code in self.specs}, index=self.index)

    def at(self, disorder: str, rows: np.ndarray) -> np.ndarray:
        """One disorder's scores at the specimen positions ``rows``."""
        if disorder not in self.screened:
            return self.values[disorder][rows]
        kept, scores = self.screened[disorder]
        where = np.minimum(np.searchsorted(kept, rows), max(kept.size - 1, 0))
        found = kept[where] == rows if kept.size else np.zeros(rows.size, dtype=bool)
        values = np.empty(rows.size)
        values[found] = scores[where[found]]
        todo = np.flatnonzero(~found)
        if todo.size:
            assert isinstance(self.positions, _Positions)
            values[todo] = _score_at(self.positions, self.specs[disorder], rows[todo])
        return values

    def above(self, disorder: str, cutoff: float) -> np.ndarray:
        """Whether each specimen's score is above ``cutoff`` or missing (NaN); with a screen,
        ``cutoff`` may not be below the disorder's own."""
        if disorder not in self.screened:
            values = self.values[disorder]
            with np.errstate(invalid="ignore"):
                return np.asarray((values > cutoff) | np.isnan(values))
        kept, scores = self.screened[disorder]
        out = np.zeros(len(self.index), dtype=bool)
        with np.errstate(invalid="ignore"):
            out[kept[(scores > cutoff) | np.isnan(scores)]] = True
        return out

    def position(self, marker: str, rows: np.ndarray) -> np.ndarray:
        """One marker's normal positions at the specimen positions ``rows``."""
        if isinstance(self.positions, _Positions):
            return self.positions.at(marker, rows)
        return self.positions[marker][rows]

    def push(self, disorder: str, rows: np.ndarray) -> np.ndarray:
        """How much each marker pushes the score up at ``rows`` (rows x markers): its weighted
        signed position, or for a guarded score's primary its own position when larger; NaN
        where the marker is unread."""
        spec = self.specs[disorder]
        return self._push(spec, self._z(spec, rows))

    def _z(self, spec: ScoreSpec, rows: np.ndarray) -> np.ndarray:
        return np.column_stack([self.position(m, rows) for m in spec.markers])

    @staticmethod
    def _push(spec: ScoreSpec, z: np.ndarray) -> np.ndarray:
        y = z * np.asarray(spec.signs)
        push = np.maximum(y, LOWEST_SIGNED_POSITION) * (np.asarray(spec.weights) / spec.scale)
        if spec.method == "guarded":
            push = np.where(np.asarray(spec.primary), np.fmax(push, y), push)
        return push

    def positions_and_push(self, disorder: str, rows: np.ndarray
                           ) -> tuple[np.ndarray, np.ndarray]:
        """(positions, push) at ``rows``, each rows x markers (:meth:`push`)."""
        spec = self.specs[disorder]
        z = self._z(spec, rows)
        return z, self._push(spec, z)

    def top_markers(self, disorder: str, row: int, k: int = 2) -> list[tuple[str, float]]:
        """The ``k`` markers that push this specimen's score up most, with their percentile
        among babies like it (0-100)."""
        spec = self.specs[disorder]
        z, push = self.positions_and_push(disorder, np.array([row]))
        out = []
        for i in np.argsort(-np.nan_to_num(push[0], nan=-np.inf))[:k]:
            if not np.isnan(z[0, i]):
                out.append((spec.markers[i], float(100 * normal_cdf(z[0, i]))))
        return out


def disorder_scores(profiles: pd.DataFrame, specs: Mapping[str, ScoreSpec], *,
                    table: CutoffTable | None = None, model: CovariateScoreModel | None = None,
                    disorders: Iterable[str] | None = None,
                    positions: Mapping[str, np.ndarray] | None = None,
                    values: MarkerTable | None = None,
                    screen: Mapping[str, float] | None = None,
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
    screen
        Per disorder, its cutoff: only the scores that can be above it are computed
        (``screened``), the others (provably at or below it) when asked for
        (:meth:`DisorderScores.at`, ``scores``). For evaluating without the normal calls.

    Returns
    -------
    DisorderScores
        ``scores``: float DataFrame (profile index, one column per disorder), NaN where none
        of the disorder's markers can be read.
    """
    codes = list(specs) if disorders is None else list(disorders)
    kept = {c: specs[c] for c in codes}
    if positions is not None:
        out = {code: specs[code].score(positions) for code in codes}
        return DisorderScores(out, profiles.index, kept, dict(positions))
    names = list(dict.fromkeys(m for c in codes for m in specs[c].markers))
    lazy = _Positions(profiles, names, table, model, values, file)
    if screen is not None:
        out, screened = _screened_scores(lazy, specs, codes, screen)
        return DisorderScores(out, profiles.index, kept, lazy, screened)
    return DisorderScores(_streamed_scores(lazy, specs, codes), profiles.index, kept, lazy)
