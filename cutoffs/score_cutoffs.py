"""Cutoffs for disorder scores, derived from a laboratory's screen-negative population at a
target flag rate, and the flags they give.

Every disorder gets the same tail share q of the population; q is chosen (bisection) so that
the share of babies flagged for at least one disorder is the target. Disorders whose scores
are identical (a shared first tier: PKU, H-PHE and BIOPT) flag the same babies and cost the
union nothing extra. With ``floors`` (per disorder, a score its confirmed cases reach: e.g.
just below the lowest score of the laboratory's confirmed classic cases) a disorder's cutoff
never lies above its floor, whatever the target; the target is then met only if the floors
allow it (the second value returned says how much each disorder was given).

Public names: ``derive_score_cutoffs``, ``flag_scores``, ``any_flag_rate``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError

__all__ = ["any_flag_rate", "derive_score_cutoffs", "flag_scores"]


def flag_scores(scores: pd.DataFrame, cutoffs: Mapping[str, float]) -> pd.DataFrame:
    """Boolean frame: score above its disorder's cutoff (a missing score never flags)."""
    return pd.DataFrame({d: scores[d].to_numpy() > cutoffs[d] for d in cutoffs},
                        index=scores.index)


def any_flag_rate(scores: pd.DataFrame, cutoffs: Mapping[str, float]) -> float:
    """Share of specimens flagged for at least one disorder."""
    return float(flag_scores(scores, cutoffs).to_numpy().any(axis=1).mean())


def _cutoffs_at(sorted_columns: dict[str, np.ndarray], q: float,
                floors: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for code, values in sorted_columns.items():
        k = min(int(np.floor((1.0 - q) * values.size)), values.size - 1)
        cutoff = float(values[k]) if values.size else np.inf
        out[code] = min(cutoff, floors.get(code, np.inf))
    return out


def derive_score_cutoffs(scores: pd.DataFrame, target_flag_rate: float, *,
                         floors: Mapping[str, float] | None = None,
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

    Returns
    -------
    cutoffs, per_disorder_rate
        The cutoff of every disorder (a score must be above it to flag) and the tail share q
        each disorder was given.
    """
    if not 0.0 < target_flag_rate < 1.0:
        raise CutoffError(f"target flag rate {target_flag_rate!r} must be between 0 and 1",
                          field="target_flag_rate")
    sorted_columns = {c: np.sort(scores[c].to_numpy()[np.isfinite(scores[c].to_numpy())])
                      for c in scores.columns}
    floors = floors or {}
    lo, hi = 0.0, target_flag_rate
    for _ in range(iterations):
        q = (lo + hi) / 2
        if any_flag_rate(scores, _cutoffs_at(sorted_columns, q, floors)) > target_flag_rate:
            hi = q
        else:
            lo = q
    return _cutoffs_at(sorted_columns, lo, floors), lo
