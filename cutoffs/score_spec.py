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
        y = np.column_stack([sign * positions[m] for m, sign in zip(self.markers, self.signs,
                                                                    strict=True)])
        read = ~np.isnan(y)
        weights = np.asarray(self.weights)
        score = np.where(read, y, 0.0) @ weights
        partial = np.flatnonzero(~read.all(axis=1))
        scale = np.full(len(y), self.scale)
        if partial.size:
            pattern = read[partial] @ (1 << np.arange(read.shape[1], dtype=np.int64))
            for code in np.unique(pattern).tolist():
                mask = ((code >> np.arange(read.shape[1])) & 1).astype(bool)
                scale[partial[pattern == code]] = self._scale(mask) if mask.any() else 1.0
        score /= scale
        if self.method == "guarded":
            primary = np.where(read[:, list(self.primary)], y[:, list(self.primary)], -np.inf)
            score = np.maximum(score, primary.max(axis=1))
        if partial.size:
            score[~read.any(axis=1)] = np.nan
        return score
