"""Affected babies: which disorder, how severe, and how it shows in the profile.

Signatures are data (``msms/data/population/disorders.toml``), keyed by the catalogue's disorder
codes. The primary marker's level is drawn per severity as a multiple of the catalogue p99 (or p1
for a low marker) and keeps only the baby's spot factor; the other markers of the signature move
with it as powers of the primary's fold over the catalogue median, so ratios follow.

Public names: ``DisorderDraw``, ``disorder_probabilities``, ``draw_disorders``,
``apply_signatures``, ``allocate_by_sex``, ``NO_DISORDER``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msms.population.params import PopulationParams

__all__ = [
    "NO_DISORDER",
    "DisorderDraw",
    "allocate_by_sex",
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


def allocate_by_sex(share: np.ndarray, rate: float, sex_probabilities: np.ndarray,
                    restricted_to: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """Affected rate per sex and each sex's disorder mix, so that a fraction ``rate`` of all
    babies is affected and each disorder keeps its ``share`` of them wherever that is possible.

    Parameters
    ----------
    share
        Share of the affected babies per disorder (sums to 1).
    rate
        Fraction of all babies affected, in [0, 1].
    sex_probabilities
        Probability of each sex code (M, F, U).
    restricted_to
        Per disorder, the sex code it is restricted to (X-ALD: boys), or None.

    Returns
    -------
    rate_by_sex, mix
        ``rate_by_sex[g]`` is the affected rate among babies of sex ``g`` (at most 1), with
        ``sum(sex_probabilities * rate_by_sex) == rate``; ``mix[g, d]`` is the probability that
        an affected baby of sex ``g`` has disorder ``d`` (rows sum to 1; 0 where ineligible).

    A sex-restricted disorder is drawn only in its sex, at a rate raised by 1 / P(sex) so that its
    share of all babies is kept. When that would make a sex's affected rate exceed 1 (a high
    ``rate``), the unrestricted disorders of that sex are moved to the other sexes (water-filling:
    equal rates among the sexes that still have room), so the totals are kept. Only when the
    restricted disorders alone exceed a sex's babies are their shares scaled down to fit, and the
    rest goes to the unrestricted disorders.
    """
    n_sexes, n_disorders = len(sex_probabilities), len(share)
    wanted = rate * np.asarray(share, dtype=float)  # fraction of all babies, per disorder
    restricted = np.zeros((n_sexes, n_disorders), dtype=bool)
    for d, g in enumerate(restricted_to):
        if g is not None:
            restricted[g, d] = True
    unrestricted = ~restricted.any(axis=0)
    p = np.asarray(sex_probabilities, dtype=float)
    # restricted disorders: their rate within their own sex, scaled down if they alone overflow
    within = np.zeros((n_sexes, n_disorders))
    for g in range(n_sexes):
        demand = float(wanted[restricted[g]].sum())  # as a fraction of all babies
        if demand <= 0 or p[g] <= 0:
            continue
        scale = demand if demand > p[g] else float(p[g])  # overflowing: fill the sex exactly
        within[g, restricted[g]] = wanted[restricted[g]] / scale
    restricted_rate = np.minimum(within.sum(axis=1), 1.0)
    # unrestricted disorders fill what remains of the total, at equal rates where there is room
    room = 1.0 - restricted_rate
    total_unrestricted = max(rate - float(p @ restricted_rate), 0.0)
    level = _water_level(p, room, total_unrestricted)
    unrestricted_rate = np.minimum(room, level)
    unrestricted_wanted = float(wanted[unrestricted].sum())
    if unrestricted_wanted > 0:
        within[:, unrestricted] = (unrestricted_rate[:, None]
                                   * (wanted[unrestricted] / unrestricted_wanted)[None, :])
    rate_by_sex = within.sum(axis=1)
    rate_by_sex[rate_by_sex > 1.0 - 1e-12] = 1.0  # rounding must not spare a baby at rate 1
    totals = within.sum(axis=1, keepdims=True)
    mix = np.divide(within, totals, out=np.zeros_like(within), where=totals > 0)
    return rate_by_sex, mix


def _water_level(p: np.ndarray, room: np.ndarray, total: float) -> float:
    """The rate L with ``sum(p * min(room, L)) == total`` (or the largest room if none fits)."""
    capped = np.zeros(len(p), dtype=bool)
    while True:
        free = float(p[~capped].sum())
        if free <= 1e-12:  # no sex with babies has room left
            return float(room.max(initial=0.0))
        level = (total - float(p[capped] @ room[capped])) / free
        newly = ~capped & (room < level)
        if not newly.any():
            return level
        capped |= newly


def _cumulative(mix: np.ndarray) -> np.ndarray:
    """Per-row cumulative probabilities ending at exactly 1 from each row's last eligible
    disorder on, so that a uniform draw in [0, 1) never picks a disorder of probability 0."""
    cumulative = np.cumsum(mix, axis=1)
    for g in range(len(mix)):
        positive = np.flatnonzero(mix[g] > 0)
        if len(positive):
            cumulative[g, positive[-1]:] = 1.0
    return cumulative


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
        Fraction of babies affected (validation sets), any value in [0, 1]; ``None`` for the
        disorders' birth prevalence (about 1 in 1,850 overall with the packaged data).
    sex
        Sex codes of the babies (0 M, 1 F, 2 U; :data:`msms.population.covariates.SEX_CODES`).
        A disorder restricted to one sex (X-ALD: boys) is drawn only among babies of that sex,
        at a rate raised so that its share of the whole population is unchanged; babies of
        unknown sex never get a sex-restricted disorder. When the raised rate would exceed 1,
        :func:`allocate_by_sex` moves the other disorders to the other sexes, so the affected
        fraction is still ``disorder_rate`` (at 1, every baby is affected).
    """
    if disorder_rate is None:
        rate = float(sum(1.0 / s.prevalence_1_in for s in params.signatures))
    else:
        rate = float(disorder_rate)
    share = disorder_probabilities(params, enriched=disorder_rate is not None)
    codes = ("M", "F", "U")
    rate_by_sex, mix = allocate_by_sex(
        share, rate, np.array(params.covariates.sex_probabilities),
        [None if sig.sex is None else codes.index(sig.sex) for sig in params.signatures])
    cumulative = _cumulative(mix)
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
