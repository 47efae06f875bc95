"""Simulated newborn cohorts: profiles (DESIGN §4.2) with their truth.

``simulate_cohort`` draws babies in fixed-size chunks; every chunk has its own random streams
derived from the seed (``SeedSequence(seed, spawn_key=(chunk,))``), one per component
(covariates, disorders, latent normals, spot, mechanisms). The same seed therefore gives the same
frame; a cohort of whole chunks is the start of any larger cohort with the same seed, and
changing ``disorder_rate`` leaves the covariates of every baby unchanged.

Public names: ``simulate_cohort``, ``split_truth``, ``draw_parts``, ``Parts``, ``TRUTH_COLUMNS``,
``CHUNK_SIZE``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msms.errors import DataError
from msms.population.analytes import (
    correlation_matrix,
    covariate_offsets,
    latent_normals,
    split_scale,
    spot_offsets,
)
from msms.population.calibration import calibrate
from msms.population.covariates import SEX_CODES, Covariates, draw_covariates
from msms.population.disorders import (
    DisorderDraw,
    apply_signatures,
    draw_disorders,
)
from msms.population.mechanisms import (
    MechanismDraw,
    add_mechanism_offsets,
    describe,
    draw_mechanisms,
    label_flags,
)
from msms.population.params import SEVERITIES, PopulationParams, default_params
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

__all__ = ["CHUNK_SIZE", "TRUTH_COLUMNS", "Parts", "draw_parts", "simulate_cohort",
           "split_truth"]

#: Truth columns appended after the analytes: disorder code, mechanisms, severity ("" if none).
TRUTH_COLUMNS: tuple[str, ...] = ("true_disorder", "fp_mechanism", "severity")

#: Babies per chunk (part of the random-stream layout: changing it changes the cohorts).
CHUNK_SIZE = 50_000


@dataclass
class Parts:
    """The random parts of one chunk before the marginals are applied."""

    covariates: Covariates
    disorders: DisorderDraw
    z: np.ndarray  # correlated standard normals (n, n_analytes)
    offsets: np.ndarray  # covariate + spot + mechanism log offsets (n, n_analytes)
    artefacts: np.ndarray  # spot + mechanism log offsets (n, n_analytes)
    labels: np.ndarray  # (n, n_labels) bool
    mechanisms: MechanismDraw


_CHOLESKY: dict[int, np.ndarray] = {}


def _cholesky(params: PopulationParams) -> np.ndarray:
    key = id(params)
    chol = _CHOLESKY.get(key)
    if chol is None:
        chol = np.linalg.cholesky(correlation_matrix(params))
        _CHOLESKY.clear()
        _CHOLESKY[key] = chol
    return chol


def draw_parts(seed: int, chunk: int, n: int, params: PopulationParams,
               disorder_rate: float | None) -> Parts:
    """Draw chunk ``chunk`` of ``n`` babies of the cohort with this ``seed``."""
    streams = np.random.SeedSequence(seed, spawn_key=(chunk,)).spawn(5)
    rng_cov, rng_dis, rng_latent, rng_spot, rng_mech = (
        np.random.Generator(np.random.PCG64(s)) for s in streams
    )
    cov = draw_covariates(rng_cov, n, params)
    dis = draw_disorders(rng_dis, n, params, disorder_rate)
    for d, sig in enumerate(params.signatures):
        if sig.sex is not None:
            cov.sex[dis.disorder == d] = SEX_CODES.index(sig.sex)
    z = latent_normals(rng_latent, n, _cholesky(params))
    artefacts = spot_offsets(rng_spot, cov, params)
    mech = draw_mechanisms(rng_mech, cov, params)
    add_mechanism_offsets(artefacts, mech, params)
    offsets = covariate_offsets(cov, params)
    offsets += artefacts
    return Parts(covariates=cov, disorders=dis, z=z, offsets=offsets, artefacts=artefacts,
                 labels=label_flags(cov, params), mechanisms=mech)


def _report_decimals(params: PopulationParams) -> np.ndarray:
    # four significant digits at the catalogue median, as an instrument reports fixed decimals
    return (3 - np.floor(np.log10(params.median_umol_l))).astype(int)


def _chunk_frame(parts: Parts, conc: np.ndarray, params: PopulationParams, seed: int,
                 start: int, width: int, rng_missing: np.random.Generator) -> dict[str, object]:
    cov = parts.covariates
    n = len(cov)
    decimals = _report_decimals(params)
    columns: dict[str, object] = {
        PROFILE_ID: np.array([f"SIM{seed}-{i:0{width}d}" for i in range(start + 1, start + n + 1)],
                             dtype=object),
    }
    missing = params.covariates.missing
    bw = cov.birth_weight_g.astype(float)
    ga = cov.gestational_age_weeks
    age = cov.age_at_collection_hours
    draws = rng_missing.random((n, 3))
    if missing["birth_weight_g"] > 0:
        bw = np.where(draws[:, 0] < missing["birth_weight_g"], np.nan, bw)
    if missing["gestational_age_weeks"] > 0:
        ga = np.where(draws[:, 1] < missing["gestational_age_weeks"], np.nan, ga)
    if missing["age_at_collection_hours"] > 0:
        age = np.where(draws[:, 2] < missing["age_at_collection_hours"], np.nan, age)
    values = {
        "birth_weight_g": bw,
        "gestational_age_weeks": ga,
        "age_at_collection_hours": age,
        "sex": np.array(SEX_CODES, dtype=object)[cov.sex],
        "tpn": cov.tpn.astype(np.int64),
        "transfused": cov.transfused.astype(np.int64),
    }
    for name in COVARIATE_COLUMNS:
        columns[name] = values[name]
    for j, code in enumerate(params.analyte_codes):
        resolution = 10.0 ** -decimals[j]
        columns[code] = np.maximum(np.round(conc[:, j], decimals[j]), resolution)
    codes = np.array([*params.disorder_codes, ""], dtype=object)
    dis = parts.disorders
    columns["true_disorder"] = codes[np.where(dis.affected, dis.disorder, len(codes) - 1)]
    columns["fp_mechanism"] = describe(parts.labels, parts.mechanisms, params)
    severities = np.array([*SEVERITIES, ""], dtype=object)
    columns["severity"] = severities[np.where(dis.severity >= 0, dis.severity, len(SEVERITIES))]
    return columns


def _check(n: object, seed: object, disorder_rate: object) -> None:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 0:
        raise DataError(f"n must be a non-negative integer, got {n!r}", field="n")
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise DataError(f"seed must be a non-negative integer, got {seed!r}", field="seed")
    if disorder_rate is not None and (
        not isinstance(disorder_rate, numbers.Real) or isinstance(disorder_rate, bool)
        or not 0.0 <= float(disorder_rate) <= 1.0
    ):
        raise DataError(f"disorder_rate must lie in [0, 1], got {disorder_rate!r}",
                        field="disorder_rate")


def simulate_cohort(
    n: int,
    *,
    seed: int,
    disorder_rate: float | None = None,
    params: PopulationParams | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Simulate ``n`` newborn screening profiles with their truth.

    Parameters
    ----------
    n
        Number of babies.
    seed
        Non-negative integer; the same seed (and parameters) gives the same frame.
    disorder_rate
        Fraction of affected babies, spread over the disorders in proportion to prevalence with
        a floor so that every simulated disorder appears (validation sets). ``None``: each
        disorder at its birth prevalence (about 1 in 1,850 babies affected overall).
    params
        Population parameters; default :func:`msms.population.params.default_params`.
    progress
        Called as ``progress(done, n)`` after each chunk.

    Returns
    -------
    pandas.DataFrame
        ``specimen_id``, the covariates of :data:`msms.tables.COVARIATE_COLUMNS`, one column per
        catalogue analyte (µmol/L), then ``true_disorder`` (disorder code or ""),
        ``fp_mechanism`` (mechanism names joined by "|", or "") and ``severity``
        (mild|moderate|severe, or "").

    Raises
    ------
    DataError
        If ``n``, ``seed`` or ``disorder_rate`` is out of range.
    """
    _check(n, seed, disorder_rate)
    p = params if params is not None else default_params()
    marginals = calibrate(p)
    width = max(7, len(str(n)))
    pieces: list[dict[str, object]] = []
    for chunk, start in enumerate(range(0, n, CHUNK_SIZE)):
        size = min(CHUNK_SIZE, n - start)
        parts = draw_parts(int(seed), chunk, size, p, disorder_rate)
        log_conc = split_scale(parts.z, marginals)
        log_conc += parts.offsets
        conc = np.exp(log_conc, out=log_conc)
        apply_signatures(conc, parts.disorders, parts.artefacts,
                         parts.covariates.age_at_collection_hours, p)
        rng_missing = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(int(seed), spawn_key=(chunk, 5))))
        pieces.append(_chunk_frame(parts, conc, p, int(seed), start, width, rng_missing))
        if progress is not None:
            progress(start + size, n)
    names = [PROFILE_ID, *COVARIATE_COLUMNS, *p.analyte_codes, *TRUTH_COLUMNS]
    if not pieces:
        return pd.DataFrame({name: pd.Series([], dtype=_empty_dtype(name, p))
                             for name in names})
    data = {name: np.concatenate([piece[name] for piece in pieces]) for name in names}
    frame = pd.DataFrame(data, columns=names)
    frame["birth_weight_g"] = frame["birth_weight_g"].astype("Int64")
    for name in (PROFILE_ID, "sex", *TRUTH_COLUMNS):
        frame[name] = frame[name].astype("str")
    return frame


def _empty_dtype(name: str, params: PopulationParams) -> str:
    if name in (PROFILE_ID, "sex", *TRUTH_COLUMNS):
        return "str"
    if name == "birth_weight_g":
        return "Int64"
    if name in ("tpn", "transfused"):
        return "int64"
    return "float64"


def split_truth(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a simulated cohort into (profiles without truth, truth table).

    The truth table has ``specimen_id`` and :data:`TRUTH_COLUMNS`; the profiles keep every other
    column in order (DESIGN §4.2).
    """
    missing = [c for c in (PROFILE_ID, *TRUTH_COLUMNS) if c not in frame.columns]
    if missing:
        raise DataError(f"frame lacks column(s) {', '.join(missing)}", field=missing[0])
    truth = frame[[PROFILE_ID, *TRUTH_COLUMNS]].copy()
    profiles = frame.drop(columns=list(TRUTH_COLUMNS))
    return profiles, truth

