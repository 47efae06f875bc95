"""Analyte concentrations of unaffected babies: marginals, correlation and covariate effects.

On the log scale a baby's concentration of analyte j is

    ln c_j = mu_j + s_j(z_j) * z_j + sum_k term_k * effect_kj + spot_j + mechanisms_j

where ``z`` is a correlated standard normal (a Gaussian copula built from latent factors and a
chain-length kernel, ``correlation.toml``), ``s_j`` is a split scale (``s_low`` below the median,
``s_high`` above, so the marginal can be skewed), the covariate terms and their effects come from
``effects.toml`` (sizes in catalogue SDs), ``spot`` is the shared spot-volume / haematocrit factor
and ``mechanisms`` the false-positive mechanisms (:mod:`msms.population.mechanisms`). ``mu``,
``s_low`` and ``s_high`` are calibrated (:mod:`msms.population.calibration`) so that the whole
population meets the catalogue's median, p1 and p99.

Public names: ``Marginals``, ``correlation_matrix``, ``latent_normals``, ``effect_matrix``,
``draw_spot``, ``spot_loadings``, ``split_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msms.population.covariates import Covariates
from msms.population.params import PopulationParams

__all__ = [
    "Marginals",
    "correlation_matrix",
    "draw_spot",
    "effect_matrix",
    "latent_normals",
    "spot_loadings",
    "split_scale",
]


@dataclass(frozen=True)
class Marginals:
    """Location and split scales of each analyte's log-concentration (reference condition)."""

    mu: np.ndarray
    s_low: np.ndarray
    s_high: np.ndarray


def correlation_matrix(params: PopulationParams) -> np.ndarray:
    """The copula's correlation matrix over the catalogue's analytes (positive definite)."""
    n = len(params.analyte_codes)
    corr = np.zeros((n, n))
    for factor in params.factors:
        loading = np.zeros(n)
        for code, value in factor.loadings.items():
            loading[params.index(code)] = value
        corr += np.outer(loading, loading)
    chain = params.chain
    idx = np.array([params.index(code) for code in chain.carbons])
    if len(idx):
        carbons = np.array(list(chain.carbons.values()))
        diff = carbons[:, None] - carbons[None, :]
        kernel = np.exp(-(diff**2) / (2 * chain.length_scale_carbons**2))
        corr[np.ix_(idx, idx)] += chain.loading**2 * kernel
    np.fill_diagonal(corr, 1.0)
    return corr


def latent_normals(rng: np.random.Generator, n: int, chol: np.ndarray) -> np.ndarray:
    """``n`` rows of correlated standard normals with Cholesky factor ``chol``."""
    return rng.standard_normal((n, chol.shape[0])) @ chol.T


def split_scale(z: np.ndarray, marginals: Marginals, *, out: np.ndarray | None = None
                ) -> np.ndarray:
    """``mu + s(z) * z`` with ``s_low`` for z < 0 and ``s_high`` otherwise (``out`` may be z)."""
    scale = np.where(z < 0, marginals.s_low, marginals.s_high)
    result = np.multiply(z, scale, out=out)
    result += marginals.mu
    return result


def effect_matrix(params: PopulationParams) -> np.ndarray:
    """Log-scale effect of one unit of each term on each analyte, shape (n_terms, n_analytes)."""
    names = [t.name for t in params.terms]
    out = np.zeros((len(names), len(params.analyte_codes)))
    for effect in params.effects:
        k = names.index(effect.term)
        for code in effect.analytes:
            j = params.index(code)
            out[k, j] += effect.size_sd * params.sd_log[j]
    return out


def draw_spot(rng: np.random.Generator, cov: Covariates, params: PopulationParams) -> np.ndarray:
    """Spot factor of every baby, shape (n, 2): log blood-volume factor and haematocrit
    deviation from the mean in units of 0.10 (transfused babies shifted up)."""
    spot = params.spot
    n = len(cov)
    out = np.empty((n, 2))
    out[:, 0] = spot.volume_sd_log * rng.standard_normal(n)
    out[:, 1] = (spot.haematocrit_sd * rng.standard_normal(n)
                 + spot.transfused_haematocrit_shift * cov.transfused) / 0.10
    return out


def spot_loadings(params: PopulationParams) -> np.ndarray:
    """Log effect of one unit of each spot column on each analyte, shape (2, n_analytes): every
    analyte shares the volume; the haematocrit weighs amino acids and C0 more than others."""
    loading = np.array([params.spot.loading_per_0_1[c] for c in params.analyte_codes])
    return np.vstack([np.ones_like(loading), loading])
