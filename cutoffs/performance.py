"""First-tier performance against known outcomes: sensitivity and false-positive rate per disorder.

Used on simulated cohorts (``msms.population``) and, in a laboratory, on cases whose diagnosis
has been recorded. A baby is *flagged* for a disorder when its call is not ``normal`` (borderline,
positive, critical or not evaluable: each leads to a repeat test or a referral).

Public names: ``first_tier_performance``, ``PERFORMANCE_COLUMNS``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.rules import RuleSet, default_rules
from msms.tables import PROFILE_ID

__all__ = ["PERFORMANCE_COLUMNS", "first_tier_performance"]

PERFORMANCE_COLUMNS: tuple[str, ...] = (
    "disorder", "affected", "affected_non_mild", "flagged_affected", "missed_non_mild",
    "sensitivity", "sensitivity_non_mild", "unaffected", "false_positives",
    "false_positive_rate_pct", "false_positives_positive", "false_positive_positive_rate_pct",
)


def first_tier_performance(
    calls: pd.DataFrame, truth: pd.DataFrame, rules: RuleSet | None = None
) -> pd.DataFrame:
    """Per-disorder sensitivity and false-positive rate of a calls table.

    Parameters
    ----------
    calls
        docs/architecture.md "Calls" calls (normal rows may be absent).
    truth
        ``specimen_id``, ``true_disorder`` (code or empty) and optionally ``severity``
        (mild|moderate|severe); babies without a disorder are the unaffected.
    rules
        Which disorders to report (default: the packaged rules).

    Returns
    -------
    pandas.DataFrame
        ``PERFORMANCE_COLUMNS``: among babies with the disorder, how many were flagged for it
        (sensitivity; ``_non_mild`` excludes severity ``mild``); among babies without any
        disorder, how many were flagged for it (``false_positive_rate_pct``) and how many were
        called positive or critical (the referral level).
    """
    rules = rules if rules is not None else default_rules()
    for column in (PROFILE_ID, "true_disorder"):
        if column not in truth.columns:
            raise CutoffError("the truth table lacks this column", field=column)
    truth_disorder = truth["true_disorder"].fillna("").astype(str).to_numpy()
    ids = truth[PROFILE_ID].astype(str).to_numpy()
    severity = (truth["severity"].fillna("").astype(str).to_numpy() if "severity" in truth.columns
                else np.full(len(truth), "", dtype=object))
    unaffected_ids = set(ids[truth_disorder == ""])
    flagged = calls[calls["first_tier"] != "normal"]
    flagged_ids = flagged[PROFILE_ID].astype(str).tolist()
    flagged_disorders = flagged["disorder"].astype(str).to_numpy()
    flagged_pairs = set(zip(flagged_ids, flagged_disorders, strict=True))
    # one set look-up per flagged row (a Series.isin of the set per disorder costs seconds)
    flagged_unaffected = np.fromiter((i in unaffected_ids for i in flagged_ids), dtype=bool,
                                     count=len(flagged_ids))
    flagged_referral = flagged["first_tier"].isin(["positive", "critical"]).to_numpy(dtype=bool)
    rows = []
    for rule in rules:
        mine = truth_disorder == rule.code
        hit = np.array([(i, rule.code) in flagged_pairs for i in ids[mine]], dtype=bool)
        non_mild = severity[mine] != "mild"
        own_unaffected = (flagged_disorders == rule.code) & flagged_unaffected
        referral = flagged_referral[own_unaffected]
        n_unaffected = len(unaffected_ids)
        affected = int(mine.sum())
        rows.append({
            "disorder": rule.code,
            "affected": affected,
            "affected_non_mild": int(non_mild.sum()),
            "flagged_affected": int(hit.sum()),
            "missed_non_mild": int((~hit & non_mild).sum()),
            "sensitivity": hit.mean() if affected else np.nan,
            "sensitivity_non_mild": hit[non_mild].mean() if non_mild.any() else np.nan,
            "unaffected": n_unaffected,
            "false_positives": int(own_unaffected.sum()),
            "false_positive_rate_pct": 100 * int(own_unaffected.sum()) / n_unaffected
            if n_unaffected else np.nan,
            "false_positives_positive": int(referral.sum()),
            "false_positive_positive_rate_pct": 100 * int(referral.sum()) / n_unaffected
            if n_unaffected else np.nan,
        })
    return pd.DataFrame(rows, columns=list(PERFORMANCE_COLUMNS))
