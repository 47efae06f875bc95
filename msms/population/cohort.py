"""Simulated newborn cohorts: profiles (docs/architecture.md "Profiles") with their truth.

``simulate_cohort`` draws babies in fixed-size chunks; every chunk has its own random streams
derived from the seed (``SeedSequence(seed, spawn_key=(chunk,))``), one per component
(covariates, disorders, latent normals, spot, mechanisms). The same seed therefore gives the same
frame; a cohort of whole chunks is the start of any larger cohort with the same seed, and
changing ``disorder_rate`` leaves the covariates of every baby unchanged.

Public names: ``simulate_cohort``, ``split_truth``, ``specimen_ids``, ``TRUTH_COLUMNS``,
``CHUNK_SIZE``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd

from msms.errors import DataError
from msms.population.analytes import split_scale
from msms.population.calibration import calibrate
from msms.population.covariates import SEX_CODES
from msms.population.disorders import apply_signatures
from msms.population.mechanisms import describe
from msms.population.params import SEVERITIES, PopulationParams, default_params
from msms.population.parts import Parts, draw_parts
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

__all__ = ["CHUNK_SIZE", "TRUTH_COLUMNS", "simulate_cohort", "specimen_ids", "split_truth"]

#: Truth columns appended after the analytes: disorder code, mechanisms, severity ("" if none).
TRUTH_COLUMNS: tuple[str, ...] = ("true_disorder", "fp_mechanism", "severity")

#: Babies per chunk (part of the random-stream layout: changing it changes the cohorts).
CHUNK_SIZE = 50_000


def specimen_ids(seed: int, start: int, n: int, width: int) -> np.ndarray:
    """``SIM{seed}-{number}`` for babies ``start + 1 .. start + n``, numbers zero-padded."""
    prefix = f"SIM{seed}-"
    numbers = np.arange(start + 1, start + n + 1, dtype=np.int64)
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (numbers[:, None] // powers[None, :]) % 10 + ord("0")
    codepoints = np.empty((n, len(prefix) + width), dtype=np.uint32)
    codepoints[:, :len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    codepoints[:, len(prefix):] = digits
    return codepoints.view(f"U{len(prefix) + width}").ravel()


def _report_decimals(params: PopulationParams) -> np.ndarray:
    # four significant digits at the catalogue median, as an instrument reports fixed decimals
    return (3 - np.floor(np.log10(params.median_umol_l))).astype(int)


class _Output:
    """Preallocated columns of the whole cohort; chunks are written in place."""

    def __init__(self, n: int, params: PopulationParams) -> None:
        self.params = params
        self.conc = np.empty((len(params.analyte_codes), n))  # one contiguous row per analyte
        self.birth_weight_g = np.empty(n)
        self.gestational_age_weeks = np.empty(n)
        self.age_at_collection_hours = np.empty(n)
        self.sex = np.empty(n, dtype=np.int8)
        self.tpn = np.empty(n, dtype=np.int64)
        self.transfused = np.empty(n, dtype=np.int64)
        self.disorder = np.empty(n, dtype=np.int16)
        self.severity = np.empty(n, dtype=np.int8)
        self.fp_mechanism = np.empty(n, dtype=object)

    def put(self, start: int, parts: Parts, conc: np.ndarray,
            rng_missing: np.random.Generator) -> None:
        cov, params = parts.covariates, self.params
        n = len(cov)
        end = start + n
        block = self.conc[:, start:end]
        block[...] = conc.T
        for j, decimals in enumerate(_report_decimals(params)):
            np.round(block[j], decimals, out=block[j])
            np.maximum(block[j], 10.0 ** -decimals, out=block[j])
        missing = params.covariates.missing
        draws = rng_missing.random((n, 3))
        for k, name in enumerate(("birth_weight_g", "gestational_age_weeks",
                                  "age_at_collection_hours")):
            values = getattr(cov, name).astype(float)
            if missing[name] > 0:
                values = np.where(draws[:, k] < missing[name], np.nan, values)
            getattr(self, name)[start:end] = values
        self.sex[start:end] = cov.sex
        self.tpn[start:end] = cov.tpn
        self.transfused[start:end] = cov.transfused
        self.disorder[start:end] = parts.disorders.disorder
        self.severity[start:end] = parts.disorders.severity
        self.fp_mechanism[start:end] = describe(parts.labels, parts.mechanisms, params)

    def frame(self, ids: np.ndarray) -> pd.DataFrame:
        params = self.params
        codes = np.array([*params.disorder_codes, ""], dtype=object)
        severities = np.array([*SEVERITIES, ""], dtype=object)
        head = pd.DataFrame({
            PROFILE_ID: pd.array(ids, dtype="str"),
            "birth_weight_g": pd.array(self.birth_weight_g, dtype="Int64"),
            "gestational_age_weeks": self.gestational_age_weeks,
            "age_at_collection_hours": self.age_at_collection_hours,
            "sex": pd.array(np.array(SEX_CODES, dtype=object)[self.sex], dtype="str"),
            "tpn": self.tpn,
            "transfused": self.transfused,
        }, columns=[PROFILE_ID, *COVARIATE_COLUMNS])
        analytes = pd.DataFrame(self.conc.T, columns=list(params.analyte_codes), copy=False)
        truth = pd.DataFrame({
            "true_disorder": pd.array(codes[self.disorder], dtype="str"),
            "fp_mechanism": pd.array(self.fp_mechanism, dtype="str"),
            "severity": pd.array(severities[self.severity], dtype="str"),
        }, columns=list(TRUTH_COLUMNS))
        return pd.concat([head, analytes, truth], axis=1)


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
    output = _Output(n, p)
    for chunk, start in enumerate(range(0, n, CHUNK_SIZE)):
        size = min(CHUNK_SIZE, n - start)
        parts = draw_parts(int(seed), chunk, size, p, disorder_rate)
        log_conc = split_scale(parts.z, marginals, out=parts.z)
        log_conc += parts.offsets
        conc = np.exp(log_conc, out=log_conc)
        affected = np.flatnonzero(parts.disorders.affected)
        apply_signatures(conc, parts.disorders, affected, parts.artefacts(affected, p),
                         parts.covariates.age_at_collection_hours, p)
        rng_missing = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(int(seed), spawn_key=(chunk, 5))))
        output.put(start, parts, conc, rng_missing)
        if progress is not None:
            progress(start + size, n)
    return output.frame(specimen_ids(int(seed), 0, n, max(7, len(str(n)))))


def split_truth(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a simulated cohort into (profiles without truth, truth table).

    The truth table has ``specimen_id`` and :data:`TRUTH_COLUMNS`; the profiles keep every other
    column in order (docs/architecture.md "Profiles").
    """
    missing = [c for c in (PROFILE_ID, *TRUTH_COLUMNS) if c not in frame.columns]
    if missing:
        raise DataError(f"frame lacks column(s) {', '.join(missing)}", field=missing[0])
    truth = frame[[PROFILE_ID, *TRUTH_COLUMNS]].copy()
    profiles = frame.drop(columns=list(TRUTH_COLUMNS))
    return profiles, truth

