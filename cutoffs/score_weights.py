"""Fitting disorder scores: the weights of each disorder's markers, from its signature and the
laboratory's own screen-negative population.

- ``sum``: the signature's weights (``cutoffs/data/signatures.csv``: 1 primary, 0.5 secondary,
  estimates) on the signed positions;
- ``discriminant``: w = S^-1 d, the direction that best separates the disorder from normal
  babies when markers are correlated: S is the covariance of the markers' positions among the
  laboratory's screen-negative babies (Ledoit-Wolf shrinkage, positions clipped to +-4 for the
  estimate), d the disorder's expected shift per marker in normal SDs (the signature weight
  times the position of the published disease anchor, ``cutoffs/data/disease_ranges.csv``, or
  ``DEFAULT_SHIFT_SD`` where none is published: an estimate). A ratio and the analytes it is
  made of are thereby not counted twice. Weights are constrained to be >= 0 (non-negative
  least squares on the Cholesky factor: the same optimum of the separation over the allowed
  weights), so a marker moving toward the disease never lowers the score; the markers whose
  unconstrained weight was negative are reported;
- ``guarded``: the discriminant, but never below the highest primary position.

Every score is divided by its spread among the screen-negative babies (``ScoreSpec.scale``).

Public names: ``marker_covariance``, ``reference_position``, ``expected_shift``,
``fit_score_specs``, ``DEFAULT_SHIFT_SD``, ``MIN_ANCHOR_Z``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
from scipy.linalg import cho_factor, cho_solve, cholesky, solve_triangular
from scipy.optimize import nnls
from scipy.special import ndtri
from sklearn.covariance import LedoitWolf

from cutoffs.covariate_model import CovariateScoreModel
from cutoffs.disease_ranges import DiseaseRange, disease_anchor
from cutoffs.disorder_scores import _z_from_grid
from cutoffs.errors import CutoffError
from cutoffs.score_spec import METHODS, ScoreSpec
from cutoffs.signatures import Signature
from cutoffs.strata import OVERALL
from cutoffs.tables import QUANTILE_PROBS, CutoffTable

__all__ = ["DEFAULT_SHIFT_SD", "MIN_ANCHOR_Z", "expected_shift", "fit_score_specs",
           "marker_covariance", "reference_position"]

#: Expected shift, in normal SDs, of a primary marker in classic cases where no disease range
#: is published (estimate; a secondary marker gets its signature weight times this).
DEFAULT_SHIFT_SD = 4.0
#: A published anchor is never placed closer to the normal median than the normal p99.
MIN_ANCHOR_Z = float(ndtri(0.99))
_CLIP = 4.0
_MAX_ROWS = 200_000
_MIN_ROWS = 1_000

ReferencePosition = Callable[[str, float], float]


def marker_covariance(positions: Mapping[str, np.ndarray], names: Iterable[str]) -> np.ndarray:
    """Ledoit-Wolf covariance of the markers' positions (clipped to +-4) over the specimens
    where all of them can be read (at most the first 200,000)."""
    names = list(names)
    x = np.column_stack([np.clip(positions[n], -_CLIP, _CLIP) for n in names])
    complete = x[np.isfinite(x).all(axis=1)][:_MAX_ROWS]
    if len(complete) < _MIN_ROWS:
        raise CutoffError(f"only {len(complete)} screen-negative specimens have every score "
                          f"marker; at least {_MIN_ROWS} are needed", field="population")
    return np.asarray(LedoitWolf().fit(complete).covariance_)


def reference_position(table: CutoffTable | None, model: CovariateScoreModel
                       ) -> ReferencePosition:
    """``position(marker, value)``: the normal position of a value for a baby at the reference
    (the table's overall grid, else the covariate model's reference condition)."""
    table_z, model_z = ndtri(np.asarray(QUANTILE_PROBS)), ndtri(np.asarray(model.probs))

    def position(marker: str, value: float) -> float:
        x = np.array([np.log(value)])
        if table is not None:
            try:
                grid = table.entry(marker, OVERALL).quantiles
            except KeyError:
                grid = ()
            if len(grid) == len(QUANTILE_PROBS) and min(grid) > 0:
                return float(_z_from_grid(x, np.log(np.asarray(grid)), table_z)[0])
        entry = model.markers.get(marker)
        if entry is None:
            return float("nan")
        return float(_z_from_grid(x, np.log(np.asarray(entry.quantiles)), model_z)[0])

    return position


def expected_shift(signature: Signature, ranges: Iterable[DiseaseRange],
                   position: ReferencePosition) -> np.ndarray:
    """d: per marker, the signature weight times the disease anchor's signed position (at least
    the normal p99), or times ``DEFAULT_SHIFT_SD`` where no range is published."""
    ranges = tuple(ranges)
    out = []
    for m in signature.markers:
        anchor = disease_anchor(ranges, signature.disorder, m.name)
        z = DEFAULT_SHIFT_SD
        if anchor is not None:
            placed = m.sign * position(m.name, anchor[0])
            z = max(placed, MIN_ANCHOR_Z) if np.isfinite(placed) else DEFAULT_SHIFT_SD
        out.append(m.weight * z)
    return np.array(out)


def _discriminant(cov: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Non-negative w maximising (w'd)^2 / w'Sw, and the markers whose unconstrained weight
    S^-1 d is negative."""
    unconstrained = cho_solve(cho_factor(cov), d)
    lower = cholesky(cov, lower=True)
    w, _ = nnls(lower.T, solve_triangular(lower, d, lower=True))
    return w, [int(i) for i in np.flatnonzero(unconstrained < 0)]


def fit_score_specs(positions: Mapping[str, np.ndarray], signatures: Mapping[str, Signature],
                    ranges: Iterable[DiseaseRange], position: ReferencePosition,
                    methods: str | Mapping[str, str] = "guarded",
                    ) -> tuple[dict[str, ScoreSpec], dict[str, tuple[str, ...]]]:
    """Fit every signature's score on a screen-negative population's marker positions.

    Parameters
    ----------
    positions
        Marker positions of screen-negative babies (:func:`cutoffs.disorder_scores.
        marker_positions`), every signature marker present.
    signatures, ranges
        Disorder signatures and published disease ranges.
    position
        Normal position of a value at the reference (:func:`reference_position`).
    methods
        One of ``METHODS`` for every disorder, or one per disorder code.

    Returns
    -------
    specs, negative
        The fitted specs, and per disorder the markers whose unconstrained discriminant weight
        was negative (held at 0).
    """
    names = list(dict.fromkeys(m.name for s in signatures.values() for m in s.markers))
    cov = marker_covariance(positions, names)
    index = {n: i for i, n in enumerate(names)}
    ranges = tuple(ranges)
    specs, negative = {}, {}
    for code, sig in signatures.items():
        method = methods if isinstance(methods, str) else methods.get(code, "guarded")
        if method not in METHODS:
            raise CutoffError(f"{method!r} is not one of {', '.join(METHODS)}", field="method")
        ii = [index[m.name] for m in sig.markers]
        sub = cov[np.ix_(ii, ii)]
        if method == "sum":
            w = np.array([m.weight for m in sig.markers])
        else:
            w, flipped = _discriminant(sub, expected_shift(sig, ranges, position))
            negative[code] = tuple(sig.markers[i].name for i in flipped)
        specs[code] = ScoreSpec(code, method, sig.marker_names,
                                tuple(m.sign for m in sig.markers),
                                tuple(m.role == "primary" for m in sig.markers),
                                tuple(float(v) for v in w),
                                tuple(tuple(float(v) for v in r) for r in sub))
    return specs, negative
