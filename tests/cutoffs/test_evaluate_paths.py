"""The first tier takes marker tiers only where a call can be out of range (a few specimens per
disorder); with ``include_normal`` it takes them for every specimen. Both paths must give the
same calls: on a simulated population with unreadable, zero, negative, infinite and extreme
values and exclusion flags, the out-of-range calls of the full path, row for row and column for
column, are the calls of the fast path -- with a laboratory table with a score section, a table
without one, and the rules' literature levels, at both stages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.evaluate import evaluate
from cutoffs.tables import CutoffTable
from msms.catalogue import default_catalogue
from msms.population import simulate_cohort, split_truth


@pytest.fixture(scope="module")
def tables() -> dict[str, CutoffTable | None]:
    population, truth = split_truth(simulate_cohort(20_000, seed=11))
    population = population[truth["true_disorder"].eq("").to_numpy()]
    plain = derive_cutoffs(population, n_bootstrap=0)
    scored = derive_cutoffs(population, n_bootstrap=0)
    scored.scores = derive_score_section(population, scored, target_flag_rate=0.02)
    return {"scores": scored, "table": plain, "literature": None}


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    """6,000 simulated babies (3% affected), with about 2% of each analyte's values missing,
    zero, negative, infinite or 50 times too high, and some babies on TPN, pivalate or MCT."""
    frame, _ = split_truth(simulate_cohort(6_000, seed=12, disorder_rate=0.03))
    rng = np.random.default_rng(13)
    for code in (a.code for a in default_catalogue().analytes if a.code in frame.columns):
        values = frame[code].to_numpy(dtype=float).copy()
        u = rng.random(values.size)
        values[u < 0.01] = np.nan
        values[(u >= 0.01) & (u < 0.015)] = 0.0
        values[(u >= 0.015) & (u < 0.016)] = -0.5
        values[(u >= 0.016) & (u < 0.0165)] = np.inf
        values[(u >= 0.0165) & (u < 0.02)] *= 50
        frame[code] = values
    frame.loc[rng.random(len(frame)) < 0.02, "tpn"] = 1
    frame["pivalate_exposure"] = (rng.random(len(frame)) < 0.02).astype(int)
    frame["mct_feeding"] = (rng.random(len(frame)) < 0.02).astype(int)
    return frame


# A zero value puts a marker at -inf, and the score is NaN ("cannot be computed") where that
# meets a weight of 0 or another marker at +inf (signed): numpy warns about both.
@pytest.mark.filterwarnings("ignore:invalid value encountered in (multiply|add):RuntimeWarning")
@pytest.mark.parametrize("stage", ["initial", "duplicate_mean"])
@pytest.mark.parametrize("kind", ["scores", "table", "literature"])
def test_out_of_range_calls_are_those_of_every_specimen_evaluated(tables, profiles, kind,
                                                                  stage):
    table = tables[kind]
    fast = evaluate(profiles, cutoffs=table, stage=stage)
    full = evaluate(profiles, cutoffs=table, stage=stage, include_normal=True)
    assert len(full) == len(profiles) * full["disorder"].nunique()
    expected = full[full["first_tier"] != "normal"].reset_index(drop=True)
    # every kind of call is there, so each branch of the fast path is compared
    assert {"borderline", "positive", "critical", "not_evaluable"} <= set(fast["first_tier"])
    assert fast["reasons"].str.contains("capped").any()
    pd.testing.assert_frame_equal(fast, expected)
