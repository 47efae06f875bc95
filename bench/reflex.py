"""Reflex second tier: the decision and the first-tier scoring of 1,000,000 profiles with
second-tier columns (target under 10 s), on 2 cores.

The profiles are 100,000 babies of ``simulate_screening`` at birth prevalence (second-tier
assays, context) repeated ten times with their own ids; the cutoff table with disorder scores is
derived first from 100,000 other babies (not timed), and the reflex levels are fixed example
levels (their values do not change the work done). Timed: the reflex decision over the first
tier's calls (``apply_reflex``: groups, bypass levels, assay rules, reason codes on every call),
and the whole of scoring and deciding (``evaluate`` with the reflex step); where the scoring's
time goes (marker values, disorder scores, the rules and reasons of ``evaluate``). Each figure
is the wall time and, in brackets, the process's CPU time (both cores): on the shared machine
the wall time grows with the other jobs' load (printed), the CPU time much less.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.disorder_scores import disorder_scores
from cutoffs.evaluate import evaluate
from cutoffs.markers import marker_table
from cutoffs.reflex.apply import apply_reflex, reflex_step
from cutoffs.reflex.calibrate import CalibratedReflex
from cutoffs.reflex.decide import Calibration
from cutoffs.reflex.rules import default_reflex_rules
from cutoffs.rules import default_rules
from msms.population import simulate_cohort, split_truth
from msms.population.screening import simulate_screening

N = 1_000_000


def _profiles() -> pd.DataFrame:
    first, _ = simulate_screening(N // 10, seed=7)
    first = first.drop(columns=["true_disorder", "fp_mechanism", "severity"])
    parts = []
    for k in range(10):
        part = first.copy()
        part["specimen_id"] = part["specimen_id"] + f"-{k}"
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def run() -> list[tuple[str, float, str, str]]:
    reference, truth = split_truth(simulate_cohort(N // 10, seed=2024))
    population = reference[truth["true_disorder"].eq("").to_numpy()]
    table = derive_cutoffs(population, n_bootstrap=10, seed=1)
    table.scores = derive_score_section(population, table, target_flag_rate=0.015)
    rules = default_reflex_rules()
    calibrated = CalibratedReflex(
        Calibration(scale={"C5": 0.8}, repeat_clear_below={"FAO": -1.5}), rules.version,
        rules.sha256, table.version, rules.mild_miss_bound,
        dict(rules.mild_miss_bound_by_disorder), 0)
    profiles = _profiles()
    section = table.scores
    assert section is not None
    codes = [c for c in section.disorders if c in set(default_rules().codes)]
    times: dict[str, tuple[float, float]] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = work()
        times[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return value

    markers = timed("markers", lambda: marker_table(profiles, default_rules().markers()))
    timed("scores", lambda: disorder_scores(profiles, section.specs, table=table,
                                            disorders=codes, values=markers))
    calls = timed("first", lambda: evaluate(profiles, cutoffs=table))
    decided = timed("reflex", lambda: apply_reflex(calls, profiles, calibrated, table, rules))
    both = timed("both", lambda: evaluate(profiles, cutoffs=table,
                                          postprocess=[reflex_step(calibrated, table, rules)]))
    assert len(both) == len(decided)
    flagged = int(np.count_nonzero(decided["decision"] != ""))
    load = os.getloadavg()[0]

    def row(name: str, key: str, target: str) -> tuple[str, float, str, str]:
        wall, cpu = times[key]
        return (f"{name} [CPU {cpu:.1f} s; load average {load:.1f}]", wall, "s", target)

    return [
        row(f"reflex: decision over the calls of 1,000,000 profiles ({flagged:,} flagged calls)",
            "reflex", "-"),
        row("reflex: marker values of 1,000,000 profiles (cutoffs.markers)", "markers", "-"),
        row("reflex: disorder scores of 1,000,000 profiles (cutoffs.disorder_scores)", "scores",
            "-"),
        row("reflex: first-tier scoring of 1,000,000 profiles (evaluate, score table)", "first",
            "-"),
        row("reflex: scoring and reflex decision of 1,000,000 profiles", "both", "< 10"),
    ]
