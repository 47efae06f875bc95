"""A simulated screening programme with the second tier: each baby's first card with its
second-tier analytes and recorded context, and a repeat specimen (a new card days later).

The first card is exactly :func:`msms.population.simulate_cohort`'s profile for the same seed,
with these columns added: ``infant_id``, the context flags ``pivalate_exposure`` and
``maternal_b12_low``, and one column per second-tier assay (``msms/data/second_tier_assays.csv``:
``MCA``, ``MMA``, ``tHcy``, ``C5-IV``, ``C5-2MB``, ``C5-PIV``, ``aIle``, ``SUAC-2T``, ``GA``,
``3OH-GA``, ``C26:0-LPC-2T``; µmol/L, 0 below the limit of quantitation) and per genotype
(``ACADM``, ``ACADVL``) the number of pathogenic variants detected (0-2: an affected baby's two
alleles each detected at the per-allele rate, a carrier's one, a variant of uncertain
significance counted as one; the same on the repeat card).

The repeat specimen (``SIM{seed}-R...``, ``previous_specimen_id`` the first card) is drawn with
the same babies' disorders and levels: the latent biology correlates with the first card's, the
age moves on by the repeat delay (so age slopes apply: MSUD rises), TPN stops in most babies,
every mechanism keeps its ``persistence`` share of its log fold (maternal B12 and carriers
persist, pivalate clears), and spot artefacts and catabolism are drawn afresh
(``msms/data/population/second_tier.toml``).

Public names: ``simulate_screening``, ``second_tier_columns``, ``CONTEXT_COLUMNS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from msms.population.analytes import (
    draw_spot,
    effect_matrix,
    latent_normals,
    split_scale,
    spot_loadings,
)
from msms.population.calibration import calibrate
from msms.population.cohort import CHUNK_SIZE, _check, _Output, specimen_ids
from msms.population.covariates import Covariates, covariate_terms
from msms.population.disorders import apply_signatures
from msms.population.mechanisms import MechanismDraw, add_mechanism_offsets, label_flags
from msms.population.params import SEVERITIES, PopulationParams, default_params
from msms.population.parts import Parts, _matrices, draw_parts
from msms.population.second_tier_params import SecondTierParams, default_second_tier_params

__all__ = ["CONTEXT_COLUMNS", "second_tier_columns", "simulate_screening"]

CONTEXT_COLUMNS: tuple[str, ...] = ("pivalate_exposure", "maternal_b12_low")
_Z99 = 2.3263478740408408


def second_tier_columns(st: SecondTierParams | None = None) -> tuple[str, ...]:
    """The second-tier assay columns, in catalogue order."""
    return tuple((st or default_second_tier_params()).assays)


def _mechanism_offsets(draw: MechanismDraw, params: PopulationParams, n_analytes: int,
                       scale: np.ndarray) -> np.ndarray:
    out = np.zeros((draw.present.shape[0], n_analytes))
    add_mechanism_offsets(out, draw, params, scale)
    return out


def _artefacts(cov: Covariates, spot: np.ndarray, mech_log: np.ndarray, rows: np.ndarray,
               params: PopulationParams) -> np.ndarray:
    out = spot[rows] @ spot_loadings(params) + mech_log[rows]
    if params.primary_terms:
        names = [t.name for t in params.terms]
        keep = [names.index(t) for t in params.primary_terms]
        out += covariate_terms(cov, params)[rows][:, keep] @ effect_matrix(params)[keep]
    return out


class _Specimen:
    """One specimen of a chunk: covariates, latent z, mechanisms, concentrations."""

    def __init__(self, cov: Covariates, z: np.ndarray, mech: MechanismDraw,
                 mech_scale: np.ndarray, labels: np.ndarray, pre: np.ndarray,
                 conc: np.ndarray) -> None:
        self.cov, self.z, self.mech, self.mech_scale = cov, z, mech, mech_scale
        self.labels, self.pre, self.conc = labels, pre, conc


def _concentrations(parts: Parts, cov: Covariates, z: np.ndarray, spot: np.ndarray,
                    mech: MechanismDraw, scale: np.ndarray, marginals,
                    params: PopulationParams) -> tuple[np.ndarray, np.ndarray]:
    n_a = len(params.analyte_codes)
    mech_log = _mechanism_offsets(mech, params, n_a, scale)
    offsets = np.concatenate([covariate_terms(cov, params), spot], axis=1) @ _matrices(
        params).effects + mech_log
    pre = np.exp(split_scale(z, marginals) + offsets)
    conc = pre.copy()
    affected = np.flatnonzero(parts.disorders.affected)
    apply_signatures(conc, parts.disorders, affected,
                     _artefacts(cov, spot, mech_log, affected, params),
                     cov.age_at_collection_hours, params)
    return pre, conc


def _first(parts: Parts, marginals, params: PopulationParams) -> _Specimen:
    scale = np.ones(len(params.mechanisms))
    pre, conc = _concentrations(parts, parts.covariates, parts.z, parts.spot, parts.mechanisms,
                                scale, marginals, params)
    return _Specimen(parts.covariates, parts.z, parts.mechanisms, scale, parts.labels, pre,
                     conc)


def _repeat(parts: Parts, rng: np.random.Generator, marginals, params: PopulationParams,
            st: SecondTierParams) -> _Specimen:
    cov, n = parts.covariates, len(parts.covariates)
    lo, hi = st.delay_days
    age = np.round(cov.age_at_collection_hours + 24.0 * (lo + (hi - lo) * rng.random(n)), 1)
    keeps = (cov.tpn == 1) & (rng.random(n) < st.tpn_continues)
    cov2 = replace(cov, age_at_collection_hours=age, tpn=keeps.astype(np.int8),
                   tpn_intensity=np.where(keeps, cov.tpn_intensity, 0.0))
    r = st.latent_correlation
    z2 = r * parts.z + np.sqrt(1 - r * r) * latent_normals(rng, n, _matrices(params).chol)
    spot2 = draw_spot(rng, cov2, params)
    names = [m.name for m in params.mechanisms]
    present = parts.mechanisms.present.copy()
    strength = parts.mechanisms.strength.copy()
    scale = np.array([st.persistence.get(m, 0.0) for m in names])
    for k, m in enumerate(params.mechanisms):
        if m.name in st.redrawn:
            present[:, k] = rng.random(n) < m.rate
            strength[:, k] = np.where(present[:, k], rng.random(n), 0.0)
            scale[k] = 1.0
        else:
            present[:, k] &= scale[k] > 0
    mech2 = MechanismDraw(present=present, strength=strength)
    pre, conc = _concentrations(parts, cov2, z2, spot2, mech2, scale, marginals, params)
    return _Specimen(cov2, z2, mech2, scale, label_flags(cov2, params), pre, conc)


def _position(parts: Parts, params: PopulationParams) -> np.ndarray:
    """Where each affected baby's primary level lies within its severity's range (0..1)."""
    d = parts.disorders
    u = np.full(len(d.disorder), np.nan)
    for g, sig in enumerate(params.signatures):
        rows = np.flatnonzero(d.disorder == g)
        if not len(rows):
            continue
        bounds = np.array([sig.levels[s] for s in SEVERITIES])
        lo, hi = bounds[d.severity[rows], 0], bounds[d.severity[rows], 1]
        u[rows] = np.clip(np.log(d.level[rows] / lo) / np.log(hi / lo), 0.0, 1.0)
    return u


def _second_tier(parts: Parts, spec: _Specimen, rng: np.random.Generator,
                 params: PopulationParams, st: SecondTierParams) -> dict[str, np.ndarray]:
    n = len(spec.cov)
    out: dict[str, np.ndarray] = {}
    mech_index = {m.name: k for k, m in enumerate(params.mechanisms)}
    for code, (anchor, rho) in st.anchors.items():
        assay = st.assays[code]
        med, p99 = assay.reference_median_umol_l, assay.reference_p99_umol_l
        s = np.log(p99 / med) / _Z99
        e = rng.standard_normal(n)
        out[code] = np.log(med) + s * (rho * spec.z[:, params.index(anchor)]
                                       + np.sqrt(1 - rho * rho) * e)
    for name, effects in st.mechanism_effects.items():
        k = mech_index[name]
        rows = np.flatnonzero(spec.mech.present[:, k])
        u = spec.mech.strength[rows, k]
        for analyte, lo, hi in effects:
            out[analyte][rows] += spec.mech_scale[k] * (np.log(lo) + (np.log(hi) - np.log(lo)) * u)
    codes = params.disorder_codes
    u = _position(parts, params)
    d = parts.disorders
    for code, entries in st.disorder_levels.items():
        rows = np.flatnonzero(d.disorder == codes.index(code))
        if not len(rows):
            continue
        sev = d.severity[rows]
        for analyte, ranges in entries:
            bounds = np.array([ranges[s] for s in SEVERITIES])
            lo, hi = bounds[sev, 0], bounds[sev, 1]
            level = st.assays[analyte].cutoff_umol_l * lo * (hi / lo) ** u[rows]
            out[analyte][rows] = np.logaddexp(out[analyte][rows], np.log(level))
    values = {c: np.exp(v) for c, v in out.items()}
    # the C5 isomers split the measured C5
    j = params.index(st.split_analyte)
    k = mech_index[st.split_mechanism]
    mech_log = _mechanism_offsets(
        MechanismDraw(spec.mech.present[:, [k]], spec.mech.strength[:, [k]]),
        _only_mechanism(params, k), len(params.analyte_codes), spec.mech_scale[[k]])[:, j]
    own = spec.pre[:, j] / np.exp(mech_log)
    pivaloyl = spec.pre[:, j] - own
    excess = np.maximum(spec.conc[:, j] - spec.pre[:, j], 0.0)
    lo, hi = st.isovaleryl_share
    share = lo + (hi - lo) * rng.random(n)
    iva = d.disorder == codes.index(st.isovaleryl_disorder)
    mbg = d.disorder == codes.index(st.methylbutyryl_disorder)
    values["C5-IV"] = share * own + np.where(iva, excess, 0.0)
    values["C5-2MB"] = (1 - share) * own + np.where(mbg, excess, 0.0)
    values["C5-PIV"] = st.pivaloyl_trace + pivaloyl
    result = {}
    for code, assay in st.assays.items():
        if assay.is_count:
            continue
        v = values[code] * np.exp(st.cv * rng.standard_normal(n))
        decimals = int(3 - np.floor(np.log10(assay.reference_median_umol_l)))
        v = np.round(v, max(decimals, 2))
        result[code] = np.where(v < assay.loq_umol_l, 0.0, v)
    return result


def _genotypes(parts: Parts, rng: np.random.Generator, params: PopulationParams,
               st: SecondTierParams) -> dict[str, np.ndarray]:
    """Per genotype assay, the pathogenic variants detected on each baby's card (0, 1, 2)."""
    n = len(parts.disorders.disorder)
    codes = params.disorder_codes
    names = [m.name for m in params.mechanisms]
    out = {}
    for assay, (disorder, carrier, p, vus) in st.genotypes.items():
        affected = parts.disorders.disorder == codes.index(disorder)
        carries = parts.mechanisms.present[:, names.index(carrier)] & ~affected
        alleles = np.where(affected, 2, np.where(carries, 1, 0))
        detected = rng.binomial(alleles, p)
        uncertain = (alleles == 0) & (rng.random(n) < vus)
        out[assay] = (detected + uncertain).astype(float)
    return out


def _only_mechanism(params: PopulationParams, k: int) -> PopulationParams:
    """``params`` with only mechanism ``k`` (for one mechanism's offsets)."""
    return replace(params, mechanisms=(params.mechanisms[k],))


def _context(spec: _Specimen, rng: np.random.Generator, params: PopulationParams,
             st: SecondTierParams) -> dict[str, np.ndarray]:
    n = len(spec.cov)
    names = [m.name for m in params.mechanisms]
    out = {}
    for column, mech in (("pivalate_exposure", "pivalate_exposure"),
                         ("maternal_b12_low", "maternal_b12_deficiency")):
        has = spec.mech.present[:, names.index(mech)]
        u = rng.random(n)
        out[column] = np.where(has, u < st.context[f"{column}_recorded"],
                               u < st.context[f"{column}_false"]).astype(np.int64)
    return out


def simulate_screening(
    n: int,
    *,
    seed: int,
    disorder_rate: float | None = None,
    params: PopulationParams | None = None,
    second_tier: SecondTierParams | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate ``n`` babies' first cards and repeat specimens, with their truth.

    Returns
    -------
    (first, repeat)
        Two frames with the cohort's columns (:func:`msms.population.simulate_cohort`, truth
        included), then ``infant_id``, ``previous_specimen_id`` (empty on the first card),
        :data:`CONTEXT_COLUMNS` and one column per second-tier assay; row i of both is the
        same baby. Same seed and parameters, same frames.
    """
    _check(n, seed, disorder_rate)
    p = params if params is not None else default_params()
    st = second_tier if second_tier is not None else default_second_tier_params()
    marginals = calibrate(p)
    outputs = (_Output(n, p), _Output(n, p))
    extra: list[dict[str, np.ndarray]] = [{}, {}]
    for chunk, start in enumerate(range(0, n, CHUNK_SIZE)):
        size = min(CHUNK_SIZE, n - start)
        parts = draw_parts(int(seed), chunk, size, p, disorder_rate)
        rngs = [np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(int(seed), spawn_key=(chunk, 7 + k)))) for k in range(4)]
        first = _first(parts, marginals, p)
        again = _repeat(parts, rngs[0], marginals, p, st)
        genotypes = _genotypes(parts, np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(int(seed), spawn_key=(chunk, 13)))), p, st)
        for i, spec in enumerate((first, again)):
            missing = np.random.Generator(np.random.PCG64(
                np.random.SeedSequence(int(seed), spawn_key=(chunk, 5 if i == 0 else 11))))
            view = Parts(covariates=spec.cov, disorders=parts.disorders, z=spec.z,
                         offsets=parts.offsets, spot=parts.spot, labels=spec.labels,
                         mechanisms=spec.mech)
            outputs[i].put(start, view, spec.conc, missing)
            cols = _second_tier(parts, spec, rngs[2 + i], p, st) | genotypes
            if i == 0:
                cols.update(_context(spec, rngs[1], p, st))
            for name, values in cols.items():
                extra[i].setdefault(name, np.empty(n))[start:start + size] = values
        if progress is not None:
            progress(start + size, n)
    width = max(7, len(str(n)))
    ids = specimen_ids(int(seed), 0, n, width)
    frames = [outputs[0].frame(ids),
              outputs[1].frame(np.char.replace(ids, "-", "-R", count=1))]
    for i, frame in enumerate(frames):
        frame.insert(1, "infant_id", pd.array(np.char.replace(ids, "SIM", "INF", count=1),
                                              dtype="str"))
        frame.insert(2, "previous_specimen_id",
                     pd.array(ids if i else np.full(n, ""), dtype="str"))
        for column in CONTEXT_COLUMNS:  # context recorded on the case holds for both cards
            frame[column] = extra[0][column].astype(np.int64)
        for code in st.assays:
            frame[code] = extra[i][code]
    return frames[0], frames[1]
