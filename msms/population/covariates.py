"""Drawing the covariates of simulated newborns jointly (docs/architecture.md "Profiles" columns).

Gestational age comes first; birth weight follows it (log-normal around a gestational-age
median, scaled by sex); age at collection, TPN and transfusion depend on prematurity. The
distributions are data (``msms/data/population/covariates.toml``).

Public names: ``Covariates``, ``draw_covariates``, ``covariate_terms``, ``SEX_CODES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msms.population.params import AgeWindow, CovariateModel, PopulationParams

__all__ = ["SEX_CODES", "Covariates", "covariate_terms", "draw_covariates"]

#: Sex codes in the order of the integer codes used in :class:`Covariates` (0, 1, 2).
SEX_CODES: tuple[str, ...] = ("M", "F", "U")


@dataclass
class Covariates:
    """True covariates of ``n`` babies (before any record is blanked as missing).

    ``sex`` holds integer codes into :data:`SEX_CODES`; ``tpn_intensity`` is 0 without TPN.
    """

    gestational_age_weeks: np.ndarray
    birth_weight_g: np.ndarray
    sex: np.ndarray
    age_at_collection_hours: np.ndarray
    tpn: np.ndarray
    tpn_intensity: np.ndarray
    transfused: np.ndarray

    def __len__(self) -> int:
        return len(self.gestational_age_weeks)

    def numeric(self, name: str) -> np.ndarray:
        """A covariate as floats (the names of :data:`msms.tables.COVARIATE_COLUMNS`)."""
        return np.asarray(getattr(self, name), dtype=float)


def _draw_ga(rng: np.random.Generator, n: int, model: CovariateModel) -> np.ndarray:
    bands = np.array(model.ga_bands)
    which = rng.choice(len(bands), size=n, p=bands[:, 2] / bands[:, 2].sum())
    low, high = bands[which, 0], bands[which, 1]
    return low + (high - low) * rng.random(n)


def _draw_windows(rng: np.random.Generator, n: int,
                  windows: tuple[AgeWindow, ...]) -> np.ndarray:
    probs = np.array([w.probability for w in windows])
    which = rng.choice(len(windows), size=n, p=probs / probs.sum())
    u = rng.random(n)
    hours = np.empty(n)
    for k, w in enumerate(windows):
        mask = which == k
        uk = u[mask]
        if w.mode_hours is not None:  # triangular by inversion
            a, b, c = w.low_hours, w.high_hours, w.mode_hours
            cut = (c - a) / (b - a)
            left = a + np.sqrt(uk * (b - a) * (c - a))
            right = b - np.sqrt((1 - uk) * (b - a) * (b - c))
            hours[mask] = np.where(uk < cut, left, right)
        else:  # log-uniform
            hours[mask] = w.low_hours * (w.high_hours / w.low_hours) ** uk
    return hours


def _by_age(ga: np.ndarray, bands: tuple[tuple[float, float], ...]) -> np.ndarray:
    edges = np.array([b[0] for b in bands])
    probs = np.array([b[1] for b in bands])
    return probs[np.minimum(np.searchsorted(edges, ga, side="right"), len(bands) - 1)]


def draw_covariates(rng: np.random.Generator, n: int, params: PopulationParams) -> Covariates:
    """Draw the covariates of ``n`` babies.

    Parameters
    ----------
    rng
        The generator to draw from (consumed in a fixed order, so a seed gives the same babies).
    n
        Number of babies.
    params
        Population parameters (its ``covariates`` model is used).
    """
    model = params.covariates
    # recorded precision (0.1 week, 0.1 h): effects and labels see what the record says
    ga = np.round(_draw_ga(rng, n, model), 1)
    sex = rng.choice(3, size=n, p=np.array(model.sex_probabilities)).astype(np.int8)
    median = np.interp(ga, model.bw_anchor_weeks, model.bw_anchor_median_g)
    factor = np.where(sex == 0, model.bw_male_factor,
                      np.where(sex == 1, model.bw_female_factor, 1.0))
    bw = median * factor * np.exp(model.bw_sd_log * rng.standard_normal(n))
    bw = np.clip(np.round(bw), model.bw_min_g, model.bw_max_g)
    nicu = ga < model.nicu_below_weeks
    age = _draw_windows(rng, n, model.windows)
    n_nicu = int(nicu.sum())
    if n_nicu:
        age[nicu] = _draw_windows(rng, n_nicu, model.nicu_windows)
    age = np.round(age, 1)
    tpn = rng.random(n) < _by_age(ga, model.tpn_by_age)
    lo, hi = model.tpn_intensity
    intensity = np.where(tpn, lo + (hi - lo) * rng.random(n), 0.0)
    transfused = rng.random(n) < _by_age(ga, model.transfused_by_age)
    return Covariates(
        gestational_age_weeks=ga,
        birth_weight_g=bw,
        sex=sex,
        age_at_collection_hours=age,
        tpn=tpn.astype(np.int8),
        tpn_intensity=intensity,
        transfused=transfused.astype(np.int8),
    )


def covariate_terms(cov: Covariates, params: PopulationParams) -> np.ndarray:
    """The value of every term of ``effects.toml`` for every baby, shape (n, n_terms)."""
    out = np.empty((len(cov), len(params.terms)))
    for k, term in enumerate(params.terms):
        if term.kind == "female":
            out[:, k] = np.where(cov.sex == 1, 0.5, np.where(cov.sex == 0, -0.5, 0.0))
        elif term.kind == "tpn":
            out[:, k] = cov.tpn_intensity
        elif term.kind == "transfused":
            out[:, k] = cov.transfused
        else:
            x = cov.numeric(term.covariate)
            out[:, k] = np.clip((x - term.origin) * term.scale, 0.0, term.cap)
    return out
