"""Simulating newborn cohorts: 1,000,000 profiles (target under 20 s on 2 cores).

The parameters are loaded and the marginals calibrated once per process (reported separately);
the simulation figure is the time ``simulate_cohort`` takes after that, and the total is both.
Peak memory is the process's peak resident set size (``ru_maxrss``).
"""

from __future__ import annotations

import resource
import sys
import time

from msms.population import default_params, simulate_cohort
from msms.population.calibration import calibrate

N = 1_000_000


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def run() -> list[tuple[str, float, str, str]]:
    start = time.perf_counter()
    params = default_params()
    calibrate(params)
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    frame = simulate_cohort(N, seed=1, params=params)
    simulate_s = time.perf_counter() - start
    if len(frame) != N:
        raise RuntimeError(f"simulated {len(frame)} profiles, expected {N}")
    return [
        ("population: load parameters + calibrate marginals", setup_s, "s", "-"),
        ("population: simulate 1,000,000 profiles", simulate_s, "s", "< 20"),
        ("population: total for 1,000,000 (incl. calibration)", setup_s + simulate_s, "s",
         "< 20"),
        ("population: peak resident memory", _peak_rss_mib(), "MiB", "-"),
    ]
