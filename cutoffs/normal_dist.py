"""The standard normal distribution's CDF and its inverse for the small arrays the first tier
needs while it evaluates (a score grid's quantile levels, the percentiles a reason names),
from the standard library, so that evaluating a plate does not import SciPy.

Public names: ``normal_cdf``, ``normal_quantile``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

__all__ = ["normal_cdf", "normal_quantile"]

_STANDARD = NormalDist()
_CDF = np.frompyfunc(lambda z: 0.5 * math.erfc(-z / math.sqrt(2.0)), 1, 1)


def _quantile(p: float) -> float:
    if 0.0 < p < 1.0:
        return _STANDARD.inv_cdf(p)
    return -math.inf if p == 0.0 else math.inf if p == 1.0 else math.nan


_QUANTILE = np.frompyfunc(_quantile, 1, 1)


def normal_cdf(z: np.ndarray | float) -> np.ndarray:
    """P(Z <= z) element by element (NaN stays NaN, -inf gives 0, inf gives 1)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(_CDF(np.asarray(z, dtype=float)), dtype=float)


def normal_quantile(p: np.ndarray | float) -> np.ndarray:
    """The z with P(Z <= z) = p element by element (0 gives -inf, 1 inf, outside [0, 1] NaN)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(_QUANTILE(np.asarray(p, dtype=float)), dtype=float)
