"""Scoring profiles and combining the second tier with first-tier calls (docs/second_tier.md;
the calls contract, docs/architecture.md "Calls").

:func:`score` gives, for profiles each flagged for one disorder, the probability of a true
positive, whether the recall stands (:func:`~cutoffs.second_tier.thresholds.recall_recommended`)
and the top contributing features; it works in chunks so a million profiles fit in memory.

:func:`apply_second_tier` post-processes a calls table. For every call whose first tier the
policy scores, it fills ``second_tier_probability`` and ``model_version`` and appends the second
tier's reason. Safety rules:

- a first tier the policy protects (``critical``) is never downgraded, whatever the probability;
- a second-tier negative sets ``final = negative`` and ``action = none`` with the reason
  ``second tier: no recall recommended (p=0.03 < 0.12)``: the first tier, the probability and
  the reason stay visible, and the reviewer can override the recommendation in the LIMS;
- a disorder the model was not trained on, or had too few true positives for, is not filtered.

Public names: ``Scores``, ``score``, ``apply_second_tier``, ``second_tier_step``,
``evaluate_labelled``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.reason_phrases import REASONS
from cutoffs.second_tier.explain import format_contributions, top_contributions
from cutoffs.second_tier.features import feature_values
from cutoffs.second_tier.model_file import SecondTierModel
from cutoffs.second_tier.thresholds import recall_recommended
from cutoffs.second_tier.training import (
    outcome_metrics,
    protected_rows,
    specimen_units,
    targets,
)
from msms.tables import PROFILE_ID

__all__ = ["Scores", "apply_second_tier", "evaluate_labelled", "score", "second_tier_step"]

_CHUNK_ROWS = 100_000


@dataclass
class Scores:
    """Second-tier results per scored row.

    ``probability`` of a true positive; ``keep`` whether the recall stands by the threshold
    (before the never-downgrade rule); ``threshold`` the disorder's threshold (0 when not
    filtered); ``top_index`` / ``top_contribution`` (n, k) the top features (positions in
    ``model.spec.feature_names``) and their signed contributions; ``top_values`` their values
    (log10 for analytes and ratios, as built).
    """

    probability: np.ndarray
    keep: np.ndarray
    threshold: np.ndarray
    top_index: np.ndarray
    top_contribution: np.ndarray
    top_values: np.ndarray

    def reasons(self, model: SecondTierModel, disorders: np.ndarray) -> list[str]:
        """Reason text for the top features of every row."""
        k = self.top_index.shape[1]
        values = np.full((len(self.probability), len(model.spec.feature_names)), np.nan)
        if k:
            np.put_along_axis(values, self.top_index, self.top_values, axis=1)
        return format_contributions(
            model.explainer, values, disorders, self.top_index, self.top_contribution
        )


def _threshold_of(model: SecondTierModel, disorders: np.ndarray) -> np.ndarray:
    level = np.zeros(len(disorders))
    for code, entry in model.thresholds.items():
        if entry.filtered:
            level[disorders == code] = entry.threshold
    return level


def score(
    model: SecondTierModel,
    profiles: pd.DataFrame,
    disorders: np.ndarray | pd.Series,
    *,
    top_features: int | None = None,
    source: str | None = None,
    chunk_rows: int = _CHUNK_ROWS,
) -> Scores:
    """Score profiles, each for its flagged disorder (vectorised, in chunks).

    Parameters
    ----------
    model
        A trained model.
    profiles
        docs/architecture.md "Profiles" profiles, one row per scored result.
    disorders
        The flagged disorder of each row.
    top_features
        How many contributing features to keep (default: the model's policy).
    source
        The profiles' file name for error messages.
    chunk_rows
        Rows per chunk (memory: about 1.5 kB per row of features).
    """
    disorders = np.asarray(disorders).astype(str)
    if len(disorders) != len(profiles):
        raise ValueError("disorders must have one code per profile")
    k = model.policy.top_features if top_features is None else top_features
    n = len(profiles)
    probability = np.empty(n)
    top_index = np.empty((n, k), dtype=np.intp)
    top_contribution = np.empty((n, k))
    top_values = np.empty((n, k))
    keep = np.empty(n, dtype=bool)
    columns = ["disorder", *model.spec.feature_names]
    for start in range(0, n, chunk_rows):
        stop = min(n, start + chunk_rows)
        values = feature_values(profiles.iloc[start:stop], model.spec, source=source)
        frame = pd.DataFrame(values, columns=columns[1:], copy=False)
        frame.insert(0, "disorder", disorders[start:stop])
        probability[start:stop] = model.classifier.predict_proba(frame)[:, 1]
        keep[start:stop] = recall_recommended(
            probability[start:stop], disorders[start:stop], model.thresholds
        )
        index, contribution = top_contributions(
            model.explainer, values, disorders[start:stop], k, prefer=keep[start:stop]
        )
        top_index[start:stop] = index
        top_contribution[start:stop] = contribution
        top_values[start:stop] = np.take_along_axis(values, index, axis=1)
    return Scores(
        probability=probability,
        keep=keep,
        threshold=_threshold_of(model, disorders),
        top_index=top_index,
        top_contribution=top_contribution,
        top_values=top_values,
    )


def _significant(values: np.ndarray, digits: int) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (a probability of 1.7e-07 stays
    1.7e-07 rather than becoming 0)."""
    values = np.asarray(values, dtype=np.float64)
    out = values.copy()
    nonzero = np.isfinite(values) & (values != 0)
    magnitude = np.floor(np.log10(np.abs(values[nonzero])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[nonzero] = np.round(values[nonzero] * scale) / scale
    return out


def _append(reasons: pd.Series, extra: list[str]) -> list[str]:
    out = []
    for before, text in zip(reasons.tolist(), extra, strict=True):
        before = "" if before is None or (isinstance(before, float) and np.isnan(before)) else str(
            before
        )
        out.append(f"{before}; {text}" if before else text)
    return out


def apply_second_tier(
    calls: pd.DataFrame,
    profiles: pd.DataFrame,
    model: SecondTierModel,
    *,
    source: str | None = None,
) -> pd.DataFrame:
    """The calls with the second tier applied (a new frame; the input is not changed).

    Parameters
    ----------
    calls
        docs/architecture.md "Calls" calls from the first tier.
    profiles
        The profiles the calls were made from (docs/architecture.md "Profiles"; matched by
        ``specimen_id``).
    model
        A trained second-tier model.
    source
        The profiles' file name for error messages.

    Raises
    ------
    CutoffError
        When a scored call's specimen has no profile, profiles repeat a specimen_id, or the
        profiles lack what the model needs.
    """
    needed = (PROFILE_ID, "disorder", "first_tier", "reasons", "final", "action")
    missing = [c for c in needed if c not in calls.columns]
    if missing:
        raise CutoffError(f"calls lack column(s) {', '.join(missing)}", field=missing[0])
    out = calls.copy()
    probability = (
        pd.to_numeric(out["second_tier_probability"], errors="coerce")
        if "second_tier_probability" in out.columns else pd.Series(np.nan, index=out.index)
    )
    out["second_tier_probability"] = probability.astype(np.float64)
    if "model_version" not in out.columns:
        out["model_version"] = ""
    out["model_version"] = out["model_version"].astype(object)
    scored = out["first_tier"].isin(model.policy.scored_tiers).to_numpy()
    if not scored.any():
        return out
    ids = profiles[PROFILE_ID].astype(str)
    if ids.duplicated().any():
        duplicate = ids[ids.duplicated()].iloc[0]
        raise CutoffError(f"profiles repeat specimen_id {duplicate!r}", file=source,
                          field=PROFILE_ID)
    position = pd.Series(np.arange(len(profiles)), index=ids.to_numpy())
    wanted = out.loc[scored, PROFILE_ID].astype(str)
    found = wanted.isin(position.index)
    if not found.all():
        absent = wanted[~found].iloc[0]
        raise CutoffError(f"no profile for specimen {absent!r} of the calls", file=source,
                          field=PROFILE_ID)
    rows = profiles.iloc[position.loc[wanted.to_numpy()].to_numpy()]
    disorders = out.loc[scored, "disorder"].astype(str).to_numpy()
    result = score(model, rows, disorders, source=source)
    tiers = out.loc[scored, "first_tier"].to_numpy()
    protected = np.isin(tiers, model.policy.never_downgrade_tiers)
    negative = ~result.keep & ~protected
    top = result.reasons(model, disorders)
    texts = []
    for i, code in enumerate(disorders):
        p, t = result.probability[i], result.threshold[i]
        entry = model.thresholds.get(code)
        if entry is None:
            head = "; ".join((REASONS.text("second_tier_p", p=f"{p:.3g}"),
                              REASONS.text("not_filtered_untrained", disorder=code)))
        elif not entry.filtered:
            head = "; ".join((REASONS.text("second_tier_p", p=f"{p:.3g}"), REASONS.text(
                "not_filtered_few", n=entry.n_true_positive,
                minimum=model.policy.min_true_positives)))
        elif negative[i]:
            head = REASONS.text("second_tier_no_recall", p=f"{p:.3g}", threshold=f"{t:.3g}")
        elif protected[i] and not result.keep[i]:
            head = REASONS.text("second_tier_protected", p=f"{p:.3g}", threshold=f"{t:.3g}",
                                tier=tiers[i])
        else:
            head = REASONS.text("second_tier_recall", p=f"{p:.3g}", threshold=f"{t:.3g}")
        texts.append("; ".join((head, REASONS.text("top_features", features=top[i])))
                     if top[i] else head)
    index = out.index[scored]
    out.loc[index, "second_tier_probability"] = _significant(result.probability, 4)
    out.loc[index, "model_version"] = model.version
    out.loc[index, "reasons"] = _append(out.loc[index, "reasons"], texts)
    down = index[negative]
    out.loc[down, "final"] = "negative"
    out.loc[down, "action"] = "none"
    return out


def second_tier_step(
    model: SecondTierModel, *, source: str | None = None
) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    """A post-processing step for :func:`cutoffs.evaluate.evaluate`: ``(calls, profiles) ->
    calls`` with the second tier applied."""

    def step(calls: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
        return apply_second_tier(calls, profiles, model, source=source)

    return step


def evaluate_labelled(
    model: SecondTierModel, labelled: pd.DataFrame, *, source: str | None = None
) -> dict[str, Any]:
    """Sensitivity and false-positive reduction of the model on a labelled table.

    Rows whose ``first_tier`` (when the column is present) the policy protects are kept, as in
    :func:`apply_second_tier`.
    """
    disorders = labelled["disorder"].astype(str).to_numpy()
    result = score(model, labelled, disorders, top_features=0, source=source)
    keep = result.keep | protected_rows(labelled, model.policy)
    metrics = outcome_metrics(
        keep, targets(labelled) == 1, disorders, confidence=model.policy.confidence,
        units=specimen_units(labelled),
    )
    metrics["model_version"] = model.version
    metrics["rows"] = len(labelled)
    return metrics
