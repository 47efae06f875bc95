"""Internal-standard signal per well: a well whose IS is missing or low has no reportable result
for the analytes that IS serves (docs/quantitation.md).

An IS intensity row (``kind = "is_area"``) names the analyte it serves, so the check runs per
(well, analyte). The reference is the plate median of the same IS over all wells (blanks and
controls are spiked too). ``status`` is ``ok``, ``low`` (below the rules' fraction of the plate
median), ``missing`` (no IS row, a zero or non-finite value, or no IS for that analyte anywhere on
a plate that has intensities for it) or ``unchecked`` (the plate carries only vendor
concentrations for that analyte and no IS signal: nothing to check).

``well_signal`` sums a well up for the plate map: its lowest signal over its internal standards.

Public names: ``check_internal_standards``, ``ISCheck``, ``IS_CHECK_COLUMNS``, ``IS_STATUSES``,
``well_signal``, ``WELL_SIGNAL_COLUMNS``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from msms.methods import Method
from msms.qc.grid import PlateGrid, plate_grid
from msms.qc.messages import ITEMS, finding
from msms.qc.report import Finding, StepReport
from msms.qc.rules import QCRules, default_rules

__all__ = ["IS_CHECK_COLUMNS", "IS_STATUSES", "WELL_SIGNAL_COLUMNS", "ISCheck",
           "check_internal_standards", "well_signal"]

STEP = "internal_standard"
IS_STATUSES: tuple[str, ...] = ("ok", "low", "missing", "unchecked")
IS_CHECK_COLUMNS: tuple[str, ...] = (
    "well", "sample_id", "sample_type", "analyte", "is_value", "plate_median", "fraction",
    "status", "reportable", "reason",
)


@dataclass(frozen=True)
class ISCheck:
    """The verdict per (well, analyte) as (wells x analytes) arrays aligned with ``grid``;
    :attr:`table` has one row per (well, analyte) with a value to report
    (``IS_CHECK_COLUMNS``)."""

    report: StepReport
    grid: PlateGrid
    valued: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    is_value: np.ndarray
    plate_median: np.ndarray
    fraction: np.ndarray

    @property
    def reportable(self) -> np.ndarray:
        """True where a valued pair may be reported (status ``ok`` or ``unchecked``)."""
        return self.valued & ((self.status == "ok") | (self.status == "unchecked"))

    @cached_property
    def table(self) -> pd.DataFrame:
        w, a = np.nonzero(self.valued)
        g = self.grid
        return pd.DataFrame({
            "well": g.wells[w], "sample_id": g.sample_id[w], "sample_type": g.sample_type[w],
            "analyte": g.analytes[a], "is_value": self.is_value[w, a],
            "plate_median": self.plate_median[a], "fraction": self.fraction[w, a],
            "status": self.status[w, a], "reportable": self.reportable[w, a],
            "reason": self.reason[w, a],
        }, columns=list(IS_CHECK_COLUMNS))

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
        A validated measurements table (docs/architecture.md "Measurements") of one plate, or
        its :class:`PlateGrid`.
    rules
        Plate-QC rules (``is_low_fraction_of_plate_median``,
        ``is_max_fraction_of_wells_not_reportable``); default: the packaged rules.
    method
        Optional: used only to name the internal standard in messages.

    Returns
    -------
    ISCheck
        The verdicts and a step report: a ``warning`` finding per well with a low or missing
        IS; a ``reject`` finding per analyte whose results are not reportable in more than the
        allowed fraction of wells.
    """
    rules = rules or default_rules()
    low_fraction = rules.is_low_fraction_of_plate_median
    grid = measurements if isinstance(measurements, PlateGrid) else plate_grid(measurements)
    _, has_area = grid.kind("area")
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
    reason[plate_missing] = ITEMS.text("is_absent_on_plate")
    well_missing = has_is_on_plate[None, :] & np.isnan(usable)
    status[well_missing] = "missing"
    reason[well_missing] = ITEMS.text("is_missing_in_well")
    low = has_is_on_plate[None, :] & (fraction < low_fraction)
    status[low] = "low"
    reason[low] = [ITEMS.text("is_low", fraction=f"{f:.0%}") for f in fraction[low]]
    check = ISCheck(StepReport(STEP, ""), grid, valued, status, reason, is_value, median,
                    fraction)

    bad = valued & ~check.reportable
    checked = valued & (status != "unchecked")
    counts = {
        "pairs_checked": int(checked.sum()),
        "pairs_unchecked": int((valued & (status == "unchecked")).sum()),
        "pairs_low": int((valued & (status == "low")).sum()),
        "pairs_missing": int((valued & (status == "missing")).sum()),
        "wells_affected": int(bad.any(axis=1).sum()),
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
        findings=tuple(_findings(check, bad, checked, rules, method)),
    )
    return replace(check, report=report)


def _is_name(method: Method | None, analyte: str) -> str:
    if method is not None and analyte in method:
        return method.analyte(analyte).internal_standard.name
    return ITEMS.text("is_of", analyte=analyte)


def _findings(check: ISCheck, bad: np.ndarray, checked: np.ndarray, rules: QCRules,
              method: Method | None) -> list[Finding]:
    g = check.grid
    findings: list[Finding] = []
    for w in np.flatnonzero(bad.any(axis=1)):
        columns = np.flatnonzero(bad[w])
        by_reason: dict[tuple[str, str], list[str]] = {}
        for j in columns:
            analyte = str(g.analytes[j])
            key = (_is_name(method, analyte), str(check.reason[w, j]))
            by_reason.setdefault(key, []).append(analyte)
        parts = [ITEMS.text("is_cause", standard=standard, why=why, analytes=", ".join(codes))
                 for (standard, why), codes in by_reason.items()]
        all_low = bool((check.status[w, columns] == "low").all())
        findings.append(finding(
            STEP, "warning", "is_not_reportable", code="is_low" if all_low else "is_missing",
            well=str(g.wells[w]), sample_type=g.sample_type[w], sample_id=g.sample_id[w],
            causes="; ".join(parts),
            detail={"analytes": [str(g.analytes[j]) for j in columns],
                    "sample_id": str(g.sample_id[w])},
        ))
    n_checked = checked.sum(axis=0)
    limit = rules.is_max_fraction_of_wells_not_reportable
    for j in np.flatnonzero(n_checked > 0):
        fraction = float((bad[:, j] & checked[:, j]).sum() / n_checked[j])
        if fraction > limit:
            findings.append(finding(
                STEP, "reject", "is_plate_failure", analyte=str(g.analytes[j]),
                fraction=f"{fraction:.0%}", limit_percent=f"{limit:.0%}",
                detail={"fraction_of_wells": fraction},
            ))
    return findings


#: Columns of :func:`well_signal`.
WELL_SIGNAL_COLUMNS: tuple[str, ...] = ("well", "sample_id", "sample_type", "internal_standard",
                                        "fraction", "status")
_WORST = {"missing": 3, "low": 2, "ok": 1, "unchecked": 0}


def well_signal(check: ISCheck, method: Method | None = None) -> pd.DataFrame:
    """Each well's internal-standard signal in one row: the lowest fraction of the plate median
    over the internal standards of the analytes it has values for, the standard it belongs to,
    and the well's worst status (``missing`` > ``low`` > ``ok`` > ``unchecked``; ``fraction``
    NaN where no standard was checked or one is missing)."""
    g = check.grid
    rows = []
    for w in range(g.shape[0]):
        columns = np.flatnonzero(check.valued[w])
        if not len(columns):
            continue
        statuses = [str(check.status[w, j]) for j in columns]
        worst = max(statuses, key=_WORST.__getitem__)
        fractions = check.fraction[w, columns].astype(float)
        finite = np.isfinite(fractions)
        if worst == "missing":
            j = int(columns[statuses.index("missing")])
            fraction = float("nan")
        elif finite.any():
            j = int(columns[np.flatnonzero(finite)[np.argmin(fractions[finite])]])
            fraction = float(check.fraction[w, j])
        else:
            j, fraction = int(columns[0]), float("nan")
        rows.append((str(g.wells[w]), str(g.sample_id[w]), str(g.sample_type[w]),
                     _is_name(method, str(g.analytes[j])), fraction, worst))
    return pd.DataFrame(rows, columns=list(WELL_SIGNAL_COLUMNS))
