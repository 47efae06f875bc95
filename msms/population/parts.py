"""The random parts of one chunk of babies before the analyte marginals are applied: covariates,
disorders, correlated latent normals, covariate / spot / mechanism log offsets. The cohort
(:mod:`msms.population.cohort`) and the calibration of the marginals
(:mod:`msms.population.calibration`) both draw them.

Public names: ``Parts``, ``draw_parts``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msms.population.analytes import (
    correlation_matrix,
    draw_spot,
    effect_matrix,
    latent_normals,
    spot_loadings,
)
from msms.population.covariates import Covariates, covariate_terms, draw_covariates
from msms.population.disorders import DisorderDraw, draw_disorders
from msms.population.mechanisms import (
    MechanismDraw,
    add_mechanism_offsets,
    draw_mechanisms,
    label_flags,
)
from msms.population.params import PopulationParams

__all__ = ["Parts", "draw_parts"]


@dataclass
class Parts:
    """The random parts of one chunk before the marginals are applied."""

    covariates: Covariates
    disorders: DisorderDraw
    z: np.ndarray  # correlated standard normals (n, n_analytes)
    offsets: np.ndarray  # covariate + spot + mechanism log offsets (n, n_analytes)
    spot: np.ndarray  # spot factor columns (n, 2), see analytes.draw_spot
    labels: np.ndarray  # (n, n_labels) bool
    mechanisms: MechanismDraw

    def artefacts(self, rows: np.ndarray, params: PopulationParams) -> np.ndarray:
        """Log offsets that still move an affected baby's primary marker, shape
        (len(rows), n_analytes): spot, mechanisms and the ``primary_terms`` covariate effects."""
        out = self.spot[rows] @ spot_loadings(params)
        if params.primary_terms:
            names = [t.name for t in params.terms]
            keep = [names.index(t) for t in params.primary_terms]
            terms = covariate_terms(self.covariates, params)[rows][:, keep]
            out += terms @ effect_matrix(params)[keep]
        subset = MechanismDraw(present=self.mechanisms.present[rows],
                               strength=self.mechanisms.strength[rows])
        add_mechanism_offsets(out, subset, params)
        return out


@dataclass(frozen=True)
class _Matrices:
    chol: np.ndarray
    effects: np.ndarray  # covariate terms and spot columns -> analytes


_MATRICES: dict[int, tuple[PopulationParams, _Matrices]] = {}


def _matrices(params: PopulationParams) -> _Matrices:
    cached = _MATRICES.get(id(params))
    if cached is not None and cached[0] is params:
        return cached[1]
    matrices = _Matrices(
        chol=np.linalg.cholesky(correlation_matrix(params)),
        effects=np.vstack([effect_matrix(params), spot_loadings(params)]),
    )
    _MATRICES.clear()
    _MATRICES[id(params)] = (params, matrices)
    return matrices


def draw_parts(seed: int, chunk: int, n: int, params: PopulationParams,
               disorder_rate: float | None) -> Parts:
    """Draw chunk ``chunk`` of ``n`` babies of the cohort with this ``seed``."""
    streams = np.random.SeedSequence(seed, spawn_key=(chunk,)).spawn(5)
    rng_cov, rng_dis, rng_latent, rng_spot, rng_mech = (
        np.random.Generator(np.random.PCG64(s)) for s in streams
    )
    cov = draw_covariates(rng_cov, n, params)
    dis = draw_disorders(rng_dis, n, params, disorder_rate, cov.sex)
    matrices = _matrices(params)
    z = latent_normals(rng_latent, n, matrices.chol)
    spot = draw_spot(rng_spot, cov, params)
    offsets = np.concatenate([covariate_terms(cov, params), spot], axis=1) @ matrices.effects
    mech = draw_mechanisms(rng_mech, cov, params)
    add_mechanism_offsets(offsets, mech, params)
    return Parts(covariates=cov, disorders=dis, z=z, offsets=offsets, spot=spot,
                 labels=label_flags(cov, params), mechanisms=mech)
