"""The second-tier classifier: a scikit-learn estimator over a specimen's feature vector.

:class:`SecondTierClassifier` separates true from false screen positives. With ``group_feature``
naming the column that holds the flagged disorder, it fits one dedicated model per disorder that
has enough cases of both outcomes and a pooled model (the disorder as a categorical feature) for
all the others; without it, a single model. Class imbalance is handled downstream, by
per-disorder decision thresholds (see :func:`default_base_estimator`).

The estimator is an ordinary probabilistic classifier (``predict`` is the most probable class);
the clinical decision, a per-disorder threshold chosen on out-of-fold probabilities, lives in
:mod:`cutoffs.second_tier.thresholds`.

Public names: ``SecondTierClassifier``, ``default_base_estimator``.
"""

from __future__ import annotations

import numbers
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)
from threadpoolctl import threadpool_limits

__all__ = ["SecondTierClassifier", "default_base_estimator"]

#: Batches at least this large are binned on two threads.
_PARALLEL_ROWS = 20_000


class _Quantiser:
    """Maps each column to quantile-bin codes, as histogram gradient boosting bins internally.

    Used only for a base estimator with class weights: then scikit-learn 1.9's
    ``HistGradientBoosting*`` computes weighted bin thresholds one percentile at a time, which
    costs about 0.15 s per feature whatever the sample count (scikit-learn issue #34304).
    Handing it columns that already have no more distinct values than ``max_bins`` takes its
    fast path; the bins are the unweighted quantiles its unweighted path would use, and NaN
    stays NaN. Columns with few distinct values (flags, category codes) pass through unchanged.
    """

    def __init__(self, max_bins: int) -> None:
        self.max_bins = max_bins
        self.edges: list[np.ndarray | None] = []

    def fit(self, matrix: np.ndarray) -> _Quantiser:
        inner = np.linspace(0, 100, num=self.max_bins + 1)[1:-1]
        self.edges = []
        for column in matrix.T:
            finite = column[~np.isnan(column)]
            if np.unique(finite).size <= self.max_bins:
                self.edges.append(None)
                continue
            edges = np.percentile(finite, inner, method="averaged_inverted_cdf")
            self.edges.append(np.unique(edges))
        return self

    def transform(self, matrix: np.ndarray, *, parallel: bool = True) -> np.ndarray:
        out = np.array(matrix, dtype=np.float64, copy=True)

        def bin_column(j: int) -> None:
            edges = self.edges[j]
            if edges is None:
                return
            column = matrix[:, j]
            codes = np.searchsorted(edges, column, side="left").astype(np.float64)
            codes[np.isnan(column)] = np.nan
            out[:, j] = codes

        if not parallel or len(matrix) < _PARALLEL_ROWS:
            for j in range(len(self.edges)):
                bin_column(j)
        else:  # searchsorted releases the GIL: two threads bin twice as fast
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(bin_column, range(len(self.edges))))
        return out


def default_base_estimator() -> HistGradientBoostingClassifier:
    """Gradient boosting: the default model of every (sub)model.

    Shallow trees (4 leaves), L2 regularisation and 64 bins: the few dozen to few hundred
    screen positives a disorder has call for smooth, not extreme, probabilities, since each
    disorder's threshold sits just below its hardest true positives. Missing values are routed
    natively. Class imbalance is handled by the decision rule, a per-disorder threshold chosen on
    out-of-fold probabilities (threshold moving), not by class weights: on simulated validation
    sets balanced class weights did not improve the ranking of true over false positives (the
    false positives below the lowest true positive: 40.5% with, 41.8% without). Pass a base
    estimator with ``class_weight="balanced"`` to weight classes anyway.
    """
    return HistGradientBoostingClassifier(
        learning_rate=0.075,
        max_iter=100,
        max_leaf_nodes=4,
        min_samples_leaf=10,
        l2_regularization=1.0,
        max_bins=64,
        early_stopping=False,
    )


class SecondTierClassifier(ClassifierMixin, BaseEstimator):
    """Per-disorder gradient boosting with a pooled fallback, for binary outcomes.

    Parameters
    ----------
    estimator : classifier, default=None
        The model cloned for the pooled model and every per-disorder model; ``None`` means
        :func:`default_base_estimator`. It must support ``predict_proba``.
    group_feature : str or int, default=None
        The column of ``X`` holding the group (the flagged disorder code): a column name for a
        DataFrame, a position for an array. ``None``: no groups, one model.
    min_cases : int, default=50
        A group gets a dedicated model when it has at least this many samples of each class;
        otherwise the pooled model scores it.
    dedicated : list of str, default=None
        When given, exactly these groups get a dedicated model (each needs samples of both
        classes), whatever ``min_cases`` says. Cross-validation uses it so that every fold
        routes a group to the same kind of model as the final fit does.
    random_state : int, RandomState instance or None, default=None
        Seeds the base estimators (when they take a ``random_state``).
    n_threads : int or None, default=1
        OpenMP threads the base estimators may use while fitting and predicting (``None``:
        the library default, every core). The per-disorder models are small: on a shared
        machine, thread start-up and contention cost far more than they save (a pooled fit on
        3,400 screen positives took 3.4 s on one thread and 25 s on two busy cores).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels; the second is the "positive" one whose probability
        ``predict_proba(X)[:, 1]`` gives.
    pooled_estimator_ : tuple
        ``(quantiser or None, fitted model)`` fitted on all samples (with the group as a
        feature when there are groups). The quantiser bins features for histogram gradient
        boosting with class weights (see ``_Quantiser``).
    group_estimators_ : dict
        Group value -> ``(quantiser or None, fitted model)`` of its dedicated model.
    groups_ : ndarray of str
        The groups seen in ``fit`` (empty without ``group_feature``).
    group_counts_ : dict
        Group value -> (n samples of ``classes_[0]``, n samples of ``classes_[1]``).
    n_features_in_ : int
        Columns of ``X`` in ``fit``, the group column included.
    feature_names_in_ : ndarray of str
        Column names of ``X`` in ``fit`` when it was a DataFrame with string column names.
    """

    classes_: np.ndarray
    groups_: np.ndarray
    pooled_estimator_: tuple[Any, Any]
    group_estimators_: dict[str, Any]
    group_counts_: dict[str, tuple[int, int]]
    _pooled_categorical_: bool

    def __init__(
        self,
        estimator: Any = None,
        *,
        group_feature: str | int | None = None,
        min_cases: int = 50,
        dedicated: list[str] | None = None,
        random_state: int | np.random.RandomState | None = None,
        n_threads: int | None = 1,
    ) -> None:
        self.estimator = estimator
        self.group_feature = group_feature
        self.min_cases = min_cases
        self.dedicated = dedicated
        self.random_state = random_state
        self.n_threads = n_threads

    # -- input handling ---------------------------------------------------------------------

    def _split(self, X: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Validate ``X``; return the numeric matrix and the group labels (or None)."""
        if self.group_feature is None:
            matrix = validate_data(
                self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan"
            )
            return matrix, None
        validate_data(self, X, reset=reset, skip_check_array=True)
        if isinstance(X, pd.DataFrame):
            if self.group_feature not in X.columns:
                raise ValueError(f"X has no group column {self.group_feature!r}")
            raw_groups = X[self.group_feature].to_numpy()
            numeric: Any = X.drop(columns=[self.group_feature])
        else:
            array = check_array(X, dtype=None, ensure_all_finite=False)
            if not isinstance(self.group_feature, numbers.Integral):
                raise ValueError("group_feature must be a column position when X is an array")
            position = int(self.group_feature)
            if not -array.shape[1] <= position < array.shape[1]:
                raise ValueError(
                    f"group_feature {position} is outside X's {array.shape[1]} columns"
                )
            raw_groups = array[:, position]
            numeric = np.delete(array, position, axis=1)
        matrix = check_array(
            numeric, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_features=0
        )
        if pd.isna(raw_groups).any():
            raise ValueError(f"the group column {self.group_feature!r} has missing values")
        return matrix, np.asarray(raw_groups).astype(str)

    def _fit_model(self, seed: int, design: np.ndarray, y: np.ndarray, **params: Any) -> Any:
        """Clone the base estimator, fit it; return (quantiser or None, model)."""
        model = self._base(seed)
        if params:
            model.set_params(**params)
        quantiser = None
        params = model.get_params()
        max_bins = params.get("max_bins")
        if isinstance(max_bins, numbers.Integral) and params.get("class_weight") is not None:
            quantiser = _Quantiser(int(max_bins)).fit(design)
            design = quantiser.transform(design)
        return quantiser, model.fit(design, y)

    @staticmethod
    def _proba(
        fitted: tuple[Any, Any], design: np.ndarray, *, parallel: bool = True
    ) -> np.ndarray:
        quantiser, model = fitted
        if quantiser is not None:
            design = quantiser.transform(design, parallel=parallel)
        return model.predict_proba(design)

    def _base(self, seed: int) -> Any:
        base = default_base_estimator() if self.estimator is None else clone(self.estimator)
        if "random_state" in base.get_params():
            base.set_params(random_state=seed)
        return base

    def _pooled_design(self, matrix: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """The pooled model's input: the numeric features plus the group (as a category code)."""
        if groups is None:
            return matrix
        codes = np.full(len(groups), np.nan)
        known = np.searchsorted(self.groups_, groups)
        known = np.clip(known, 0, len(self.groups_) - 1)
        hit = self.groups_[known] == groups
        codes[hit] = known[hit]
        if self._pooled_categorical_:
            return np.column_stack([matrix, codes])
        one_hot = (codes[:, None] == np.arange(len(self.groups_))[None, :]).astype(np.float64)
        return np.column_stack([matrix, one_hot])

    # -- scikit-learn API -------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> SecondTierClassifier:
        """Fit the pooled model and, for groups with enough cases, dedicated models.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric features (NaN allowed) plus, with ``group_feature``, the group column.
        y : array-like of shape (n_samples,)
            Binary labels.

        Returns
        -------
        self
        """
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> SecondTierClassifier:
        if self.n_threads is not None and (
            not isinstance(self.n_threads, numbers.Integral) or self.n_threads < 1
        ):
            raise ValueError(f"n_threads must be a positive integer or None: {self.n_threads!r}")
        if not isinstance(self.min_cases, numbers.Integral) or self.min_cases < 1:
            raise ValueError(f"min_cases must be a positive integer, got {self.min_cases!r}")
        matrix, groups = self._split(X, reset=True)
        y = check_array(column_or_1d(y, warn=True), ensure_2d=False, dtype=None, input_name="y")
        check_consistent_length(matrix, y)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("needs samples of 2 classes; y holds only one class")
        if y_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {y_type}."
            )
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=2)
        self.groups_ = np.unique(groups) if groups is not None else np.array([], dtype=str)
        params: dict[str, Any] = {}
        self._pooled_categorical_ = (
            groups is not None and "categorical_features" in self._base(0).get_params()
        )
        if self._pooled_categorical_:
            params["categorical_features"] = [matrix.shape[1]]
        self.pooled_estimator_ = self._fit_model(
            int(seeds[0]), self._pooled_design(matrix, groups), y_index, **params
        )
        self.group_estimators_ = {}
        self.group_counts_ = {}
        if groups is not None:
            group_seed = np.random.RandomState(int(seeds[1]))
            for group in self.groups_:
                mask = groups == group
                n_positive = int(y_index[mask].sum())
                counts = (int(mask.sum()) - n_positive, n_positive)
                self.group_counts_[str(group)] = counts
                if self.dedicated is not None:
                    own = str(group) in self.dedicated and min(counts) >= 1
                else:
                    own = min(counts) >= self.min_cases
                if own:
                    seed = int(group_seed.randint(np.iinfo(np.int32).max))
                    self.group_estimators_[str(group)] = self._fit_model(
                        seed, matrix[mask], y_index[mask]
                    )
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, 2); column 1 is ``classes_[1]``."""
        check_is_fitted(self)
        with threadpool_limits(limits=self.n_threads, user_api="openmp"):
            return self._predict_proba(X)

    def _predict_proba(self, X: Any) -> np.ndarray:
        matrix, groups = self._split(X, reset=False)
        out = np.empty((matrix.shape[0], 2), dtype=np.float64)
        if matrix.shape[0] == 0:
            return out
        tasks: list[tuple[tuple[Any, Any], np.ndarray, np.ndarray]] = []
        pooled = np.ones(matrix.shape[0], dtype=bool)
        if groups is not None and self.group_estimators_:
            codes = pd.Index(list(self.group_estimators_)).get_indexer(groups)
            for index, model in enumerate(self.group_estimators_.values()):
                rows = np.flatnonzero(codes == index)
                if rows.size:
                    tasks.append((model, rows, matrix[rows]))
            pooled = codes < 0
        if pooled.any():
            rows = np.flatnonzero(pooled)
            design = self._pooled_design(matrix[rows], None if groups is None else groups[rows])
            tasks.append((self.pooled_estimator_, rows, design))

        def run(task: tuple[tuple[Any, Any], np.ndarray, np.ndarray]) -> None:
            model, rows, design = task
            out[rows] = self._proba(model, design, parallel=False)

        if matrix.shape[0] >= _PARALLEL_ROWS and len(tasks) > 1:
            # binning and tree traversal release the GIL: two threads score two disorders
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(run, tasks))
        else:
            for task in tasks:
                run(task)
        return out

    def predict(self, X: Any) -> np.ndarray:
        """The more probable class of each sample."""
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def model_for(self, group: str | None) -> str:
        """Which model scores ``group``: ``"dedicated"`` or ``"pooled"``."""
        check_is_fitted(self)
        return "dedicated" if group is not None and group in self.group_estimators_ else "pooled"

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        base = default_base_estimator() if self.estimator is None else self.estimator
        tags.input_tags.allow_nan = get_tags(base).input_tags.allow_nan
        tags.classifier_tags.multi_class = False
        return tags
