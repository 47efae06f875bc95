"""How one disorder's score combines its markers: methods and the fitted spec.

Public names: ``ScoreSpec``, ``METHODS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["METHODS", "ScoreSpec"]

#: ``sum``: the signature's weights; ``discriminant``: S^-1 d with non-negative weights;
#: ``guarded``: the discriminant or the highest primary position, whichever is larger.
METHODS: tuple[str, ...] = ("sum", "discriminant", "guarded")


@dataclass(frozen=True, slots=True)
class ScoreSpec:
    """How one disorder's score combines its markers (fitted by :mod:`cutoffs.score_weights`)."""

    disorder: str
    method: str
    markers: tuple[str, ...]
    signs: tuple[int, ...]
    primary: tuple[bool, ...]
    weights: tuple[float, ...]  # per marker, on the signed position; never negative
    #: covariance of the markers' positions among screen-negative babies (markers x markers)
    covariance: tuple[tuple[float, ...], ...]

    @property
    def scale(self) -> float:
        """SD of sum(w * y) among screen-negative babies when every marker is read."""
        return self._scale(np.ones(len(self.markers), dtype=bool))

    def _scale(self, read: np.ndarray) -> float:
        w = np.where(read, np.asarray(self.weights), 0.0)
        return float(np.sqrt(max(w @ np.asarray(self.covariance) @ w, 1e-24)))

    def score(self, positions: Mapping[str, np.ndarray]) -> np.ndarray:
        """Scores from marker positions (NaN where no marker can be read).

        Where markers cannot be read, the sum of the others is divided by its own spread among
        screen-negative babies, so a missing marker neither dilutes nor inflates the score."""
        n = len(positions[self.markers[0]])
        score = np.zeros(n)
        read_all = np.ones(n, dtype=bool)
        best = np.full(n, -np.inf) if self.method == "guarded" else None
        for m, sign, w, primary in zip(self.markers, self.signs, self.weights, self.primary,
                                       strict=True):
            z = positions[m]
            read = ~np.isnan(z)
            read_all &= read
            score += np.where(read, z, 0.0) * (sign * w)
            if best is not None and primary:
                np.fmax(best, sign * z, out=best)
        score /= self.scale
        partial = np.flatnonzero(~read_all)
        if partial.size:
            read = np.column_stack([~np.isnan(positions[m][partial]) for m in self.markers])
            pattern = read @ (1 << np.arange(read.shape[1], dtype=np.int64))
            for code in np.unique(pattern).tolist():
                mask = ((code >> np.arange(read.shape[1])) & 1).astype(bool)
                rows = partial[pattern == code]
                if mask.any():
                    score[rows] *= self.scale / self._scale(mask)
                else:
                    score[rows] = np.nan
        if best is not None:
            score = np.where(np.isnan(score), score, np.fmax(score, best))
        return score
