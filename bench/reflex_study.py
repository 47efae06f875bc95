"""The reflex second tier measured like a validation study, on populations drawn separately:

- A (derivation, 200,000 babies, seed 2024, the unaffected ones): the first-tier cutoff table
  with disorder scores at a 1.5% target flag rate;
- B (calibration, 200,000 babies, seed 11, 5% affected, with second-tier analytes and repeat
  specimens): the reflex levels (``cutoffs.reflex.calibrate``);
- C (test at birth prevalence, 1,000,000 births, seed 7): false-positive babies cut, unaffected
  babies asked for a repeat or referred after the reflex assays and referred after the repeat,
  per births, and PPV, per referral group;
- D (test enriched, 300,000 babies, seed 8, 5% affected): cases cleared by severity.

Nothing is chosen on C or D. The literature levels (no calibration) are measured on the same
babies. ``python -m bench reflex_study`` prints every table (about 5-8 minutes on 2 cores).
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.evaluate import evaluate
from cutoffs.reflex.calibrate import calibrate_reflex
from cutoffs.reflex.decide import LITERATURE
from cutoffs.reflex.measure import measure_flow
from cutoffs.reflex.outcomes import run_flow, truth_of
from cutoffs.reflex.rules import default_reflex_rules
from msms.population import simulate_cohort, split_truth
from msms.population.screening import simulate_screening

N_A, N_B, N_C, N_D = 200_000, 200_000, 1_000_000, 300_000


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _table():
    profiles, truth = split_truth(simulate_cohort(N_A, seed=2024))
    population = profiles[truth["true_disorder"].eq("").to_numpy()]
    table = derive_cutoffs(population, n_bootstrap=20, seed=1)
    table.scores = derive_score_section(population, table, target_flag_rate=0.015)
    return table


def _measure(first, repeat, table, rules, calibration, births):
    calls = evaluate(first, cutoffs=table)
    flow = run_flow(first, repeat, table, rules, calibration, first_calls=calls)
    return measure_flow(flow, truth_of(first), rules, births)


def study(n_c: int = N_C, n_d: int = N_D) -> dict[str, object]:
    rules = default_reflex_rules()
    start = time.perf_counter()
    table = _table()
    _say(f"A: table {time.perf_counter() - start:.0f} s")
    cal_first, cal_repeat = simulate_screening(N_B, seed=11, disorder_rate=0.05)
    calibrated = calibrate_reflex(cal_first, cal_repeat, table, rules)
    del cal_first, cal_repeat
    _say(f"B: calibrated {time.perf_counter() - start:.0f} s: {calibrated.as_dict()}")
    out: dict[str, object] = {"calibrated": calibrated}
    for name, n, rate, seed in (("C", n_c, None, 7), ("D", n_d, 0.05, 8)):
        first, repeat = simulate_screening(n, seed=seed, disorder_rate=rate)
        for label, calibration in (("calibrated", calibrated.calibration),
                                   ("literature", LITERATURE)):
            out[f"{name} {label}"] = _measure(first, repeat, table, rules, calibration, n)
            _say(f"{name} {label}: {time.perf_counter() - start:.0f} s")
        del first, repeat
    return out


def run() -> list[tuple[str, float, str, str]]:
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    result = study()
    rows: list[tuple[str, float, str, str]] = []
    for key, frame in result.items():
        if key == "calibrated":
            continue
        assert isinstance(frame, pd.DataFrame)
        print(f"\n{key}\n{frame.to_string(index=False, float_format=lambda v: f'{v:.5g}')}")
        by = frame.set_index("group")
        if key.startswith("C"):
            rows.append((f"reflex {key}: unaffected babies repeat/referred after reflex",
                         100 * float(by.loc["all", "reflex_open_per_births"]), "% births",
                         "<= 0.3"))
            rows.append((f"reflex {key}: unaffected babies referred after repeat",
                         100 * float(by.loc["all", "referred_per_births"]), "% births",
                         "<= 0.1"))
        else:
            rows.append((f"reflex {key}: moderate or severe cases cleared",
                         float(by.loc["all", "cleared_moderate"] + by.loc["all",
                                                                       "cleared_severe"]),
                         "cases", "0"))
    return rows
