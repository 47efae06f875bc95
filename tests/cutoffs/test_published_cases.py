"""The published true cases: the fixture is cited and well formed, and ``nbs evaluate`` with the
default cutoffs (no ``--cutoffs``, no ``NBS_CUTOFFS``: the rules' literature levels) flags each
baby found by screening for its disorder, at least 20 babies in at least 8 disorders; the known
gaps (tests/cutoffs/published.py) are expected to fail."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from cutoffs.rules import default_rules
from lims.cli import app
from lims.settings import get_settings
from msms.catalogue import default_catalogue
from tests.cutoffs.published import (
    KNOWN_GAPS,
    case_params,
    found_by_screening,
    is_flagged,
    read_cases,
)

TEXT = ("specimen_id", "baby", "disorder", "specimen_age", "sex", "screening_outcome",
        "derived", "citation", "location")
COVARIATES = ("age_at_collection_hours", "gestational_age_weeks", "birth_weight_g")
OUTCOMES = {"detected", "retrospective", "missed"}


@pytest.fixture(scope="module")
def default_calls(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The calls ``nbs evaluate`` writes for the fixture with the default cutoffs."""
    root = tmp_path_factory.mktemp("published")
    read_cases().to_csv(root / "profiles.csv", index=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("NBS_CUTOFFS", raising=False)
        patch.delenv("NBS_SECOND_TIER_MODEL", raising=False)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["evaluate", str(root / "profiles.csv"),
                                              "--out", str(root / "calls.csv")])
        finally:
            get_settings.cache_clear()
    assert result.exit_code == 0, (result.output, result.exception)
    return pd.read_csv(root / "calls.csv")


def test_every_case_is_cited_and_its_values_are_catalogue_markers():
    cases = read_cases()
    markers = [c for c in cases.columns if c not in TEXT + COVARIATES]
    assert set(markers) <= {a.code for a in default_catalogue().analytes}, markers
    assert cases["specimen_id"].is_unique
    assert set(cases["screening_outcome"]) <= OUTCOMES
    assert set(cases["disorder"]) <= {r.code for r in default_rules()}
    assert cases.groupby("baby")["disorder"].nunique().eq(1).all()
    for column in ("citation", "location"):
        assert cases[column].fillna("").str.strip().ne("").all(), column
    values = cases[markers].apply(pd.to_numeric, errors="raise")
    assert values.notna().any(axis=1).all()
    assert (values.gt(0) | values.isna()).all(axis=None)


def test_at_least_20_babies_in_at_least_8_disorders_are_found_and_flagged(default_calls):
    found = found_by_screening()
    flagged = found[[is_flagged(default_calls, i, d)
                     for i, d in zip(found["specimen_id"], found["disorder"], strict=True)]]
    assert flagged["baby"].nunique() >= 20
    assert flagged["disorder"].nunique() >= 8
    assert set(KNOWN_GAPS) <= set(found["specimen_id"]) - set(flagged["specimen_id"])


def test_the_default_cutoffs_are_the_rules_literature_levels(default_calls):
    assert set(default_calls["cutoff_version"].astype(str)) == {default_rules().version}


@pytest.mark.parametrize("specimen_id", case_params())
def test_nbs_evaluate_with_the_default_cutoffs_flags_the_case(default_calls, specimen_id):
    disorder = read_cases().set_index("specimen_id").at[specimen_id, "disorder"]
    assert is_flagged(default_calls, specimen_id, disorder), (specimen_id, disorder)
