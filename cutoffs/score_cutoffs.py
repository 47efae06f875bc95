"""Cutoffs for disorder scores, derived from a laboratory's screen-negative population at a
target flag rate, the floors that keep them below confirmed cases, and the flags they give.

Every disorder gets the same tail share q of the population; q is chosen (bisection) so that
the share of babies flagged for at least one disorder is the target. Disorders whose scores
are identical (a shared first tier: PKU, H-PHE and BIOPT) flag the same babies and cost the
union nothing extra. A disorder may be given its own tail share instead (``tail_shares``: the
per-disorder target of ``nbs cutoffs derive``). With ``floors`` (per disorder, a score its
confirmed cases reach) a disorder's cutoff never lies above its floor, whatever the target; the
target is then met only if the floors allow it, and the shared q shrinks to make room for them.

Floors come from the published disease ranges (:func:`range_floors`: the score of a specimen
whose markers sit at the lowest statistic published for the disorder's detected cases) or from
a laboratory's confirmed cases (:func:`case_floors`: their lowest score less a margin).

Public names: ``derive_score_cutoffs``, ``flag_scores``, ``any_flag_rate``, ``flag_rates``,
``range_floors``, ``case_floors``, ``oracle_cutoffs``, ``MIN_FLOOR_SD``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
from scipy.special import ndtri

from cutoffs.disease_ranges import DiseaseRange
from cutoffs.errors import CutoffError
from cutoffs.score_spec import ScoreSpec
from cutoffs.score_weights import expected_shift
from cutoffs.signatures import Signature

__all__ = ["MIN_FLOOR_SD", "any_flag_rate", "case_floors", "derive_score_cutoffs", "flag_rates",
           "flag_scores", "oracle_cutoffs", "range_floors"]

#: A floor below the normal p99.5 (in SDs) is not used: see :func:`range_floors`.
MIN_FLOOR_SD = float(ndtri(0.995))


def flag_scores(scores: pd.DataFrame, cutoffs: Mapping[str, float]) -> pd.DataFrame:
    """Boolean frame: score above its disorder's cutoff (a missing score never flags)."""
    return pd.DataFrame({d: scores[d].to_numpy() > cutoffs[d] for d in cutoffs},
                        index=scores.index)


def any_flag_rate(scores: pd.DataFrame, cutoffs: Mapping[str, float]) -> float:
    """Share of specimens flagged for at least one disorder."""
    return float(flag_scores(scores, cutoffs).to_numpy().any(axis=1).mean())


def flag_rates(scores: pd.DataFrame, cutoffs: Mapping[str, float]) -> dict[str, float]:
    """Share of specimens flagged for each disorder."""
    return {d: float(np.mean(scores[d].to_numpy() > c)) for d, c in cutoffs.items()}


def _cutoff_at(values: np.ndarray, q: float) -> float:
    if not values.size:
        return float("inf")
    k = min(int(np.floor((1.0 - q) * values.size)), values.size - 1)
    return float(values[k])


def _cutoffs_at(sorted_columns: dict[str, np.ndarray], q: float, floors: Mapping[str, float],
                tail_shares: Mapping[str, float]) -> dict[str, float]:
    return {code: min(_cutoff_at(values, tail_shares.get(code, q)),
                      floors.get(code, float("inf")))
            for code, values in sorted_columns.items()}


def derive_score_cutoffs(scores: pd.DataFrame, target_flag_rate: float, *,
                         floors: Mapping[str, float] | None = None,
                         tail_shares: Mapping[str, float] | None = None,
                         iterations: int = 40) -> tuple[dict[str, float], float]:
    """Per-disorder score cutoffs on a screen-negative population.

    Parameters
    ----------
    scores
        Disorder scores of screen-negative babies (``disorder_scores(...).scores``).
    target_flag_rate
        Share of babies to be flagged for any disorder (0-1), e.g. 0.015.
    floors
        Per disorder, the highest cutoff allowed (scores of confirmed cases); optional.
    tail_shares
        Per disorder, its own tail share (0-1) instead of the shared one; optional.

    Returns
    -------
    cutoffs, q
        The cutoff of every disorder (a score must be above it to flag) and the tail share q
        shared by the disorders without their own.
    """
    if not 0.0 < target_flag_rate < 1.0:
        raise CutoffError(f"target flag rate {target_flag_rate!r} must be between 0 and 1",
                          field="target_flag_rate")
    tail_shares = dict(tail_shares or {})
    for code, share in tail_shares.items():
        if code not in scores.columns or not 0.0 <= share < 1.0:
            raise CutoffError(f"{code}: a tail share must be in [0, 1) for a scored disorder",
                              field="tail_share")
    sorted_columns = {c: np.sort(scores[c].to_numpy()[np.isfinite(scores[c].to_numpy())])
                      for c in scores.columns}
    floors = floors or {}
    lo, hi = 0.0, target_flag_rate
    for _ in range(iterations):
        q = (lo + hi) / 2
        cut = _cutoffs_at(sorted_columns, q, floors, tail_shares)
        if any_flag_rate(scores, cut) > target_flag_rate:
            hi = q
        else:
            lo = q
    return _cutoffs_at(sorted_columns, lo, floors, tail_shares), lo


def range_floors(specs: Mapping[str, ScoreSpec], signatures: Mapping[str, Signature],
                 ranges: Iterable[DiseaseRange], position: Callable[[str, float], float],
                 *, minimum: float = MIN_FLOOR_SD) -> tuple[dict[str, float], dict[str, float]]:
    """Floors from the published detected ranges.

    For a disorder with a published range for some of its markers: the score of a baby at the
    reference whose ranged markers sit at their lowest published statistic and whose other
    markers sit at the same fraction t of their expected shift (t: the smallest fraction of
    the way from the normal median to the disease anchor among the ranged markers). A floor
    below ``minimum`` (the normal p99.5, in SDs) means the published cases reach into the
    normal tail, where a floor would flag more babies than a per-marker cutoff: it is
    returned separately, not used.

    Returns
    -------
    floors, overlapping
        Floors to use, and the floors below ``minimum`` (per disorder).
    """
    ranges = tuple(ranges)
    floors: dict[str, float] = {}
    overlapping: dict[str, float] = {}
    for code, spec in specs.items():
        low = {r.marker: r.lowest[1] for r in ranges
               if r.disorder == code and r.cohort == "detected" and r.marker in spec.markers}
        if not low or code not in signatures:
            continue
        shift = dict(zip(spec.markers, expected_shift(signatures[code], ranges, position),
                         strict=True))
        signs = dict(zip(spec.markers, spec.signs, strict=True))
        placed = {m: signs[m] * position(m, v) for m, v in low.items()}
        t = float(np.clip(min(placed[m] / shift[m] * _weight(signatures[code], m)
                              for m in placed), 0.0, 1.0))
        positions = {m: np.array([signs[m] * placed[m] if m in placed else
                                  signs[m] * t * shift[m]]) for m in spec.markers}
        floor = float(spec.score(positions)[0])
        (floors if floor >= minimum else overlapping)[code] = floor
    return floors, overlapping


def _weight(signature: Signature, marker: str) -> float:
    return next(m.weight for m in signature.markers if m.name == marker)


def case_floors(scores: pd.DataFrame, disorders: np.ndarray, *,
                margin: float = 0.0) -> dict[str, float]:
    """Per disorder, the lowest score of its confirmed cases (``disorders``: the confirmed
    disorder of each row of ``scores``) less ``margin``."""
    out = {}
    for code in scores.columns:
        mine = scores[code].to_numpy()[disorders == code]
        mine = mine[np.isfinite(mine)]
        if mine.size:
            out[code] = float(mine.min()) - margin
    return out


def oracle_cutoffs(scores: pd.DataFrame, disorders: np.ndarray) -> dict[str, float]:
    """Per disorder, just below its lowest case: the cutoffs that find every case (the oracle
    limit when the cases are the test set's own)."""
    return {code: np.nextafter(v, -np.inf)
            for code, v in case_floors(scores, disorders).items()}
