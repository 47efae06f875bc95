"""The first tier called on a disorder score (docs/first_tier_scores.md, "Calls").

Per rule and specimen, with the disorder's score and cutoff from the cutoff table's score
section and the marker tiers of :mod:`cutoffs.evaluate`:

- **critical** when any marker of the rule is past its critical level, whatever the score;
- **positive** when the score is above the cutoff and the rule's primary markers are past
  their positive levels by the rule's logic (the k-th highest primary tier is positive);
- **borderline** when the score is above the cutoff otherwise;
- **not_evaluable** when the score is at or below the cutoff but a primary marker cannot be
  read (or no marker can): never a silent normal;
- **normal** otherwise;
- and where a marker of the rule cannot be read (a profile without some of the disorder's
  analytes, such as a published case reporting its primary marker only), never below the
  rule's own call on its cited levels (docs/evaluation.md section 3): the score of an
  incomplete profile rests on fewer markers and does not clear a primary marker past its
  level.

The action table of :mod:`cutoffs.evaluate` is unchanged (time-critical positive -> referral
at once; critical -> referral; otherwise repeat in duplicate, then the duplicates' mean
decides). Each step is monotone in every marker: a marker moving toward the disease never
lowers the score (non-negative weights) nor a marker tier.

Public names: ``score_tier``, ``score_reason``.
"""

from __future__ import annotations

import numpy as np

from cutoffs.disorder_scores import DisorderScores
from cutoffs.normal_dist import normal_cdf
from cutoffs.reason_phrases import REASONS

__all__ = ["score_reason", "score_tier"]

_NE = 4  # internal code of not_evaluable (cutoffs.evaluate)


def score_tier(score: np.ndarray, cutoff: float, primary_kth: np.ndarray,
               marker_tiers: np.ndarray, primary_unread: np.ndarray,
               rule_tier: np.ndarray | None = None) -> np.ndarray:
    """Tier codes (0 normal .. 3 critical, 4 not evaluable) per specimen.

    Parameters
    ----------
    score
        The disorder score per specimen (NaN: none of its markers readable).
    cutoff
        The disorder's score cutoff (a score above it flags).
    primary_kth
        The k-th highest tier of the rule's primary markers (unread markers as 0).
    marker_tiers
        Tiers of every marker of the rule, shape (markers, specimens) (unread as 0).
    primary_unread
        Whether a primary marker cannot be read.
    rule_tier
        The rule's own call on its cited levels (0 normal .. 3 critical) where a marker of the
        rule cannot be read, else 0: the call is never below it.
    """
    with np.errstate(invalid="ignore"):
        above = score > cutoff
    tier = above.astype(np.int8)
    tier += above & (primary_kth >= 2)
    tier[marker_tiers.max(axis=0) == 3] = 3
    if rule_tier is not None:
        np.maximum(tier, rule_tier, out=tier)
    tier[(tier == 0) & (primary_unread | np.isnan(score))] = _NE
    return tier


def _percentiles(z: np.ndarray) -> list[str]:
    """``P99.7`` per position; ``>P99.9`` / ``<P0.1`` beyond the grid a table stores."""
    p = 100 * normal_cdf(z)
    return [">P99.9" if v >= 99.9 else "<P0.1" if v <= 0.1 else f"P{v:.1f}"
            for v in p.tolist()]


def score_reason(scores: DisorderScores, disorder: str, cutoff: float, rows: np.ndarray,
                 k: int = 2) -> np.ndarray:
    """``score 4.1 > 3.3 (C8 >P99.9, C8/C10 P99.7)`` per row (vectorised): the score against
    the cutoff and the ``k`` markers that push it most, with their percentile among babies
    like it (the guarded score's primary counts with its own position)."""
    spec = scores.specs[disorder]
    values = scores.at(disorder, rows)
    z, push = scores.positions_and_push(disorder, rows)
    push = np.where(np.isnan(z), -np.inf, np.nan_to_num(push, nan=-np.inf))
    order = np.argsort(-push, axis=1, kind="stable")[:, :k]
    text = np.array([f"{v:.3g}" for v in values.tolist()], dtype=object)
    op = np.where(values > cutoff, " > ", " <= ")
    out = "score " + text + op + f"{cutoff:.3g}"
    names = np.asarray(spec.markers, dtype=object)
    tops = []
    for j in range(order.shape[1]):
        pick = order[:, j]
        zj = z[np.arange(rows.size), pick]
        shown = names[pick] + " " + np.asarray(_percentiles(zj), dtype=object)
        tops.append(np.where(np.isnan(zj), "", shown))
    joined = tops[0] if tops else np.full(rows.size, "", dtype=object)
    for extra in tops[1:]:
        joined = np.where(extra == "", joined, joined + ", " + extra)
    out = np.where(joined == "", out, out + " (" + joined + ")")
    return np.where(np.isnan(values), REASONS.text("score_not_computable"), out)
