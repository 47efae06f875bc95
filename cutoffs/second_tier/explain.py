"""Why the second tier scored a result as it did: its top contributing features.

For each disorder the explainer keeps, per feature, the median and spread of the training false
positives (log scale for analytes and ratios), the direction in which true positives differ, and
the feature's importance to the model that scores the disorder (the mean absolute change of the
model's log-odds when the feature alone is set to the false-positive median, over training rows).
A specimen's contribution of feature f is

    importance_f x (x_f - FP median_f) / FP spread_f x direction_f

(clipped), positive when the value looks like the disorder's true positives, negative when it
looks like its false positives. The top features by absolute contribution are reported. This is
cheap and vectorised (a few array operations per chunk), so every scored specimen gets reasons.

Public names: ``Explainer``, ``fit_explainer``, ``top_contributions``, ``format_contributions``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cutoffs.reason_phrases import FEATURES
from cutoffs.second_tier.estimator import SecondTierClassifier
from cutoffs.second_tier.thresholds import log_odds

__all__ = ["Explainer", "fit_explainer", "format_contributions", "top_contributions"]

#: Contributions use z-scores clipped to this magnitude, so one absurd value cannot hide the rest.
_Z_CLIP = 8.0
#: A disorder needs this many training false positives (and a few true positives) for its own
#: reference statistics; otherwise those of all disorders together are used.
_MIN_FALSE_POSITIVES = 10
_MIN_TRUE_POSITIVES = 3
_OVERALL = ""
#: Reasons are chosen among each disorder's most important features (the rest weigh little).
_CANDIDATES = 24


@dataclass
class Explainer:
    """Reference statistics and importances per disorder (``""``: all disorders together)."""

    features: tuple[str, ...]
    log_scale: np.ndarray  # bool per feature: stored as log10 (analytes, ratios)
    groups: tuple[str, ...]
    fp_median: np.ndarray  # (n_groups, n_features)
    fp_spread: np.ndarray
    direction: np.ndarray
    importance: np.ndarray
    sources: dict[str, str] = field(default_factory=dict)  # group -> "own" | "all disorders"

    def group_index(self, disorders: np.ndarray) -> np.ndarray:
        """Row of the statistics tables for each disorder (unknown ones use the overall row)."""
        codes = pd.Index(self.groups).get_indexer(np.asarray(disorders).astype(str))
        codes = codes.astype(np.intp)
        codes[codes < 0] = self.groups.index(_OVERALL)
        return codes

    def candidates(self, group: int) -> np.ndarray:
        """The features considered for a group's reasons: its most important ones."""
        order = np.argsort(-self.importance[group], kind="stable")
        return np.sort(order[:_CANDIDATES])


def _robust_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(values) == 0:
        n = values.shape[1]
        return np.zeros(n), np.ones(n)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns
        median = np.nanmedian(values, axis=0)
        q75, q25 = np.nanpercentile(values, [75, 25], axis=0)
        std = np.nanstd(values, axis=0)
    spread = (q75 - q25) / 1.349
    spread = np.where(spread > 0, spread, std)
    spread = np.where(np.isfinite(spread) & (spread > 1e-6), spread, 1.0)
    return np.nan_to_num(median), spread


def _importance(
    model: SecondTierClassifier, X: pd.DataFrame, reference: np.ndarray, max_samples: int,
    random_state: int,
) -> np.ndarray:
    """How much the model's log-odds move when a feature is set to its reference value.

    For each feature, the mean absolute change of the log-odds over (at most ``max_samples``)
    training rows when that feature alone is replaced by ``reference`` (per row: the false-
    positive median of the row's disorder), normalised to sum to 1. The replaced copies of a
    batch of features are stacked and scored in one call.
    """
    n_features = reference.shape[1]
    if len(X) > max_samples:
        rng = np.random.default_rng(random_state)
        keep = np.sort(rng.choice(len(X), size=max_samples, replace=False))
        X, reference = X.iloc[keep], reference[keep]
    disorders = X["disorder"].to_numpy()
    values = X.drop(columns=["disorder"]).to_numpy(dtype=np.float64)
    columns = list(X.columns)
    n = len(values)
    baseline = log_odds(model.predict_proba(X)[:, 1])
    shift = np.zeros(n_features)
    batch = max(1, 2_000_000 // max(1, n * n_features))
    for first in range(0, n_features, batch):
        features = range(first, min(n_features, first + batch))
        stacked = np.tile(values, (len(features), 1))
        for b, f in enumerate(features):
            stacked[b * n:(b + 1) * n, f] = reference[:, f]
        frame = pd.DataFrame(stacked, columns=columns[1:])
        frame.insert(0, "disorder", np.tile(disorders, len(features)))
        moved = log_odds(model.predict_proba(frame)[:, 1])
        for b, f in enumerate(features):
            shift[f] = np.mean(np.abs(baseline - moved[b * n:(b + 1) * n]))
    total = shift.sum()
    return shift / total if total > 0 else np.ones(n_features) / n_features


def fit_explainer(
    model: SecondTierClassifier,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    log_scale: np.ndarray,
    random_state: int = 0,
    max_samples: int = 600,
) -> Explainer:
    """Reference statistics and importances from the training data of a fitted model.

    Parameters
    ----------
    model
        The fitted classifier with ``group_feature="disorder"``.
    X
        Its training frame: ``disorder`` then the features.
    y
        Training outcomes, 1 = true positive.
    log_scale
        Per feature, whether it is stored as log10 (for display in natural units).
    random_state
        Seeds the subsamples.
    max_samples
        Importances use at most this many rows per model.
    """
    y = np.asarray(y)
    groups = X["disorder"].to_numpy().astype(str)
    values = X.drop(columns=["disorder"]).to_numpy(dtype=np.float64)
    names = [_OVERALL, *sorted(set(groups))]
    medians, spreads, directions, sources = [], [], [], {}
    overall_fp, overall_spread = _robust_stats(values[y == 0])
    overall_tp, _ = _robust_stats(values[y == 1])
    overall_direction = np.sign(overall_tp - overall_fp)
    for name in names:
        rows = groups == name
        n_fp, n_tp = int((rows & (y == 0)).sum()), int((rows & (y == 1)).sum())
        if name != _OVERALL and n_fp >= _MIN_FALSE_POSITIVES and n_tp >= _MIN_TRUE_POSITIVES:
            fp_median, fp_spread = _robust_stats(values[rows & (y == 0)])
            tp_median, _ = _robust_stats(values[rows & (y == 1)])
            medians.append(fp_median)
            spreads.append(fp_spread)
            directions.append(np.sign(tp_median - fp_median))
            sources[name] = "own"
        else:
            medians.append(overall_fp)
            spreads.append(overall_spread)
            directions.append(overall_direction)
            sources[name] = "all disorders"
    explainer = Explainer(
        features=tuple(X.columns[1:]),
        log_scale=np.asarray(log_scale, dtype=bool),
        groups=tuple(names),
        fp_median=np.vstack(medians),
        fp_spread=np.vstack(spreads),
        direction=np.vstack(directions),
        importance=np.zeros((len(names), values.shape[1])),
        sources=sources,
    )
    reference = explainer.fp_median[explainer.group_index(groups)]
    pooled_rows = np.array([model.model_for(g) == "pooled" for g in groups])
    if not pooled_rows.any():
        pooled_rows[:] = True
    pooled = _importance(
        model, X[pooled_rows], reference[pooled_rows], max_samples, random_state
    )
    for i, name in enumerate(names):
        if name != _OVERALL and model.model_for(name) == "dedicated":
            rows = groups == name
            explainer.importance[i] = _importance(
                model, X[rows], reference[rows], max_samples, random_state
            )
        else:
            explainer.importance[i] = pooled
    return explainer


def top_contributions(
    explainer: Explainer,
    values: np.ndarray,
    disorders: np.ndarray,
    k: int,
    *,
    prefer: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` features that contribute most to each row's score (vectorised per disorder,
    among the disorder's most important features).

    Parameters
    ----------
    values
        Feature matrix (n, n_features) in the explainer's feature order (log scale as built).
    disorders
        Flagged disorder per row.
    prefer
        Optional boolean per row: the decision (True: recall stands). Features that point the
        way of the decision come first (by size), then the others, so a "no recall" result
        names first what makes it look like a false positive; without it, by size alone.

    Returns
    -------
    (index, contribution)
        ``index`` (n, k) feature positions, most important first; ``contribution`` (n, k)
        signed: positive looks like a true positive, negative like a false positive.
    """
    n = len(values)
    k = min(k, values.shape[1], _CANDIDATES)
    top = np.zeros((n, k), dtype=np.intp)
    weight = np.zeros((n, k))
    if k == 0 or n == 0:
        return top, weight
    g = explainer.group_index(disorders)
    for group in np.unique(g):
        rows = np.flatnonzero(g == group)
        features = explainer.candidates(int(group))
        block = values[np.ix_(rows, features)].astype(np.float32)
        block -= explainer.fp_median[group, features].astype(np.float32)
        block /= explainer.fp_spread[group, features].astype(np.float32)
        np.clip(block, -_Z_CLIP, _Z_CLIP, out=block)
        block *= (explainer.direction[group, features]
                  * explainer.importance[group, features]).astype(np.float32)
        np.nan_to_num(block, copy=False)
        magnitude = np.abs(block)
        if prefer is not None:
            side = np.where(np.asarray(prefer, dtype=bool)[rows], 1.0, -1.0).astype(np.float32)
            magnitude += np.float32(2 * _Z_CLIP) * (block * side[:, None] > 0)
        best = np.argpartition(-magnitude, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(magnitude, best, axis=1), axis=1)
        best = np.take_along_axis(best, order, axis=1)
        top[rows] = features[best]
        weight[rows] = np.take_along_axis(block, best, axis=1)
    return top, weight


def _natural(value: float, log: bool) -> str:
    if np.isnan(value):
        return "missing"
    shown = 10.0**value if log else value
    return f"{shown:.3g}"


def format_contributions(
    explainer: Explainer,
    values: np.ndarray,
    disorders: np.ndarray,
    index: np.ndarray,
    contribution: np.ndarray,
) -> list[str]:
    """Reason text per row, e.g. ``C8/C10=4.2 (FP median 1.1; for recall)``."""
    g = explainer.group_index(disorders)
    texts = []
    for row in range(len(index)):
        parts = []
        for position, weight in zip(index[row], contribution[row], strict=True):
            if weight == 0:
                continue
            log = bool(explainer.log_scale[position])
            value = _natural(values[row, position], log)
            median = _natural(explainer.fp_median[g[row], position], log)
            parts.append(FEATURES.text("for_recall" if weight > 0 else "against_recall",
                                       feature=explainer.features[position], value=value,
                                       median=median))
        texts.append(", ".join(parts))
    return texts
