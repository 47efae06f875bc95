"""Per-disorder decision thresholds chosen on out-of-fold probabilities (docs/second_tier.md).

For each flagged disorder with enough training true positives, the threshold is the lowest of

- ``safety_margin x`` the lowest probability any of its true positives received from a model
  that did not see it (out-of-fold), and the same for the final model's probabilities, so every
  training true positive stays positive with room to spare;
- a tail bound: the lowest out-of-fold scores of the true positives are extrapolated (an
  exponential lower tail on the log-odds scale, fitted to the ``k`` lowest, as in
  peaks-over-threshold estimation) to the score a new true positive falls below with probability
  ``tail_miss_probability``. The lowest of a few dozen cases is a noisy guide to where the next
  case may fall; the bound widens the margin where the low tail is long, and where a disorder's
  training cases show no tail at all it assumes the median tail of the others.

A result below the threshold means "no recall recommended". A disorder with fewer true positives
than the minimum is scored but never filtered.

Public names: ``DisorderThreshold``, ``fold_indices``, ``out_of_fold_probability``,
``choose_thresholds``, ``tail_bound``, ``tail_scale``, ``recall_recommended``, ``log_odds``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.base import clone
from sklearn.model_selection import StratifiedGroupKFold

from cutoffs.errors import CutoffError

__all__ = [
    "DisorderThreshold",
    "choose_thresholds",
    "fold_indices",
    "log_odds",
    "out_of_fold_probability",
    "recall_recommended",
    "tail_bound",
    "tail_scale",
]

_LOGIT_CLIP = 1e-7


@dataclass(frozen=True)
class DisorderThreshold:
    """The second-tier decision for one flagged disorder.

    ``filtered`` is False when the disorder had too few training true positives; then
    ``threshold`` is 0 and nothing is filtered. ``lowest_true_positive_probability`` is the lowest
    out-of-fold probability of a training true positive (NaN without any);
    ``false_positives_below`` counts the training false positives whose out-of-fold probability
    falls below the threshold (what the threshold would have filtered).
    """

    disorder: str
    n_true_positive: int
    n_false_positive: int
    filtered: bool
    threshold: float
    lowest_true_positive_probability: float
    false_positives_below: int
    note: str

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("threshold", "lowest_true_positive_probability"):
            value = out[key]
            out[key] = None if np.isnan(value) else float(f"{float(value):.6g}")
        return out


def fold_indices(
    y: np.ndarray,
    groups: np.ndarray,
    *,
    n_splits: int,
    random_state: int,
    units: np.ndarray | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that spread each disorder's true and false positives over the folds.

    scikit-learn's ``StratifiedGroupKFold`` over strata of (disorder, outcome): with ``units``
    (the specimen of each row) all rows of a specimen fall in the same fold, so a profile flagged
    for several disorders is never both trained on and tested. A (disorder, outcome) pair with
    fewer than ``n_splits`` rows is stratified by its outcome alone.

    Raises
    ------
    CutoffError
        When an outcome has fewer than ``n_splits`` specimens (or rows, without ``units``).
    """
    y = np.asarray(y).astype(np.int64)
    label = pd.Series(y.astype(str))
    unit = pd.Series(np.arange(len(y)) if units is None else np.asarray(units).astype(str))
    per_label = unit.groupby(label).nunique()
    if len(per_label) < 2:
        raise CutoffError("training needs both outcomes (true and false positives)",
                          field="outcome")
    for value, count in per_label.items():
        if count < n_splits:
            raise CutoffError(
                f"{n_splits}-fold cross-validation needs at least {n_splits} specimens of each "
                f"outcome; outcome {'true_positive' if value == '1' else 'false_positive'} has "
                f"{count}", field="outcome",
            )
    strata = pd.Series(np.asarray(groups).astype(str)).str.cat(label, sep="|")
    strata = strata.where(strata.map(strata.value_counts()) >= n_splits, label)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    with warnings.catch_warnings():  # a stratum smaller than n_splits cannot be in every fold
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return list(splitter.split(np.zeros(len(y)), strata.to_numpy(), unit.to_numpy()))


def out_of_fold_probability(
    classifier: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    n_splits: int,
    random_state: int,
    units: np.ndarray | None = None,
    fit_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Probability of the positive class for every sample from a model fitted without it.

    ``units`` keeps a specimen's rows in one fold (see :func:`fold_indices`); ``fit_rows``
    (boolean) limits the rows a fold's model learns from (all rows are still predicted).
    """
    out = np.full(len(y), np.nan)
    folds = fold_indices(y, groups, n_splits=n_splits, random_state=random_state, units=units)
    for train, test in folds:
        if fit_rows is not None:
            train = train[np.asarray(fit_rows)[train]]
        model = clone(classifier).fit(X.iloc[train], y[train])
        positive = int(np.flatnonzero(model.classes_ == 1)[0]) if 1 in model.classes_ else 1
        out[test] = model.predict_proba(X.iloc[test])[:, positive]
    return out


def log_odds(probability: np.ndarray) -> np.ndarray:
    """The log-odds of probabilities clipped to [1e-7, 1 - 1e-7] (finite at 0 and 1)."""
    return np.asarray(logit(np.clip(probability, _LOGIT_CLIP, 1 - _LOGIT_CLIP)))


def _tail(probability: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Sorted log-odds, ``k`` and the exponential scale of the ``k`` lowest above the k+1-th."""
    logits = np.sort(log_odds(np.asarray(probability, dtype=np.float64)))
    n = len(logits)
    if n < 6:
        raise ValueError("the tail bound needs at least 6 true positives")
    k = min(max(5, n // 4), 20, n - 1)
    return logits, k, float(np.mean(logits[k] - logits[:k]))


def tail_scale(probability: np.ndarray) -> float:
    """The fitted scale (log-odds units) of the low tail of true-positive probabilities."""
    return _tail(probability)[2]


def tail_bound(
    probability: np.ndarray, miss_probability: float, *, scale_floor: float = 0.0
) -> float:
    """The probability below which a new true positive falls with ``miss_probability``.

    The ``k`` lowest log-odds (``k`` = a quarter of the cases, 5 to 20) are treated as the tail
    of an exponential distribution below the ``k+1``-th: its scale is their mean distance from
    the ``k+1``-th (at least ``scale_floor``), and a new case falls ``scale x log(k / (n x
    miss))`` below the ``k+1``-th with probability ``miss``.

    Parameters
    ----------
    probability
        Out-of-fold probabilities of the training true positives (at least 6).
    miss_probability
        Accepted probability that one new true positive scores below the bound.
    scale_floor
        Smallest scale to use. Trees give every clearly separated training case the same,
        saturated probability, so a disorder whose training cases were all clear shows no tail
        at all, while its next, milder case may score far lower; the floor (the median scale of
        all disorders, in :func:`choose_thresholds`) borrows the tail other disorders show.
    """
    logits, k, scale = _tail(probability)
    scale = max(scale, scale_floor, 1e-3)
    bound = logits[k] - scale * np.log(k / (len(logits) * miss_probability))
    return float(1 / (1 + np.exp(-bound)))


def choose_thresholds(
    probability: np.ndarray,
    is_true_positive: np.ndarray,
    groups: np.ndarray,
    *,
    min_true_positives: int,
    safety_margin: float,
    in_sample_probability: np.ndarray | None = None,
    tail_miss_probability: float | None = None,
) -> dict[str, DisorderThreshold]:
    """One :class:`DisorderThreshold` per disorder in ``groups``.

    Parameters
    ----------
    probability
        Out-of-fold probability of being a true positive, per training sample.
    is_true_positive
        Boolean outcome per sample.
    groups
        Flagged disorder code per sample.
    min_true_positives
        Fewer true positives than this: the disorder is not filtered.
    safety_margin
        In (0, 1]: the threshold is this fraction of the lowest true-positive probability.
    in_sample_probability
        The final model's probabilities for the same samples; when given, the threshold is also
        kept at or below ``safety_margin x`` their lowest true-positive value.
    tail_miss_probability
        When given, the threshold is also kept at or below :func:`tail_bound` of the
        out-of-fold true-positive probabilities at this miss probability, with the median tail
        scale of the filtered disorders as the floor of each disorder's scale.
    """
    if not 0 < safety_margin <= 1:
        raise ValueError(f"safety_margin must be in (0, 1], got {safety_margin}")
    probability = np.asarray(probability, dtype=np.float64)
    is_tp = np.asarray(is_true_positive, dtype=bool)
    groups = np.asarray(groups).astype(str)
    out: dict[str, DisorderThreshold] = {}
    scales = [
        tail_scale(probability[(groups == d) & is_tp]) for d in np.unique(groups)
        if int(((groups == d) & is_tp).sum()) >= max(min_true_positives, 6)
    ]
    floor = float(np.median(scales)) if scales else 0.0
    for disorder in np.unique(groups):
        rows = groups == disorder
        tp, fp = rows & is_tp, rows & ~is_tp
        n_tp, n_fp = int(tp.sum()), int(fp.sum())
        lowest = float(probability[tp].min()) if n_tp else np.nan
        if n_tp < min_true_positives:
            out[str(disorder)] = DisorderThreshold(
                disorder=str(disorder), n_true_positive=n_tp, n_false_positive=n_fp,
                filtered=False, threshold=0.0, lowest_true_positive_probability=lowest,
                false_positives_below=0,
                note=f"not filtered: {n_tp} training true positives < {min_true_positives}",
            )
            continue
        guard = lowest
        if in_sample_probability is not None:
            guard = min(guard, float(np.asarray(in_sample_probability)[tp].min()))
        threshold = safety_margin * guard
        how = f"{safety_margin:g} x lowest true-positive probability {guard:.4g}"
        if tail_miss_probability is not None:
            tail = tail_bound(probability[tp], tail_miss_probability, scale_floor=floor)
            if tail < threshold:
                threshold = tail
                how = (f"tail bound at miss probability {tail_miss_probability:g} (below "
                       f"{safety_margin:g} x lowest true-positive probability {guard:.4g})")
        below = int((probability[fp] < threshold).sum())
        out[str(disorder)] = DisorderThreshold(
            disorder=str(disorder), n_true_positive=n_tp, n_false_positive=n_fp,
            filtered=True, threshold=threshold, lowest_true_positive_probability=lowest,
            false_positives_below=below,
            note=f"threshold {threshold:.4g} = {how}",
        )
    return out


def recall_recommended(
    probability: np.ndarray,
    groups: np.ndarray,
    thresholds: Mapping[str, DisorderThreshold],
) -> np.ndarray:
    """True where the second tier keeps the recall (probability at or above the threshold, or
    a disorder the second tier does not filter, or one it was not trained on)."""
    probability = np.asarray(probability, dtype=np.float64)
    groups = np.asarray(groups).astype(str)
    level = np.zeros(len(groups))
    for disorder, entry in thresholds.items():
        if entry.filtered:
            level[groups == disorder] = entry.threshold
    return ~(probability < level)
