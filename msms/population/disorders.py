"""Affected babies: which disorder, how severe, and how it shows in the profile.

Signatures are data (``msms/data/population/disorders.toml``), keyed by the catalogue's disorder
codes. The primary marker's level is drawn per severity as a multiple of the catalogue p99 (or p1
for a low marker) and keeps only the baby's spot factor; the other markers of the signature move
with it as powers of the primary's fold over the catalogue median, so ratios follow.

Public names: ``DisorderDraw``, ``disorder_probabilities``, ``draw_disorders``,
``apply_signatures``, ``NO_DISORDER``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msms.population.params import PopulationParams

__all__ = [
    "NO_DISORDER",
    "DisorderDraw",
    "apply_signatures",
    "disorder_probabilities",
    "draw_disorders",
]

#: Index used for unaffected babies in :class:`DisorderDraw`.
NO_DISORDER = -1


@dataclass
class DisorderDraw:
    """Disorder (index into ``params.signatures``), severity (index into SEVERITIES) and the
    primary marker's level (multiple of p99 / p1) of every baby; -1 / nan when unaffected."""

    disorder: np.ndarray
    severity: np.ndarray
    level: np.ndarray

    @property
    def affected(self) -> np.ndarray:
        return self.disorder != NO_DISORDER


def disorder_probabilities(params: PopulationParams, *, enriched: bool) -> np.ndarray:
    """Share of affected babies per disorder: by prevalence, with a floor when ``enriched``."""
    prevalence = np.array([1.0 / s.prevalence_1_in for s in params.signatures])
    share = prevalence / prevalence.sum()
    if enriched:
        share = np.maximum(share, params.enriched_floor_share / len(share))
        share /= share.sum()
    return share


def draw_disorders(rng: np.random.Generator, n: int, params: PopulationParams,
                   disorder_rate: float | None, sex: np.ndarray) -> DisorderDraw:
    """Draw who is affected, by what and how severely.

    Parameters
    ----------
    rng
        Generator to draw from.
    n
        Number of babies.
    params
        Population parameters.
    disorder_rate
        Fraction of babies affected (validation sets); ``None`` for the disorders' birth
        prevalence (about 1 in 1,850 overall with the packaged data).
    sex
        Sex codes of the babies (0 M, 1 F, 2 U; :data:`msms.population.covariates.SEX_CODES`).
        A disorder restricted to one sex (X-ALD: boys) is drawn only among babies of that sex,
        at a rate raised so that its share of the whole population is unchanged; babies of
        unknown sex never get a sex-restricted disorder.
    """
    if disorder_rate is None:
        rate = float(sum(1.0 / s.prevalence_1_in for s in params.signatures))
    else:
        rate = float(disorder_rate)
    share = disorder_probabilities(params, enriched=disorder_rate is not None)
    sex_share = np.array(params.covariates.sex_probabilities)  # M, F, U
    codes = ("M", "F", "U")
    eligible = np.array([[sig.sex is None or sig.sex == g for sig in params.signatures]
                         for g in codes])  # (3 sexes, n_disorders)
    restricted_share = np.array([1.0 if sig.sex is None else sex_share[codes.index(sig.sex)]
                                 for sig in params.signatures])
    weights = eligible * (share / np.maximum(restricted_share, 1e-12))[None, :]
    rate_by_sex = np.minimum(rate * weights.sum(axis=1), 1.0)
    cumulative = np.cumsum(weights / np.maximum(weights.sum(axis=1, keepdims=True), 1e-300),
                           axis=1)
    affected_u = rng.random(n)
    which_u = rng.random(n)
    sev_u = rng.random(n)
    level_u = rng.random(n)
    affected = affected_u < rate_by_sex[sex]
    which = np.empty(n, dtype=np.int64)
    for g in range(len(codes)):
        rows = sex == g
        which[rows] = np.searchsorted(cumulative[g], which_u[rows], side="right")
    which = np.minimum(which, len(share) - 1)
    disorder = np.where(affected, which, NO_DISORDER).astype(np.int16)
    severity = np.full(n, -1, dtype=np.int8)
    level = np.full(n, np.nan)
    for d, sig in enumerate(params.signatures):
        rows = np.flatnonzero(disorder == d)
        if not len(rows):
            continue
        cum = np.cumsum(sig.severity_weights)
        sev = np.minimum(np.searchsorted(cum, sev_u[rows], side="right"), 2).astype(np.int8)
        severity[rows] = sev
        bounds = np.array([sig.levels[s] for s in ("mild", "moderate", "severe")])
        lo, hi = bounds[sev, 0], bounds[sev, 1]
        level[rows] = lo * (hi / lo) ** level_u[rows]
    return DisorderDraw(disorder=disorder, severity=severity, level=level)


def apply_signatures(conc_umol_l: np.ndarray, draw: DisorderDraw, affected_rows: np.ndarray,
                     artefacts_log: np.ndarray, age_at_collection_hours: np.ndarray,
                     params: PopulationParams) -> None:
    """Turn affected babies' profiles into their disorder's signature, in place.

    Parameters
    ----------
    conc_umol_l
        Concentrations (n, n_analytes) of the babies as if unaffected.
    draw
        The disorders drawn by :func:`draw_disorders`.
    affected_rows
        Row numbers of the affected babies (``np.flatnonzero(draw.affected)``).
    artefacts_log
        Log offsets that still apply to the primary marker (spot factor and mechanisms), one
        row per entry of ``affected_rows``, shape (len(affected_rows), n_analytes).
    age_at_collection_hours
        Age of each baby at collection (for the signatures' age dependence).
    params
        Population parameters.
    """
    disorder_of = draw.disorder[affected_rows]
    for d, sig in enumerate(params.signatures):
        positions = np.flatnonzero(disorder_of == d)
        if not len(positions):
            continue
        rows = affected_rows[positions]
        j = params.index(sig.primary)
        anchor = params.p99_umol_l[j] if sig.direction == "high" else params.p1_umol_l[j]
        target = draw.level[rows] * anchor
        log_fold = np.log(target / params.median_umol_l[j])
        age_days = np.clip(age_at_collection_hours[rows] / 24.0, 0.25, 10.0)
        age_factor = np.exp(sig.age_log_fold_per_day * (age_days - 2.0))
        conc_umol_l[rows, j] = target * np.exp(artefacts_log[positions, j])
        if sig.primary in sig.age_markers:
            conc_umol_l[rows, j] *= age_factor
        for code, exponent in sig.markers.items():
            k = params.index(code)
            factor = np.exp(exponent * log_fold)
            if code in sig.age_markers:
                factor = factor * age_factor
            conc_umol_l[rows, k] *= factor
