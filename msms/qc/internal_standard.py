"""Internal-standard signal per well: a well whose IS is missing or low has no reportable result
for the analytes that IS serves (DESIGN §6.2).

An IS intensity row (``kind = "is_area"``) names the analyte it serves, so the check runs per
(well, analyte). The reference is the plate median of the same IS over all wells (blanks and
controls are spiked too). ``status`` is ``ok``, ``low`` (below the rules' fraction of the plate
median), ``missing`` (no IS row, a zero or non-finite value, or no IS for that analyte anywhere on
a plate that has intensities for it) or ``unchecked`` (the plate carries only vendor
concentrations for that analyte and no IS signal: nothing to check).

Public names: ``check_internal_standards``, ``ISCheck``, ``IS_CHECK_COLUMNS``, ``IS_STATUSES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from msms.methods import Method
from msms.qc.report import Finding, StepReport
from msms.qc.rules import QCRules, default_rules

__all__ = ["IS_CHECK_COLUMNS", "IS_STATUSES", "ISCheck", "check_internal_standards"]

STEP = "internal_standard"
IS_STATUSES: tuple[str, ...] = ("ok", "low", "missing", "unchecked")
IS_CHECK_COLUMNS: tuple[str, ...] = (
    "well", "sample_id", "sample_type", "analyte", "is_value", "plate_median", "fraction",
    "status", "reportable", "reason",
)
_INTENSITY = ("area", "height")


@dataclass(frozen=True)
class ISCheck:
    """One row per (well, analyte) with a value to report (columns ``IS_CHECK_COLUMNS``)."""

    table: pd.DataFrame
    report: StepReport

    def not_reportable(self) -> pd.DataFrame:
        """The rows whose status is ``low`` or ``missing``."""
        return self.table[~self.table["reportable"]]


def check_internal_standards(
    measurements: pd.DataFrame,
    *,
    rules: QCRules | None = None,
    method: Method | None = None,
) -> ISCheck:
    """Check every well's internal-standard signal against the plate median.

    Parameters
    ----------
    measurements
        A validated measurements table (DESIGN §4.1) of one plate.
    rules
        Plate-QC rules (``is_low_fraction_of_plate_median``,
        ``is_max_fraction_of_wells_not_reportable``); default: the packaged rules.
    method
        Optional: used only to name the internal standard in messages.

    Returns
    -------
    ISCheck
        The per-(well, analyte) table and a step report. A ``warning`` finding per well with a
        low or missing IS; a ``reject`` finding per analyte whose results are not reportable in
        more than the allowed fraction of wells.
    """
    rules = rules or default_rules()
    low_fraction = rules.is_low_fraction_of_plate_median
    m = measurements
    keys = ["well", "analyte"]
    wells = m.drop_duplicates("well").set_index("well")[["sample_id", "sample_type"]]

    pairs = m.loc[m["kind"].isin((*_INTENSITY, "concentration")), keys].drop_duplicates()
    intensity = m.loc[m["kind"].isin(_INTENSITY), keys].drop_duplicates()
    pairs = pairs.merge(intensity.assign(has_intensity=True), on=keys, how="left")
    pairs["has_intensity"] = pairs["has_intensity"].fillna(False).astype(bool)
    is_rows = m[m["kind"] == "is_area"][[*keys, "value"]].rename(columns={"value": "is_value"})
    table = pairs.merge(is_rows, on=keys, how="left")
    table = table.join(wells, on="well")

    usable = table["is_value"].where(np.isfinite(table["is_value"]) & (table["is_value"] > 0))
    table["plate_median"] = usable.groupby(table["analyte"]).transform("median")
    table["fraction"] = usable / table["plate_median"]
    has_is_on_plate = table["is_value"].notna().groupby(table["analyte"]).transform("any")

    status = np.full(len(table), "ok", dtype=object)
    reason = np.full(len(table), "", dtype=object)
    no_is_anywhere = ~has_is_on_plate.to_numpy()
    unchecked = no_is_anywhere & ~table["has_intensity"].to_numpy()
    status[unchecked] = "unchecked"
    plate_missing = no_is_anywhere & table["has_intensity"].to_numpy()
    status[plate_missing] = "missing"
    reason[plate_missing] = "no internal-standard signal for this analyte on the plate"
    well_missing = has_is_on_plate.to_numpy() & usable.isna().to_numpy()
    status[well_missing] = "missing"
    reason[well_missing] = "internal standard missing in this well"
    low = has_is_on_plate.to_numpy() & (table["fraction"] < low_fraction).to_numpy()
    status[low] = "low"
    fractions = table["fraction"].to_numpy()
    reason[low] = [f"internal standard low ({f:.0%} of the plate median)" for f in fractions[low]]
    table["status"] = status
    table["reportable"] = np.isin(status, ("ok", "unchecked"))
    table["reason"] = reason
    table = table[list(IS_CHECK_COLUMNS)].reset_index(drop=True)

    findings = _findings(table, rules, method)
    counts = {
        "pairs_checked": int((table["status"] != "unchecked").sum()),
        "pairs_unchecked": int((table["status"] == "unchecked").sum()),
        "pairs_low": int((table["status"] == "low").sum()),
        "pairs_missing": int((table["status"] == "missing").sum()),
        "wells_affected": int(table.loc[~table["reportable"], "well"].nunique()),
    }
    report = StepReport(
        step=STEP,
        description="internal-standard signal per well against the plate median of that IS; "
                    "results of wells with a low or missing IS are not reportable",
        parameters={
            "low_fraction_of_plate_median": low_fraction,
            "max_fraction_of_wells_not_reportable": rules.is_max_fraction_of_wells_not_reportable,
            "rules": rules.label,
        },
        counts=counts,
        findings=tuple(findings),
    )
    return ISCheck(table, report)


def _is_name(method: Method | None, analyte: str) -> str:
    if method is not None and analyte in method:
        return method.analyte(analyte).internal_standard.name
    return f"IS of {analyte}"


def _findings(table: pd.DataFrame, rules: QCRules, method: Method | None) -> list[Finding]:
    findings: list[Finding] = []
    bad = table[~table["reportable"]]
    for well, rows in bad.groupby("well", sort=True):
        first = rows.iloc[0]
        by_reason: dict[str, list[str]] = {}
        for row in rows.itertuples():
            key = f"{_is_name(method, row.analyte)}: {row.reason}"
            by_reason.setdefault(key, []).append(row.analyte)
        parts = [f"{why} -> {', '.join(codes)}" for why, codes in by_reason.items()]
        findings.append(Finding(
            step=STEP, severity="warning",
            code="is_low" if (rows["status"] == "low").all() else "is_missing",
            message=f"well {well} ({first.sample_type} {first.sample_id}): "
                    f"not reportable: {'; '.join(parts)}",
            well=str(well),
            detail={"analytes": list(rows["analyte"]), "sample_id": first.sample_id},
        ))
    checked = table[table["status"] != "unchecked"]
    if len(checked):
        share = (~checked["reportable"]).groupby(checked["analyte"], sort=False).mean()
        limit = rules.is_max_fraction_of_wells_not_reportable
        for analyte, fraction in share[share > limit].items():
            findings.append(Finding(
                step=STEP, severity="reject", code="is_plate_failure",
                message=f"{analyte}: internal standard low or missing in {fraction:.0%} of wells "
                        f"(limit {limit:.0%})",
                analyte=str(analyte), detail={"fraction_of_wells": float(fraction)},
            ))
    return findings
