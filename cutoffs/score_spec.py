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

    def score(self, positions: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Scores and the per-marker contributions (n, markers) from marker positions.

        Where markers cannot be read, the sum of the others is divided by its own spread among
        screen-negative babies, so a missing marker neither dilutes nor inflates the score."""
        y = np.column_stack([sign * positions[m] for m, sign in zip(self.markers, self.signs,
                                                                    strict=True)])
        read = ~np.isnan(y)
        pattern = read @ (1 << np.arange(read.shape[1], dtype=np.int64))
        scale = np.ones(len(y))
        for code in np.unique(pattern).tolist():
            mask = ((code >> np.arange(read.shape[1])) & 1).astype(bool)
            if mask.any():
                scale[pattern == code] = self._scale(mask)
        contributions = np.where(read, y, 0.0) * np.asarray(self.weights) / scale[:, None]
        score = contributions.sum(axis=1)
        if self.method == "guarded":
            primary = np.where(read[:, list(self.primary)], y[:, list(self.primary)], -np.inf)
            score = np.maximum(score, primary.max(axis=1))
        score[~read.any(axis=1)] = np.nan
        return score, contributions
