"""How one disorder's score combines its markers: methods and the fitted spec.

Public names: ``ScoreSpec``, ``ScoreSum``, ``MarkerPosition``, ``METHODS``,
``LOWEST_SIGNED_POSITION``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["LOWEST_SIGNED_POSITION", "METHODS", "MarkerPosition", "ScoreSpec", "ScoreSum"]

#: The lowest signed position a marker adds to a score: a marker that points away from the
#: disorder (a low value of a marker that rises in it, a value <= 0 below the measurable range
#: at -inf) lowers the score by at most this many SDs times its weight, so that one unreadably
#: low secondary marker cannot cancel a disorder's raised primary markers.
LOWEST_SIGNED_POSITION = -3.0

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
        total = ScoreSum(self, len(positions[self.markers[0]]))
        for m in self.markers:
            total.add(MarkerPosition.of(positions[m]))
        return total.result()


@dataclass(frozen=True, slots=True)
class MarkerPosition:
    """One marker's positions over every specimen, as a score adds them: ``z`` (NaN where
    unread), ``filled`` (0 where unread) and the ``unread`` positions (sorted)."""

    z: np.ndarray
    filled: np.ndarray
    unread: np.ndarray

    @classmethod
    def of(cls, z: np.ndarray) -> MarkerPosition:
        missing = np.isnan(z)
        unread = np.flatnonzero(missing)
        return cls(z, np.where(missing, 0.0, z) if unread.size else z, unread)


class ScoreSum:
    """One disorder's score summed marker by marker, in the spec's order, so that the markers'
    positions need not all be kept at once (:meth:`ScoreSpec.score`)."""

    def __init__(self, spec: ScoreSpec, n: int, scratch: np.ndarray | None = None) -> None:
        self.spec = spec
        self.n = n
        self._sum = np.zeros(n)
        #: room for one marker's weighted positions (n floats), reusable across sums
        self._scratch = scratch if scratch is not None else np.empty(n)
        self._unread: list[np.ndarray] = []
        self._best = np.full(n, -np.inf) if spec.method == "guarded" else None

    def add(self, position: MarkerPosition) -> None:
        """Add the next marker of the spec (``spec.markers[len(added)]``)."""
        i = len(self._unread)
        sign, w = self.spec.signs[i], self.spec.weights[i]
        if w:  # a marker of weight 0 adds nothing, even at a position of -inf (a value <= 0)
            signed = np.multiply(position.filled, sign, out=self._scratch)
            np.maximum(signed, LOWEST_SIGNED_POSITION, out=signed)
            signed *= w
            self._sum += signed
        self._unread.append(position.unread)
        if self._best is not None and self.spec.primary[i]:
            np.fmax(self._best, sign * position.z, out=self._best)

    def result(self) -> np.ndarray:
        """The scores once every marker is added."""
        spec = self.spec
        if len(self._unread) != len(spec.markers):
            raise ValueError(f"{spec.disorder}: {len(self._unread)} of "
                             f"{len(spec.markers)} markers added")
        score = self._sum
        score /= spec.scale
        read_all = np.ones(self.n, dtype=bool)
        for unread in self._unread:
            read_all[unread] = False
        partial = np.flatnonzero(~read_all)
        if partial.size:
            read = np.ones((partial.size, len(spec.markers)), dtype=bool)
            for j, unread in enumerate(self._unread):
                read[np.searchsorted(partial, unread), j] = False
            pattern = read @ (1 << np.arange(read.shape[1], dtype=np.int64))
            for code in np.unique(pattern).tolist():
                mask = ((code >> np.arange(read.shape[1])) & 1).astype(bool)
                rows = partial[pattern == code]
                if mask.any():
                    score[rows] *= spec.scale / spec._scale(mask)
                else:
                    score[rows] = np.nan
        if self._best is not None:
            score = np.where(np.isnan(score), score, np.fmax(score, self._best))
        return score
