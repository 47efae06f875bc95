"""Disorder scores: one number per specimen and disorder that weighs all of the disorder's
markers against babies like this one and against the range seen in confirmed cases.

For each marker *m* of a disorder's signature (``cutoffs/data/signatures.csv``):

1. its **normal position** z: the value's covariate-adjusted position among babies like this
   one, as a standard-normal score -- inside the reference's quantile grid the normal quantile
   of the interpolated percentile, beyond the grid extended on the log scale with the tail's
   slope (so a value 10x past the p99.9 keeps counting). The reference is the laboratory's
   cutoff table (its stratum's grid) where it has the marker, else the covariate model;
2. **signed** by the disorder's direction for the marker (+1 high, -1 low);
3. **placed toward the disease range**: divided by the position, for this baby, of the
   published disease anchor (``cutoffs/data/disease_ranges.csv``: the median of detected cases,
   else their highest low percentile), at least the normal p99 (z = 2.33); where no range is
   published the anchor is ``DEFAULT_ANCHOR_Z`` normal SDs (an estimate). 0 is the normal
   median, 1 the disease anchor; clipped to [``LOW_CLIP``, ``HIGH_CLIP``];
4. combined as the signature's **weighted mean** over the markers that can be read.

Pure and vectorised over a profiles DataFrame; nothing here calls a disorder: cutoffs per
disorder come from :mod:`cutoffs.score_cutoffs` (docs/first_tier_scores.md).

Public names: ``NormalPositions``, ``DisorderScores``, ``disorder_scores``,
``DEFAULT_ANCHOR_Z``, ``LOW_CLIP``, ``HIGH_CLIP``, ``MIN_ANCHOR_Z``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from cutoffs.covariate_model import CovariateScoreModel, default_covariate_model
from cutoffs.disease_ranges import DiseaseRange, default_disease_ranges, disease_anchor
from cutoffs.markers import marker_table
from cutoffs.signatures import Signature, default_signatures
from cutoffs.tables import QUANTILE_PROBS, CutoffTable

__all__ = ["DEFAULT_ANCHOR_Z", "HIGH_CLIP", "LOW_CLIP", "MIN_ANCHOR_Z", "DisorderScores",
           "NormalPositions", "disorder_scores"]

#: Disease anchor, in normal SDs, of a marker without a published disease range (estimate).
DEFAULT_ANCHOR_Z = 4.0
#: A published anchor is never placed closer to the normal median than the normal p99.
MIN_ANCHOR_Z = float(ndtri(0.99))
#: Bounds of one marker's placement (0 normal median, 1 disease anchor).
LOW_CLIP, HIGH_CLIP = -1.0, 3.0


def _z_from_grid(x: np.ndarray, log_grid: np.ndarray, z_grid: np.ndarray) -> np.ndarray:
    """Normal score of log values ``x`` in one grid, extended linearly beyond its ends."""
    grid = log_grid + np.arange(log_grid.size) * 1e-12  # ties: keep the grid increasing
    mid = int(np.searchsorted(z_grid, 0.0))
    with np.errstate(all="ignore"):
        z = np.interp(x, grid, z_grid)
        upper = z_grid[-1] / max(grid[-1] - grid[mid], 1e-9)
        lower = z_grid[0] / min(grid[0] - grid[mid], -1e-9)
        above, below = x > grid[-1], x < grid[0]
        z[above] = z_grid[-1] + (x[above] - grid[-1]) * upper
        z[below] = z_grid[0] + (x[below] - grid[0]) * lower
    z[np.isnan(x)] = np.nan
    return z


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

    def z(self, marker: str, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Normal score of ``values`` (one per position in ``rows``); NaN where no reference
        has the marker or the value is missing; -inf for a value <= 0."""
        values = np.asarray(values, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), -np.inf)
        logs[np.isnan(values)] = np.nan
        out = np.full(values.size, np.nan)
        todo = np.ones(values.size, dtype=bool)
        if self.table is not None and self._assignment is not None:
            index = self.table.entry_index(marker, self._assignment)[rows]
            for entry_index in np.unique(index[index >= 0]):
                grid = self.table.entries[int(entry_index)].quantiles
                if len(grid) != len(QUANTILE_PROBS) or min(grid) <= 0:
                    continue
                at = index == entry_index
                out[at] = _z_from_grid(logs[at], np.log(np.asarray(grid)), self._table_z)
                todo[at] = False
        entry = self.model.markers.get(marker)
        if entry is not None and todo.any():
            offsets = self._bound.offsets(marker, rows[todo])
            out[todo] = _z_from_grid(logs[todo] - offsets, np.log(np.asarray(entry.quantiles)),
                                     self._model_z)
        return out


@dataclass
class DisorderScores:
    """Scores per specimen (rows, in profile order) and disorder (columns), with each
    disorder's per-marker placements for the reasons."""

    scores: pd.DataFrame
    markers: dict[str, tuple[str, ...]]
    placements: dict[str, np.ndarray]  # disorder -> (n, n_markers) placements, NaN unread
    positions: dict[str, np.ndarray]  # marker -> normal score z per specimen

    def top_markers(self, disorder: str, row: int, k: int = 2) -> list[tuple[str, float]]:
        """The ``k`` markers that push this specimen's score up most, with their percentile
        among babies like it (0-100)."""
        placed = self.placements[disorder][row]
        order = [i for i in np.argsort(-np.nan_to_num(placed, nan=-np.inf))
                 if not np.isnan(placed[i])]
        out = []
        for i in order[:k]:
            name = self.markers[disorder][i]
            out.append((name, float(100 * ndtr(self.positions[name][row]))))
        return out


def _placement(sign: int, z: np.ndarray, anchor_z: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        placed = np.clip(sign * z / anchor_z, LOW_CLIP, HIGH_CLIP)
    return placed


def disorder_scores(
    profiles: pd.DataFrame,
    *,
    table: CutoffTable | None = None,
    model: CovariateScoreModel | None = None,
    signatures: Mapping[str, Signature] | None = None,
    ranges: Iterable[DiseaseRange] | None = None,
    disorders: Iterable[str] | None = None,
    file: str | None = None,
) -> DisorderScores:
    """Score every specimen for every disorder (see the module docstring).

    Parameters
    ----------
    profiles
        DESIGN §4.2 profiles (covariates and analyte columns).
    table
        A laboratory's derived cutoff table (its strata's grids take precedence).
    model
        Covariate model for the markers and specimens the table does not cover (default:
        the packaged model).
    signatures, ranges
        Disorder signatures and disease ranges (default: the packaged data).
    disorders
        Disorder codes to score (default: every signature).

    Returns
    -------
    DisorderScores
        ``scores``: float DataFrame (profile index, one column per disorder), NaN where none
        of the disorder's markers can be read.
    """
    signatures = default_signatures() if signatures is None else signatures
    ranges = default_disease_ranges() if ranges is None else tuple(ranges)
    codes = list(signatures) if disorders is None else list(disorders)
    normal = NormalPositions(profiles, table, model or default_covariate_model(), file)
    names = list(dict.fromkeys(m.name for c in codes for m in signatures[c].markers))
    values = marker_table(profiles, names, file=file)
    n = len(profiles)
    rows = np.arange(n)
    positions = {name: normal.z(name, np.where(values.usable(name), values.values[name],
                                               np.nan), rows) for name in names}
    out: dict[str, np.ndarray] = {}
    placements: dict[str, np.ndarray] = {}
    for code in codes:
        sig = signatures[code]
        placed = np.full((n, len(sig.markers)), np.nan)
        weights = np.array([m.weight for m in sig.markers])
        for i, marker in enumerate(sig.markers):
            anchor = disease_anchor(ranges, code, marker.name)
            if anchor is None:
                anchor_z = np.full(n, DEFAULT_ANCHOR_Z)
            else:
                anchor_z = marker.sign * normal.z(marker.name, np.full(n, anchor[0]), rows)
                anchor_z = np.where(np.isfinite(anchor_z), anchor_z, DEFAULT_ANCHOR_Z)
                anchor_z = np.maximum(anchor_z, MIN_ANCHOR_Z)
            placed[:, i] = _placement(marker.sign, positions[marker.name], anchor_z)
        read = ~np.isnan(placed)
        total = (read * weights).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[code] = np.where(total > 0, np.nansum(placed * weights, axis=1) / total, np.nan)
        placements[code] = placed
    scores = pd.DataFrame(out, index=profiles.index)
    return DisorderScores(scores, {c: signatures[c].marker_names for c in codes}, placements,
                          positions)
