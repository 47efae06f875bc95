"""The reflex decision on the calls (docs/architecture.md "Calls"): every call of a flagged
group gains ``decision`` and ``reason_code`` (the group's), its ``reasons`` the decision and the
mild-case bound that applied, and ``model_version`` the calibration's version. A profile with a
``previous_specimen_id`` is a repeat specimen and is decided as one.

Public names: ``apply_reflex``, ``reflex_step``, ``REFLEX_COLUMNS``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cutoffs.evaluate import PostProcess
from cutoffs.reflex.calibrate import CalibratedReflex
from cutoffs.reflex.decide import decide_flags, group_flags
from cutoffs.reflex.rules import ReflexRules, default_reflex_rules
from cutoffs.tables import CutoffTable
from msms.tables import PROFILE_ID

__all__ = ["REFLEX_COLUMNS", "apply_reflex", "reflex_step"]

REFLEX_COLUMNS: tuple[str, ...] = ("decision", "reason_code")


def _score_cutoffs(table: CutoffTable | None) -> dict[str, float] | None:
    if table is None or table.scores is None:
        return None
    return {c: s.cutoff for c, s in table.scores.disorders.items()}


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
    keep = profiles[PROFILE_ID].astype(str).isin(flagged_ids).to_numpy()
    profiles = profiles[keep].reset_index(drop=True)  # decide on the flagged specimens only
    ids = profiles[PROFILE_ID].astype(str)
    previous = (profiles["previous_specimen_id"].astype("string").fillna("")
                if "previous_specimen_id" in profiles.columns else pd.Series("", index=ids.index))
    repeat_ids = set(ids[(previous != "").to_numpy()])
    on_repeat = calls[PROFILE_ID].astype(str).isin(repeat_ids).to_numpy()
    calibration = calibrated.calibration
    parts = [decide_flags(group_flags(calls[~on_repeat], rules, cuts), profiles, rules,
                          calibration, False),
             decide_flags(group_flags(calls[on_repeat], rules, cuts, calibration), profiles,
                          rules, calibration, True)]
    decided = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else parts[0]
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
