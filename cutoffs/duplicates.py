"""The repeat-in-duplicate rule (DESIGN §6.4) as pure functions.

An out-of-range initial result is repeated in duplicate from the same card and the mean of the
two duplicates decides: back in range -> no action; borderline -> request a repeat specimen;
positive or critical -> referral (``immediate_referral``). A critical initial result, or a
positive one for a time-critical disorder, is referred at once without waiting for duplicates
(Georgia protocol: "reanalyzed in duplicate to confirm"; cutoff vs critical value).

Public names: ``DuplicateDecision``, ``decide_duplicates``, ``mean_of_duplicates``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.evaluate import TIERS
from cutoffs.profiles import numeric_column, specimen_ids
from cutoffs.rules import MarkerRule
from msms.catalogue import default_catalogue
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

__all__ = ["DuplicateDecision", "decide_duplicates", "mean_of_duplicates"]


@dataclass(frozen=True, slots=True)
class DuplicateDecision:
    """What to do with one marker after the initial test (and its duplicates, if any)."""

    initial_tier: str
    tier: str
    action: str
    mean: float | None
    reason: str


def _tier(marker: MarkerRule, value: float) -> int:
    tier = 0
    for code, level in marker.levels.items():
        if marker.beyond(value, level):
            tier = code
    return tier


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def decide_duplicates(
    marker: MarkerRule,
    initial: float,
    duplicates: Sequence[float] = (),
    *,
    time_critical: bool = False,
) -> DuplicateDecision:
    """Apply the repeat-in-duplicate rule to one marker.

    Parameters
    ----------
    marker
        The rule marker (direction, levels, inclusive) the values are judged against.
    initial
        The initial result.
    duplicates
        The two repeat results from the same card (empty while they are pending).
    time_critical
        Whether the disorder is time-critical (a positive initial is then referred at once).

    Returns
    -------
    DuplicateDecision
        ``tier`` is the tier that decides (the initial's when no duplicates are needed or they
        are pending, else the mean's); ``action`` is one of ``none``, ``repeat_in_duplicate``,
        ``request_repeat_specimen``, ``immediate_referral``.
    """
    name = marker.name
    if not math.isfinite(initial):
        return DuplicateDecision("not_evaluable", "not_evaluable", "repeat_in_duplicate", None,
                                 f"initial {name} is missing: test the card again")
    first = _tier(marker, initial)
    initial_tier = TIERS[first]
    if first == 0:
        return DuplicateDecision(initial_tier, initial_tier, "none", None,
                                 f"initial {name}={_fmt(initial)} in range")
    if first == 3 or (first == 2 and time_critical):
        why = "critical" if first == 3 else "positive for a time-critical disorder"
        return DuplicateDecision(initial_tier, initial_tier, "immediate_referral", None,
                                 f"initial {name}={_fmt(initial)} is {why}: refer without "
                                 "waiting for duplicates")
    finite = [float(v) for v in duplicates if math.isfinite(v)]
    if len(finite) < 2:
        return DuplicateDecision(initial_tier, initial_tier, "repeat_in_duplicate", None,
                                 f"initial {name}={_fmt(initial)} out of range: repeat in "
                                 f"duplicate ({len(finite)} of 2 done)")
    if len(finite) > 2:
        raise CutoffError(f"expected 2 duplicates of {name}, got {len(finite)}", field=name)
    mean = (finite[0] + finite[1]) / 2
    tier = _tier(marker, mean)
    action = ("none", "request_repeat_specimen", "immediate_referral", "immediate_referral")[tier]
    outcome = ("not confirmed", "borderline", "confirmed positive", "confirmed critical")[tier]
    return DuplicateDecision(
        initial_tier, TIERS[tier], action, mean,
        f"mean of duplicates {name}={_fmt(mean)} ({_fmt(finite[0])}, {_fmt(finite[1])}): "
        f"{outcome}",
    )


def mean_of_duplicates(duplicates: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """One profile per specimen from its two in-duplicate repeats (analytes averaged).

    Covariates and other columns are taken from the first row of each specimen. Evaluate the
    result with ``evaluate(..., stage="duplicate_mean")``.

    Raises
    ------
    CutoffError
        When a specimen does not have exactly two rows (naming the specimen and a line).
    """
    ids = pd.Series(specimen_ids(duplicates, file=file), index=duplicates.index)
    counts = ids.value_counts()
    wrong = counts[counts != 2]
    if not wrong.empty:
        specimen = wrong.index[0]
        line = int(np.flatnonzero((ids == specimen).to_numpy())[0]) + 2
        raise CutoffError(f"specimen {specimen!r} has {wrong.iloc[0]} duplicate rows, not 2",
                          file=file, line=line, field=PROFILE_ID)
    codes = [c for c in default_catalogue().codes if c in duplicates.columns]
    numeric = pd.DataFrame({c: numeric_column(duplicates, c, file=file) for c in codes},
                           index=duplicates.index)
    numeric[PROFILE_ID] = ids
    means = numeric.groupby(PROFILE_ID, sort=False)[codes].mean()
    firsts = duplicates.assign(**{PROFILE_ID: ids}).drop_duplicates(PROFILE_ID).set_index(
        PROFILE_ID)
    out = firsts.drop(columns=codes)
    for code in codes:
        out[code] = means[code]
    out = out.reset_index()
    leading = [PROFILE_ID, *[c for c in COVARIATE_COLUMNS if c in out.columns]]
    rest = [c for c in out.columns if c not in leading]
    return out[leading + rest]
