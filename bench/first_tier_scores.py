"""Disorder scores measured like a validation study: score cutoffs derived from one simulated
screen-negative population, tested on another, against today's per-marker first tier.

Population A (300,000 babies, seed 2024, unaffected only) gives the laboratory cutoff table
(the scores' reference among babies like this one) and the score cutoffs at a 1.5% target
flag rate. Population B (200,000 babies, seed 7, 5% affected, drawn separately) is the test
set. Per disorder: classic (non-mild) and mild sensitivity of the score, of the score with the
rules' critical levels (a marker beyond its critical level is critical whatever the score),
and of today's per-marker first tier (``nbs evaluate`` with the table derived from A); the
unaffected babies each flags -- with equal tail shares per disorder at the target, and with
each disorder's cutoff also kept below 0.95 x the lowest score of its classic cases in a
third, separate simulated set (seed 11: the laboratory's confirmed cases); the oracle limit
(the flag rate among B's unaffected babies when the disorder's cutoff sits exactly at its
lowest classic case). Then the published true cases
(tests/data/published_cases.csv) and the simulator against the published disease ranges.

``python -m bench first_tier_scores`` prints the tables (also ``python -m
bench.first_tier_scores``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.derive import derive_cutoffs
from cutoffs.disease_ranges import compare_simulated
from cutoffs.disorder_scores import disorder_scores
from cutoffs.evaluate import evaluate
from cutoffs.rules import default_rules
from cutoffs.score_cutoffs import derive_score_cutoffs
from msms.population import simulate_cohort, split_truth

SEED_A, N_A = 2024, 300_000
SEED_B, N_B, RATE_B = 7, 200_000, 0.05
SEED_C, N_C = 11, 200_000  # training cases: the laboratory's confirmed cases, never the test set
TARGET = 0.015
FLOOR_MARGIN = 0.95
PUBLISHED = Path(__file__).resolve().parent.parent / "tests" / "data" / "published_cases.csv"


def _populations() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    a, truth_a = split_truth(simulate_cohort(N_A, seed=SEED_A))
    a = a[truth_a["true_disorder"].eq("").to_numpy()].reset_index(drop=True)
    b, truth_b = split_truth(simulate_cohort(N_B, seed=SEED_B, disorder_rate=RATE_B))
    return a, b, truth_b


def _per_marker_calls(b: pd.DataFrame, table) -> pd.DataFrame:
    calls = evaluate(b, default_rules(), table)
    return calls[["specimen_id", "disorder", "first_tier"]]


def _disorder_rows(scores_b, cutoffs, truth_b, calls, ids) -> pd.DataFrame:
    disorder = truth_b["true_disorder"].fillna("").to_numpy(dtype=object)
    severity = truth_b["severity"].fillna("").to_numpy(dtype=object)
    unaffected = disorder == ""
    flagged_today = set(zip(calls["specimen_id"], calls["disorder"], strict=True))
    critical = set(zip(calls.loc[calls.first_tier == "critical", "specimen_id"],
                       calls.loc[calls.first_tier == "critical", "disorder"], strict=True))
    rows = []
    for code in scores_b.columns:
        score = scores_b[code].to_numpy()
        cases = disorder == code
        if not cases.any():
            continue
        classic, mild = cases & (severity != "mild"), cases & (severity == "mild")
        hit = score > cutoffs[code]
        crit = np.array([(i, code) in critical for i in ids])
        today = np.array([(i, code) in flagged_today for i in ids])
        lowest = np.nanmin(score[classic]) if classic.any() else np.nan
        rows.append({
            "disorder": code, "classic": int(classic.sum()),
            "classic_score": int((hit & classic).sum()),
            "classic_score_or_critical": int(((hit | crit) & classic).sum()),
            "classic_today": int((today & classic).sum()),
            "mild": int(mild.sum()), "mild_score": int((hit & mild).sum()),
            "mild_today": int((today & mild).sum()),
            "unaffected_flagged_pct": 100 * float(hit[unaffected].mean()),
            "oracle_pct": 100 * float((score[unaffected] >= lowest).mean()),
            "cutoff": cutoffs[code], "lowest_classic": lowest,
        })
    return pd.DataFrame(rows)


def _floors(table) -> dict[str, float]:
    """0.95 x the lowest score of each disorder's classic cases in the training set."""
    c, truth_c = split_truth(simulate_cohort(N_C, seed=SEED_C, disorder_rate=RATE_B))
    classic = truth_c["severity"].isin(["moderate", "severe"]).to_numpy()
    c, truth_c = c[classic].reset_index(drop=True), truth_c[classic].reset_index(drop=True)
    scores = disorder_scores(c, table=table).scores
    floors = {}
    for code in scores.columns:
        mine = scores[code].to_numpy()[truth_c["true_disorder"].eq(code).to_numpy()]
        if mine.size:
            floors[code] = FLOOR_MARGIN * float(np.nanmin(mine))
    return floors


def _published(table, cutoffs) -> pd.DataFrame:
    cases = pd.read_csv(PUBLISHED, dtype={"sex": str})
    cases = cases.rename(columns={"case_id": "specimen_id"})
    scores = disorder_scores(cases, table=table).scores
    out = cases[["specimen_id", "disorder", "screening_outcome"]].copy()
    out["score"] = [scores.at[i, d] for i, d in zip(cases.index, cases["disorder"], strict=True)]
    out["cutoff"] = [cutoffs[d] for d in cases["disorder"]]
    out["flagged"] = out["score"] > out["cutoff"]
    return out


def report() -> dict[str, object]:
    """Every table of the study (a dict of DataFrames and figures)."""
    start = time.perf_counter()
    a, b, truth_b = _populations()
    table = derive_cutoffs(a, n_bootstrap=20)
    scores_a = disorder_scores(a, table=table).scores
    cutoffs, q = derive_score_cutoffs(scores_a, TARGET)
    t0 = time.perf_counter()
    scores_b = disorder_scores(b, table=table).scores
    score_s = time.perf_counter() - t0
    calls = _per_marker_calls(b, table)
    ids = b["specimen_id"].to_numpy(dtype=object)
    per_disorder = _disorder_rows(scores_b, cutoffs, truth_b, calls, ids)
    floored, q_floor = derive_score_cutoffs(scores_a, TARGET, floors=_floors(table))
    with_floors = _disorder_rows(scores_b, floored, truth_b, calls, ids)
    per_disorder["classic_floors"] = with_floors["classic_score"].to_numpy()
    per_disorder["mild_floors"] = with_floors["mild_score"].to_numpy()
    per_disorder["unaffected_floors_pct"] = with_floors["unaffected_flagged_pct"].to_numpy()
    per_disorder["cutoff_floors"] = with_floors["cutoff"].to_numpy()
    floor_flags = np.column_stack([scores_b[c].to_numpy() > floored[c] for c in floored])
    unaffected = truth_b["true_disorder"].fillna("").eq("").to_numpy()
    flags = np.column_stack([scores_b[c].to_numpy() > cutoffs[c] for c in cutoffs])
    oracle = {r.disorder: r.lowest_classic for r in per_disorder.itertuples()}
    oracle_flags = np.column_stack([scores_b[c].to_numpy() >= v for c, v in oracle.items()])
    today_any = calls.loc[calls.first_tier.ne("normal"), "specimen_id"].unique()
    b_unaffected_ids = set(b.loc[unaffected, "specimen_id"])
    return {
        "per_disorder": per_disorder,
        "published": _published(table, cutoffs),
        "simulator": compare_simulated(b, truth_b),
        "per_disorder_tail_share": q,
        "a_any_flag_pct": 100 * float((np.column_stack(
            [scores_a[c].to_numpy() > cutoffs[c] for c in cutoffs])).any(axis=1).mean()),
        "b_any_flag_pct": 100 * float(flags[unaffected].any(axis=1).mean()),
        "b_any_flag_floors_pct": 100 * float(floor_flags[unaffected].any(axis=1).mean()),
        "a_any_flag_floors_pct": 100 * float(np.column_stack(
            [scores_a[c].to_numpy() > floored[c] for c in floored]).any(axis=1).mean()),
        "per_disorder_tail_share_floors": q_floor,
        "b_oracle_any_flag_pct": 100 * float(oracle_flags[unaffected].any(axis=1).mean()),
        "b_today_any_flag_pct": 100 * len(b_unaffected_ids.intersection(today_any))
        / max(len(b_unaffected_ids), 1),
        "score_seconds_200k": score_s,
        "total_seconds": time.perf_counter() - start,
    }


def _print(result: dict[str, object]) -> None:
    pd.set_option("display.width", 200)
    pd.set_option("display.max_rows", 200)
    for key in ("per_disorder", "published", "simulator"):
        frame = result[key]
        assert isinstance(frame, pd.DataFrame)
        print(f"\n== {key} ==", file=sys.stderr)
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.3g}"), file=sys.stderr)
    for key, value in result.items():
        if not isinstance(value, pd.DataFrame):
            print(f"{key}: {value}", file=sys.stderr)


def run() -> list[tuple[str, float, str, str]]:
    result = report()
    _print(result)
    per = result["per_disorder"]
    assert isinstance(per, pd.DataFrame)
    published = result["published"]
    assert isinstance(published, pd.DataFrame)
    return [
        ("unaffected flagged by the scores (test set)", float(result["b_any_flag_pct"]), "%",
         "<= 2"),
        ("unaffected flagged per marker today (test set)",
         float(result["b_today_any_flag_pct"]), "%", "-"),
        ("oracle: unaffected flagged with cutoffs at the lowest classic case",
         float(result["b_oracle_any_flag_pct"]), "%", "-"),
        ("classic cases found by the scores", 100 * per.classic_score.sum() / per.classic.sum(),
         "%", "100"),
        ("classic cases found by scores or critical levels",
         100 * per.classic_score_or_critical.sum() / per.classic.sum(), "%", "100"),
        ("mild cases found by the scores", 100 * per.mild_score.sum() / per.mild.sum(), "%",
         ">= today"),
        ("with case floors: unaffected flagged (test set)",
         float(result["b_any_flag_floors_pct"]), "%", "<= 2"),
        ("with case floors: classic cases found",
         100 * per.classic_floors.sum() / per.classic.sum(), "%", "100"),
        ("with case floors: mild cases found", 100 * per.mild_floors.sum() / per.mild.sum(),
         "%", ">= today"),
        ("mild cases found per marker today", 100 * per.mild_today.sum() / per.mild.sum(), "%",
         "-"),
        ("published true cases flagged", float(published.flagged.sum()), "cases",
         f"{len(published)}"),
        ("disorder scores of 200,000 profiles", float(result["score_seconds_200k"]), "s", "-"),
    ]


if __name__ == "__main__":
    for row in run():
        print(*row, sep="\t")
