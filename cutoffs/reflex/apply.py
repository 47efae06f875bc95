"""The reflex decision on the calls (docs/architecture.md "Calls"): every call of a flagged
group gains ``decision`` and ``reason_code`` (the group's), its ``reasons`` the decision and the
mild-case bound that applied, and ``model_version`` the calibration's version. A profile with a
``previous_specimen_id`` is a repeat specimen: it is decided as one in the groups its earlier
specimen asked a repeat for, when that specimen is in the same file (decided first), and in
every flagged group when it is not; its other groups are decided as on any card, as the LIMS
does.

Public names: ``apply_reflex``, ``reflex_step``, ``REFLEX_COLUMNS``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cutoffs.evaluate import PostProcess
from cutoffs.reflex.calibrate import CalibratedReflex
from cutoffs.reflex.decide import Calibration, decide_flags, group_flags
from cutoffs.reflex.rules import ReflexRules, default_reflex_rules
from cutoffs.tables import CutoffTable
from msms.tables import PROFILE_ID

__all__ = ["REFLEX_COLUMNS", "apply_reflex", "reflex_step"]

REFLEX_COLUMNS: tuple[str, ...] = ("decision", "reason_code")


def _score_cutoffs(table: CutoffTable | None) -> dict[str, float] | None:
    if table is None or table.scores is None:
        return None
    return {c: s.cutoff for c, s in table.scores.disorders.items()}


def _earlier_of(profiles: pd.DataFrame) -> dict[str, str]:
    """Specimen id -> the earlier specimen it repeats (``previous_specimen_id``), for the repeat
    specimens among ``profiles``."""
    if "previous_specimen_id" not in profiles.columns:
        return {}
    previous = profiles["previous_specimen_id"].astype("string").fillna("").to_numpy(dtype=str)
    ids = profiles[PROFILE_ID].astype(str).to_numpy()
    return {i: p for i, p in zip(ids, previous, strict=True) if p}


def _in_file(wanted: set[str], ids: pd.Series) -> set[str]:
    """Those of ``wanted`` (the earlier specimens the flagged repeats name) that are among
    ``ids`` (every specimen of the file): one vectorised look-up instead of a set of every id."""
    if not wanted:
        return set()
    return set(ids[ids.isin(wanted).to_numpy()])


def _rounds(ids: set[str], earlier: dict[str, str]) -> list[set[str]]:
    """The flagged specimens in the order they are decided: a repeat comes in a round after
    the earlier specimen it names when that one is in the file too (chains of repeats in
    turn); specimens naming each other in a circle are decided together."""
    rounds, left = [], set(ids)
    while left:
        now = {i for i in left if earlier.get(i) not in left} or set(left)
        rounds.append(now)
        left -= now
    return rounds


def _decide_in_rounds(calls: pd.DataFrame, profiles: pd.DataFrame, in_file: set[str],
                      earlier: dict[str, str], rules: ReflexRules, calibration: Calibration,
                      cuts: dict[str, float] | None) -> pd.DataFrame:
    """Every flagged (specimen, group) decided, as on a first card or as a repeat: a repeat
    specimen is decided as one in the groups its earlier specimen asked a repeat for when that
    specimen is in the file (its other flagged groups as on any card), and in every flagged
    group when it is not (the requests are not known; the LIMS knows them). ``in_file``: the
    earlier specimens named in ``earlier`` that are in the file (normal ones included)."""
    flagged = calls[(calls["first_tier"].astype(str) != "normal").to_numpy()]
    if not earlier:
        # no flagged specimen is a repeat: one pass, every group as on a first card
        return decide_flags(group_flags(flagged, rules, cuts), profiles, rules, calibration,
                            False)
    ids = flagged[PROFILE_ID].astype(str).to_numpy(dtype=object)
    rounds = _rounds(set(ids), earlier)
    round_of = {i: k for k, now in enumerate(rounds) for i in now}
    row_round = np.fromiter((round_of[i] for i in ids), dtype=np.intp, count=len(ids))
    asked: set[tuple[str, str]] = set()
    parts = []
    for k in range(len(rounds)):
        mine = flagged[row_round == k]
        flags = group_flags(mine, rules, cuts)
        as_repeat = np.array([
            i in earlier and ((earlier[i], g) in asked or earlier[i] not in in_file)
            for i, g in zip(flags[PROFILE_ID].astype(str), flags["group"].astype(str),
                            strict=True)], dtype=bool)
        decided = [decide_flags(flags[~as_repeat], profiles, rules, calibration, False)]
        if as_repeat.any():
            repeat_flags = group_flags(mine, rules, cuts, calibration)
            key = pd.MultiIndex.from_frame(flags[[PROFILE_ID, "group"]].astype(str))
            at = pd.MultiIndex.from_frame(repeat_flags[[PROFILE_ID, "group"]].astype(str)
                                          ).get_indexer(key[as_repeat])
            decided.append(decide_flags(repeat_flags.iloc[at], profiles, rules, calibration,
                                        True))
        for part in decided:
            if len(part):
                parts.append(part)
                wants = part[part["decision"] == "repeat_specimen"]
                asked |= set(zip(wants[PROFILE_ID].astype(str), wants["group"].astype(str),
                                 strict=True))
    if not parts:
        return decide_flags(group_flags(flagged, rules, cuts), profiles, rules, calibration,
                            False)
    return pd.concat(parts, ignore_index=True)


def apply_reflex(calls: pd.DataFrame, profiles: pd.DataFrame, calibrated: CalibratedReflex,
                 table: CutoffTable | None, rules: ReflexRules | None = None) -> pd.DataFrame:
    """``calls`` with ``decision`` and ``reason_code`` filled for every flagged call (empty
    for normal calls), reasons and model version updated."""
    rules = rules if rules is not None else default_reflex_rules()
    cuts = _score_cutoffs(table)
    out = calls.copy()
    out["decision"] = ""
    out["reason_code"] = ""
    if out.empty:
        return out
    flagged_ids = set(calls.loc[calls["first_tier"].astype(str) != "normal", PROFILE_ID]
                      .astype(str))
    ids = profiles[PROFILE_ID].astype(str)
    keep = ids.isin(flagged_ids).to_numpy()
    # decide on the flagged specimens only: the earlier specimen a repeat names is looked up
    # among all ids at once (a Python set of a million ids took most of the time)
    mine = profiles[keep].reset_index(drop=True)
    earlier = _earlier_of(mine)
    decided = _decide_in_rounds(calls, mine, _in_file(set(earlier.values()), ids), earlier,
                                rules, calibrated.calibration, cuts)
    key = pd.MultiIndex.from_arrays([decided[PROFILE_ID].astype(str), decided["group"]])
    group_of = rules.group_of()
    where = key.get_indexer(pd.MultiIndex.from_arrays(
        [out[PROFILE_ID].astype(str), out["disorder"].astype(str).map(group_of).fillna("")]))
    hit = where >= 0
    decision = np.full(len(out), "", dtype=object)
    reason = np.full(len(out), "", dtype=object)
    decision[hit] = decided["decision"].to_numpy(dtype=object)[where[hit]]
    reason[hit] = decided["reason_code"].to_numpy(dtype=object)[where[hit]]
    out["decision"] = decision
    out["reason_code"] = reason
    texts = rules.reason_codes
    reasons = out["reasons"].astype(str).to_numpy(dtype=object)
    disorders = out["disorder"].astype(str).to_numpy()
    for i in np.flatnonzero(hit):
        bound = rules.mild_bound(disorders[i])
        extra = (f"reflex: {decision[i]} ({reason[i]}: {texts.get(reason[i], '')}; "
                 f"mild-case miss bound {bound:g})")
        reasons[i] = f"{reasons[i]}; {extra}" if reasons[i] else extra
    out["reasons"] = reasons
    version = np.where(hit, calibrated.version, out["model_version"].astype(str))
    both = hit & (out["model_version"].astype(str) != "").to_numpy()
    version[both] = out["model_version"].astype(str).to_numpy()[both] + " + " + calibrated.version
    out["model_version"] = version
    return out


def reflex_step(calibrated: CalibratedReflex, table: CutoffTable | None,
                rules: ReflexRules | None = None) -> PostProcess:
    """The reflex decision as a post-processing step of :func:`cutoffs.evaluate.evaluate`."""

    def step(calls: pd.DataFrame, profiles: pd.DataFrame) -> pd.DataFrame:
        return apply_reflex(calls, profiles, calibrated, table, rules)

    return step
