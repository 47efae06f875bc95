"""The repeat-in-duplicate rule (docs/evaluation.md) as pure functions.

An out-of-range initial result is repeated in duplicate from the same card and the mean of the
two duplicates decides: back in range -> no action; borderline -> request a repeat specimen;
positive or critical -> referral (``immediate_referral``). A critical initial result, or a
positive one for a time-critical disorder, is referred at once without waiting for duplicates
(Georgia protocol: "reanalyzed in duplicate to confirm"; cutoff vs critical value).

Public names: ``DuplicateDecision``, ``decide_duplicates``, ``mean_of_duplicates``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.evaluate import TIERS
from cutoffs.profiles import covariate_frame, numeric_column, specimen_ids
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


def _lines(positions: Sequence[int] | np.ndarray) -> str:
    numbers = [str(int(p) + 2) for p in positions]  # header = line 1
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(numbers)


def _agreeing(duplicates: pd.DataFrame, column: str, file: str | None) -> np.ndarray:
    """A column as values that compare equal when the records agree (NaN / '' = blank)."""
    series = duplicates[column]
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        return numeric_column(duplicates, column, file=file)
    return series.astype("string").fillna("").str.strip().to_numpy(dtype=object)


def mean_of_duplicates(duplicates: pd.DataFrame, *, file: str | None = None,
                       agree: Iterable[str] = ()) -> pd.DataFrame:
    """One profile per specimen from its two in-duplicate repeats (docs/evaluation.md).

    Each analyte of the result is the mean of the specimen's two values; it is missing when either
    value is missing (the rule needs both duplicates, so evaluation then reports the marker as
    unread). The covariates (docs/architecture.md "Profiles") and the columns in ``agree`` (e.g.
    exclusion flags such as ``pivalate_exposure``) belong to the card and must be the same in both
    rows (blank in both, or equal); other columns are taken from the first row. The specimens keep
    the order of their first rows. Evaluate the result with ``evaluate(...,
    stage="duplicate_mean")``.

    Raises
    ------
    CutoffError
        When a specimen does not have exactly two rows, its two rows disagree on a covariate or
        an ``agree`` column, or a value is not a number -- naming the file, the lines and the
        field.
    """
    file = file if file is not None else duplicates.attrs.get("source_file")
    ids = specimen_ids(duplicates, file=file)
    codes, uniques = pd.factorize(pd.Series(ids, dtype=object))
    counts = np.bincount(codes, minlength=len(uniques))
    wrong = np.flatnonzero(counts != 2)
    if wrong.size:
        first_bad = wrong[np.argmin([np.flatnonzero(codes == w)[0] for w in wrong])]
        rows = np.flatnonzero(codes == first_bad)
        raise CutoffError(
            f"specimen {uniques[first_bad]!r} has {rows.size} duplicate "
            f"row{'' if rows.size == 1 else 's'} ({_lines(rows)}), not 2: "
            "the mean of the in-duplicate repeat needs both results of every specimen",
            file=file, line=int(rows[0]) + 2, field=PROFILE_ID)
    order = np.lexsort((np.arange(codes.size), codes))  # per specimen: its two rows in order
    first, second = order[0::2], order[1::2]
    keep = np.argsort(first, kind="stable")  # specimens in the order of their first rows
    first, second = first[keep], second[keep]

    covariates = covariate_frame(duplicates, file=file)  # validates them, naming the line
    columns = [*covariates.columns, *[c for c in dict.fromkeys(agree)
                                      if c in duplicates.columns and c not in covariates]]
    for column in columns:
        values = (covariates[column].to_numpy() if column in covariates
                  else _agreeing(duplicates, column, file))
        a, b = values[first], values[second]
        same = a == b
        if values.dtype != object:
            same |= np.isnan(a.astype(float)) & np.isnan(b.astype(float))
        if not same.all():
            k = int(np.flatnonzero(~same)[0])
            shown = ["blank" if (x == "" or (isinstance(x, float) and math.isnan(x)))
                     else f"{x:g}" if isinstance(x, float) else str(x) for x in (a[k], b[k])]
            raise CutoffError(
                f"the duplicates of specimen {ids[first[k]]!r} disagree ({shown[0]} on line "
                f"{first[k] + 2}, {shown[1]} on line {second[k] + 2}); both results of a card "
                f"must carry the same {column}",
                file=file, line=int(first[k]) + 2, field=column)

    analytes = [c for c in default_catalogue().codes if c in duplicates.columns]
    out = duplicates.iloc[first].reset_index(drop=True)
    out[PROFILE_ID] = ids[first]
    for code in analytes:
        values = numeric_column(duplicates, code, file=file)
        out[code] = (values[first] + values[second]) / 2
    out.attrs = {}  # rows of the result are not lines of the file
    leading = [PROFILE_ID, *[c for c in COVARIATE_COLUMNS if c in out.columns]]
    rest = [c for c in out.columns if c not in leading]
    return out[leading + rest]
