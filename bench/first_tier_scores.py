"""Disorder scores measured like a validation study: fitted and cut on one simulated
population, chosen on a second, measured on a third drawn separately.

- Derivation A (300,000 babies, seed 2024, the unaffected ones): the laboratory cutoff table
  (the scores' reference among babies like this one), the marker covariance and the weights of
  every score method (``sum``, ``discriminant``, ``guarded``), and the score cutoffs at the
  target flag rate.
- Calibration B (200,000 babies, seed 11, 5% affected): per disorder, the method whose lowest
  classic case leaves the fewest unaffected babies above it is chosen; B's classic cases also
  stand for a laboratory's confirmed cases (floors), with the margin chosen on split halves.
- Test C (300,000 babies, seed 7, 5% affected): per disorder, classic (moderate + severe) and
  mild cases found, unaffected babies flagged, the oracle limit (cutoff exactly at C's lowest
  classic case), what the lowest classic case carries (TPN, a poor spot, ...), and the
  unaffected babies still above the cutoff after the in-duplicate repeat: the same card
  measured twice more with the virtual instrument's analytical noise only (analyte CV 3.5%,
  internal-standard CV 2.5%; the spot, its haematocrit and the baby's biology are those of the
  first measurement), so a repeat specimen or a referral follows. Today's per-marker first
  tier (the table at its 99.5th percentiles) is measured on the same babies.

Then the published true cases (tests/data/published_cases.csv) and the simulator against the
published disease ranges. ``python -m bench first_tier_scores`` prints every table (about 3
minutes on 2 cores).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri

from cutoffs.covariate_model import default_covariate_model
from cutoffs.derive import derive_cutoffs
from cutoffs.disease_ranges import compare_simulated, default_disease_ranges
from cutoffs.disorder_scores import METHODS, ScoreSpec, disorder_scores, marker_positions
from cutoffs.evaluate import evaluate
from cutoffs.markers import marker_table
from cutoffs.rules import default_rules
from cutoffs.score_cutoffs import (
    case_floors,
    derive_score_cutoffs,
    flag_scores,
    oracle_cutoffs,
    range_floors,
)
from cutoffs.score_weights import fit_score_specs, reference_position
from cutoffs.signatures import default_signatures
from cutoffs.tables import CutoffTable
from instruments.virtual import InstrumentModel
from msms.catalogue import default_catalogue
from msms.population import simulate_cohort, split_truth

SEED_A, N_A = 2024, 300_000
SEED_B, N_B = 11, 200_000
SEED_C, N_C = 7, 300_000
RATE = 0.05
TARGETS = (0.01, 0.015, 0.02)
TARGET = 0.015
MARGINS = (0.0, 0.25, 0.5, 1.0)
PUBLISHED = Path(__file__).resolve().parent.parent / "tests" / "data" / "published_cases.csv"


class _Set:
    """A simulated population with its truth, marker positions and scores."""

    def __init__(self, n: int, seed: int, rate: float | None, table: CutoffTable | None = None,
                 unaffected_only: bool = False) -> None:
        profiles, truth = split_truth(simulate_cohort(n, seed=seed, disorder_rate=rate))
        if unaffected_only:
            keep = truth["true_disorder"].eq("").to_numpy()
            profiles = profiles[keep].reset_index(drop=True)
            truth = truth[keep].reset_index(drop=True)
        self.profiles, self.truth = profiles, truth
        self.disorder = truth["true_disorder"].fillna("").to_numpy(dtype=object)
        severity = truth["severity"].fillna("").to_numpy(dtype=object)
        self.unaffected = self.disorder == ""
        self.classic = ~self.unaffected & (severity != "mild")
        self.mild = severity == "mild"
        self.positions: dict[str, np.ndarray] = {}
        self.table = table

    def locate(self, table: CutoffTable, names: list[str]) -> None:
        self.table = table
        self.positions = marker_positions(self.profiles, names, table=table)

    def scores(self, specs: dict[str, ScoreSpec]) -> pd.DataFrame:
        return disorder_scores(self.profiles, specs, positions=self.positions).scores


def _oracle_rates(s: _Set, scores: pd.DataFrame) -> dict[str, float]:
    cases = s.classic
    oracle = oracle_cutoffs(scores[cases], s.disorder[cases])
    return {c: float((scores[c].to_numpy()[s.unaffected] > v).mean()) for c, v in oracle.items()}


def _summary(s: _Set, scores: pd.DataFrame, cutoffs: dict[str, float]) -> dict[str, float]:
    flags = flag_scores(scores, cutoffs).to_numpy()
    own = np.array([flags[i, list(cutoffs).index(d)] if d in cutoffs else False
                    for i, d in enumerate(s.disorder)])
    return {"flagged_pct": 100 * float(flags[s.unaffected].any(axis=1).mean()),
            "classic_found": int((own & s.classic).sum()), "classic": int(s.classic.sum()),
            "mild_found": int((own & s.mild).sum()), "mild": int(s.mild.sum())}


def _choose(b: _Set, fitted: dict[str, dict[str, ScoreSpec]]) -> tuple[dict[str, str],
                                                                       pd.DataFrame]:
    """Per disorder, the method with the lowest oracle flag rate on the calibration set."""
    rates = {m: _oracle_rates(b, b.scores(specs)) for m, specs in fitted.items()}
    table = pd.DataFrame(rates)
    choice = {c: (min(METHODS, key=lambda m: rates[m][c]) if c in table.index else "guarded")
              for c in fitted["guarded"]}
    return choice, table


def _margin(b: _Set, scores: pd.DataFrame) -> tuple[float, dict[float, int]]:
    """The smallest margin at which floors from half of B's classic cases miss at most 0.1%
    of the other half."""
    rows = np.flatnonzero(b.classic)
    half = np.random.default_rng(0).random(rows.size) < 0.5
    missed = {}
    for margin in MARGINS:
        floors = case_floors(scores.iloc[rows[half]], b.disorder[rows[half]], margin=margin)
        other = rows[~half]
        missed[margin] = sum(int((scores[c].to_numpy()[other][b.disorder[other] == c] <= f).sum())
                             for c, f in floors.items())
    chosen = next((m for m in MARGINS if missed[m] <= 0.001 * (~half).sum()), MARGINS[-1])
    return chosen, missed


def _pooled_tail_floors(b: _Set, scores: pd.DataFrame, k: float) -> dict[str, float]:
    """Floors from B's classic cases with the lower tail pooled across disorders: per disorder
    its median less k times (median - 5th percentile)."""
    out = {}
    for code in scores.columns:
        v = scores[code].to_numpy()[b.classic & (b.disorder == code)]
        v = v[np.isfinite(v)]
        if v.size >= 20:
            median, low = np.quantile(v, 0.5), np.quantile(v, 0.05)
            out[code] = float(median - k * (median - low))
    return out


def _fitted_tail_floors(b: _Set, scores: pd.DataFrame, n_ratio: float,
                        expected_miss: float) -> dict[str, float]:
    """Floors from each disorder's own fitted lower tail of B's classic cases: a normal with
    B's median and the spread of the cases below it, cut at the quantile that leaves
    ``expected_miss`` cases below among a test set ``n_ratio`` times B's case count."""
    out = {}
    for code in scores.columns:
        v = scores[code].to_numpy()[b.classic & (b.disorder == code)]
        v = v[np.isfinite(v)]
        if v.size >= 20:
            median = float(np.median(v))
            spread = float(np.sqrt(np.mean((v[v <= median] - median) ** 2)))
            out[code] = median + float(ndtri(expected_miss / (v.size * n_ratio))) * spread
    return out


def _tail_spreads(b: _Set, scores: pd.DataFrame) -> np.ndarray:
    """B's classic cases in units of their disorder's (median - 5th percentile) below its
    median (pooled over disorders)."""
    out = []
    for code in scores.columns:
        v = scores[code].to_numpy()[b.classic & (b.disorder == code)]
        v = v[np.isfinite(v)]
        if v.size >= 20:
            median, low = np.quantile(v, 0.5), np.quantile(v, 0.05)
            out.append((median - v) / (median - low))
    return np.concatenate(out)


def _case_floor_study(b: _Set, c: _Set, sa: pd.DataFrame, sb: pd.DataFrame,
                      sc: pd.DataFrame) -> pd.DataFrame:
    """How far below B's classic cases the cutoffs must go to find every classic case of C:
    floors from B's pooled case tail (at B's lowest case and its 99.99th and 99.9th
    percentiles), from each disorder's own fitted lower tail, and cutoffs placed at B's lowest
    case per disorder with one margin chosen so that A's flag rate is the target (per-disorder
    tail shares instead of a shared one)."""
    rows = []
    spread = _tail_spreads(b, sb)
    for name, k in (("B's lowest case", spread.max()), ("99.99th pct", np.quantile(spread, 0.9999)),
                    ("99.9th pct", np.quantile(spread, 0.999))):
        cut, _ = derive_score_cutoffs(sa, TARGET, floors=_pooled_tail_floors(b, sb, k))
        rows.append({"cutoffs": f"1.5% target, floors from B's pooled case tail ({name}, "
                                f"k={k:.2f})", **_summary(c, sc, cut)})
    fitted = _fitted_tail_floors(b, sb, N_C / N_B, 1.0)
    cut, _ = derive_score_cutoffs(sa, TARGET, floors=fitted)
    rows.append({"cutoffs": "1.5% target, floors from each disorder's fitted lower tail of B "
                            "(1 expected miss per disorder in C)", **_summary(c, sc, cut)})
    lowest = case_floors(sb[b.classic], b.disorder[b.classic])
    for target in (TARGET, 0.02):
        base, _ = derive_score_cutoffs(sa, target)
        lo, hi = -3.0, 3.0
        for _ in range(30):
            margin = (lo + hi) / 2
            cut = {**base, **{d: v - margin for d, v in lowest.items()}}
            if flag_scores(sa, cut).to_numpy().any(axis=1).mean() > target:
                hi = margin
            else:
                lo = margin
        cut = {**base, **{d: v - lo for d, v in lowest.items()}}
        rows.append({"cutoffs": f"each at B's lowest case less {lo:.2f} (A flagged "
                                f"{100 * target:g}%)", **_summary(c, sc, cut)})
    return pd.DataFrame(rows)


def _duplicate_means(profiles: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The mean of two more measurements of the same card: analytical noise only."""
    model = InstrumentModel()
    out = profiles.copy()
    for code in (c for c in default_catalogue().codes if c in out.columns):
        x = out[code].to_numpy(dtype=float)
        runs = [x * (1 + rng.normal(0, model.analyte_cv, x.size))
                / (1 + rng.normal(0, model.is_cv, x.size)) for _ in range(2)]
        out[code] = (runs[0] + runs[1]) / 2
    return out


def _recall_after_duplicates(c: _Set, specs: dict[str, ScoreSpec], scores: pd.DataFrame,
                             cutoffs: dict[str, float]) -> dict[str, float]:
    """Per disorder, % of C's unaffected babies whose duplicate mean is still above the
    cutoff (repeat specimen or referral)."""
    flags = flag_scores(scores, cutoffs).to_numpy()
    rows = np.flatnonzero(c.unaffected & flags.any(axis=1))
    means = _duplicate_means(c.profiles.iloc[rows].reset_index(drop=True),
                             np.random.default_rng(SEED_C))
    names = sorted({m for s in specs.values() for m in s.markers})
    positions = marker_positions(means, names, table=c.table)
    again = flag_scores(disorder_scores(means, specs, positions=positions).scores, cutoffs)
    again = again.to_numpy() & flags[rows]
    n = int(c.unaffected.sum())
    out = {d: 100 * float(again[:, i].sum()) / n for i, d in enumerate(cutoffs)}
    out["any"] = 100 * float(again.any(axis=1).sum()) / n
    return out


def _today(c: _Set) -> tuple[pd.DataFrame, float]:
    calls = evaluate(c.profiles, default_rules(), c.table)
    found = set(zip(calls["specimen_id"], calls["disorder"], strict=True))
    ids = c.profiles["specimen_id"].to_numpy(dtype=object)
    own = np.array([(i, d) in found for i, d in zip(ids, c.disorder, strict=True)])
    per = pd.DataFrame({"disorder": c.disorder, "classic": c.classic & own, "mild": c.mild & own})
    flagged = set(calls["specimen_id"]) & set(ids[c.unaffected])
    return per.groupby("disorder")[["classic", "mild"]].sum(), \
        100 * len(flagged) / int(c.unaffected.sum())


def _lowest_case(c: _Set, scores: pd.DataFrame, code: str) -> str:
    rows = np.flatnonzero(c.classic & (c.disorder == code))
    i = rows[int(np.nanargmin(scores[code].to_numpy()[rows]))]
    mechanisms = str(c.truth["fp_mechanism"].iloc[i]) or "none"
    return f"{mechanisms}; {c.profiles['age_at_collection_hours'].iloc[i]:.0f} h"


def _per_disorder(c: _Set, scores: pd.DataFrame, variants: dict[str, dict[str, float]],
                  today: pd.DataFrame, recall: dict[str, float], choice: dict[str, str]
                  ) -> pd.DataFrame:
    oracle = _oracle_rates(c, scores)
    rows = []
    for code in scores.columns:
        mine = c.disorder == code
        if not mine.any():
            continue
        score = scores[code].to_numpy()
        row = {"disorder": code, "method": choice[code], "classic": int((mine & c.classic).sum()),
               "mild": int((mine & c.mild).sum())}
        for name, cut in variants.items():
            hit = score > cut[code]
            row[f"classic_{name}"] = int((hit & mine & c.classic).sum())
            row[f"mild_{name}"] = int((hit & mine & c.mild).sum())
            row[f"flagged_{name}_pct"] = 100 * float(hit[c.unaffected].mean())
        row["classic_today"] = int(today.loc[code, "classic"]) if code in today.index else 0
        row["mild_today"] = int(today.loc[code, "mild"]) if code in today.index else 0
        row["oracle_pct"] = 100 * oracle.get(code, float("nan"))
        row["recall_after_duplicates_pct"] = recall.get(code, 0.0)
        row["lowest_classic"] = _lowest_case(c, scores, code)
        rows.append(row)
    return pd.DataFrame(rows)


def _published(table: CutoffTable, specs: dict[str, ScoreSpec], cutoffs: dict[str, float]
               ) -> pd.DataFrame:
    cases = pd.read_csv(PUBLISHED, dtype={"sex": str}).rename(columns={"case_id": "specimen_id"})
    scores = disorder_scores(cases, specs, table=table).scores
    out = cases[["specimen_id", "disorder", "screening_outcome"]].copy()
    out["score"] = [scores.at[i, d] for i, d in zip(cases.index, cases["disorder"], strict=True)]
    out["cutoff"] = [cutoffs[d] for d in cases["disorder"]]
    # a profile without some of the rule's markers keeps the rule's call on its cited levels
    rules = {rule.code: rule for rule in default_rules()}
    markers = marker_table(cases, {m.name for rule in rules.values() for m in rule.markers})
    out["incomplete"] = [not all(markers.usable(m.name)[i] for m in rules[d].markers)
                         for i, d in zip(cases.index, cases["disorder"], strict=True)]
    cited = evaluate(cases)
    cited = cited[cited["first_tier"].isin(["borderline", "positive", "critical"])]
    by_rules = set(zip(cited["specimen_id"], cited["disorder"], strict=True))
    out["rule_call"] = [(i, d) in by_rules
                        for i, d in zip(out["specimen_id"], out["disorder"], strict=True)]
    out["flagged"] = (out["score"] > out["cutoff"]) | (out["incomplete"] & out["rule_call"])
    return out


def _methods_on_b(b: _Set, a_scores: dict[str, pd.DataFrame], b_scores: dict[str, pd.DataFrame]
                  ) -> pd.DataFrame:
    rows = []
    for method in a_scores:
        for target in TARGETS:
            cut, _ = derive_score_cutoffs(a_scores[method], target)
            rows.append({"method": method, "target_pct": 100 * target,
                         **_summary(b, b_scores[method], cut)})
    return pd.DataFrame(rows)


def report() -> dict[str, object]:
    """Every table of the study (a dict of DataFrames and figures)."""
    start = time.perf_counter()
    signatures, ranges = default_signatures(), default_disease_ranges()
    names = list(dict.fromkeys(m.name for s in signatures.values() for m in s.markers))
    a = _Set(N_A, SEED_A, None, unaffected_only=True)
    table = derive_cutoffs(a.profiles, n_bootstrap=20)
    b, c = _Set(N_B, SEED_B, RATE), _Set(N_C, SEED_C, RATE)
    for s in (a, b, c):
        s.locate(table, names)
    position = reference_position(table, default_covariate_model())
    fitted, negative = {}, {}
    for method in METHODS:
        fitted[method], flips = fit_score_specs(a.positions, signatures, ranges, position, method)
        negative.update({k: v for k, v in flips.items() if v})
    a_scores = {m: a.scores(f) for m, f in fitted.items()}
    b_scores = {m: b.scores(f) for m, f in fitted.items()}
    choice, b_oracles = _choose(b, fitted)
    specs = {code: fitted[choice[code]][code] for code in signatures}
    sa, sb = a.scores(specs), b.scores(specs)
    t0 = time.perf_counter()
    sc = c.scores(specs)
    score_s = time.perf_counter() - t0
    margin, margin_missed = _margin(b, sb)
    floors_r, overlapping = range_floors(specs, signatures, ranges, position)
    floors_c = case_floors(sb[b.classic], b.disorder[b.classic], margin=margin)
    floors_c0 = case_floors(sb[b.classic], b.disorder[b.classic], margin=0.0)
    variants, qs = {}, {}
    for name, target, floors in (("target", TARGET, {}), ("target_2pct", 0.02, {}),
                                 ("ranges", TARGET, floors_r), ("ranges_2pct", 0.02, floors_r),
                                 ("cases_no_margin", TARGET,
                                                                floors_c0),
                                 ("cases", TARGET, floors_c)):
        variants[name], qs[name] = derive_score_cutoffs(sa, target, floors=floors)
    today, today_flagged = _today(c)
    recall = _recall_after_duplicates(c, specs, sc, variants["ranges"])
    per = _per_disorder(c, sc, variants, today, recall, choice)
    oracle = oracle_cutoffs(sc[c.classic], c.disorder[c.classic])
    return {
        "case_floor_study": _case_floor_study(b, c, sa, sb, sc),
        "methods_on_calibration": _methods_on_b(b, a_scores, b_scores),
        "calibration_oracle_pct": (100 * b_oracles).round(3),
        "per_disorder": per,
        "published": _published(table, specs, variants["ranges"]),
        "simulator": compare_simulated(c.profiles, c.truth),
        "negative_discriminant_weights": negative,
        "range_floors": floors_r, "range_floors_not_used": overlapping,
        "case_floor_margin": margin, "case_floor_margin_missed": margin_missed,
        "tail_share": qs,
        "test": {name: _summary(c, sc, cut) for name, cut in variants.items()},
        "derivation_flagged_pct": {name: 100 * float(flag_scores(sa, cut).to_numpy()
                                                     .any(axis=1).mean())
                                   for name, cut in variants.items()},
        "oracle_any_pct": 100 * float(flag_scores(sc[c.unaffected], oracle).to_numpy()
                                      .any(axis=1).mean()),
        "today_flagged_pct": today_flagged,
        "recall_after_duplicates_any_pct": recall["any"],
        "score_seconds_300k": score_s,
        "total_seconds": time.perf_counter() - start,
    }


def _print(result: dict[str, object]) -> None:
    pd.set_option("display.width", 250)
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.max_columns", 40)
    for key, value in result.items():
        if isinstance(value, pd.DataFrame):
            print(f"\n== {key} ==", file=sys.stderr)
            print(value.to_string(float_format=lambda v: f"{v:.3g}"), file=sys.stderr)
        else:
            print(f"{key}: {value}", file=sys.stderr)


def run() -> list[tuple[str, float, str, str]]:
    result = report()
    _print(result)
    test = result["test"]
    assert isinstance(test, dict)
    published = result["published"]
    assert isinstance(published, pd.DataFrame)
    found = published[published.screening_outcome != "missed"]
    rows = []
    for name, summary in test.items():
        rows += [
            (f"scores ({name}): unaffected flagged", summary["flagged_pct"], "%", "<= 2"),
            (f"scores ({name}): classic cases found", 100 * summary["classic_found"]
             / summary["classic"], "%", "100"),
            (f"scores ({name}): mild cases found", 100 * summary["mild_found"]
             / summary["mild"], "%", ">= today"),
        ]
    per = result["per_disorder"]
    assert isinstance(per, pd.DataFrame)
    return rows + [
        ("per-marker first tier today: unaffected flagged", float(result["today_flagged_pct"]),
         "%", "-"),
        ("per-marker first tier today: mild cases found",
         100 * per.mild_today.sum() / per.mild.sum(), "%", "-"),
        ("oracle: unaffected flagged with cutoffs at the lowest classic case",
         float(result["oracle_any_pct"]), "%", "-"),
        ("unaffected still above a cutoff after the duplicates (ranges)",
         float(result["recall_after_duplicates_any_pct"]), "%", "-"),
        ("published true cases found by screening that are flagged",
         float(found.flagged.sum()), "cases", f"{len(found)}"),
        ("disorder scores of 300,000 profiles", float(result["score_seconds_300k"]), "s", "-"),
    ]


if __name__ == "__main__":
    for row in run():
        print(*row, sep="\t")
