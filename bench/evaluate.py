"""First-tier evaluation of 1,000,000 profiles for every disorder (target: under 30 s on
2 cores), with a laboratory cutoff table (strata) and with the rules' literature levels; one
96-well plate; deriving a table from 100,000 babies.

The million profiles are ten copies (with distinct specimen ids) of a simulated cohort of
100,000 babies with 1% affected, so the calls include every kind of reason.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from cutoffs.derive import derive_cutoffs
from cutoffs.evaluate import evaluate
from cutoffs.rules import default_rules
from msms.population import simulate_cohort, split_truth

N_PROFILES = 1_000_000


def _million(seed: int) -> pd.DataFrame:
    base, _ = split_truth(simulate_cohort(N_PROFILES // 10, seed=seed, disorder_rate=0.01))
    frame = pd.concat([base] * 10, ignore_index=True)
    frame["specimen_id"] = np.char.add("B", np.arange(len(frame)).astype(str)).astype(object)
    return frame


def run() -> list[tuple[str, float, str, str]]:
    rules = default_rules()
    population, truth = split_truth(simulate_cohort(100_000, seed=1))
    population = population[truth["true_disorder"].eq("").to_numpy()]
    start = time.perf_counter()
    table = derive_cutoffs(population, n_bootstrap=200)
    derive_s = time.perf_counter() - start

    profiles = _million(seed=2)
    start = time.perf_counter()
    calls = evaluate(profiles, rules, table)
    with_table_s = time.perf_counter() - start
    start = time.perf_counter()
    literature = evaluate(profiles, rules)
    literature_s = time.perf_counter() - start

    plate = profiles.head(96).copy()
    evaluate(plate, rules, table)
    start = time.perf_counter()
    for _ in range(10):
        evaluate(plate, rules, table)
    plate_ms = (time.perf_counter() - start) / 10 * 1000
    n = len(rules)
    return [
        (f"evaluate: 1,000,000 profiles x {n} disorders, lab table ({len(calls):,} calls)",
         with_table_s, "s", "< 30 s (2 cores)"),
        (f"evaluate: 1,000,000 profiles x {n} disorders, literature ({len(literature):,} calls)",
         literature_s, "s", "< 30 s (2 cores)"),
        (f"evaluate: one 96-well plate x {n} disorders, lab table", plate_ms, "ms", "-"),
        (f"cutoffs derive: 100,000 babies, {len(table.entries):,} cutoffs", derive_s, "s", "-"),
    ]
