"""Training the second tier on labelled outcomes and measuring it by repeated cross-validation.

:func:`fit_second_tier` fits the classifier on every labelled screen positive, chooses each
disorder's threshold on out-of-fold probabilities (:mod:`~cutoffs.second_tier.thresholds`) and
fits the explainer. :func:`cross_validate` repeats the *whole* procedure (thresholds included) on
stratified folds and scores the held-out folds, so the reported sensitivity and false-positive
reduction are those of unseen cases; its ``trade_off`` gives the same overall figures for the
thresholds each tail bound of :data:`TRADE_OFF_TAIL_BOUNDS` would have chosen, the price of a
looser or tighter policy on the laboratory's own data. :func:`outcome_metrics` counts both for
any set of decisions, per disorder and overall, with Wilson score intervals.

:func:`train_model` does all of it and returns a
:class:`~cutoffs.second_tier.model_file.SecondTierModel` with its metadata.

Public names: ``TRADE_OFF_TAIL_BOUNDS``, ``FittedSecondTier``, ``fit_second_tier``,
``cross_validate``, ``train_model``, ``assemble_model``, ``check_trainable``,
``dedicated_disorders``, ``fitting_rows``, ``outcome_metrics``, ``protected_rows``,
``specimen_units``,
``wilson_interval``, ``targets``.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from cutoffs.errors import CutoffError
from cutoffs.second_tier.estimator import SecondTierClassifier
from cutoffs.second_tier.explain import Explainer, fit_explainer
from cutoffs.second_tier.features import FeatureSpec, build_features
from cutoffs.second_tier.model_file import SecondTierModel, library_versions
from cutoffs.second_tier.policy import Policy
from cutoffs.second_tier.thresholds import (
    DisorderThreshold,
    choose_thresholds,
    fold_indices,
    out_of_fold_probability,
    recall_recommended,
)
from msms.tables import PROFILE_ID

__all__ = [
    "TRADE_OFF_TAIL_BOUNDS",
    "FittedSecondTier",
    "assemble_model",
    "check_trainable",
    "cross_validate",
    "dedicated_disorders",
    "fit_second_tier",
    "fitting_rows",
    "outcome_metrics",
    "protected_rows",
    "specimen_units",
    "targets",
    "train_model",
    "wilson_interval",
]

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def targets(labelled: pd.DataFrame) -> np.ndarray:
    """1 for ``true_positive``, 0 for ``false_positive`` (a validated labelled table)."""
    return (labelled["outcome"].to_numpy() == "true_positive").astype(np.int64)


def fitting_rows(labelled: pd.DataFrame) -> np.ndarray:
    """The rows the classifier learns from (boolean per row).

    Every true positive, and every false positive of a specimen none of whose calls is a true
    positive. A false positive of a baby confirmed with another disorder (a citrullinaemia baby
    also flagged for argininosuccinic aciduria, which shares its first tier) carries the profile
    of an affected baby: learning "this is a false positive" from it would teach the model to
    dismiss affected profiles. Such rows are still scored and counted in every metric.
    """
    y = targets(labelled)
    ids = labelled["specimen_id"].astype(str)
    confirmed = set(ids[y == 1])
    return (y == 1) | ~ids.isin(confirmed).to_numpy()


@dataclass
class FittedSecondTier:
    """A fitted classifier with its thresholds, explainer and out-of-fold probabilities."""

    classifier: SecondTierClassifier
    thresholds: dict[str, DisorderThreshold]
    explainer: Explainer
    oof_probability: np.ndarray
    #: the final classifier's probabilities for its own training rows
    in_sample_probability: np.ndarray


def dedicated_disorders(
    groups: np.ndarray, y: np.ndarray, min_cases: int
) -> list[str]:
    """Disorders with at least ``min_cases`` training rows of each outcome: they get their own
    model, in the final fit and in every cross-validation fold alike."""
    frame = pd.DataFrame({"g": np.asarray(groups).astype(str), "y": np.asarray(y)})
    counts = frame.groupby("g")["y"].agg(["sum", "count"])
    enough = (counts["sum"] >= min_cases) & (counts["count"] - counts["sum"] >= min_cases)
    return sorted(counts.index[enough])


def _classifier(policy: Policy, seed: int, dedicated: list[str]) -> SecondTierClassifier:
    return SecondTierClassifier(
        group_feature="disorder", min_cases=policy.min_cases_dedicated, dedicated=dedicated,
        random_state=seed,
    )


def _fit(
    X: pd.DataFrame,
    y: np.ndarray,
    units: np.ndarray,
    fit_rows: np.ndarray,
    policy: Policy,
    seed: int,
    *,
    explain: bool,
    log_scale: Any,
) -> FittedSecondTier:
    groups = X["disorder"].to_numpy().astype(str)
    dedicated = dedicated_disorders(groups[fit_rows], y[fit_rows], policy.min_cases_dedicated)
    classifier = _classifier(policy, seed, dedicated)
    oof = out_of_fold_probability(
        classifier, X, y, groups, n_splits=policy.threshold_cv_splits, random_state=seed,
        units=units, fit_rows=fit_rows,
    )
    classifier.fit(X[fit_rows], y[fit_rows])
    in_sample = classifier.predict_proba(X)[:, 1]
    thresholds = choose_thresholds(
        oof, y == 1, groups,
        min_true_positives=policy.min_true_positives,
        safety_margin=policy.safety_margin,
        in_sample_probability=in_sample,
        tail_miss_probability=policy.tail_miss_probability,
    )
    explainer = (
        fit_explainer(classifier, X[fit_rows], y[fit_rows], log_scale=log_scale,
                      random_state=seed)
        if explain else None
    )
    return FittedSecondTier(classifier, thresholds, explainer, oof,  # type: ignore[arg-type]
                            in_sample)


def _log_scale(spec: FeatureSpec) -> np.ndarray:
    return np.array([spec.kind(f) != "covariate" for f in spec.feature_names])


def _design(labelled: pd.DataFrame, spec: FeatureSpec, source: str | None) -> pd.DataFrame:
    return build_features(labelled, spec, disorders=labelled["disorder"], source=source)


def fit_second_tier(
    labelled: pd.DataFrame,
    spec: FeatureSpec,
    policy: Policy,
    *,
    source: str | None = None,
    design: pd.DataFrame | None = None,
) -> FittedSecondTier:
    """Fit the classifier, choose the thresholds, fit the explainer on a labelled table.

    Parameters
    ----------
    labelled
        A validated labelled table (:func:`~cutoffs.second_tier.labelled.validate_labelled`).
    spec
        The features.
    policy
        Thresholds, model and seed settings.
    source
        The table's file name for error messages.
    design
        The feature frame if already built (``disorder`` + ``spec.feature_names``).
    """
    X = _design(labelled, spec, source) if design is None else design
    return _fit(
        X, targets(labelled), specimen_units(labelled), fitting_rows(labelled), policy,
        policy.random_state, explain=True, log_scale=_log_scale(spec),
    )


def specimen_units(labelled: pd.DataFrame) -> np.ndarray:
    """The specimen of each labelled row (the unit folds keep together and families count)."""
    return labelled[PROFILE_ID].astype(str).to_numpy()


def wilson_interval(successes: float, n: float, confidence: float) -> tuple[float, float]:
    """Wilson score interval of a proportion (``(nan, nan)`` when ``n`` is 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _rate(kept: float, n: float) -> float | None:
    return None if n == 0 else kept / n


def outcome_metrics(
    keep: np.ndarray,
    is_true_positive: np.ndarray,
    groups: np.ndarray,
    *,
    confidence: float,
    units: np.ndarray | None = None,
) -> dict[str, Any]:
    """Sensitivity and false-positive reduction of a set of keep/filter decisions.

    Returns ``{"overall": {...}, "per_disorder": {code: {...}}}`` where each entry holds
    ``true_positives``, ``true_positives_kept``, ``false_positives``, ``false_positives_removed``,
    ``sensitivity``, ``false_positive_reduction`` and their Wilson intervals.

    With ``units`` (the specimen of each row), ``overall`` also counts families:
    ``specimens_without_true_positive`` (screen-positive specimens none of whose calls is a true
    positive: the babies a false-positive recall frightens), how many of them are
    ``no_longer_recalled`` (every call filtered) and that share, ``recall_reduction``. A call of
    a baby confirmed with another disorder (citrullinaemia flagged for argininosuccinic aciduria
    too) is a false positive of its disorder but not a false recall of the baby.
    """
    keep = np.asarray(keep, dtype=bool)
    is_tp = np.asarray(is_true_positive, dtype=bool)
    groups = np.asarray(groups).astype(str)

    def entry(rows: np.ndarray) -> dict[str, Any]:
        n_tp = int((rows & is_tp).sum())
        n_fp = int((rows & ~is_tp).sum())
        kept = int((rows & is_tp & keep).sum())
        removed = int((rows & ~is_tp & ~keep).sum())
        return {
            "true_positives": n_tp,
            "true_positives_kept": kept,
            "false_positives": n_fp,
            "false_positives_removed": removed,
            "sensitivity": _rate(kept, n_tp),
            "sensitivity_interval": list(wilson_interval(kept, n_tp, confidence)),
            "false_positive_reduction": _rate(removed, n_fp),
            "false_positive_reduction_interval": list(wilson_interval(removed, n_fp, confidence)),
        }

    overall = entry(np.ones(len(groups), dtype=bool))
    if units is not None:
        per_unit = pd.DataFrame({"unit": np.asarray(units).astype(str), "tp": is_tp,
                                 "keep": keep}).groupby("unit", sort=False)
        babies = per_unit.agg(tp=("tp", "any"), keep=("keep", "any"))
        unaffected = babies[~babies["tp"]]
        n, spared = len(unaffected), int((~unaffected["keep"]).sum())
        overall["specimens_without_true_positive"] = n
        overall["no_longer_recalled"] = spared
        overall["recall_reduction"] = _rate(spared, n)
        overall["recall_reduction_interval"] = list(wilson_interval(spared, n, confidence))
    return {
        "overall": overall,
        "per_disorder": {g: entry(groups == g) for g in sorted(set(groups))},
    }


def _summarise(repeats: list[dict[str, Any]], confidence: float) -> dict[str, Any]:
    """Mean over repeats, the range across repeats and a Wilson interval on the mean counts."""

    def combine(entries: list[dict[str, Any]]) -> dict[str, Any]:
        n_tp = entries[0]["true_positives"]
        n_fp = entries[0]["false_positives"]
        kept = float(np.mean([e["true_positives_kept"] for e in entries]))
        removed = float(np.mean([e["false_positives_removed"] for e in entries]))
        sens = [e["sensitivity"] for e in entries if e["sensitivity"] is not None]
        red = [e["false_positive_reduction"] for e in entries
               if e["false_positive_reduction"] is not None]
        return {
            "true_positives": n_tp,
            "false_positives": n_fp,
            "true_positives_kept_mean": kept,
            "false_positives_removed_mean": removed,
            "sensitivity": _rate(kept, n_tp),
            "sensitivity_range": [min(sens), max(sens)] if sens else None,
            "sensitivity_interval": list(wilson_interval(kept, n_tp, confidence)),
            "false_positive_reduction": _rate(removed, n_fp),
            "false_positive_reduction_range": [min(red), max(red)] if red else None,
            "false_positive_reduction_interval": list(wilson_interval(removed, n_fp, confidence)),
            "true_positives_lost_any_repeat": int(
                max(e["true_positives"] - e["true_positives_kept"] for e in entries)
            ),
        }

    disorders = repeats[0]["per_disorder"].keys()
    overall = combine([r["overall"] for r in repeats])
    if "specimens_without_true_positive" in repeats[0]["overall"]:
        n = repeats[0]["overall"]["specimens_without_true_positive"]
        spared = [r["overall"]["no_longer_recalled"] for r in repeats]
        mean = float(np.mean(spared))
        overall["specimens_without_true_positive"] = n
        overall["no_longer_recalled_mean"] = mean
        overall["recall_reduction"] = _rate(mean, n)
        overall["recall_reduction_range"] = [min(spared) / n, max(spared) / n] if n else None
        overall["recall_reduction_interval"] = list(wilson_interval(mean, n, confidence))
    return {
        "overall": overall,
        "per_disorder": {d: combine([r["per_disorder"][d] for r in repeats]) for d in disorders},
    }


def protected_rows(labelled: pd.DataFrame, policy: Policy) -> np.ndarray:
    """Rows whose first tier the policy never downgrades (none without a first_tier column)."""
    if "first_tier" not in labelled.columns:
        return np.zeros(len(labelled), dtype=bool)
    return labelled["first_tier"].isin(policy.never_downgrade_tiers).to_numpy()


#: Tail bounds the cross-validation also reports the decisions of, besides the policy's own
#: (None: no tail bound, only the safety margin), so a laboratory sees what a looser or tighter
#: policy would cost.
TRADE_OFF_TAIL_BOUNDS: tuple[float | None, ...] = (0.001, 0.003, 0.01, 0.03, None)


def _held_out_keep(
    X: pd.DataFrame,
    y: np.ndarray,
    units: np.ndarray,
    fit_rows: np.ndarray,
    policy: Policy,
    seed: int,
    train: np.ndarray,
    test: np.ndarray,
) -> list[np.ndarray]:
    """The decisions for a held-out fold of a model trained on the rest, one per bound of
    :func:`_trade_off_bounds` (the policy's among them), with thresholds chosen from the same
    inner out-of-fold probabilities."""
    fitted = _fit(
        X.iloc[train], y[train], units[train], fit_rows[train],
        policy, seed, explain=False, log_scale=None,
    )
    probability = fitted.classifier.predict_proba(X.iloc[test])[:, 1]
    all_groups = X["disorder"].to_numpy().astype(str)
    groups = all_groups[test]
    return [
        recall_recommended(probability, groups, choose_thresholds(
            fitted.oof_probability, y[train] == 1, all_groups[train],
            min_true_positives=policy.min_true_positives, safety_margin=policy.safety_margin,
            in_sample_probability=fitted.in_sample_probability, tail_miss_probability=tail))
        for tail in _trade_off_bounds(policy)
    ]


def _trade_off_bounds(policy: Policy) -> tuple[float | None, ...]:
    """:data:`TRADE_OFF_TAIL_BOUNDS` with the policy's own bound, tightest first (None last)."""
    bounds = {b for b in (*TRADE_OFF_TAIL_BOUNDS, policy.tail_miss_probability)
              if b is not None}
    return (*sorted(bounds), None)


def _trade_off(keeps: list[list[np.ndarray]], bounds: tuple[float | None, ...], y: np.ndarray,
               groups: np.ndarray, units: np.ndarray, confidence: float
               ) -> list[dict[str, Any]]:
    """One row per tail bound: the cross-validated true positives lost and reductions."""
    rows = []
    for k, tail in enumerate(bounds):
        repeats = [outcome_metrics(keep[k], y == 1, groups, confidence=confidence, units=units)
                   for keep in keeps]
        overall = _summarise(repeats, confidence)["overall"]
        rows.append({
            "tail_miss_probability": tail,
            "true_positives": overall["true_positives"],
            "true_positives_lost_mean": overall["true_positives"]
            - overall["true_positives_kept_mean"],
            "true_positives_lost_any_repeat": overall["true_positives_lost_any_repeat"],
            "sensitivity": overall["sensitivity"],
            "false_positive_reduction": overall["false_positive_reduction"],
            "recall_reduction": overall.get("recall_reduction"),
        })
    return rows


def cross_validate(
    labelled: pd.DataFrame,
    spec: FeatureSpec,
    policy: Policy,
    *,
    source: str | None = None,
    design: pd.DataFrame | None = None,
    progress: Progress = _quiet,
    n_jobs: int = -1,
) -> dict[str, Any]:
    """Repeated stratified cross-validation of the whole training procedure.

    Each repeat splits the labelled cases into ``policy.validation_cv_splits`` folds; for each
    fold the classifier and thresholds are trained on the others (thresholds on their own inner
    out-of-fold probabilities) and applied to it; results the policy never downgrades are kept.
    Decisions pooled over a repeat's folds give one sensitivity and false-positive reduction per
    disorder; the report gives the mean over repeats, the range across them and a Wilson
    interval. The ``repeats x folds`` fits are independent and run in ``n_jobs`` processes
    (-1: one per core); the result does not depend on it.
    """
    X = _design(labelled, spec, source) if design is None else design
    y = targets(labelled)
    units = specimen_units(labelled)
    fit_rows = fitting_rows(labelled)
    groups = X["disorder"].to_numpy().astype(str)
    protected = protected_rows(labelled, policy)
    tasks = []
    for repeat in range(policy.validation_cv_repeats):
        seed = policy.random_state + 1009 * (repeat + 1)
        for train, test in fold_indices(
            y, groups, n_splits=policy.validation_cv_splits, random_state=seed, units=units
        ):
            tasks.append((repeat, seed, train, test))
    bounds = _trade_off_bounds(policy)
    alternative_keeps = [[np.ones(len(y), dtype=bool) for _ in bounds]
                         for _ in range(policy.validation_cv_repeats)]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_held_out_keep)(X, y, units, fit_rows, policy, seed, train, test)
        for _, seed, train, test in tasks
    )
    for done, ((repeat, _, _, test), alternatives) in enumerate(
            zip(tasks, results, strict=True), 1):
        for k, alternative in enumerate(alternatives):
            alternative_keeps[repeat][k][test] = alternative | protected[test]
        progress(f"cross-validation: fold {done}/{len(tasks)}")
    policy_bound = bounds.index(policy.tail_miss_probability)
    repeats = [
        outcome_metrics(keep[policy_bound], y == 1, groups, confidence=policy.confidence,
                        units=units)
        for keep in alternative_keeps
    ]
    summary = _summarise(repeats, policy.confidence)
    summary["trade_off"] = _trade_off(alternative_keeps, bounds, y, groups, units,
                                      policy.confidence)
    summary["scheme"] = {
        "repeats": policy.validation_cv_repeats,
        "folds": policy.validation_cv_splits,
        "threshold_inner_folds": policy.threshold_cv_splits,
        "confidence": policy.confidence,
        "interval": "Wilson score interval on the mean counts over repeats",
    }
    return summary


def stderr_progress(message: str) -> None:  # pragma: no cover - used by the CLI
    print(message, file=sys.stderr, flush=True)


def check_trainable(labelled: pd.DataFrame, policy: Policy) -> None:
    """Refuse a labelled table that cannot be cross-validated (too few cases of an outcome)."""
    y = targets(labelled)
    folds = max(policy.threshold_cv_splits, policy.validation_cv_splits)
    for label, name in ((1, "true_positive"), (0, "false_positive")):
        count = int((y == label).sum())
        if count < 2 * folds:
            raise CutoffError(
                f"needs at least {2 * folds} rows with outcome {name} to train and "
                f"cross-validate; found {count}",
                field="outcome",
            )


def train_model(
    labelled: pd.DataFrame,
    spec: FeatureSpec,
    policy: Policy,
    *,
    training_sha256: str,
    source: str | None = None,
    validate: bool = True,
    progress: Progress = _quiet,
    now: dt.datetime | None = None,
) -> SecondTierModel:
    """Train a model on a validated labelled table and record how it was made.

    Parameters
    ----------
    labelled
        A validated labelled table.
    spec, policy
        Features and policy.
    training_sha256
        SHA-256 of the training file's bytes.
    source
        The training file's name (errors, metadata).
    validate
        Run the repeated cross-validation and record its metrics (recommended; the metadata
        says when it was skipped).
    progress
        Called with a short message as training advances.
    now
        The training time (default: now, UTC).
    """
    check_trainable(labelled, policy)
    X = _design(labelled, spec, source)
    metrics = None
    if validate:
        metrics = cross_validate(labelled, spec, policy, design=X, progress=progress)
    progress("fitting the final model")
    fitted = fit_second_tier(labelled, spec, policy, design=X)
    return assemble_model(
        fitted, labelled, spec, policy, training_sha256=training_sha256, source=source,
        cv_metrics=metrics, now=now,
    )


def assemble_model(
    fitted: FittedSecondTier,
    labelled: pd.DataFrame,
    spec: FeatureSpec,
    policy: Policy,
    *,
    training_sha256: str,
    source: str | None = None,
    cv_metrics: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> SecondTierModel:
    """A :class:`SecondTierModel` from a fitted second tier, with its metadata."""
    when = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    y = targets(labelled)
    metadata = {
        "model_version": f"second-tier {when:%Y%m%d} {training_sha256[:8]}",
        "trained_at": when.isoformat(),
        "training_file": source or "",
        "training_sha256": training_sha256,
        "training_rows": len(labelled),
        "training_true_positives": int(y.sum()),
        "training_false_positives": int(len(y) - y.sum()),
        "features": list(spec.feature_names),
        "feature_spec": spec.as_dict(),
        "dedicated_models": sorted(fitted.classifier.group_estimators_),
        "thresholds": {k: v.as_dict() for k, v in sorted(fitted.thresholds.items())},
        "cv_metrics": cv_metrics,
        "policy": policy.as_dict(),
        "versions": library_versions(),
    }
    return SecondTierModel(
        classifier=fitted.classifier,
        spec=spec,
        thresholds=fitted.thresholds,
        explainer=fitted.explainer,
        policy=policy,
        metadata=metadata,
    )
