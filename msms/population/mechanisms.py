"""False-positive mechanisms: conditions other than the screened disorders that move markers.

Two kinds, both data (``msms/data/population/mechanisms.toml``): *labels* named from the
covariates (prematurity, TPN, early and late collection; their effects are the covariate effects)
and *mechanisms* drawn at random (maternal vitamin B12 deficiency, pivalate exposure, heterozygous
carriers, maternal carnitine deficiency, poor spots, haemolysis, ...), each with one strength per
baby that moves all its markers together.

Public names: ``MechanismDraw``, ``condition_mask``, ``label_flags``, ``draw_mechanisms``,
``add_mechanism_offsets``, ``describe``, ``MECHANISM_SEPARATOR``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from msms.population.covariates import Covariates
from msms.population.params import Condition, PopulationParams

__all__ = [
    "MECHANISM_SEPARATOR",
    "MechanismDraw",
    "add_mechanism_offsets",
    "condition_mask",
    "describe",
    "draw_mechanisms",
    "label_flags",
]

#: Separator between the names in ``fp_mechanism`` when a baby has several.
MECHANISM_SEPARATOR = "|"


@dataclass
class MechanismDraw:
    """Which babies have which random mechanism, and how strongly (0 weakest .. 1 strongest)."""

    present: np.ndarray  # (n, n_mechanisms) bool
    strength: np.ndarray  # (n, n_mechanisms) float


def condition_mask(cov: Covariates, condition: Condition) -> np.ndarray:
    """Babies for whom ``condition`` holds (on their true covariates)."""
    x = cov.numeric(condition.covariate)
    if condition.below is not None:
        return x < condition.below
    if condition.above is not None:
        return x > condition.above
    return x == condition.equals


def label_flags(cov: Covariates, params: PopulationParams) -> np.ndarray:
    """Covariate-named mechanisms of every baby, shape (n, n_labels) bool."""
    out = np.zeros((len(cov), len(params.labels)), dtype=bool)
    for k, label in enumerate(params.labels):
        for condition in label.any:
            out[:, k] |= condition_mask(cov, condition)
    return out


def draw_mechanisms(rng: np.random.Generator, cov: Covariates,
                    params: PopulationParams) -> MechanismDraw:
    """Draw the random mechanisms of every baby (one uniform and one strength per mechanism)."""
    n, m = len(cov), len(params.mechanisms)
    present = np.zeros((n, m), dtype=bool)
    strength = np.zeros((n, m))
    for k, mech in enumerate(params.mechanisms):
        u = rng.random(n)
        if mech.when is None:
            present[:, k] = u < mech.rate
        else:
            rate = np.where(condition_mask(cov, mech.when),
                            min(mech.rate * mech.rate_multiplier, 1.0), mech.rate)
            present[:, k] = u < rate
        rows = np.flatnonzero(present[:, k])
        strength[rows, k] = rng.random(len(rows))
    return MechanismDraw(present=present, strength=strength)


def add_mechanism_offsets(log_offsets: np.ndarray, draw: MechanismDraw,
                          params: PopulationParams, scale: np.ndarray | None = None) -> None:
    """Add the log fold of every present mechanism to ``log_offsets`` (n, n_analytes) in place,
    times ``scale[k]`` for mechanism ``k`` when given (a mechanism scaled by 0 is skipped)."""
    for k, mech in enumerate(params.mechanisms):
        rows = np.flatnonzero(draw.present[:, k])
        if not len(rows) or (scale is not None and scale[k] == 0):
            continue
        u = draw.strength[rows, k]
        for effect in mech.effects:
            lo, hi = np.log(effect.fold_at_weakest), np.log(effect.fold_at_strongest)
            cols = np.array([params.index(code) for code in effect.analytes])
            log_fold = lo + (hi - lo) * u
            if scale is not None:
                log_fold = scale[k] * log_fold
            log_offsets[np.ix_(rows, cols)] += log_fold[:, None]


def describe(labels: np.ndarray, draw: MechanismDraw, params: PopulationParams) -> np.ndarray:
    """The ``fp_mechanism`` text of every baby: names present, ``|``-separated ("" for none)."""
    flags = np.concatenate([labels, draw.present], axis=1)
    names = [x.name for x in params.labels] + [m.name for m in params.mechanisms]
    if flags.shape[1] > 62:
        raise ValueError("too many mechanisms to encode")
    weights = np.left_shift(np.int64(1), np.arange(flags.shape[1], dtype=np.int64))
    codes = flags.astype(np.int64) @ weights
    unique, inverse = np.unique(codes, return_inverse=True)
    texts = np.array([
        MECHANISM_SEPARATOR.join(name for b, name in enumerate(names) if (int(code) >> b) & 1)
        for code in unique
    ], dtype=object)
    return texts[inverse]
