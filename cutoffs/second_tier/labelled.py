"""Labelled outcomes (docs/architecture.md "Labelled outcomes"): screen positives with the outcome
follow-up established.

A labelled table is a profiles table (docs/architecture.md "Profiles") plus ``disorder`` (the
flagged disorder, a catalogue code) and ``outcome`` (``true_positive`` or ``false_positive``);
``first_tier`` may be present. In the LIMS the rows come from cases whose diagnosis has been
recorded; for validation they are built from a simulated cohort's calls and truth with
:func:`label_screen_positives`.

Public names: ``OUTCOMES``, ``LABELLED_COLUMNS``, ``read_labelled``, ``validate_labelled``,
``label_screen_positives``, ``sha256_of``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from msms.catalogue import Catalogue, default_catalogue
from msms.tables import PROFILE_ID

__all__ = [
    "LABELLED_COLUMNS",
    "OUTCOMES",
    "label_screen_positives",
    "read_labelled",
    "sha256_of",
    "validate_labelled",
]

OUTCOMES = ("true_positive", "false_positive")
#: Columns a labelled table must have besides the profile's analytes and covariates.
LABELLED_COLUMNS = (PROFILE_ID, "disorder", "outcome")


def sha256_of(data: bytes) -> str:
    """Hex SHA-256 of the training file's bytes (the model records it)."""
    return hashlib.sha256(data).hexdigest()


def validate_labelled(
    labelled: pd.DataFrame, *, source: str | None = None, catalogue: Catalogue | None = None
) -> pd.DataFrame:
    """Check the labelled columns; return the table with a fresh positional index.

    Lines in errors count the CSV header as line 1 (row ``i`` is line ``i + 2``).

    Raises
    ------
    CutoffError
        For a missing column, an empty or unknown disorder, or an outcome other than
        ``true_positive`` / ``false_positive``, naming the file, line and field.
    """
    catalogue = catalogue or default_catalogue()
    missing = [c for c in LABELLED_COLUMNS if c not in labelled.columns]
    if missing:
        raise CutoffError(
            f"a labelled table needs column(s) {', '.join(missing)}",
            file=source, line=1, field=missing[0],
        )
    if labelled.empty:
        raise CutoffError("holds no labelled rows", file=source)
    table = labelled.reset_index(drop=True)
    outcome = table["outcome"].astype("string").fillna("").str.strip()
    bad = ~outcome.isin(OUTCOMES)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise CutoffError(
            f"{outcome.iloc[row]!r} is not one of {', '.join(OUTCOMES)}",
            file=source, line=row + 2, field="outcome",
        )
    disorder = table["disorder"].astype("string").fillna("").str.strip()
    known = {d.code for d in catalogue.disorders}
    bad = ~disorder.isin(known)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        what = "is empty" if not disorder.iloc[row] else f"{disorder.iloc[row]!r} is not a " \
            "catalogue disorder code"
        raise CutoffError(what, file=source, line=row + 2, field="disorder")
    table["outcome"] = outcome.astype(object)
    table["disorder"] = disorder.astype(object)
    return table


def read_labelled(path: Path | str) -> tuple[pd.DataFrame, str]:
    """Read and validate a labelled CSV; return the table and the SHA-256 of its bytes."""
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=file) from None
    try:
        table = pd.read_csv(
            io.BytesIO(data), dtype={PROFILE_ID: str, "disorder": str, "outcome": str,
                                     "sex": str, "first_tier": str},
            keep_default_na=False, na_values=[""], encoding="utf-8",
        )
    except UnicodeDecodeError as exc:
        raise CutoffError(f"not UTF-8 ({exc.reason})", file=file) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CutoffError(f"not a readable CSV table: {exc}", file=file) from None
    return validate_labelled(table, source=file), sha256_of(data)


def label_screen_positives(
    calls: pd.DataFrame,
    cohort: pd.DataFrame,
    *,
    tiers: Iterable[str] = ("borderline", "positive", "critical"),
) -> pd.DataFrame:
    """A labelled table from first-tier calls and the truth of a simulated cohort.

    Each call in ``tiers`` becomes a row: the specimen's profile, ``disorder`` (the flagged
    one), ``first_tier`` and ``outcome`` = ``true_positive`` when the baby's ``true_disorder``
    is the flagged disorder, else ``false_positive`` (docs/architecture.md "Labelled outcomes").

    Parameters
    ----------
    calls
        docs/architecture.md "Calls" calls (``specimen_id``, ``disorder``, ``first_tier``, ...).
    cohort
        Profiles with the truth column ``true_disorder`` (empty when unaffected).
    """
    if "true_disorder" not in cohort.columns:
        raise CutoffError("the cohort has no truth column", field="true_disorder")
    flagged = calls.loc[calls["first_tier"].isin(list(tiers)), [PROFILE_ID, "disorder",
                                                                  "first_tier"]]
    profiles = cohort.drop(columns=[c for c in ("disorder", "outcome", "first_tier")
                                    if c in cohort.columns])
    if profiles[PROFILE_ID].duplicated().any():
        raise CutoffError("the cohort repeats a specimen_id", field=PROFILE_ID)
    table = flagged.merge(profiles, on=PROFILE_ID, how="inner", validate="many_to_one")
    truth = table["true_disorder"].astype("string").fillna("")
    table["outcome"] = np.where(truth == table["disorder"].astype("string"), *OUTCOMES)
    return table.reset_index(drop=True)
