"""First-tier evaluation: profiles x disorder rules -> the calls table, vectorised
(docs/architecture.md "Calls").

For each rule and specimen:

1. every marker gets a tier: 0 normal, 1 borderline, 2 positive, 3 critical, from the highest
   level it is past in its direction (levels from the rule; a cutoff table, when given, supplies
   a stratum-specific first level, see :func:`marker_levels`);
2. the primary markers combine by the rule's logic: the call takes the k-th highest primary tier
   (``all``: k = number of primaries, ``any``: k = 1, ``k_of_n``: k);
3. secondary markers support: with none out of range a positive call is lowered to borderline
   ("secondary markers in range"); a critical secondary raises an out-of-range call to critical; a
   critical primary call stands alone;
4. exclusions: a flag column (``tpn``, ``pivalate_exposure``) or another marker past a value caps a
   positive call at borderline; critical calls are never capped;
5. a marker that cannot be read (analyte missing, ratio undefined) is resolved both ways: when the
   call is out of range either way it is reported (with a note), when it is normal either way it
   is normal, otherwise the call is ``not_evaluable`` -- never a silent normal.

Each step is monotone, so moving a marker further past its cutoff never lowers the tier.

The action follows docs/evaluation.md for the stage of testing (``initial`` or ``duplicate_mean``);
``final`` maps the first tier (a second tier may overwrite it in a post-processing step).

Public names: ``evaluate``, ``evaluate_markers``, ``marker_levels``, ``first_tier_final``,
``CALL_COLUMNS``, ``TIERS``, ``FIRST_TIERS``, ``ACTIONS``, ``STAGES``, ``FINALS``,
``PostProcess``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cutoffs.disorder_scores import DisorderScores, disorder_scores
from cutoffs.errors import CutoffError
from cutoffs.marker_tiers import Levels, MarkerTiers, marker_levels
from cutoffs.markers import ABOVE_ALL, MarkerTable, marker_table, marker_table_from_values
from cutoffs.profiles import numeric_column, specimen_ids
from cutoffs.reason_phrases import REASONS
from cutoffs.rules import DisorderRule, Exclusion, MarkerRule, RuleSet, default_rules
from cutoffs.score_tiers import score_reason, score_tier
from cutoffs.scores import BoundReference, Reference, default_reference
from cutoffs.strata import Assignment
from cutoffs.tables import CutoffTable
from msms.tables import PROFILE_ID

__all__ = [
    "ACTIONS",
    "CALL_COLUMNS",
    "FINALS",
    "FIRST_TIERS",
    "STAGES",
    "TIERS",
    "PostProcess",
    "evaluate",
    "evaluate_markers",
    "first_tier_final",
    "marker_levels",
]

TIERS: tuple[str, ...] = ("normal", "borderline", "positive", "critical")
NOT_EVALUABLE = "not_evaluable"
FIRST_TIERS: tuple[str, ...] = (*TIERS, NOT_EVALUABLE)
FINALS: tuple[str, ...] = ("negative", "borderline", "positive")
ACTIONS: tuple[str, ...] = (
    "none", "repeat_in_duplicate", "request_repeat_specimen", "immediate_referral",
)
#: ``initial``: a first test; ``duplicate_mean``: the mean of the in-duplicate repeat
#: (docs/evaluation.md).
STAGES: tuple[str, ...] = ("initial", "duplicate_mean")
CALL_COLUMNS: tuple[str, ...] = (
    PROFILE_ID, "disorder", "first_tier", "reasons", "score", "second_tier_probability", "final",
    "time_critical", "action", "cutoff_version", "model_version",
)

#: A post-processing step: (calls, profiles) -> calls (e.g. a second tier filling its columns).
PostProcess = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]

_NE = 4  # internal code of not_evaluable
_FINAL_OF = np.array(["negative", "borderline", "positive", "positive", "borderline"], dtype=object)
_TIER_NAMES = np.array(FIRST_TIERS, dtype=object)
# action per internal tier code (0..4), per stage
_ACTION_OF = {
    "initial": {
        False: ["none", "repeat_in_duplicate", "repeat_in_duplicate", "immediate_referral",
                "repeat_in_duplicate"],
        True: ["none", "repeat_in_duplicate", "immediate_referral", "immediate_referral",
               "repeat_in_duplicate"],
    },
    "duplicate_mean": {
        False: ["none", "request_repeat_specimen", "immediate_referral", "immediate_referral",
                "repeat_in_duplicate"],
        True: ["none", "request_repeat_specimen", "immediate_referral", "immediate_referral",
               "repeat_in_duplicate"],
    },
}


def first_tier_final(first_tier: pd.Series | np.ndarray) -> np.ndarray:
    """``final`` before any second tier: normal -> negative, borderline -> borderline,
    positive/critical -> positive; not_evaluable -> borderline (it must not be released as
    negative)."""
    codes = pd.Series(first_tier).map({name: i for i, name in enumerate(FIRST_TIERS)})
    if codes.isna().any():
        raise CutoffError("holds a value that is not a first-tier call", field="first_tier")
    return _FINAL_OF[codes.to_numpy(dtype=int)]


def _combine(primary: np.ndarray, secondary: np.ndarray | None) -> np.ndarray:
    """The call from the k-th highest primary tier and the highest secondary tier."""
    if secondary is None:
        return primary
    supported = np.where(secondary >= 1, primary, np.minimum(primary, 1))
    escalated = np.where((primary >= 1) & ((primary == 3) | (secondary == 3)), 3, supported)
    return escalated.astype(np.int8)


def _kth_highest(tiers: np.ndarray, k: int) -> np.ndarray:
    if tiers.shape[0] == 1:
        return tiers[0]
    if k == 1:
        return tiers.max(axis=0)
    if k == tiers.shape[0]:
        return tiers.min(axis=0)
    return np.sort(tiers, axis=0)[tiers.shape[0] - k]


def _fmt(value: float) -> str:
    return _fmt_many(np.array([value], dtype=float))[0]


def _fmt_many(values: np.ndarray) -> list[str]:
    """Numbers for reasons: 3 significant digits below 10, one decimal below 100, else whole
    (``inf``, ``nan`` as Python writes them). One list comprehension per kind of number."""
    values = np.asarray(values, dtype=float)
    out = np.empty(values.size, dtype=object)
    magnitude = np.abs(values)
    small = magnitude < 10  # NaN is in no class but the last
    middle = (magnitude >= 10) & (magnitude < 100)
    large = (magnitude >= 100) & (magnitude < math.inf)
    at = np.flatnonzero(small)
    out[at] = [f"{x:.3g}" if x != 0 else "0" for x in values[at].tolist()]
    at = np.flatnonzero(middle)
    out[at] = [t[:-2] if t.endswith(".0") else t
               for t in [f"{x:.1f}" for x in values[at].tolist()]]
    at = np.flatnonzero(large)
    out[at] = [f"{x:.0f}" for x in values[at].tolist()]
    at = np.flatnonzero(~(small | middle | large))
    out[at] = [str(x) for x in values[at].tolist()]
    result: list[str] = out.tolist()
    return result


def _fmt_levels(levels: np.ndarray) -> list[str]:
    """:func:`_fmt_many` of cutoff levels, each distinct level written once (a table has a
    few levels per marker, shared by every specimen of a stratum)."""
    distinct, inverse = np.unique(levels, return_inverse=True)
    texts: list[str] = np.asarray(_fmt_many(distinct), dtype=object)[inverse].tolist()
    return texts


def _op(marker: MarkerRule) -> str:
    if marker.direction == "high":
        return ">=" if marker.inclusive else ">"
    return "<=" if marker.inclusive else "<"


@dataclass
class _Context:
    markers: MarkerTable
    ids: np.ndarray
    flags: dict[str, np.ndarray]
    cutoffs: CutoffTable | None
    assignment: Assignment | None
    reference: BoundReference | None
    #: disorder scores and their cutoffs when the table has a score section
    scores: DisorderScores | None = None
    score_cutoffs: dict[str, float] = field(default_factory=dict)
    _cut_cache: dict[tuple[str, str], tuple[np.ndarray, np.ndarray] | None] = field(
        default_factory=dict)
    #: id of a stratum-number array -> (the array, whether each number is used)
    _present: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: (marker, direction, inclusive, levels) -> its tiers, shared across rules
    tier_cache: dict[tuple[object, ...], MarkerTiers] = field(default_factory=dict)

    def marker_tiers(self, marker: MarkerRule) -> MarkerTiers:
        """The levels and (on demand) tiers of a rule marker over every specimen."""
        key = (marker.name, marker.direction, marker.inclusive, marker.levels)
        cached = self.tier_cache.get(key)
        if cached is None:
            table = self.table_cutoff(marker.name, marker.direction)
            if table is None:
                levels = marker_levels(marker, None)
            else:  # levels per stratum number, mapped to specimens by their numbers
                levels = marker_levels(marker, table[1])
                levels.index = table[0]
            cached = MarkerTiers(marker, levels, self.markers.values[marker.name],
                                 self.markers.usable(marker.name))
            self.tier_cache[key] = cached
        return cached

    def literature_tiers(self, marker: MarkerRule) -> MarkerTiers:
        """A rule marker's tiers on the rule's own (literature) levels, whatever the table."""
        key = ("literature", marker.name, marker.direction, marker.inclusive, marker.levels)
        cached = self.tier_cache.get(key)
        if cached is None:
            cached = MarkerTiers(marker, marker_levels(marker, None),
                                 self.markers.values[marker.name],
                                 self.markers.usable(marker.name))
            self.tier_cache[key] = cached
        return cached

    def table_cutoff(self, name: str, direction: str
                     ) -> tuple[np.ndarray, np.ndarray] | None:
        """(stratum number per specimen, cutoff per stratum number, NaN where it has no entry)
        or None without a table entry for this marker. The stratum numbers are shared by the
        markers with entries in the same strata, so no array per marker and specimen is made."""
        if self.cutoffs is None or self.assignment is None:
            return None
        key = (name, direction)
        if key not in self._cut_cache:
            choice, vector = self.cutoffs.stratum_numbers(name, self.assignment)
            present = self._present.get(id(choice))
            if present is None or present[0] is not choice:
                present = self._present[id(choice)] = (
                    choice, np.bincount(choice, minlength=vector.size) > 0)
            if (vector[present[1]] < 0).all():
                self._cut_cache[key] = None
            else:
                values = self.cutoffs.entry_values("upper" if direction == "high" else "lower")
                self._cut_cache[key] = (choice, values[vector])
        return self._cut_cache[key]


def _marker_pieces(
    ctx: _Context, marker: MarkerRule, levels: Levels, t: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """'C8=0.61>0.30' for each output row (specimen positions ``rows``, the marker's tier
    ``t`` there) where the marker is out of range, else ''."""
    out = np.full(rows.size, "", dtype=object)
    fired = np.flatnonzero(t > 0)
    if fired.size == 0:
        return out
    fired_rows = rows[fired]
    values = ctx.markers.values[marker.name][fired_rows]
    status = ctx.markers.status[marker.name][fired_rows]
    exceeded = np.full(fired.size, np.nan)
    for code, level in levels.by_code():
        if np.ndim(level) == 0 and np.isnan(level):
            continue
        at = levels.at(level, fired_rows)
        exceeded = np.where(t[fired] >= code, np.where(np.isnan(at), exceeded, at), exceeded)
    op = _op(marker)
    above = status == ABOVE_ALL
    texts = np.empty(fired.size, dtype=object)
    prefix = f"{marker.name}="
    texts[:] = [f"{prefix}{v}{op}{e}" for v, e in zip(_fmt_many(values), _fmt_levels(exceeded),
                                                     strict=True)]
    if ctx.reference is not None:
        scores = np.asarray(ctx.reference.describe(marker.name, np.where(above, np.nan, values),
                                                   fired_rows), dtype=object)
        with_score = (scores != "") & ~above
        if with_score.any():
            shown = scores[with_score]
            texts[with_score] = texts[with_score] + " (" + shown + ")"
    if above.any():
        ratio = ctx.markers.ratios.get(marker.name)
        den = "+".join(ratio.denominator) if ratio is not None else "denominator"
        texts[above] = f"{marker.name} above every level ({den}=0)"
    out[fired] = texts
    return out


def _exclusion_mask(ctx: _Context, exclusion: Exclusion) -> np.ndarray | None:
    if exclusion.kind == "flag":
        values = ctx.flags.get(exclusion.column)
        if values is None:
            return None
        if isinstance(exclusion.equals, str):
            return np.asarray(values == exclusion.equals, dtype=bool)
        with np.errstate(invalid="ignore"):
            return np.asarray(values == float(exclusion.equals or 0), dtype=bool)
    if exclusion.kind == "marker":
        values = ctx.markers.values[exclusion.marker]
        usable = ctx.markers.usable(exclusion.marker)
        with np.errstate(invalid="ignore"):
            past = values > exclusion.beyond if exclusion.direction == "high" \
                else values < exclusion.beyond
        return usable & past
    return None


def _exclusion_text(ctx: _Context, exclusion: Exclusion, rows: np.ndarray) -> list[str]:
    if exclusion.kind == "flag":
        values = ctx.flags[exclusion.column][rows]
        shown = (list(values) if values.dtype == object
                 else _fmt_many(np.asarray(values, dtype=float)))
        return [REASONS.text("capped", condition=f"{exclusion.column}={v}") for v in shown]
    values = ctx.markers.values[exclusion.marker][rows]
    op = ">" if exclusion.direction == "high" else "<"
    assert exclusion.beyond is not None
    limit = _fmt(exclusion.beyond)
    return [REASONS.text("capped", condition=f"{exclusion.marker}={v}{op}{limit}")
            for v in _fmt_many(values)]


def _rule_score(ctx: _Context, rule: DisorderRule, levels_of: dict[str, Levels],
                usable: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Without a score section: the largest multiple of the first level among the primary
    markers (value / level for a high marker, level / value for a low one); ``usable`` per
    marker at ``rows``."""
    score = np.full(rows.size, np.nan)
    for marker in rule.primary:
        values = ctx.markers.values[marker.name][rows]
        levels = levels_of[marker.name]
        first = levels.at(levels.first(), rows)
        with np.errstate(all="ignore"):
            multiple = values / first if marker.direction == "high" else first / values
        multiple = np.where(np.isfinite(multiple) & usable[marker.name], multiple, np.nan)
        score = np.fmax(score, multiple)
    return score


def _rule_call_if_incomplete(ctx: _Context, rule: DisorderRule, rows: np.ndarray,
                             usable: dict[str, np.ndarray]) -> np.ndarray:
    """The rule's own call on its literature levels (section 3 of docs/evaluation.md) where a
    marker of the rule cannot be read, else 0: a score resting on fewer markers never calls
    such a profile below what the rule's cited levels call it."""
    out = np.zeros(rows.size, dtype=np.int8)
    where = np.flatnonzero(~np.stack([usable[m.name] for m in rule.markers]).all(axis=0))
    if where.size == 0:
        return out

    def tiers(markers: Sequence[MarkerRule]) -> np.ndarray:
        return np.stack([np.where(usable[m.name][where],
                                  ctx.literature_tiers(m).at(rows[where]), 0)
                         for m in markers]).astype(np.int8)

    secondary = tiers(rule.secondary).max(axis=0) if rule.secondary else None
    out[where] = _combine(_kth_highest(tiers(rule.primary), rule.k), secondary)
    return out


def _candidates(ctx: _Context, rule: DisorderRule, marker_tiers: dict[str, MarkerTiers],
                on_score: bool) -> np.ndarray:
    """Specimen positions whose call for ``rule`` can be other than normal (a superset of
    them), from one comparison per marker.

    On a score: above the cutoff, a score that cannot be computed, a primary marker unread,
    any marker critical, or a marker of the rule unread while a primary one is past one of its
    levels (:func:`cutoffs.score_tiers.score_tier`: an incomplete profile keeps the rule's
    own call). On the markers alone: a primary marker unread or past one of its levels (with
    every primary read and in range the call is normal).
    """
    maybe: np.ndarray
    if on_score:
        assert ctx.scores is not None
        maybe = ctx.scores.above(rule.code, ctx.score_cutoffs[rule.code])
        incomplete = np.zeros(ctx.markers.n, dtype=bool)
        for marker in rule.primary:
            maybe |= ~marker_tiers[marker.name].usable
        for marker in rule.markers:
            incomplete |= ~marker_tiers[marker.name].usable
            critical = marker_tiers[marker.name].critical()
            if critical is not None:
                maybe |= critical
        where = np.flatnonzero(incomplete & ~maybe)
        for marker in rule.primary if where.size else ():
            maybe[where] |= ctx.literature_tiers(marker).at(where) >= 1
    else:
        maybe = np.zeros(ctx.markers.n, dtype=bool)
        for marker in rule.primary:
            tiers = marker_tiers[marker.name]
            maybe |= ~tiers.usable | tiers.past_any()
    return np.flatnonzero(maybe)


def _evaluate_rule(
    ctx: _Context, rule: DisorderRule, rule_index: int, include_normal: bool, stage: str
) -> dict[str, np.ndarray] | None:
    mk = ctx.markers
    marker_tiers = {m.name: ctx.marker_tiers(m) for m in rule.markers}
    on_score = ctx.scores is not None and rule.code in ctx.score_cutoffs
    # Tiers are taken only where the call can be out of range (every specimen with --all).
    rows = np.arange(mk.n) if include_normal else _candidates(ctx, rule, marker_tiers, on_score)
    if rows.size == 0:
        return None
    levels_of = {name: t.levels for name, t in marker_tiers.items()}
    tiers = {name: t.at(rows) for name, t in marker_tiers.items()}
    usable = {name: t.usable[rows] for name, t in marker_tiers.items()}

    def bound(markers: Sequence[MarkerRule], fill: int) -> np.ndarray:
        return np.stack([np.where(usable[m.name], tiers[m.name], fill).astype(np.int8)
                         for m in markers])

    primary, secondary = rule.primary, rule.secondary
    low_p = _kth_highest(bound(primary, 0), rule.k)
    low_s = bound(secondary, 0).max(axis=0) if secondary else None
    if on_score:
        assert ctx.scores is not None
        disorder_score = ctx.scores.at(rule.code, rows)
        unread = np.asarray(~np.stack([usable[m.name] for m in primary]).all(axis=0))
        tier = score_tier(disorder_score, ctx.score_cutoffs[rule.code], low_p,
                          bound(rule.markers, 0), unread, _rule_call_if_incomplete(
                              ctx, rule, rows, usable))
    else:
        high_p = _kth_highest(bound(primary, 3), rule.k)
        high_s = bound(secondary, 3).max(axis=0) if secondary else None
        low = _combine(low_p, low_s)
        high = _combine(high_p, high_s)
        tier = np.where(low >= 1, low, np.where(high == 0, 0, _NE)).astype(np.int8)

    capped_by: list[tuple[Exclusion, np.ndarray]] = []
    for exclusion in rule.exclusions:
        mask = _exclusion_mask(ctx, exclusion)
        if mask is None or not mask.any():
            continue
        mask = mask[rows]
        applies = mask & (tier >= 1) & (tier <= 2)
        tier = np.where(mask & (tier == 2), 1, tier).astype(np.int8)
        capped_by.append((exclusion, applies))

    # From here on, only the output rows: every specimen with --all, else the out of range.
    keep = np.arange(rows.size) if include_normal else np.flatnonzero(tier != 0)
    if keep.size == 0:
        return None
    rows, t, low_p = rows[keep], tier[keep], low_p[keep]
    low_s = low_s[keep] if low_s is not None else None
    tiers = {name: value[keep] for name, value in tiers.items()}
    usable = {name: value[keep] for name, value in usable.items()}
    capped_by = [(exclusion, applies[keep]) for exclusion, applies in capped_by]

    score = _rule_score(ctx, rule, levels_of, usable, rows) if not on_score \
        else disorder_score[keep]

    pieces = [_marker_pieces(ctx, m, levels_of[m.name], tiers[m.name], rows)
              for m in rule.markers]
    notes: list[np.ndarray] = []
    if on_score:
        assert ctx.scores is not None
        pieces.insert(0, score_reason(ctx.scores, rule.code, ctx.score_cutoffs[rule.code],
                                      rows))
    downgraded = (low_s is not None) & (t == 1) & (low_p >= 2) & (low_s == 0) \
        & (not on_score) if low_s is not None else np.zeros(rows.size, dtype=bool)
    if downgraded.any():
        note = np.full(rows.size, "", dtype=object)
        note[downgraded] = REASONS.text("secondary_in_range")
        notes.append(note)
    for exclusion, applies in capped_by:
        hit = np.flatnonzero(applies)
        if hit.size:
            note = np.full(rows.size, "", dtype=object)
            note[hit] = _exclusion_text(ctx, exclusion, rows[hit])
            notes.append(note)
    unread = np.full(rows.size, "", dtype=object)
    for marker in rule.markers:
        missing = np.flatnonzero(~usable[marker.name])
        if missing.size:
            sep = np.where(unread[missing] == "", "", ", ")
            unread[missing] = unread[missing] + sep + mk.why_missing(marker.name, rows[missing])
    has_unread = unread != ""
    if has_unread.any():
        notes.append(np.array([
            REASONS.text("not_evaluable" if tier == _NE else "unread", missing=text)
            if text else "" for tier, text in zip(t.tolist(), unread.tolist(), strict=True)],
            dtype=object))
    shared = rule.shares_first_tier_with
    if shared:
        note = np.full(rows.size, "", dtype=object)
        note[t >= 1] = REASONS.text("shared_first_tier", disorders=", ".join(shared))
        notes.append(note)
    columns = pieces + notes
    reasons = ["; ".join(filter(None, parts)) for parts in zip(*columns, strict=True)]

    actions = np.array(_ACTION_OF[stage][rule.time_critical], dtype=object)[t]
    return {
        "_row": rows,
        "_rule": np.full(rows.size, rule_index, dtype=np.int32),
        "first_tier": t,
        "reasons": np.asarray(reasons, dtype=object),
        "score": score,
        "action": actions,
    }


def _empty_calls() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in CALL_COLUMNS})
    frame["score"] = frame["score"].astype(float)
    frame["second_tier_probability"] = frame["second_tier_probability"].astype(float)
    frame["time_critical"] = frame["time_critical"].astype(bool)
    return frame


def _run(
    ctx: _Context, rules: RuleSet, include_normal: bool, stage: str,
    cutoffs: CutoffTable | None,
) -> pd.DataFrame:
    if stage not in STAGES:
        raise CutoffError(f"stage {stage!r} is not one of {', '.join(STAGES)}", field="stage")
    suffix = f"+{cutoffs.version}" if cutoffs is not None else ""
    parts = [p for i, rule in enumerate(rules)
             if (p := _evaluate_rule(ctx, rule, i, include_normal, stage)) is not None]
    if not parts:
        return _empty_calls()
    merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((merged["_rule"], merged["_row"]))
    merged = {key: value[order] for key, value in merged.items()}
    rule_list = list(rules)
    codes = np.array([r.code for r in rule_list], dtype=object)
    critical = np.array([r.time_critical for r in rule_list], dtype=bool)
    versions = np.array([r.version + suffix for r in rule_list], dtype=object)
    which, tier = merged["_rule"], merged["first_tier"]
    n = tier.size
    return pd.DataFrame(
        {
            PROFILE_ID: ctx.ids[merged["_row"]],
            "disorder": codes[which],
            "first_tier": _TIER_NAMES[tier],
            "reasons": merged["reasons"],
            "score": merged["score"],
            "second_tier_probability": np.full(n, np.nan),
            "final": _FINAL_OF[tier],
            "time_critical": critical[which],
            "action": merged["action"],
            "cutoff_version": versions[which],
            "model_version": np.full(n, "", dtype=object),
        },
        columns=list(CALL_COLUMNS),
    )


def _flags(profiles: pd.DataFrame, rules: RuleSet, file: str | None) -> dict[str, np.ndarray]:
    flags: dict[str, np.ndarray] = {}
    for rule in rules:
        for exclusion in rule.exclusions:
            column = exclusion.column
            if exclusion.kind != "flag" or column in flags or column not in profiles.columns:
                continue
            if isinstance(exclusion.equals, str):
                flags[column] = profiles[column].astype("string").fillna("").to_numpy(object)
            else:
                flags[column] = numeric_column(profiles, column, file=file)
    return flags


def evaluate(
    profiles: pd.DataFrame,
    rules: RuleSet | None = None,
    cutoffs: CutoffTable | None = None,
    *,
    include_normal: bool = False,
    stage: str = "initial",
    reference: Reference | None = None,
    postprocess: Sequence[PostProcess] = (),
    file: str | None = None,
) -> pd.DataFrame:
    """Evaluate every profile against every rule (vectorised) and return the calls table.

    Parameters
    ----------
    profiles
        The profiles contract (docs/architecture.md "Profiles"): ``specimen_id``, covariates, one
        column per analyte (canonical code, µmol/L); extra columns may hold exclusion flags
        (``pivalate_exposure``, ``mct_feeding``).
    rules
        Disorder rules (default: the packaged rules).
    cutoffs
        A laboratory cutoff table; its stratum-specific cutoff becomes each marker's first level.
        None: the rules' literature levels.
    include_normal
        Also return normal calls (every specimen x disorder pair).
    stage
        ``initial`` (a first test: out of range -> repeat in duplicate unless critical or
        time-critical positive) or ``duplicate_mean`` (the mean of the duplicates decides).
    reference
        Where covariate-adjusted percentiles and multiples of the median in the reasons come from
        (default: the cutoff table when given, with the covariate model for markers it has no
        entry for; else the covariate model, ``cutoffs.scores.default_reference``).
    postprocess
        Steps applied in order to the calls, each ``(calls, profiles) -> calls``.
    file
        The profiles' file name for error messages.

    Returns
    -------
    pandas.DataFrame
        ``CALL_COLUMNS``, one row per specimen and disorder that is not normal (all with
        ``include_normal``), in profile then rule order.

    Raises
    ------
    CutoffError
        For a missing ``specimen_id`` or a value that is not a number (naming line and field).
    """
    rules = rules if rules is not None else default_rules()
    file = file if file is not None else profiles.attrs.get("source_file")
    ids = specimen_ids(profiles, file=file)
    markers = marker_table(profiles, rules.markers(), file=file)
    assignment = cutoffs.assign(profiles, file=file) if cutoffs is not None else None
    ref: Reference = reference if reference is not None else default_reference(cutoffs)
    ctx = _Context(markers, ids, _flags(profiles, rules, file), cutoffs, assignment,
                   ref.bind(profiles, file=file))
    if cutoffs is not None and cutoffs.scores is not None:
        section = cutoffs.scores
        codes = [c for c in section.disorders if c in set(rules.codes)]
        ctx.score_cutoffs = {c: section.disorders[c].cutoff for c in codes}
        # without the normal calls, only the scores that can be above their cutoff are needed
        ctx.scores = disorder_scores(profiles, section.specs, table=cutoffs, disorders=codes,
                                     values=markers, file=file,
                                     screen=None if include_normal else ctx.score_cutoffs)
    calls = _run(ctx, rules, include_normal, stage, cutoffs)
    for step in postprocess:
        calls = step(calls, profiles)
    return calls


def evaluate_markers(
    values: pd.DataFrame,
    rules: RuleSet | None = None,
    *,
    include_normal: bool = False,
    stage: str = "initial",
) -> pd.DataFrame:
    """Evaluate marker values given directly (one column per analyte or canonical ratio).

    Ratios are taken as given, not computed from analytes (``+inf`` stands for a zero
    denominator); ``specimen_id`` is used when present, else the index. Flag columns named by
    exclusions are honoured. No cutoff table and no scores: the rules' levels only.
    """
    rules = rules if rules is not None else default_rules()
    if PROFILE_ID in values.columns:
        ids = specimen_ids(values)
    else:
        ids = values.index.astype(str).to_numpy(dtype=object)
    markers = marker_table_from_values(values, rules.markers())
    ctx = _Context(markers, ids, _flags(values, rules, None), None, None, None)
    return _run(ctx, rules, include_normal, stage, None)

