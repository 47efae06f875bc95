"""Blanks and carryover (docs/quantitation.md).

A blank well (extraction solution with internal standards, no blood) is quantified like any well;
its apparent concentration should be far below the decision levels. The reference is the
catalogue's p99 per analyte (about where cutoffs sit). Carryover is estimated from a blank
injected right after a well with a high value: ``100 x blank / preceding well`` per analyte,
an upper bound since the blank's own background counts as carryover.

Public names: ``check_blanks``, ``check_carryover``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from msms.catalogue import Catalogue, default_catalogue
from msms.qc.messages import ITEMS, finding
from msms.qc.report import Finding, StepReport
from msms.qc.rules import QCRules
from msms.qc.wells import injection_order

__all__ = ["check_blanks", "check_carryover"]


def _p99(catalogue: Catalogue) -> pd.Series:
    return pd.Series({a.code: a.pop_p99_umol_l for a in catalogue.analytes}, dtype=float)


def check_blanks(
    concentrations: pd.DataFrame, rules: QCRules, *, catalogue: Catalogue | None = None
) -> StepReport:
    """Compare each blank's apparent concentrations with the catalogue p99.

    Fewer blanks than ``rules.blank_min_count``: a warning. A value above
    ``blank_warn_fraction_of_p99`` x p99: a warning; above ``blank_reject_fraction_of_p99`` x p99:
    the plate is rejected (contamination).
    """
    step = "blanks"
    p99 = _p99(catalogue or default_catalogue())
    blanks = concentrations[concentrations["sample_type"] == "blank"]
    n_blanks = int(blanks["well"].nunique())
    findings: list[Finding] = []
    if n_blanks < rules.blank_min_count:
        findings.append(finding(step, "warning", "blank_missing", n_blanks=n_blanks,
                                minimum=rules.blank_min_count))
    fraction = blanks["conc_umol_l"] / blanks["analyte"].map(p99).astype(float)
    worst = float(fraction.max()) if fraction.notna().any() else None
    for severity, limit in (("reject", rules.blank_reject_fraction_of_p99),
                            ("warning", rules.blank_warn_fraction_of_p99)):
        hits = blanks[fraction > limit]
        if severity == "warning":
            hits = hits[fraction[hits.index] <= rules.blank_reject_fraction_of_p99]
        for well, rows in hits.groupby("well", sort=True):
            parts = [ITEMS.text("blank_value", analyte=r.analyte, value=f"{r.conc_umol_l:.3g}",
                                percent=f"{fraction[i]:.0%}")
                     for i, r in zip(rows.index, rows.itertuples(), strict=True)]
            findings.append(finding(
                step, severity, "blank_high", well=str(well), values=", ".join(parts),
                limit_percent=f"{limit:.0%}", detail={"analytes": list(rows["analyte"])}))
    return StepReport(
        step=step,
        description="apparent concentration of blank wells against the catalogue p99",
        parameters={"warn_fraction_of_p99": rules.blank_warn_fraction_of_p99,
                    "reject_fraction_of_p99": rules.blank_reject_fraction_of_p99,
                    "min_count": rules.blank_min_count},
        counts={"blank_wells": n_blanks,
                "max_fraction_of_p99": worst},
        findings=tuple(findings),
    )


def check_carryover(
    concentrations: pd.DataFrame, rules: QCRules, *, catalogue: Catalogue | None = None
) -> StepReport:
    """Estimate carryover from each blank that follows a non-blank well in injection order.

    Only analytes whose preceding value is at least ``carryover_min_preceding_multiple_of_p99`` x
    p99 count. The largest estimate above ``carryover_warn_percent`` is a warning, above
    ``carryover_reject_percent`` a rejection.
    """
    step = "carryover"
    p99 = _p99(catalogue or default_catalogue())
    conc = concentrations
    first = ~conc["well"].duplicated()
    types = dict(zip(conc.loc[first, "well"].tolist(), conc.loc[first, "sample_type"].tolist(),
                     strict=True))
    order = injection_order(list(types), rules.injection_order)
    pairs = [(prev, well) for prev, well in zip(order, order[1:], strict=False)
             if types[well] == "blank" and types[prev] != "blank"]
    wanted = {w for pair in pairs for w in pair}
    rows = conc[conc["well"].isin(wanted)]
    value = dict(zip(zip(rows["well"].tolist(), rows["analyte"].tolist(), strict=True),
                     rows["conc_umol_l"].tolist(), strict=True))
    analytes = list(dict.fromkeys(rows["analyte"].tolist()))
    estimates = []
    for prev, blank in pairs:
        for analyte in analytes:
            before = value.get((prev, analyte), np.nan)
            after = value.get((blank, analyte), np.nan)
            limit = rules.carryover_min_preceding_multiple_of_p99 * p99.get(analyte, np.nan)
            if before > 0 and before >= limit and np.isfinite(after):
                estimates.append((prev, blank, analyte, float(100.0 * after / before)))
    table = pd.DataFrame(estimates, columns=["preceding_well", "blank_well", "analyte",
                                             "carryover_percent"])
    findings: list[Finding] = []
    if not pairs:
        findings.append(finding(step, "info", "carryover_no_pair",
                                code="carryover_not_estimated"))
    elif table.empty:
        findings.append(finding(step, "info", "carryover_no_high_well",
                                code="carryover_not_estimated"))
    else:
        for severity, limit in (("reject", rules.carryover_reject_percent),
                                ("warning", rules.carryover_warn_percent)):
            hits = table[table["carryover_percent"] > limit]
            if severity == "warning":
                hits = hits[hits["carryover_percent"] <= rules.carryover_reject_percent]
            if len(hits):
                parts = [ITEMS.text("carryover_estimate", analyte=r.analyte,
                                    percent=f"{r.carryover_percent:.2f}%",
                                    preceding=r.preceding_well, blank=r.blank_well)
                         for r in hits.itertuples()]
                findings.append(finding(
                    step, severity, "carryover_high", well=str(hits.iloc[0]["blank_well"]),
                    limit=f"{limit:g}", estimates=", ".join(parts),
                    detail={"analytes": sorted(set(hits["analyte"]))}))
    worst = float(table["carryover_percent"].max()) if len(table) else None
    return StepReport(
        step=step,
        description="carryover = 100 x blank / preceding well (upper bound: includes the "
                    "blank's background)",
        parameters={"injection_order": rules.injection_order,
                    "min_preceding_multiple_of_p99": rules.carryover_min_preceding_multiple_of_p99,
                    "warn_percent": rules.carryover_warn_percent,
                    "reject_percent": rules.carryover_reject_percent},
        counts={"blank_after_sample_pairs": len(pairs), "estimates": len(table),
                "max_carryover_percent": worst,
                "median_carryover_percent": (float(np.median(table["carryover_percent"]))
                                             if len(table) else None)},
        findings=tuple(findings),
    )
