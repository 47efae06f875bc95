"""The reflex decision: per baby and referral group, clear (with a reason code), repeat
specimen, referral, or maternal B12 deficiency (a maternal work-up), from the first-tier calls,
the second-tier assays of the same card, bypass levels and, for a repeat specimen, its own
first tier and assays.

A group is *flagged* when any of its disorders has a call other than normal. In order:

1. a critical call, or a marker past a bypass level: **referral** at once (``CRITICAL``,
   ``BYPASS``), never waiting for the second tier;
2. a reflex assay that is not in the profile: ``awaiting_second_tier`` (the assay is to be run),
   unless the group does not await its assays (``await_assays = false``: decided without
   them, ``NO_SECOND_TIER``, nothing cleared as informed);
3. the group's rules in order, each ``assay >= level x scale`` (the scale is calibrated, at most
   1 on referral rules, exactly 1 on clearing rules) or a recorded context flag equal to 1;
4. otherwise: the group's ``otherwise_informed`` (clear) when every flagged disorder is one
   its assays inform (a normal succinylacetone excludes tyrosinaemia type 1, not type 2; no
   ACADM variant detected excludes MCAD deficiency, not CPT2 deficiency), with every assay
   result present and, where the calibration set one, each flagged disorder's score excess
   below its informed level (``informed_clear_below_disorder``, else the group's
   ``informed_clear_below``); cleared when the group's score excess (the highest disorder score less
   its cutoff, in SD) is below the calibrated clearing level; else the group's ``otherwise``
   (``first_tier``: positive -> referral, borderline -> repeat specimen).

On a repeat specimen the same steps run on the new card, a repeat-specimen outcome becomes a
referral, and a group whose score excess is below the calibrated repeat level (at most 0: the
cutoff) is cleared (``REPEAT_NORMAL``). Where the calibration has a repeat level for a disorder
(``repeat_clear_below_disorder``), that disorder's score is held to its own level and the
group's level applies to its other disorders: the group is cleared when every disorder's repeat
excess is below its level (a disorder whose cases' markers change with age, such as MCAD's C8,
no longer sets the level of the whole group).

Public names: ``Calibration``, ``LITERATURE``, ``group_flags``, ``decide_flags``,
``decide_groups``, ``decide_repeat``, ``AWAITING``, ``GROUP_COLUMNS``, ``INFORMED_EXCESS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cutoffs.markers import marker_table
from cutoffs.profiles import numeric_column
from cutoffs.reflex.rules import Group, ReflexRules
from msms.tables import PROFILE_ID

__all__ = ["AWAITING", "GROUP_COLUMNS", "INFORMED_EXCESS", "LITERATURE", "Calibration",
           "decide_flags", "decide_groups", "decide_repeat", "group_flags"]

#: The decision while a reflex assay has not been run yet.
AWAITING = "awaiting_second_tier"
GROUP_COLUMNS = (PROFILE_ID, "group", "tier", "excess", "disorder", "decision",
                 "reason_code", "stage")
#: The prefix of :func:`group_flags`' column of an informed disorder's own score excess.
INFORMED_EXCESS = "excess:"
_TIER = {"normal": 0, "not_evaluable": 1, "borderline": 1, "positive": 2, "critical": 3}


@dataclass(frozen=True)
class Calibration:
    """Levels chosen on a calibration population (``cutoffs.reflex.calibrate``).

    ``scale``: per group, the factor (<= 1) on the levels of its referral and maternal-B12
    rules; ``rule_scale``: per ``GROUP:ASSAY``, an assay's own factor where the calibration
    could keep it higher than the group's (only the assay the mild cases need is lowered);
    ``clear_below``: per group, the score excess (SD above the cutoff) below which a flagged
    baby with no positive rule is cleared at once; ``repeat_clear_below``: per group, the
    excess (<= 0) a repeat specimen must stay below to be cleared;
    ``repeat_clear_below_disorder``: a disorder's own repeat level;
    ``informed_clear_below``: per group, the score excess a baby cleared as informed
    (``otherwise_informed``) must stay below (none: no limit), set where a calibration case
    would otherwise be cleared (a case whose genotype missed both alleles);
    ``informed_clear_below_disorder``: an informed disorder's own such level (a baby flagged
    for MCAD alone is held to MCAD's, flagged for MCAD and VLCAD to both); a disorder without
    one is held to its group's.
    """

    scale: dict[str, float] = field(default_factory=dict)
    clear_below: dict[str, float] = field(default_factory=dict)
    repeat_clear_below: dict[str, float] = field(default_factory=dict)
    repeat_clear_below_disorder: dict[str, float] = field(default_factory=dict)
    rule_scale: dict[str, float] = field(default_factory=dict)
    informed_clear_below: dict[str, float] = field(default_factory=dict)
    informed_clear_below_disorder: dict[str, float] = field(default_factory=dict)

    def informed_level(self, group: str, disorder: str) -> float | None:
        """The score excess below which ``disorder``'s flag allows clearing as informed: its
        own level, else its group's, else None (no limit)."""
        own = self.informed_clear_below_disorder.get(disorder)
        return own if own is not None else self.informed_clear_below.get(group)

    def repeat_shift(self, group: str, disorder: str) -> float:
        """How far ``disorder``'s own repeat level lies above its group's (0 without one): a
        repeat excess less this shift is compared with the group's level."""
        own = self.repeat_clear_below_disorder.get(disorder)
        if own is None:
            return 0.0
        return own - self.repeat_clear_below.get(group, 0.0)

    def level(self, group: str, rule_outcome: str, level: float, assay: str = "") -> float:
        """A rule's level: referral and maternal-B12 levels times the assay's own scale
        (``rule_scale``, key ``GROUP:ASSAY``) where calibrated, else the group's."""
        if rule_outcome in ("referral", "maternal_b12"):
            factor = self.rule_scale.get(f"{group}:{assay}", self.scale.get(group, 1.0))
            return level * factor
        return level


#: The literature levels: no score clearing, a repeat cleared below the cutoff.
LITERATURE = Calibration()


def _repeat_shifts(calibration: Calibration | None, groups: pd.Series,
                   disorders: pd.Series) -> np.ndarray:
    """Per call, the shift of its disorder's repeat level from its group's (0 when none)."""
    if calibration is None or not calibration.repeat_clear_below_disorder:
        return np.zeros(len(disorders))
    return np.fromiter((calibration.repeat_shift(g, d) for g, d in
                        zip(groups.to_numpy(), disorders.to_numpy(), strict=True)),
                       dtype=float, count=len(disorders))


def group_flags(calls: pd.DataFrame, rules: ReflexRules,
                score_cutoffs: dict[str, float] | None = None,
                repeat_levels: Calibration | None = None) -> pd.DataFrame:
    """One row per specimen and flagged group: highest tier (0-3), score excess, the
    disorder of the highest tier, ``informed`` (every flagged disorder is one the group's
    assays inform) and, per disorder a group clears as informed (``otherwise_informed``), its
    own excess (``INFORMED_EXCESS`` + code; NaN when not flagged). With ``repeat_levels``
    (the calls are repeat specimens) each disorder's excess is taken relative to its own
    repeat level (:meth:`Calibration.repeat_shift`)."""
    group_of = rules.group_of()
    flagged = calls[calls["first_tier"].astype(str) != "normal"]
    if flagged.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GROUP_COLUMNS[:5]})
    disorder = flagged["disorder"].astype(str)
    group = disorder.map(group_of).fillna("")
    cut = disorder.map(score_cutoffs or {}).astype(float)
    shift = _repeat_shifts(repeat_levels, group, disorder)
    frame = pd.DataFrame({
        PROFILE_ID: flagged[PROFILE_ID].astype(str).to_numpy(),
        "group": group.to_numpy(),
        "tier": flagged["first_tier"].astype(str).map(_TIER).to_numpy(),
        "excess": (flagged["score"].astype(float) - cut).to_numpy() - shift,
        "disorder": disorder.to_numpy(),
    }).sort_values("tier", ascending=False, kind="stable")
    informed = {d for g in rules.groups for d in g.informed}
    frame["uninformed"] = ~frame["disorder"].isin(informed).to_numpy()
    out = frame.groupby([PROFILE_ID, "group"], sort=False).agg(
        tier=("tier", "max"), excess=("excess", "max"), disorder=("disorder", "first"),
        uninformed=("uninformed", "any"))
    # the excess of each disorder a group clears as informed (NaN: not flagged), held to its
    # own informed level
    clearing = sorted({d for g in rules.groups if g.otherwise_informed for d in g.informed})
    own = frame[frame["disorder"].isin(clearing)]
    wide = own.groupby([PROFILE_ID, "group", "disorder"], sort=False)["excess"].max().unstack(
        "disorder").reindex(columns=clearing)
    wide.columns = [f"{INFORMED_EXCESS}{d}" for d in clearing]
    out = out.join(wide).reset_index()
    out["informed"] = ~out.pop("uninformed").to_numpy(dtype=bool)
    return out


def _below_informed_levels(group: Group, sub: pd.DataFrame,
                           calibration: Calibration) -> np.ndarray:
    """Per row, whether every flagged informed disorder's excess lies below its informed level
    (:meth:`Calibration.informed_level`); a row with no readable excess is held where any level
    applies. A missing excess column is read as the group's excess (never lower)."""
    n = len(sub)
    below = np.ones(n, dtype=bool)
    readable = np.zeros(n, dtype=bool)
    limited = False
    for disorder in group.informed:
        column = f"{INFORMED_EXCESS}{disorder}"
        values = sub[column if column in sub.columns else "excess"].to_numpy(dtype=float)
        readable |= ~np.isnan(values)
        level = calibration.informed_level(group.code, disorder)
        if level is None:
            continue
        limited = True
        with np.errstate(invalid="ignore"):
            below &= ~(values >= level)
    return below & readable if limited else below


def _values(profiles: pd.DataFrame, rows: np.ndarray, column: str) -> np.ndarray:
    if column not in profiles.columns:
        return np.full(len(rows), np.nan)
    return numeric_column(profiles[[column]].iloc[rows], column)


def _decide_group(group: Group, sub: pd.DataFrame, profiles: pd.DataFrame, rows: np.ndarray,
                  calibration: Calibration, repeat: bool,
                  repeat_reason_normal: str, repeat_reason_flagged: str
                  ) -> tuple[np.ndarray, np.ndarray]:
    n = len(sub)
    decision = np.full(n, "", dtype=object)
    reason = np.full(n, "", dtype=object)
    open_ = np.ones(n, dtype=bool)

    def settle(mask: np.ndarray, what: str, why: str) -> None:
        hit = mask & open_
        decision[hit] = what
        reason[hit] = why
        open_[hit] = False

    tier = sub["tier"].to_numpy()
    excess = sub["excess"].to_numpy(dtype=float)
    settle(tier >= 3, "referral", "CRITICAL")
    if group.bypass:
        markers = marker_table(profiles.iloc[rows], [b.marker for b in group.bypass])
        for b in group.bypass:
            v = markers.values[b.marker]
            usable = markers.usable(b.marker)
            with np.errstate(invalid="ignore"):
                past = usable & ((v >= b.level) if b.high else (v <= b.level))
            settle(past, "referral", "BYPASS")
    if repeat:
        level = calibration.repeat_clear_below.get(group.code, 0.0)
        with np.errstate(invalid="ignore"):
            normal = np.where(np.isnan(excess), tier == 0, excess < level)
        settle(normal, "clear", repeat_reason_normal)
    missing = np.zeros(n, dtype=bool)
    if group.assays:
        values = {a: _values(profiles, rows, a) for a in group.assays}
        for v in values.values():
            missing |= np.isnan(v)
        if group.await_assays:
            settle(missing, AWAITING, "NO_RESULT")
        for rule in group.rules:
            if rule.context:
                hit = _values(profiles, rows, rule.context) == 1
            else:
                lvl = (calibration.level(group.code, rule.outcome, rule.level, rule.assay)
                       if rule.scaled else rule.level)
                with np.errstate(invalid="ignore"):
                    hit = values[rule.assay] >= lvl
            outcome = rule.outcome
            if repeat and outcome == "repeat_specimen":
                outcome = "referral"
            settle(hit, outcome, rule.reason_code)
    if repeat:
        settle(np.ones(n, dtype=bool), "referral", repeat_reason_flagged)
        return decision, reason
    if group.otherwise_informed and "informed" in sub.columns:
        informed = (sub["informed"].to_numpy(dtype=bool) & ~missing
                    & _below_informed_levels(group, sub, calibration))
        settle(informed, group.otherwise_informed, group.otherwise_informed_reason_code)
    # a clearing level is calibrated for the clear_below_score groups (and by the oracle for all)
    level = calibration.clear_below.get(group.code, math.nan)
    if not math.isnan(level):
        with np.errstate(invalid="ignore"):
            settle(excess < level, "clear", "SCORE_BELOW_CLEAR")
    if group.otherwise == "first_tier":
        settle(tier >= 2, "referral", "FIRST_TIER_POSITIVE")
        settle(np.ones(n, dtype=bool), "repeat_specimen", "FIRST_TIER_BORDERLINE")
    else:
        settle(missing, group.otherwise, "NO_SECOND_TIER")
        settle(np.ones(n, dtype=bool), group.otherwise, group.otherwise_reason_code)
    return decision, reason


def decide_flags(flags: pd.DataFrame, profiles: pd.DataFrame, rules: ReflexRules,
            calibration: Calibration, repeat: bool) -> pd.DataFrame:
    """Decide every (specimen, group) row of ``flags`` (:func:`group_flags`); ``repeat``: the
    rows are repeat specimens."""
    out = flags.copy()
    out["decision"] = ""
    out["reason_code"] = ""
    out["stage"] = "repeat" if repeat else "reflex"
    if out.empty:
        return out.reindex(columns=list(GROUP_COLUMNS))
    position = pd.Index(profiles[PROFILE_ID].astype(str))
    for group in rules.groups:
        mask = (out["group"] == group.code).to_numpy()
        if not mask.any():
            continue
        sub = out.loc[mask]
        rows = position.get_indexer(sub[PROFILE_ID])
        decision, reason = _decide_group(group, sub, profiles, rows, calibration, repeat,
                                         rules.repeat_reason_normal,
                                         rules.repeat_reason_still_flagged)
        out.loc[mask, "decision"] = decision
        out.loc[mask, "reason_code"] = reason
    return out[list(GROUP_COLUMNS)]


def decide_groups(calls: pd.DataFrame, profiles: pd.DataFrame, rules: ReflexRules,
                  calibration: Calibration = LITERATURE,
                  score_cutoffs: dict[str, float] | None = None) -> pd.DataFrame:
    """The reflex decision of every flagged (specimen, group) of ``calls``.

    ``profiles`` holds the specimens' analytes and, where run, the second-tier assay columns
    (docs/architecture.md "Profiles"); ``score_cutoffs`` (disorder -> score cutoff of the
    table) give the score excess, without them no score-based clearing applies.
    Returns ``GROUP_COLUMNS``.
    """
    return decide_flags(group_flags(calls, rules, score_cutoffs), profiles, rules, calibration,
                   repeat=False)


def decide_repeat(first: pd.DataFrame, repeat_calls: pd.DataFrame,
                  repeat_profiles: pd.DataFrame, rules: ReflexRules,
                  calibration: Calibration = LITERATURE,
                  score_cutoffs: dict[str, float] | None = None) -> pd.DataFrame:
    """The decision on the repeat specimens of the groups ``first`` sent for one.

    ``repeat_calls`` must hold every disorder of those groups for each repeat specimen
    (``evaluate(..., include_normal=True)``) so that a normal repeat is seen as such;
    ``repeat_profiles`` link to the first card by ``previous_specimen_id``. Returns
    ``GROUP_COLUMNS`` with the first card's ``specimen_id``; ``excess`` is the repeat's, relative
    to the group's repeat level where a disorder has its own (:meth:`Calibration.repeat_shift`).
    """
    wanted = first[first["decision"] == "repeat_specimen"][[PROFILE_ID, "group"]]
    link = dict(zip(repeat_profiles[PROFILE_ID].astype(str),
                    repeat_profiles["previous_specimen_id"].astype(str), strict=True))
    group_of = rules.group_of()
    calls = repeat_calls.copy()
    calls["_first"] = calls[PROFILE_ID].astype(str).map(link)
    calls["group"] = calls["disorder"].astype(str).map(group_of)
    calls = calls.merge(wanted.rename(columns={PROFILE_ID: "_first"}), on=["_first", "group"])
    cut = calls["disorder"].astype(str).map(score_cutoffs or {}).astype(float)
    shift = _repeat_shifts(calibration, calls["group"].astype(str),
                           calls["disorder"].astype(str))
    frame = pd.DataFrame({
        PROFILE_ID: calls[PROFILE_ID].astype(str), "group": calls["group"],
        "tier": calls["first_tier"].astype(str).map(_TIER),
        "excess": calls["score"].astype(float) - cut - shift, "disorder": calls["disorder"],
        "_first": calls["_first"]}).sort_values("tier", ascending=False, kind="stable")
    flags = frame.groupby([PROFILE_ID, "group"], sort=False).agg(
        tier=("tier", "max"), excess=("excess", "max"), disorder=("disorder", "first"),
        _first=("_first", "first")).reset_index()
    decided = decide_flags(flags.drop(columns="_first"), repeat_profiles, rules, calibration,
                      repeat=True)
    decided[PROFILE_ID] = flags["_first"].to_numpy()
    return decided
