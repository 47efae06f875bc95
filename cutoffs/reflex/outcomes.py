"""The reflex flow over a labelled population and its outcome per baby and group: first tier,
reflex decision on the first card, and the repeat specimen's decision where one was asked for.

Public names: ``run_flow``, ``score_cutoffs``, ``truth_of``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cutoffs.evaluate import evaluate
from cutoffs.reflex.decide import Calibration, decide_groups, decide_repeat
from cutoffs.reflex.rules import ReflexRules
from cutoffs.tables import CutoffTable
from msms.tables import PROFILE_ID

__all__ = ["run_flow", "score_cutoffs", "truth_of"]


def score_cutoffs(table: CutoffTable | None) -> dict[str, float] | None:
    """Disorder -> score cutoff of a table with a score section (else None)."""
    if table is None or table.scores is None:
        return None
    return {c: s.cutoff for c, s in table.scores.disorders.items()}


def truth_of(frame: pd.DataFrame) -> pd.DataFrame:
    """specimen_id, true_disorder, severity, maternal_b12 of a simulated frame."""
    return pd.DataFrame({
        PROFILE_ID: frame[PROFILE_ID].astype(str),
        "true_disorder": frame["true_disorder"].astype(str),
        "severity": frame["severity"].astype(str),
        "maternal_b12": frame["fp_mechanism"].astype(str).str.contains(
            "maternal_b12_deficiency", regex=False).to_numpy(),
    })


def run_flow(first: pd.DataFrame, repeat: pd.DataFrame, table: CutoffTable, rules: ReflexRules,
             calibration: Calibration, *, first_calls: pd.DataFrame | None = None,
             repeat_calls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every flagged (baby, group) with its reflex decision and final decision.

    ``first_calls`` (the first cards' calls) and ``repeat_calls`` (every disorder of the
    repeat specimens, ``include_normal=True``) may be passed when already computed. Columns:
    ``specimen_id, group, tier, excess, disorders, decision, reason_code, stage,
    reflex_decision, reflex_reason_code``.
    """
    cuts = score_cutoffs(table)
    calls = first_calls if first_calls is not None else evaluate(first, cutoffs=table)
    reflex = decide_groups(calls, first, rules, calibration, cuts)
    out = reflex.copy()
    out["reflex_decision"] = out["decision"]
    out["reflex_reason_code"] = out["reason_code"]
    wanted = out["decision"] == "repeat_specimen"
    if wanted.any():
        ids = set(out.loc[wanted, PROFILE_ID])
        sub = repeat[repeat["previous_specimen_id"].astype(str).isin(ids)]
        if repeat_calls is None:
            rc = evaluate(sub, cutoffs=table, include_normal=True)
        else:
            rc = repeat_calls[repeat_calls[PROFILE_ID].astype(str).isin(
                set(sub[PROFILE_ID].astype(str)))]
        again = decide_repeat(out, rc, sub.reset_index(drop=True), rules, calibration, cuts)
        key = pd.MultiIndex.from_frame(out[[PROFILE_ID, "group"]])
        where = key.get_indexer(pd.MultiIndex.from_frame(again[[PROFILE_ID, "group"]]))
        for column in ("decision", "reason_code", "stage"):
            values = out[column].to_numpy(dtype=object).copy()
            values[where] = again[column].to_numpy(dtype=object)
            out[column] = values
    out["tier"] = out["tier"].astype(np.int64)
    return out
