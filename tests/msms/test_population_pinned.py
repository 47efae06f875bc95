"""The simulated populations of a fixed seed, pinned: a change that is meant to keep the
simulation as it is (a refactoring) must give the same frames to the last digit. A change
that means to alter the simulation updates these digests and says so."""

from __future__ import annotations

import hashlib

import pandas as pd

from msms.population import simulate_cohort
from msms.population.screening import simulate_screening


def _digest(*frames: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for frame in frames:
        h.update(frame.to_csv(index=False).encode())
    return h.hexdigest()


def test_a_seeded_cohort_is_pinned() -> None:
    cohort = simulate_cohort(3000, seed=11, disorder_rate=0.05)
    assert cohort["fp_mechanism"].fillna("").ne("").any()
    assert _digest(cohort) == "33278fc44da34177d82c9180ea3776954e451eacd109797957236b951b2d3cb9"


def test_seeded_first_cards_and_repeats_are_pinned() -> None:
    first, repeat = simulate_screening(3000, seed=11, disorder_rate=0.05)
    assert _digest(first, repeat) == (
        "cd220d8c6e7acff9675ea0e9008ac55ea4fc9db7fb5e00663de8fb95baa0f4aa")
