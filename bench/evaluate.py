"""First-tier evaluation of 1,000,000 profiles for every disorder (target: under 30 s on
2 cores), with a laboratory cutoff table (strata), with the rules' literature levels, and end
to end through ``nbs evaluate`` on the disorder scores of a table derived at a 1.5% target flag
rate, against the time pandas takes to read the same CSV (target: within 3x); one 96-well
plate; deriving a table from 100,000 babies.

The million profiles are ten copies (with distinct specimen ids) of a simulated cohort of
100,000 babies with 1% affected, so the calls include every kind of reason.

Figures and what they depend on are in docs/evaluation.md section 9; the last quiet run,
with nothing else running on the 2-core machine (load average 1.4): ``pandas.read_csv``
2.09 s, ``nbs evaluate`` CSV -> CSV 13.6 s (6.5x), Parquet -> Parquet 10.5 s. Since the
disorder scores are computed only where they can be above their cutoffs, at a load average of
4.5-8 (no quiet machine was available): ``pandas.read_csv`` 3.2-3.6 s, ``nbs evaluate``
CSV -> CSV 8.4-11.5 s (2.7-3.3x; CPU 5.7-6.8 s), Parquet -> Parquet 9.3-10.1 s; the code
before, at the same load: 1.6 s, 10.3 s (6.4x; CPU 7.8 s), 10.7 s. Quiet (load average
1.1-1.5), before and after one after the other: ``pandas.read_csv`` 0.80 s; ``nbs evaluate``
CSV -> CSV 6.23 s before (7.8x), 4.47-5.17 s after (5.6-6.5x; CPU 8.5 s and 5.3-6.1 s);
Parquet -> Parquet 6.1 s and 3.8-4.0 s.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.evaluate import evaluate
from cutoffs.rules import default_rules
from cutoffs.tables import CutoffTable, write_cutoff_table
from msms.population import simulate_cohort, split_truth

N_PROFILES = 1_000_000


def _million(seed: int) -> pd.DataFrame:
    base, _ = split_truth(simulate_cohort(N_PROFILES // 10, seed=seed, disorder_rate=0.01))
    frame = pd.concat([base] * 10, ignore_index=True)
    frame["specimen_id"] = np.char.add("B", np.arange(len(frame)).astype(str)).astype(object)
    return frame


def _best(seconds: list[float]) -> float:
    return min(seconds)


def _timed(command: list[str]) -> tuple[float, float, float]:
    """Run ``command``: its wall time, CPU time (user + system, all threads) and peak resident
    memory (GiB), from its own resource usage."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command, stderr=errors)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024 ** 2  # KiB -> GiB


def _run_alone(command: list[str]) -> tuple[float, float, float]:
    """:func:`_timed` from a fresh small interpreter: a child of this process would start
    with this process's resident memory (the million profiles), which its peak would count."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_timed, command).result()


def _cli(profiles: pd.DataFrame, table: CutoffTable) -> list[tuple[str, float, str, str]]:
    """``nbs evaluate`` through the CLI on 1,000,000 profiles (CSV and Parquet) with a score
    table, against ``pandas.read_csv`` of the same file (best of two runs each: other jobs on
    the shared machine only add time). Wall time is the target; CPU time (user + system, all
    threads, the command's whole process) is the fair comparison on a shared machine. The
    peak memory is the command's own largest resident set (``ru_maxrss``) over the runs."""
    nbs = str(Path(sys.executable).with_name("nbs"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        csv, parquet, table_path = root / "p.csv", root / "p.parquet", root / "t.toml"
        profiles.to_csv(csv, index=False)
        profiles.to_parquet(parquet, index=False)
        write_cutoff_table(table, table_path)
        read, read_cpu = [], []
        for _ in range(2):
            start, cpu = time.perf_counter(), time.process_time()
            pd.read_csv(csv)
            read.append(time.perf_counter() - start)
            read_cpu.append(time.process_time() - cpu)
        timed: dict[str, list[float]] = {"csv": [], "parquet": [], "csv_cpu": [],
                                         "csv_gib": [], "parquet_gib": []}
        for _ in range(2):
            for kind, source in (("csv", csv), ("parquet", parquet)):
                wall, cpu, peak = _run_alone([nbs, "evaluate", str(source), "--cutoffs",
                                              str(table_path), "--out",
                                              str(root / f"calls.{kind}")])
                timed[kind].append(wall)
                timed[f"{kind}_gib"].append(peak)
                if kind == "csv":
                    timed["csv_cpu"].append(cpu)
    pandas_s, csv_s, parquet_s = _best(read), _best(timed["csv"]), _best(timed["parquet"])
    pandas_cpu, csv_cpu = _best(read_cpu), _best(timed["csv_cpu"])
    return [
        ("pandas.read_csv: the same 1,000,000 profiles", pandas_s, "s", "-"),
        ("  ... CPU time", pandas_cpu, "s", "-"),
        ("nbs evaluate CLI: 1,000,000 profiles CSV -> CSV, disorder scores", csv_s, "s", "-"),
        ("  ... as a multiple of pandas.read_csv", csv_s / pandas_s, "x", "<= 3"),
        ("  ... CPU time", csv_cpu, "s", "-"),
        ("  ... CPU time as a multiple of pandas.read_csv's", csv_cpu / pandas_cpu, "x", "-"),
        ("nbs evaluate CLI: 1,000,000 profiles Parquet -> Parquet", parquet_s, "s", "-"),
        ("  ... peak resident memory", max(timed["parquet_gib"]), "GiB", "-"),
        ("nbs evaluate CLI: peak resident memory, CSV -> CSV", max(timed["csv_gib"]), "GiB",
         "-"),
        ("load average (1 min) after the runs", os.getloadavg()[0], "", "-"),
    ]


def run() -> list[tuple[str, float, str, str]]:
    rules = default_rules()
    population, truth = split_truth(simulate_cohort(100_000, seed=1))
    population = population[truth["true_disorder"].eq("").to_numpy()]
    start = time.perf_counter()
    table = derive_cutoffs(population, n_bootstrap=200)
    derive_s = time.perf_counter() - start
    scored = derive_cutoffs(population, n_bootstrap=0)
    scored.scores = derive_score_section(population, scored, target_flag_rate=0.015)

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
        *_cli(profiles, scored),
    ]
