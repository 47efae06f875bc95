"""Choosing the reflex levels on a calibration population (never on the test population).

For each referral group, on the calibration population's flagged babies whose true disorder
is in the group (its cases):

- the *scale* of the referral and maternal-B12 rule levels: the largest of 1, 0.9, ... 0.1
  such that, with the levels raised by the safety margin (levels x scale / margin), no
  moderate or severe case is cleared and each disorder's mild cases are cleared no more often
  than its bound (``reflex_rules.toml [safety]``); then, in a group with several such assays,
  each assay's own scale (``rule_scale``), raised from the group's as far as stays safe;
- the *informed clearing level* of a group with ``otherwise_informed``: none when no
  calibration case would be cleared as informed beyond the bounds; else ``score_margin_sd``
  below the lowest such non-mild case, lowered for the mild bound (a moderate VLCAD case whose
  ACADVL sequencing missed both alleles keeps every baby above it from being cleared); an
  informed disorder with ``min_cases_own_level`` non-mild cases flagged for it with informed
  disorders only gets its own such level; in a group informed by a genotype each level is
  also kept ``score_margin_sd`` below every non-mild case it holds, as if the case's
  sequencing had missed both alleles (too rare for a calibration set to show);
- the *clearing level* of a group with ``clear_below_score``: the score excess of its lowest
  non-mild case that no rule refers, less ``score_margin_sd``, lowered further so that no
  disorder's mild cases are cleared beyond the bound;
- the *repeat level*: at most 0 (the cutoff), at least ``score_margin_sd`` below the lowest
  repeat-specimen excess of a non-mild case, lowered further for the mild bound; and, for each
  disorder of the group with at least ``min_cases_own_level`` (20) non-mild cases sent for a
  repeat, the same taken on its own cases' repeat excess of its own score
  (``repeat_clear_below_disorder``): a disorder whose cases' markers fall with age then no
  longer sets the level of the whole group.

:func:`oracle_reflex` chooses the same levels on the population it is measured on, each at its
lowest classic (moderate or severe) case, with no margin and mild cases unprotected: the limit
that population allows at 100% classic sensitivity (issue 15's "oracle"), never a level to use.

A group whose cases cannot be protected even at scale 0.1 keeps 0.1 and is reported in
``notes``. The result records the rules' version, the bounds and what was measured on the
calibration set (mild cases cleared per disorder).

Public names: ``calibrate_reflex``, ``oracle_reflex``, ``CalibratedReflex``,
``write_calibration``, ``read_calibration``, ``ORACLE_SCALES``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.reflex.decide import INFORMED_EXCESS, Calibration, group_flags
from cutoffs.reflex.outcomes import run_flow, score_cutoffs, truth_of
from cutoffs.reflex.rules import Group, ReflexRules, reflex_version
from cutoffs.tables import CutoffTable
from msms.tables import PROFILE_ID

__all__ = ["ORACLE_SCALES", "CalibratedReflex", "calibrate_reflex", "oracle_reflex",
           "read_calibration", "write_calibration"]

_SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
#: The oracle may also raise an assay level above the literature's, up to 8 times.
ORACLE_SCALES = (8.0, 6.0, 5.0, 4.0, 3.0, 2.5, 2.0, 1.75, 1.5, 1.3, 1.2, 1.1, *_SCALES)
_CLEARED = ("clear",)
_FAR = 1e9


@dataclass(frozen=True)
class CalibratedReflex:
    """Calibrated levels and their record (version, bounds, calibration measures)."""

    calibration: Calibration
    rules_version: str
    rules_sha256: str
    cutoff_version: str
    mild_miss_bound: float
    mild_miss_bound_by_disorder: dict[str, float]
    n_calibration: int
    mild_cleared: dict[str, list[int]] = field(default_factory=dict)  # disorder -> [k, n]
    notes: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        digest = json.dumps(self.as_dict(), sort_keys=True).encode("utf-8")
        return reflex_version(self.rules_version, hashlib.sha256(digest).hexdigest()[:8])

    def as_dict(self) -> dict[str, Any]:
        c = self.calibration
        # the disorders' own informed levels only where set: a file written before them reads
        # back with the version it was written with
        own_informed = ({"informed_clear_below_disorder": c.informed_clear_below_disorder}
                        if c.informed_clear_below_disorder else {})
        return {"scale": c.scale, "clear_below": c.clear_below,
                "repeat_clear_below": c.repeat_clear_below,
                "repeat_clear_below_disorder": c.repeat_clear_below_disorder,
                "rule_scale": c.rule_scale, "informed_clear_below": c.informed_clear_below,
                **own_informed,
                "rules_version": self.rules_version, "rules_sha256": self.rules_sha256,
                "cutoff_version": self.cutoff_version, "mild_miss_bound": self.mild_miss_bound,
                "mild_miss_bound_by_disorder": self.mild_miss_bound_by_disorder,
                "n_calibration": self.n_calibration, "mild_cleared": self.mild_cleared,
                "notes": self.notes}


def write_calibration(calibrated: CalibratedReflex, path: Path | str) -> Path:
    """Write the calibrated levels as JSON (with the version)."""
    out = Path(path)
    out.write_text(json.dumps({"version": calibrated.version, **calibrated.as_dict()},
                              indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out


def read_calibration(path: Path | str) -> CalibratedReflex:
    """Read calibrated levels written by :func:`write_calibration`."""
    name = str(path)
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        c = Calibration({k: float(v) for k, v in doc["scale"].items()},
                        {k: float(v) for k, v in doc["clear_below"].items()},
                        {k: float(v) for k, v in doc["repeat_clear_below"].items()},
                        {k: float(v) for k, v in
                         doc.get("repeat_clear_below_disorder", {}).items()},
                        {k: float(v) for k, v in doc.get("rule_scale", {}).items()},
                        {k: float(v) for k, v in
                         doc.get("informed_clear_below", {}).items()},
                        {k: float(v) for k, v in
                         doc.get("informed_clear_below_disorder", {}).items()})
        return CalibratedReflex(c, doc["rules_version"], doc["rules_sha256"],
                                doc["cutoff_version"], float(doc["mild_miss_bound"]),
                                dict(doc["mild_miss_bound_by_disorder"]),
                                int(doc["n_calibration"]), dict(doc["mild_cleared"]),
                                list(doc["notes"]))
    except FileNotFoundError:
        raise CutoffError("no such file", file=name) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise CutoffError(f"not a reflex calibration file: {exc}", file=name) from None


def _cases(flow: pd.DataFrame, rules: ReflexRules, truth: pd.DataFrame) -> pd.DataFrame:
    out = flow.join(truth.set_index(PROFILE_ID), on=PROFILE_ID)
    members = {g.code: set(g.disorders) for g in rules.groups}
    case = np.array([d in members[g] for d, g in zip(out["true_disorder"], out["group"],
                                                      strict=True)], dtype=bool)
    return out[case]


def _mild_allowed(cases: pd.DataFrame, rules: ReflexRules) -> dict[str, int]:
    mild = cases[cases["severity"] == "mild"]
    return {d: int(math.floor(rules.mild_bound(d) * n))
            for d, n in mild["true_disorder"].value_counts().items()}


def _safe(cases: pd.DataFrame, allowed: dict[str, int], column: str) -> bool:
    cleared = cases[cases[column].isin(_CLEARED)]
    if (cleared["severity"] != "mild").any():
        return False
    counts = cleared["true_disorder"].value_counts()
    return all(int(k) <= allowed.get(str(d), 0) for d, k in counts.items())


def _level_below(values: np.ndarray, severity: np.ndarray, disorders: np.ndarray,
                 allowed: dict[str, int], margin: float, cap: float) -> float:
    """A level such that no non-mild value lies below it + margin and each disorder's mild
    values below it are at most ``allowed``."""
    level = cap
    non_mild = values[severity != "mild"]
    if len(non_mild):
        level = min(level, float(np.min(non_mild)) - margin)
    for d in np.unique(disorders[severity == "mild"]):
        v = np.sort(values[(severity == "mild") & (disorders == d)])
        k = allowed.get(str(d), 0)
        if k < len(v):
            level = min(level, float(v[k]))
    return level


def _down(level: float) -> float:
    """Rounded down to 4 decimals (rounding must never clear a case the level keeps)."""
    return math.floor(level * 1e4) / 1e4


def _informed_level(first: pd.DataFrame, repeat: pd.DataFrame, table: CutoffTable,
                    rules: ReflexRules, group: Group, base: Calibration, left: dict[str, int],
                    truth: pd.DataFrame, own_calls: pd.DataFrame, own_repeat: pd.DataFrame
                    ) -> tuple[float | None, dict[str, float], pd.DataFrame, pd.DataFrame]:
    """The informed clearing levels of ``group``: the group's (None: no limit) and its informed
    disorders' own, with the flow and cases under them. The cases the informed rule would clear
    must be mild and within ``left``, else the group's level is ``score_margin_sd`` below the
    lowest non-mild one, lowered for the bound (over every such case: the fallback of a disorder
    without its own level). A disorder flagged, with informed disorders only, in at least
    ``min_cases_own_level`` non-mild cases of the group gets its own level
    (:func:`_own_informed_levels`). In a group informed by a genotype each level is then capped
    as if any case's sequencing could have missed both alleles (:func:`_missed_allele_caps`)."""

    def flow_with(level: float | None, own: dict[str, float]
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
        limits = replace(base, informed_clear_below={} if level is None else {group.code: level},
                         informed_clear_below_disorder=own)
        flow = run_flow(first, repeat, table, rules, limits, first_calls=own_calls,
                        repeat_calls=own_repeat)
        return flow, _cases(flow, rules, truth)

    flow, cases = flow_with(None, {})
    taken = cases[cases["reflex_reason_code"] == group.otherwise_informed_reason_code]
    flags = group_flags(own_calls, rules, score_cutoffs(table))
    # (no flagged call: group_flags' frame has neither column)
    mine = flags[(flags["group"] == group.code).to_numpy()].set_index(PROFILE_ID).reindex(
        columns=["informed", *_informed_columns(group)]).rename(columns={"informed": "_informed"})
    exposed = cases.join(mine, on=PROFILE_ID)
    exposed = exposed[(exposed["severity"] != "mild").to_numpy()
                      & exposed["_informed"].eq(True).to_numpy()]
    holders = [d for d, c in zip(group.informed, _informed_columns(group), strict=True)
               if int(exposed[c].notna().sum()) >= rules.min_cases_own_level]
    level, own = math.inf, {d: math.inf for d in holders}
    if not _safe(taken, left, "reflex_decision"):
        values = np.nan_to_num(taken["excess"].to_numpy(float), nan=-math.inf)
        level = _level_below(values, taken["severity"].to_numpy(),
                             taken["true_disorder"].to_numpy(), left, rules.score_margin_sd,
                             math.inf)
        own = _own_informed_levels(group, taken.join(mine, on=PROFILE_ID), holders,
                                   _down(level) if math.isfinite(level) else level, left, rules)
    if group.genotyped:
        caps, group_cap = _missed_allele_caps(group, exposed, holders, rules.score_margin_sd)
        level = min(level, group_cap)
        own = {d: min(v, caps[d]) for d, v in own.items()}
    if level == math.inf and all(v == math.inf for v in own.values()):
        return None, {}, flow, cases
    # rounded down once, at the end (rounding must never clear a case the level keeps)
    stored = None if level == math.inf else _down(level) if math.isfinite(level) else -_FAR
    own_stored = {d: _down(v) if math.isfinite(v) else _FAR for d, v in own.items()}
    # a disorder's level is stored only where it differs from the group's (none: no limit)
    own_stored = {d: v for d, v in own_stored.items()
                  if v != (_FAR if stored is None else stored)}
    flow, cases = flow_with(stored, own_stored)
    return stored, own_stored, flow, cases


def _informed_columns(group: Group) -> list[str]:
    return [f"{INFORMED_EXCESS}{d}" for d in group.informed]


def _own_informed_levels(group: Group, held: pd.DataFrame, holders: list[str], level: float,
                         left: dict[str, int], rules: ReflexRules) -> dict[str, float]:
    """The own level of each informed disorder of ``holders`` (those with
    ``min_cases_own_level`` non-mild cases flagged for it with informed disorders only), on
    ``held``: the cases the informed rule would clear with no level, with their own excess per
    informed disorder (``level``: the group's). A case is held by the level of the flagged
    disorder of its highest excess (a CACT case flagged for MCAD alone holds MCAD's level, not
    VLCAD's): ``score_margin_sd`` below the lowest non-mild case it holds, lowered for the mild
    bound left after the cases held by the group's level; no limit (inf) when it holds none."""
    if not holders:
        return {}
    excess = held[_informed_columns(group)].to_numpy(float)
    readable = ~np.isnan(excess).all(axis=1)
    holder = np.full(len(held), "", dtype=object)
    holder[readable] = np.asarray(group.informed, dtype=object)[
        np.nanargmax(np.where(np.isnan(excess[readable]), -math.inf, excess[readable]), axis=1)]
    severity, disorders = held["severity"].to_numpy(), held["true_disorder"].to_numpy()
    mild = severity == "mild"
    spare = dict(left)
    by_group = mild & ~np.isin(holder, holders) & (
        np.nan_to_num(held["excess"].to_numpy(float), nan=-math.inf) < level)
    for d in disorders[by_group]:
        spare[str(d)] = spare.get(str(d), 0) - 1
    own: dict[str, float] = {}
    for d in sorted(holders):
        mine_ = holder == d
        values = excess[mine_, group.informed.index(d)]
        level_d = _level_below(values, severity[mine_], disorders[mine_], spare,
                               rules.score_margin_sd, math.inf)
        for t in disorders[mine_ & mild][values[mild[mine_]] < level_d]:
            spare[str(t)] = spare.get(str(t), 0) - 1
        own[d] = level_d
    return own


def _missed_allele_caps(group: Group, exposed: pd.DataFrame, holders: list[str],
                        margin: float) -> tuple[dict[str, float], float]:
    """The highest informed levels that keep every non-mild calibration case flagged for
    informed disorders only (``exposed``, with each informed disorder's own excess) ``margin``
    above the level that holds it, as if its genotype had come back with no variant (sequencing
    missing both alleles: 0.97 per allele in the assay catalogue, about 0.09% of cases, too few
    for a calibration set to show): each disorder of ``holders``, margin below the lowest own
    excess of the cases flagged for it; the group's level, margin below the lowest excess of
    the cases flagged for no disorder of ``holders``. inf where there is no such case."""

    def below(values: np.ndarray) -> float:
        values = values[~np.isnan(values)]
        return float(np.min(values)) - margin if len(values) else math.inf

    caps = {d: below(exposed[f"{INFORMED_EXCESS}{d}"].to_numpy(float)) for d in holders}
    rest = exposed
    if holders:
        rest = exposed[exposed[[f"{INFORMED_EXCESS}{d}" for d in holders]].isna().all(
            axis=1).to_numpy()]
    return caps, below(rest["excess"].to_numpy(float))


def _group_calls(calls: pd.DataFrame, group_disorders: set[str]) -> pd.DataFrame:
    return calls[calls["disorder"].astype(str).isin(group_disorders)]


def calibrate_reflex(first: pd.DataFrame, repeat: pd.DataFrame, table: CutoffTable,
                     rules: ReflexRules, *, scales: Sequence[float] = _SCALES,
                     repeat_cap: float = 0.0, first_calls: pd.DataFrame | None = None,
                     repeat_calls: pd.DataFrame | None = None) -> CalibratedReflex:
    """Choose the reflex levels on a labelled calibration population (first cards and repeat
    specimens of :func:`msms.population.screening.simulate_screening`, truth included).
    ``scales``: the factors tried on the referral rules' levels, largest first;
    ``repeat_cap``: the highest repeat level (score excess; 0, the cutoff). ``first_calls``
    and ``repeat_calls`` (every disorder of the flagged babies' repeat specimens,
    ``include_normal=True``) may be passed when already computed."""
    births = len(first)
    calls = first_calls if first_calls is not None else evaluate(first, cutoffs=table)
    flagged = set(calls.loc[calls["first_tier"] != "normal", PROFILE_ID].astype(str))
    # only the flagged babies' cards take part in the decisions below
    first = first[first[PROFILE_ID].astype(str).isin(flagged)].reset_index(drop=True)
    repeat = repeat[repeat["previous_specimen_id"].astype(str).isin(flagged)].reset_index(
        drop=True)
    truth = truth_of(first)
    if repeat_calls is None:
        repeat_calls = evaluate(repeat, cutoffs=table, include_normal=True)
    cuts = ({c: v.cutoff for c, v in table.scores.disorders.items()}
            if table.scores is not None else {})
    scale: dict[str, float] = {}
    clear_below: dict[str, float] = {}
    repeat_below: dict[str, float] = {}
    repeat_below_disorder: dict[str, float] = {}
    rule_scale: dict[str, float] = {}
    informed_below: dict[str, float] = {}
    informed_below_disorder: dict[str, float] = {}
    notes: list[str] = []
    for group in rules.groups:
        has_scale = any(r.outcome in ("referral", "maternal_b12") and r.scaled
                        for r in group.rules)
        # the scale is chosen with the informed clearing held back (its own level follows)
        held = ({"informed_clear_below": {group.code: -_FAR}}
                if group.otherwise_informed else {})
        members = set(group.disorders)
        # the group's calls only: its decision does not depend on the other groups
        own_calls = _group_calls(calls, members)
        own_repeat = _group_calls(repeat_calls, members)
        chosen = None
        for s in (tuple(scales) if has_scale else (1.0,)):
            probe = Calibration(scale={group.code: s / rules.margin}, **held)
            flow = run_flow(first, repeat, table, rules, probe, first_calls=own_calls,
                            repeat_calls=own_repeat)
            cases = _cases(flow, rules, truth)
            allowed = _mild_allowed(cases, rules)
            if _safe(cases, allowed, "reflex_decision"):
                chosen = (s, flow, cases, allowed)
                break
        if chosen is None:
            s = min(scales)
            notes.append(f"{group.code}: a moderate or severe calibration case is cleared even "
                         f"at scale {s}")
            flow = run_flow(first, repeat, table, rules,
                            Calibration(scale={group.code: s}, **held),
                            first_calls=own_calls, repeat_calls=own_repeat)
            cases = _cases(flow, rules, truth)
            allowed = _mild_allowed(cases, rules)
            chosen = (s, flow, cases, allowed)
        s, flow, cases, allowed = chosen
        if has_scale:
            scale[group.code] = s
            # each assay's own scale: as high as is safe with the others' (the group's first)
            assays = list(dict.fromkeys(r.assay for r in group.rules if r.assay and r.scaled
                                        and r.outcome in ("referral", "maternal_b12")))
            own: dict[str, float] = {}
            for assay in assays if len(assays) > 1 else []:
                for t in (x for x in scales if x > s):
                    trial = {**own, f"{group.code}:{assay}": t}
                    probe = Calibration(scale={group.code: s / rules.margin},
                                        rule_scale={k: v / rules.margin
                                                    for k, v in trial.items()}, **held)
                    flow_t = run_flow(first, repeat, table, rules, probe,
                                      first_calls=own_calls, repeat_calls=own_repeat)
                    cases_t = _cases(flow_t, rules, truth)
                    if _safe(cases_t, allowed, "reflex_decision"):
                        own = trial
                        flow, cases = flow_t, cases_t
                        break
            rule_scale.update(own)
        left = dict(allowed)
        cleared_now = cases[cases["reflex_decision"].isin(_CLEARED)]
        for d, k in cleared_now["true_disorder"].value_counts().items():
            left[str(d)] = left.get(str(d), 0) - int(k)
        if group.otherwise_informed:
            level, own_informed, flow, cases = _informed_level(
                first, repeat, table, rules, group,
                Calibration(scale={group.code: s}, rule_scale=rule_scale), left, truth,
                own_calls, own_repeat)
            if level is not None:
                informed_below[group.code] = level
            informed_below_disorder.update(own_informed)
        left = dict(allowed)
        cleared_now = cases[cases["reflex_decision"].isin(_CLEARED)]
        for d, k in cleared_now["true_disorder"].value_counts().items():
            left[str(d)] = left.get(str(d), 0) - int(k)
        if group.clear_below_score:
            open_ = cases[cases["reflex_reason_code"].isin(
                [group.otherwise_reason_code, "FIRST_TIER_BORDERLINE", "FIRST_TIER_POSITIVE"])]
            level = _level_below(open_["excess"].to_numpy(float), open_["severity"].to_numpy(),
                                 open_["true_disorder"].to_numpy(), left,
                                 rules.score_margin_sd, math.inf)
            if math.isfinite(level) and level > 0:
                clear_below[group.code] = _down(level)
                taken = open_[open_["excess"] < level]
                for d, k in taken["true_disorder"].value_counts().items():
                    left[str(d)] = left.get(str(d), 0) - int(k)
        # the repeat: cases sent for a repeat, their repeat excess
        sent = cases[cases["reflex_decision"] == "repeat_specimen"]
        if len(sent):
            ids = set(sent[PROFILE_ID])
            link = repeat.loc[repeat["previous_specimen_id"].astype(str).isin(ids),
                              [PROFILE_ID, "previous_specimen_id"]]
            rc = own_repeat.merge(link, on=PROFILE_ID)
            rc = rc.assign(excess=rc["score"].astype(float)
                           - rc["disorder"].map(cuts).astype(float))
            table_ = rc.pivot_table(index="previous_specimen_id", columns="disorder",
                                    values="excess", aggfunc="max", dropna=False)
            info = sent.set_index(PROFILE_ID)
            table_ = table_.reindex(index=info.index)
            # an unreadable repeat score is decided on its first tier, whatever the level
            read = table_.notna().any(axis=1).to_numpy()
            info, table_ = info[read], table_[read]
            severity = info["severity"].to_numpy()
            disorders = info["true_disorder"].to_numpy()
            # 1. each disorder with enough cases: its own level, on its own score
            levels: dict[str, float] = {}
            counts = pd.Series(disorders[severity != "mild"]).value_counts()
            for d in sorted(counts.index[counts >= rules.min_cases_own_level]):
                if d not in table_.columns:
                    continue
                mine = disorders == d
                values = table_.loc[mine, d].to_numpy(float)
                values = np.where(np.isnan(values), math.inf, values)  # kept by the group level
                level_d = _level_below(values, severity[mine], disorders[mine], left,
                                       rules.score_margin_sd, repeat_cap)
                if math.isfinite(level_d):
                    levels[str(d)] = _down(level_d)
                    taken = (severity[mine] == "mild") & (values < level_d)
                    left[str(d)] = left.get(str(d), 0) - int(taken.sum())
            # 2. the group's level, for the other disorders: every case not already kept by an
            # own-level score must stay at least the margin above it on the other scores
            own_cols = [d for d in table_.columns if d in levels]
            other_cols = [d for d in table_.columns if d not in levels]
            # a case of an own-level disorder is decided on its own score (its level kept the
            # non-mild ones, the mild ones within the bound)
            kept = np.array([d in levels and not math.isnan(v) for d, v in zip(
                disorders, [table_.iloc[i][d] if d in table_.columns else math.nan
                            for i, d in enumerate(disorders)], strict=True)], dtype=bool)
            if own_cols:
                shifted = table_[own_cols].to_numpy(float) - np.array([levels[d]
                                                                       for d in own_cols])
                with np.errstate(invalid="ignore"):
                    kept |= np.nan_to_num(shifted, nan=-math.inf).max(axis=1) >= \
                        rules.score_margin_sd
            # (a case with no other readable score is decided on its own score alone)
            excess = (table_[other_cols].max(axis=1).to_numpy(float) if other_cols
                      else np.full(len(info), math.inf))
            excess = np.where(kept, math.inf, np.nan_to_num(excess, nan=math.inf))
            level = _level_below(excess, severity, disorders, left, rules.score_margin_sd,
                                 repeat_cap)
            # not finite: -inf, nothing may be cleared; +inf (the oracle), nothing to protect
            repeat_below[group.code] = (_down(level) if math.isfinite(level)
                                        else math.copysign(1e9, level))
            repeat_below_disorder.update(levels)
    calibration = Calibration(scale, clear_below, repeat_below, repeat_below_disorder,
                              rule_scale, informed_below, informed_below_disorder)
    final = _cases(run_flow(first, repeat, table, rules, calibration, first_calls=calls,
                            repeat_calls=repeat_calls), rules, truth)
    mild_cleared: dict[str, list[int]] = {}
    for d, part in final[final["severity"] == "mild"].groupby("true_disorder"):
        mild_cleared[str(d)] = [int(part["decision"].isin(_CLEARED).sum()), int(len(part))]
    if (final[final["severity"] != "mild"]["decision"].isin(_CLEARED)).any():
        notes.append("a moderate or severe calibration case is still cleared")
    return CalibratedReflex(calibration, rules.version, rules.sha256, table.version,
                            rules.mild_miss_bound, dict(rules.mild_miss_bound_by_disorder),
                            int(births), mild_cleared, notes)


def oracle_reflex(first: pd.DataFrame, repeat: pd.DataFrame, table: CutoffTable,
                  rules: ReflexRules, *, first_calls: pd.DataFrame | None = None,
                  repeat_calls: pd.DataFrame | None = None) -> CalibratedReflex:
    """The levels a population itself allows at 100% classic sensitivity: chosen on the
    population they are measured on, each at its lowest classic (moderate or severe) case,
    with no safety margin, mild cases unprotected, assay levels free to rise above the
    literature's (:data:`ORACLE_SCALES`), score clearing in every group and repeat levels free
    to rise above the cutoff. A limit to report
    next to the calibrated figures, never levels to use."""
    groups = tuple(replace(g, clear_below_score=True) for g in rules.groups)
    oracle = replace(rules, groups=groups, margin=1.0, score_margin_sd=0.0,
                     mild_miss_bound=1.0, min_cases_own_level=1,
                     mild_miss_bound_by_disorder={d: 1.0 for g in groups for d in g.disorders})
    return calibrate_reflex(first, repeat, table, oracle, scales=ORACLE_SCALES,
                            repeat_cap=math.inf, first_calls=first_calls,
                            repeat_calls=repeat_calls)
