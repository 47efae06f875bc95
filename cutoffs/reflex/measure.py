"""What the reflex flow achieves on a labelled population, per referral group and overall.

Babies are *unaffected* when the simulation gave them no disorder and no maternal B12
deficiency; a *case* of a group is a baby whose true disorder is one of the group's (a PA baby
flagged for MMA is a correct C3 referral); a maternal B12 deficiency found is counted apart.

Public names: ``measure_flow``, ``MEASURE_COLUMNS``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cutoffs.reflex.rules import ReflexRules
from msms.tables import PROFILE_ID

__all__ = ["MEASURE_COLUMNS", "measure_flow"]

MEASURE_COLUMNS = (
    "group", "unaffected_flagged", "unaffected_cleared", "fp_cut", "unaffected_reflex_open",
    "unaffected_referred", "reflex_open_per_births", "referred_per_births", "cases_flagged",
    "cases_referred", "maternal_b12_found", "ppv", "cleared_mild", "cleared_moderate",
    "cleared_severe", "mild_flagged", "moderate_flagged", "severe_flagged",
)
_OPEN = ("repeat_specimen", "referral", "maternal_b12", "awaiting_second_tier")
_REFERRED = ("referral", "maternal_b12")


def _row(name: str, part: pd.DataFrame, births: int) -> dict[str, object]:
    un = part[part["unaffected"]]
    flags = pd.DataFrame({  # per (baby, group) row, then per baby: all / any
        PROFILE_ID: un[PROFILE_ID].to_numpy(),
        "cleared": un["decision"].eq("clear").to_numpy(),
        "reflex_open": un["reflex_decision"].isin(_OPEN).to_numpy(),
        "referred": un["decision"].isin(_REFERRED).to_numpy()})
    babies = flags.groupby(PROFILE_ID).agg(cleared=("cleared", "all"),
                                           reflex_open=("reflex_open", "any"),
                                           referred=("referred", "any"))
    cases = part[part["case"]]
    referred = part[part["decision"].isin(_REFERRED)]
    true_referred = int(referred["case"].sum())
    b12 = int((part["maternal_b12"] & part["decision"].eq("maternal_b12")).sum())
    row: dict[str, object] = {
        "group": name, "unaffected_flagged": len(babies),
        "unaffected_cleared": int(babies["cleared"].sum()),
        "fp_cut": float(babies["cleared"].mean()) if len(babies) else np.nan,
        "unaffected_reflex_open": int(babies["reflex_open"].sum()),
        "unaffected_referred": int(babies["referred"].sum()),
        "reflex_open_per_births": float(babies["reflex_open"].sum() / births),
        "referred_per_births": float(babies["referred"].sum() / births),
        "cases_flagged": len(cases), "cases_referred": int(cases["decision"].isin(_REFERRED).sum()),
        "maternal_b12_found": b12,
        "ppv": (true_referred + b12) / len(referred) if len(referred) else np.nan,
    }
    for s in ("mild", "moderate", "severe"):
        sev = cases[cases["severity"] == s]
        row[f"cleared_{s}"] = int(sev["decision"].eq("clear").sum())
        row[f"{s}_flagged"] = len(sev)
    return row


def measure_flow(flow: pd.DataFrame, truth: pd.DataFrame, rules: ReflexRules,
                 births: int) -> pd.DataFrame:
    """``MEASURE_COLUMNS``, one row per group and one ``all`` row (babies, not pairs).

    ``flow`` is :func:`cutoffs.reflex.outcomes.run_flow`'s result, ``truth`` is
    :func:`cutoffs.reflex.outcomes.truth_of`'s, ``births`` the population's size.
    """
    out = flow.join(truth.set_index(PROFILE_ID), on=PROFILE_ID)
    members = {g.code: set(g.disorders) for g in rules.groups}
    out["case"] = np.array([d in members[g] for d, g in zip(out["true_disorder"], out["group"],
                                                             strict=True)], dtype=bool)
    out["unaffected"] = out["true_disorder"].eq("") & ~out["maternal_b12"]
    rows = [_row(g.code, out[out["group"] == g.code], births) for g in rules.groups]
    rows.append(_row("all", out, births))
    return pd.DataFrame(rows, columns=list(MEASURE_COLUMNS))
