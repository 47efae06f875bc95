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
from msms.qc.grid import PlateGrid, plate_grid
from msms.qc.report import Finding, StepReport
from msms.qc.rules import QCRules, default_rules

__all__ = ["IS_CHECK_COLUMNS", "IS_STATUSES", "ISCheck", "check_internal_standards"]

STEP = "internal_standard"
IS_STATUSES: tuple[str, ...] = ("ok", "low", "missing", "unchecked")
IS_CHECK_COLUMNS: tuple[str, ...] = (
    "well", "sample_id", "sample_type", "analyte", "is_value", "plate_median", "fraction",
    "status", "reportable", "reason",
)


@dataclass(frozen=True)
class ISCheck:
    """One row per (well, analyte) with a value to report (columns ``IS_CHECK_COLUMNS``).

    ``grid``, ``reportable`` and ``reason`` hold the same verdicts as (wells x analytes)
    arrays aligned with ``grid``.
    """

    table: pd.DataFrame
    report: StepReport
    grid: PlateGrid
    reportable: np.ndarray
    reason: np.ndarray

    def not_reportable(self) -> pd.DataFrame:
        """The rows whose status is ``low`` or ``missing``."""
        return self.table[~self.table["reportable"]]


def check_internal_standards(
    measurements: pd.DataFrame | PlateGrid,
    *,
    rules: QCRules | None = None,
    method: Method | None = None,
) -> ISCheck:
    """Check every well's internal-standard signal against the plate median.

    Parameters
    ----------
    measurements
        A validated measurements table (DESIGN §4.1) of one plate, or its :class:`PlateGrid`.
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
    grid = measurements if isinstance(measurements, PlateGrid) else plate_grid(measurements)
    area, has_area = grid.kind("area")
    _, has_height = grid.kind("height")
    _, has_conc = grid.kind("concentration")
    is_value, _ = grid.kind("is_area")
    has_intensity = has_area | has_height
    valued = has_intensity | has_conc

    usable = np.where(np.isfinite(is_value) & (is_value > 0), is_value, np.nan)
    has_is_on_plate = np.isfinite(is_value).any(axis=0)
    median = np.full(grid.shape[1], np.nan)
    some = np.isfinite(usable).any(axis=0)
    median[some] = np.nanmedian(usable[:, some], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = usable / median[None, :]

    status = np.full(grid.shape, "ok", dtype=object)
    reason = np.full(grid.shape, "", dtype=object)
    no_is_anywhere = ~has_is_on_plate[None, :]
    status[no_is_anywhere & ~has_intensity] = "unchecked"
    plate_missing = no_is_anywhere & has_intensity
    status[plate_missing] = "missing"
    reason[plate_missing] = "no internal-standard signal for this analyte on the plate"
    well_missing = has_is_on_plate[None, :] & np.isnan(usable)
    status[well_missing] = "missing"
    reason[well_missing] = "internal standard missing in this well"
    low = has_is_on_plate[None, :] & (fraction < low_fraction)
    status[low] = "low"
    reason[low] = [f"internal standard low ({f:.0%} of the plate median)" for f in fraction[low]]
    reportable = (status == "ok") | (status == "unchecked")

    w, a = np.nonzero(valued)
    table = pd.DataFrame({
        "well": grid.wells[w], "sample_id": grid.sample_id[w],
        "sample_type": grid.sample_type[w], "analyte": grid.analytes[a],
        "is_value": is_value[w, a], "plate_median": median[a], "fraction": fraction[w, a],
        "status": status[w, a], "reportable": reportable[w, a], "reason": reason[w, a],
    }, columns=list(IS_CHECK_COLUMNS))

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
    return ISCheck(table, report, grid, reportable & valued, reason)


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
