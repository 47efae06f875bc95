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
babies, and so is each population's *oracle* (``cutoffs.reflex.calibrate.oracle_reflex``: every
level at that population's own lowest classic case, no margin, mild cases unprotected), the
limit the data allow at 100% classic sensitivity. ``python -m bench reflex_study`` prints every
table, and the per-group tables of docs/second_tier.md as markdown (212 s on 2 shared cores
at load average 6, up to 20 minutes under heavier load). ``study(oracles=False)`` measures the
calibrated levels alone (78 to 127 s), to compare a change of the calibration
before and after.
"""

from __future__ import annotations

import sys
import time

import pandas as pd

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.evaluate import evaluate
from cutoffs.reflex.calibrate import CalibratedReflex, calibrate_reflex, oracle_reflex
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


def _calls(first, repeat, table):
    """The first cards' calls and every disorder of the flagged babies' repeat specimens."""
    calls = evaluate(first, cutoffs=table)
    flagged = set(calls.loc[calls["first_tier"] != "normal", "specimen_id"].astype(str))
    sub = repeat[repeat["previous_specimen_id"].astype(str).isin(flagged)]
    return calls, evaluate(sub, cutoffs=table, include_normal=True)


def _measure(first, repeat, table, rules, calibration, births, calls, repeat_calls):
    flagged = set(calls["specimen_id"].astype(str))
    first = first[first["specimen_id"].astype(str).isin(flagged)].reset_index(drop=True)
    repeat = repeat[repeat["previous_specimen_id"].astype(str).isin(flagged)]
    flow = run_flow(first, repeat, table, rules, calibration, first_calls=calls,
                    repeat_calls=repeat_calls)
    return measure_flow(flow, truth_of(first), rules, births)


def study(n_c: int = N_C, n_d: int = N_D, n_b: int = N_B, table=None, *,
          oracles: bool = True) -> dict[str, object]:
    """Every table of the study; ``oracles=False``: the calibrated levels only (about a minute
    instead of 10-20 on 2 cores), to compare a change of the calibration before and after."""
    rules = default_reflex_rules()
    start = time.perf_counter()
    table = table if table is not None else _table()
    _say(f"A: table {time.perf_counter() - start:.0f} s")
    cal_first, cal_repeat = simulate_screening(n_b, seed=11, disorder_rate=0.05)
    calibrated = calibrate_reflex(cal_first, cal_repeat, table, rules)
    del cal_first, cal_repeat
    _say(f"B: calibrated {time.perf_counter() - start:.0f} s: {calibrated.as_dict()}")
    out: dict[str, object] = {"calibrated": calibrated}
    # D first: its oracle (levels at the lowest of its ~11,700 classic cases) is also applied
    # to C, a limit less optimistic than C's own oracle (C has a few classic cases per group)
    for name, n, rate, seed in (("D", n_d, 0.05, 8), ("C", n_c, None, 7)):
        first, repeat = simulate_screening(n, seed=seed, disorder_rate=rate)
        calls, repeat_calls = _calls(first, repeat, table)
        if not oracles:
            out[f"{name} calibrated"] = _measure(first, repeat, table, rules,
                                                 calibrated.calibration, n, calls, repeat_calls)
            _say(f"{name} calibrated: {time.perf_counter() - start:.0f} s")
            del first, repeat
            continue
        oracle = oracle_reflex(first, repeat, table, rules, first_calls=calls,
                               repeat_calls=repeat_calls)
        out[f"{name} oracle levels"] = oracle
        _say(f"{name} oracle: {time.perf_counter() - start:.0f} s: {oracle.as_dict()}")
        runs = [("calibrated", calibrated.calibration), ("literature", LITERATURE),
                ("oracle", oracle.calibration)]
        if name == "C":
            d_levels = out["D oracle levels"]
            assert isinstance(d_levels, CalibratedReflex)
            runs.append(("oracle of D", d_levels.calibration))
        for label, calibration in runs:
            out[f"{name} {label}"] = _measure(first, repeat, table, rules, calibration, n,
                                              calls, repeat_calls)
            _say(f"{name} {label}: {time.perf_counter() - start:.0f} s")
        del first, repeat
    return out


def _pct(v: float, digits: int = 1) -> str:
    return "-" if v != v else f"{100 * v:.{digits}f}"


def markdown(result: dict[str, object]) -> str:
    """The per-group tables of docs/second_tier.md: calibrated [oracle] figures."""
    def frame(key: str) -> pd.DataFrame:
        value = result[key]
        assert isinstance(value, pd.DataFrame)
        return value.set_index("group")

    c, co, cd = frame("C calibrated"), frame("C oracle"), frame("C oracle of D")
    lines = ["| group | unaffected flagged | FP cut % [oracle C; D] | repeat or referred after"
             " reflex, % births [oracle C; D] | referred after repeat, % births [oracle C; D] |"
             " cases referred / flagged | maternal B12 found | PPV % [oracle C; D] |",
             "|---" * 8 + "|"]
    for g in c.index:
        r, o, q = c.loc[g], co.loc[g], cd.loc[g]
        lines.append(
            f"| {g} | {int(r.unaffected_flagged):,} | {_pct(r.fp_cut)} [{_pct(o.fp_cut)}; "
            f"{_pct(q.fp_cut)}] | {_pct(r.reflex_open_per_births, 3)} "
            f"[{_pct(o.reflex_open_per_births, 3)}; {_pct(q.reflex_open_per_births, 3)}] | "
            f"{_pct(r.referred_per_births, 4)} [{_pct(o.referred_per_births, 4)}; "
            f"{_pct(q.referred_per_births, 4)}] | {int(r.cases_referred)} / "
            f"{int(r.cases_flagged)} | {int(r.maternal_b12_found)} | {_pct(r.ppv)} "
            f"[{_pct(o.ppv)}; {_pct(q.ppv)}] |")
    d, do = frame("D calibrated"), frame("D oracle")
    lines += ["", "| group | mild cleared | moderate cleared | severe cleared | FP cut % [oracle]"
              " | PPV % enriched [oracle] |", "|---" * 6 + "|"]
    for g in d.index:
        r, o = d.loc[g], do.loc[g]
        lines.append(
            f"| {g} | {int(r.cleared_mild)} of {int(r.mild_flagged)} | {int(r.cleared_moderate)}"
            f" of {int(r.moderate_flagged)} | {int(r.cleared_severe)} of {int(r.severe_flagged)}"
            f" | {_pct(r.fp_cut)} [{_pct(o.fp_cut)}] | {_pct(r.ppv)} [{_pct(o.ppv)}] |")
    return "\n".join(lines)


def run() -> list[tuple[str, float, str, str]]:
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    result = study()
    rows: list[tuple[str, float, str, str]] = []
    for key, frame in result.items():
        if not isinstance(frame, pd.DataFrame):
            if key != "calibrated":
                print(f"\n{key}: {frame.as_dict()}")  # type: ignore[attr-defined]
            continue
        assert isinstance(frame, pd.DataFrame)
        print(f"\n{key}\n{frame.to_string(index=False, float_format=lambda v: f'{v:.5g}')}")
        by = frame.set_index("group")
        if key.startswith("C"):
            limit = "oracle" in key  # a limit, not a result: no target
            rows.append((f"reflex {key}: unaffected babies repeat/referred after reflex",
                         100 * float(by.loc["all", "reflex_open_per_births"]), "% births",
                         "-" if limit else "<= 0.3"))
            rows.append((f"reflex {key}: unaffected babies referred after repeat",
                         100 * float(by.loc["all", "referred_per_births"]), "% births",
                         "-" if limit else "<= 0.1"))
        else:
            if "oracle" in key:
                continue
            rows.append((f"reflex {key}: moderate or severe cases cleared",
                         float(by.loc["all", "cleared_moderate"] + by.loc["all",
                                                                       "cleared_severe"]),
                         "cases", "0"))
    print("\n" + markdown(result))
    return rows
