"""Completeness of a plate against its quantitation method: every analyte of the method measured in
every patient and control well (docs/quantitation.md; nothing partial is stored).

A truncated or partly exported file still parses: a MassLynx summary cut inside its third compound
block holds Ala, Arg and part of Cit; a long CSV cut at a line end holds its last well half done.
Two checks catch that:

- :func:`check_completeness` (run by :func:`msms.quantify.quantify`, step ``completeness``): a
  well that lacks an analyte which other wells of the plate have is *incomplete*: none of its
  results is reportable (warning). The plate is rejected when an analyte is missing in more than
  the rules' fraction of wells, or when the last checked well of the file (in the order wells
  first appear) is incomplete or lacks internal-standard rows the other wells have: the
  signature of a file cut short, whether it lists well by well (the last well half done) or
  compound by compound (the last wells lack the last compounds).
- :func:`check_method_coverage` (run by :func:`msms.qc.plate.check_plate`, step
  ``method_coverage``): an analyte of the method that no patient or control well measured
  rejects the plate, naming the analytes.

A pair is *measured* when the file has a finite intensity (area or height) or a vendor
concentration for it (a missing or low internal standard is the IS check's: only the analytes it
serves are not reportable). Blanks and wells of unknown type are not checked.

Public names: ``Completeness``, ``check_completeness``, ``check_method_coverage``,
``measured_pairs``, ``CHECKED_SAMPLE_TYPES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from msms.methods import Method
from msms.qc.grid import PlateGrid
from msms.qc.messages import ITEMS, finding, listing
from msms.qc.report import Finding, StepReport
from msms.qc.rules import QCRules, default_rules

__all__ = [
    "CHECKED_SAMPLE_TYPES",
    "Completeness",
    "check_completeness",
    "check_method_coverage",
    "measured_pairs",
]

STEP = "completeness"
COVERAGE_STEP = "method_coverage"
#: Wells that must hold every analyte of the method: patients and control materials.
CHECKED_SAMPLE_TYPES: tuple[str, ...] = (
    "patient", "qc_low", "qc_high", "qc_other", "calibrator", "proficiency",
)
#: Wells (or analytes) named in one message before "and N more".
_LISTED = 12


def _listing(items: list[str], limit: int = _LISTED) -> str:
    return listing(items, limit)


def _finite(grid: PlateGrid, kind: str) -> np.ndarray:
    values, present = grid.kind(kind)
    return present & np.isfinite(values)


def measured_pairs(grid: PlateGrid) -> np.ndarray:
    """(wells x analytes) True where the file measured the analyte in the well."""
    return _finite(grid, "area") | _finite(grid, "height") | _finite(grid, "concentration")


def _lacking_is_rows(grid: PlateGrid) -> np.ndarray:
    """(wells x analytes) True where a well has an intensity but no internal-standard row that
    other wells of the plate have."""
    intensity = _finite(grid, "area") | _finite(grid, "height")
    _, has_is_row = grid.kind("is_area")
    plate_has_is = np.asarray(has_is_row.any(axis=0), dtype=bool)
    return intensity & ~_finite(grid, "concentration") & plate_has_is[None, :] & ~has_is_row


def _checked_wells(grid: PlateGrid) -> np.ndarray:
    return np.isin(grid.sample_type.astype(str), CHECKED_SAMPLE_TYPES)


@dataclass(frozen=True)
class Completeness:
    """The verdict per well, aligned with the grid.

    ``incomplete[w]``: a checked well lacking some analyte the plate has (none of its results is
    reportable); ``missing[w, a]``: the pairs it lacks; ``reason[w]``: why, for the
    concentrations table ('' for complete wells).
    """

    report: StepReport
    incomplete: np.ndarray
    missing: np.ndarray
    reason: np.ndarray


def check_completeness(grid: PlateGrid, method: Method | None = None, *,
                       rules: QCRules | None = None) -> Completeness:
    """Find the checked wells that lack analytes the rest of the plate has.

    Parameters
    ----------
    grid
        The plate's measurements as a grid (:func:`msms.qc.grid.plate_grid`).
    method
        The quantitation method: only its analytes are expected (default: every analyte on the
        plate).
    rules
        ``completeness_max_fraction_of_wells_incomplete`` (default: the packaged rules).

    Returns
    -------
    Completeness
        A warning finding per incomplete well; a reject finding per analyte missing in more than
        the allowed fraction of checked wells, and one when the file's last checked well is
        incomplete.
    """
    rules = rules or default_rules()
    limit = rules.completeness_max_fraction_of_wells_incomplete
    measured = measured_pairs(grid)
    checked = _checked_wells(grid)
    expected = np.array([method is None or str(a) in method for a in grid.analytes], dtype=bool)
    # analytes the plate has: measured in at least one checked well (absent ones are the method
    # coverage check's)
    partial = expected & (measured & checked[:, None]).any(axis=0)
    missing = checked[:, None] & partial[None, :] & ~measured
    incomplete = missing.any(axis=1)
    reason = np.full(len(grid.wells), "", dtype=object)
    findings: list[Finding] = []
    for w in np.flatnonzero(incomplete):
        lacking = [str(grid.analytes[j]) for j in np.flatnonzero(missing[w])]
        well = str(grid.wells[w])
        reason[w] = f"well incomplete: {_listing(lacking, 6)} not measured"
        findings.append(finding(
            STEP, "warning", "well_incomplete", well=well, sample_type=grid.sample_type[w],
            sample_id=grid.sample_id[w], analytes=_listing(lacking),
            detail={"analytes": lacking, "sample_id": str(grid.sample_id[w])},
        ))
    n_checked = int(checked.sum())
    for j in np.flatnonzero(partial):
        lacking_wells = [str(grid.wells[w]) for w in np.flatnonzero(missing[:, j])]
        fraction = len(lacking_wells) / n_checked if n_checked else 0.0
        if fraction > limit:
            findings.append(finding(
                STEP, "reject", "analyte_missing_in_wells", analyte=str(grid.analytes[j]),
                n_missing=len(lacking_wells), n_checked=n_checked, fraction=f"{fraction:.0%}",
                limit_percent=f"{limit:.0%}", wells=_listing(lacking_wells),
                detail={"wells": lacking_wells, "fraction_of_wells": fraction},
            ))
    last = np.flatnonzero(checked)[-1:]  # grid wells keep the order they first appear in
    no_is_row = _lacking_is_rows(grid) & expected[None, :]
    if len(last) and (incomplete[last[0]] or no_is_row[last[0]].any()):
        final = int(last[0])
        lacking = [str(grid.analytes[j]) for j in np.flatnonzero(missing[final])] + [
            ITEMS.text("internal_standard_of", analyte=grid.analytes[j])
            for j in np.flatnonzero(no_is_row[final] & ~missing[final])]
        findings.append(finding(
            STEP, "reject", "file_truncated", well=str(grid.wells[final]),
            lacking=_listing(lacking), detail={"analytes": lacking},
        ))
    report = StepReport(
        step=STEP,
        description="every checked well (patients and controls) holds every analyte of the "
                    "method the plate has; an incomplete well has no reportable result",
        parameters={"checked_sample_types": list(CHECKED_SAMPLE_TYPES),
                    "max_fraction_of_wells_incomplete": limit,
                    "method": method.label if method is not None else None},
        counts={"wells_checked": n_checked, "wells_incomplete": int(incomplete.sum()),
                "pairs_missing": int(missing.sum())},
        findings=tuple(findings),
    )
    return Completeness(report, incomplete, missing, reason)


def check_method_coverage(grid: PlateGrid, method: Method) -> StepReport:
    """Reject a plate on which no patient or control well measured some analyte of the method.

    The reject finding names the missing analytes (``detail["analytes"]``) and the wells that
    lack them (all checked wells).
    """
    measured = measured_pairs(grid)
    checked = _checked_wells(grid)
    on_plate = {str(a) for a, seen in zip(grid.analytes, (measured & checked[:, None]).any(axis=0),
                                          strict=True) if seen}
    absent = [code for code in method.codes if code not in on_plate]
    wells = [str(w) for w in grid.wells[checked]]
    findings: tuple[Finding, ...] = ()
    if absent:
        fields: dict[str, Any] = dict(absent=len(absent), total=len(method.codes),
                                      method=method.label, analytes=_listing(absent, 50))
        if wells:
            fields.update(n_wells=len(wells), wells=_listing(wells, 4))
        findings = (finding(
            COVERAGE_STEP, "reject",
            "analytes_not_measured" if wells else "analytes_not_measured_no_wells",
            code="analytes_not_measured", detail={"analytes": absent, "wells": wells},
            **fields),)
    return StepReport(
        step=COVERAGE_STEP,
        description="every analyte of the quantitation method is measured on the plate",
        parameters={"method": method.label, "checked_sample_types": list(CHECKED_SAMPLE_TYPES)},
        counts={"method_analytes": len(method.codes), "analytes_not_measured": len(absent),
                "wells_checked": len(wells)},
        findings=findings,
    )
