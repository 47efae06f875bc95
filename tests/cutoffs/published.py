"""The published true cases (``tests/data/published_cases.csv``, docs/published_cases.md) as the
tests read them: the fixture, the first tiers that count as flagged, and the babies found by
screening that the default cutoffs are known not to flag (each expected to fail, strictly, so a
change that flags it shows up)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

PUBLISHED = Path(__file__).resolve().parents[1] / "data" / "published_cases.csv"

#: First-tier calls that flag a specimen for a disorder (``not_evaluable`` does not).
FLAGGED = frozenset({"borderline", "positive", "critical"})

#: case_id -> why the default cutoffs do not flag it (none today; docs/published_cases.md).
KNOWN_GAPS: dict[str, str] = {}


def read_cases() -> pd.DataFrame:
    """The fixture, one row per specimen, ``case_id`` renamed to the profiles' ``specimen_id``."""
    return pd.read_csv(PUBLISHED, dtype={"sex": str}).rename(columns={"case_id": "specimen_id"})


def found_by_screening() -> pd.DataFrame:
    """The specimens of babies found by screening (``detected``) or on their stored newborn card
    (``retrospective``): the ones the first tier must flag."""
    cases = read_cases()
    return cases[cases["screening_outcome"].ne("missed")].reset_index(drop=True)


def case_params() -> list[object]:
    """One pytest parameter per specimen found by screening, the known gaps marked xfail."""
    return [pytest.param(i, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[i]))
            if i in KNOWN_GAPS else i for i in found_by_screening()["specimen_id"]]


def is_flagged(calls: pd.DataFrame, specimen_id: str, disorder: str) -> bool:
    """Whether the calls flag ``specimen_id`` for ``disorder``."""
    own = calls[calls["specimen_id"].astype(str).eq(specimen_id) & calls["disorder"].eq(disorder)]
    return bool(own["first_tier"].isin(FLAGGED).any())
