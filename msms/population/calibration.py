"""Calibration of the analyte marginals to the catalogue's median, p1 and p99.

The catalogue's population figures describe the whole newborn population, preterm, TPN and
late-collected babies included. The reference-condition location ``mu`` and split scales
``s_low`` / ``s_high`` of each analyte are therefore solved so that a large unaffected reference
cohort (fixed seed, every covariate effect, spot factor and false-positive mechanism applied)
has exactly the catalogue's quantiles. Affected babies are excluded (they are < 0.1%).

Public names: ``calibrate``, ``CALIBRATION_SIZE``, ``CALIBRATION_SEED``.
"""

from __future__ import annotations

import weakref

import numpy as np

from msms.population.analytes import Marginals
from msms.population.params import PopulationParams
from msms.population.parts import draw_parts

__all__ = ["CALIBRATION_SEED", "CALIBRATION_SIZE", "calibrate"]

#: Size and seed of the reference cohort the marginals are solved on.
CALIBRATION_SIZE = 80_000
CALIBRATION_SEED = 20_240_601
_Z99 = 2.3263478740408408
_MIN_SCALE = 0.02
_cache: weakref.WeakKeyDictionary[PopulationParams, Marginals] = weakref.WeakKeyDictionary()


def _quantiles(x_by_analyte: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p1, median and p99 of each row of an (n_analytes, n) array."""
    n = x_by_analyte.shape[1]
    ks = [int(round(q * (n - 1))) for q in (0.01, 0.5, 0.99)]
    part = np.partition(x_by_analyte, ks, axis=1)
    return part[:, ks[0]], part[:, ks[1]], part[:, ks[2]]


def solve_marginals(z: np.ndarray, offsets: np.ndarray, params: PopulationParams,
                    *, iterations: int = 60, tolerance: float = 3e-3) -> Marginals:
    """Solve ``mu``, ``s_low``, ``s_high`` so that ``mu + s(z) z + offsets`` hits the catalogue.

    Parameters
    ----------
    z
        Correlated standard normals of the reference cohort, shape (n, n_analytes).
    offsets
        Every other log-scale term of the same babies (covariates, spot, mechanisms).
    params
        Population parameters (the catalogue figures are the targets).
    """
    t1, t50, t99 = (np.log(params.p1_umol_l), np.log(params.median_umol_l),
                    np.log(params.p99_umol_l))
    mu = t50.copy()
    s_low = np.maximum((t50 - t1) / _Z99, _MIN_SCALE)
    s_high = np.maximum((t99 - t50) / _Z99, _MIN_SCALE)
    # work on contiguous (n_analytes, n) rows: partitioning along rows is much faster
    z_low = np.ascontiguousarray(np.minimum(z, 0.0).T)
    z_high = np.ascontiguousarray(np.maximum(z, 0.0).T)
    rest = np.ascontiguousarray(offsets.T)
    x = np.empty_like(rest)
    for _ in range(iterations):
        np.multiply(z_low, s_low[:, None], out=x)
        x += z_high * s_high[:, None]
        x += rest
        x += mu[:, None]
        q1, q50, q99 = _quantiles(x)
        error = np.max(np.abs(np.concatenate([q1 - t1, q50 - t50, q99 - t99])))
        if error < tolerance:
            break
        mu = mu + (t50 - q50)
        s_high = np.maximum(s_high * np.clip((t99 - t50) / np.maximum(q99 - q50, 1e-6), 0.5, 2.0),
                            _MIN_SCALE)
        s_low = np.maximum(s_low * np.clip((t50 - t1) / np.maximum(q50 - q1, 1e-6), 0.5, 2.0),
                           _MIN_SCALE)
    return Marginals(mu=mu, s_low=s_low, s_high=s_high)


def calibrate(params: PopulationParams) -> Marginals:
    """The calibrated marginals of ``params`` (computed once per parameter object)."""
    cached = _cache.get(params)
    if cached is not None:
        return cached
    parts = draw_parts(CALIBRATION_SEED, 0, CALIBRATION_SIZE, params, disorder_rate=0.0)
    marginals = solve_marginals(parts.z, parts.offsets, params)
    _cache[params] = marginals
    return marginals
