"""SecondTierClassifier: scikit-learn's own estimator checks, groups, dedicated vs pooled models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from cutoffs.second_tier.estimator import (
    SecondTierClassifier,
    _Quantiser,
    default_base_estimator,
)


def _fast() -> SecondTierClassifier:
    base = default_base_estimator().set_params(max_iter=20, min_samples_leaf=2,
                                               class_weight="balanced")
    return SecondTierClassifier(base, random_state=0)


@parametrize_with_checks([_fast(), SecondTierClassifier(LogisticRegression(), random_state=0)])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def _grouped_frame(seed: int = 0, n_per_group: int = 400) -> tuple[pd.DataFrame, np.ndarray]:
    """Three groups: in A the label follows x0, in B it follows x1, C is small."""
    rng = np.random.default_rng(seed)
    parts, labels = [], []
    for group, n, informative in (("A", n_per_group, 0), ("B", n_per_group, 1), ("C", 30, 0)):
        x = rng.normal(size=(n, 3))
        y = (x[:, informative] + 0.3 * rng.normal(size=n) > 0.5).astype(int)
        frame = pd.DataFrame(x, columns=["x0", "x1", "x2"])
        frame.insert(0, "disorder", group)
        parts.append(frame)
        labels.append(y)
    return pd.concat(parts, ignore_index=True), np.concatenate(labels)


@pytest.fixture(scope="module")
def grouped_model() -> SecondTierClassifier:
    X, y = _grouped_frame()
    return SecondTierClassifier(group_feature="disorder", min_cases=40, random_state=0).fit(X, y)


def test_dedicated_models_for_groups_with_enough_cases(grouped_model):
    model = grouped_model
    assert set(model.group_estimators_) == {"A", "B"}
    assert model.model_for("A") == "dedicated"
    assert model.model_for("C") == "pooled"
    assert model.model_for("unseen") == "pooled"
    assert list(model.feature_names_in_) == ["disorder", "x0", "x1", "x2"]
    X_test, y_test = _grouped_frame(seed=1)
    accuracy = (model.predict(X_test) == y_test).mean()
    assert accuracy > 0.85
    # each dedicated model learnt its own informative feature
    for group, informative in (("A", "x0"), ("B", "x1")):
        rows = X_test["disorder"] == group
        shifted = X_test[rows].copy()
        shifted[informative] += 3.0
        assert (
            model.predict_proba(shifted)[:, 1].mean()
            > model.predict_proba(X_test[rows])[:, 1].mean() + 0.2
        )


def test_unseen_group_is_scored_by_the_pooled_model(grouped_model):
    X, _ = _grouped_frame()
    model = grouped_model
    unseen = X.head(5).assign(disorder="ZZZ")
    proba = model.predict_proba(unseen)
    assert proba.shape == (5, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_group_column_by_position_in_an_array(grouped_model):
    X, y = _grouped_frame()
    array = X.to_numpy(dtype=object)
    model = SecondTierClassifier(group_feature=0, min_cases=40, random_state=0).fit(array, y)
    assert np.allclose(model.predict_proba(array), grouped_model.predict_proba(X))


def test_same_seed_same_model():
    X, y = _grouped_frame()
    base = default_base_estimator().set_params(max_iter=30)
    a = SecondTierClassifier(base, group_feature="disorder", random_state=3).fit(X, y)
    b = clone(a).fit(X, y)
    assert np.array_equal(a.predict_proba(X), b.predict_proba(X))


def test_rejects_missing_group_values_and_bad_parameters():
    X, y = _grouped_frame()
    X.loc[3, "disorder"] = None
    with pytest.raises(ValueError, match="missing values"):
        SecondTierClassifier(group_feature="disorder").fit(X, y)
    with pytest.raises(ValueError, match="no group column"):
        SecondTierClassifier(group_feature="nope").fit(X, y)
    with pytest.raises(ValueError, match="min_cases"):
        SecondTierClassifier(min_cases=0).fit(X.drop(columns="disorder"), y)
    with pytest.raises(NotFittedError):
        SecondTierClassifier().predict_proba(X)


def test_quantised_columns_bin_like_gradient_boosting_itself():
    """With class weights, features are pre-binned (scikit-learn's weighted binning is slow);
    the bins are those histogram gradient boosting makes itself without weights."""
    rng = np.random.default_rng(4)
    X = rng.lognormal(size=(3000, 4))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0]) + rng.normal(scale=0.5, size=3000) > 1.5).astype(int)
    base = default_base_estimator().set_params(max_iter=30, random_state=0)
    codes = _Quantiser(base.max_bins).fit(X).transform(X)
    assert np.allclose(clone(base).fit(codes, y).predict_proba(codes),
                       clone(base).fit(X, y).predict_proba(X))
    weighted = SecondTierClassifier(base.set_params(class_weight="balanced"),
                                    random_state=0).fit(X, y)
    assert weighted.pooled_estimator_[0] is not None
    assert (weighted.predict(X) == y).mean() > 0.8
    plain = SecondTierClassifier(default_base_estimator(), random_state=0).fit(X, y)
    assert plain.pooled_estimator_[0] is None
