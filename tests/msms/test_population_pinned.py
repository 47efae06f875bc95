"""The simulated populations of a fixed seed, pinned: a change that is meant to keep the
simulation as it is (a refactoring) must give the same frames to ten significant digits (so
that a last-bit difference of a maths library does not count). A change that means to alter
the simulation updates these digests and says so."""

from __future__ import annotations

import hashlib

import pandas as pd

from msms.population import simulate_cohort
from msms.population.screening import simulate_screening


def _digest(*frames: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for frame in frames:
        h.update(frame.to_csv(index=False, float_format="%.10g").encode())
    return h.hexdigest()


def test_a_seeded_cohort_is_pinned() -> None:
    cohort = simulate_cohort(3000, seed=11, disorder_rate=0.05)
    assert cohort["fp_mechanism"].fillna("").ne("").any()
    assert _digest(cohort) == "8551918ed8eb2b1042c471e8127c7bce7479d0ce07701bdfbcdeb0cf69692245"


def test_seeded_first_cards_and_repeats_are_pinned() -> None:
    first, repeat = simulate_screening(3000, seed=11, disorder_rate=0.05)
    # the ACADM/ACADVL genotypes were added with their own random stream: every other column
    # is as it was before them
    genotypes = ["ACADM", "ACADVL"]
    assert _digest(first.drop(columns=genotypes), repeat.drop(columns=genotypes)) == (
        "db00860d53f1ed54dd93ec0e36d4931c5a7b39a0525ff8a78a1ad9913d5df8ac")
    assert _digest(first, repeat) == (
        "706daa1410bb6e343fb646f2486cc320bdfcb50aae90b3d1e756ccfce329d1d9")
