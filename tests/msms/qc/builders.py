"""Readable builders of measurement tables for quantitation and QC tests.

``plate(...)`` renders wells of known concentrations into area / is_area rows the way an
instrument would (area = conc / factor x IS counts), so every expected concentration is exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import pandas as pd

from msms.catalogue import default_catalogue
from msms.methods import Method, default_method
from msms.qc.controls import default_control_lots
from msms.tables import MEASUREMENT_COLUMNS

LOW_LOT, HIGH_LOT = "VQC-L-2501", "VQC-H-2501"


@dataclass
class Well:
    well: str
    sample_id: str
    sample_type: str
    conc: Mapping[str, float]
    #: multiplies the IS signal of the listed analytes (1.0 = nominal)
    is_factor: Mapping[str, float] = field(default_factory=dict)
    #: analytes whose IS row is absent in this well
    no_is: Iterable[str] = ()


def method_for(analytes: Iterable[str], method: Method | None = None) -> Method:
    """The packaged method narrowed to ``analytes``: a small panel whose plates are complete."""
    method = method or default_method()
    keep = set(analytes)
    return replace(method, analytes=MappingProxyType(
        {code: entry for code, entry in method.analytes.items() if code in keep}))


def wells_analytes(wells: Iterable[Well]) -> set[str]:
    """Every analyte any of ``wells`` holds."""
    return {a for w in wells for a in w.conc}


def medians(analytes: Iterable[str] | None = None, scale: float = 1.0) -> dict[str, float]:
    cat = default_catalogue()
    codes = list(analytes) if analytes is not None else list(cat.codes)
    return {c: cat.analyte(c).pop_median_umol_l * scale for c in codes}


def lot_targets(lot: str, shift_sd: Mapping[str, float] | None = None) -> dict[str, float]:
    """A control lot's target means, shifted by ``shift_sd`` SDs for the named analytes."""
    targets = default_control_lots().lots[lot].targets
    shift = shift_sd or {}
    return {a: t.mean_umol_l + shift.get(a, 0.0) * t.sd_umol_l for a, t in targets.items()}


def plate(
    wells: Iterable[Well],
    *,
    method: Method | None = None,
    is_counts: float = 1.0e5,
    run_id: str = "RUN-1",
    plate_id: str = "PLATE-1",
    kind: str = "area",
    vendor: bool = False,
) -> pd.DataFrame:
    """Measurements for ``wells``; ``vendor=True`` writes concentration rows instead."""
    method = method or default_method()
    rows: list[dict[str, object]] = []

    def add(w: Well, analyte: str, value: float, kind: str, unit: str) -> None:
        rows.append({
            "run_id": run_id, "plate_id": plate_id, "well": w.well, "sample_id": w.sample_id,
            "sample_type": w.sample_type, "analyte": analyte, "value": value, "unit": unit,
            "kind": kind, "source_file": "built.csv", "source_row": len(rows) + 2,
        })

    for w in wells:
        for analyte, conc in w.conc.items():
            if vendor:
                add(w, analyte, conc, "concentration", "umol/L")
                continue
            is_value = is_counts * w.is_factor.get(analyte, 1.0)
            area = conc / method.analyte(analyte).factor_umol_l * is_value
            add(w, analyte, area, kind, "counts")
            if analyte not in set(w.no_is):
                add(w, analyte, is_value, "is_area", "counts")
    return pd.DataFrame(rows, columns=list(MEASUREMENT_COLUMNS))


def standard_wells(
    n_patients: int = 8,
    *,
    analytes: Iterable[str] | None = None,
    low_shift_sd: Mapping[str, float] | None = None,
    high_shift_sd: Mapping[str, float] | None = None,
) -> list[Well]:
    """A small plate: blank, low control, high control, blank, patients (at the medians x 1..)."""
    codes = list(analytes) if analytes is not None else list(default_catalogue().codes)
    low = {a: v for a, v in lot_targets(LOW_LOT, low_shift_sd).items() if a in codes}
    high = {a: v for a, v in lot_targets(HIGH_LOT, high_shift_sd).items() if a in codes}
    wells = [
        Well("A01", "", "blank", {a: 0.0 for a in codes}),
        Well("A02", LOW_LOT, "qc_low", low),
        Well("A03", HIGH_LOT, "qc_high", high),
        Well("A04", "", "blank", {a: 0.0 for a in codes}),
    ]
    for i in range(n_patients):
        well = f"A{5 + i:02d}" if 5 + i <= 12 else f"B{5 + i - 12:02d}"
        wells.append(Well(well, f"S{i + 1:03d}", "patient", medians(codes, 1.0 + 0.1 * i)))
    return wells


#: A value for every field of the findings' phrases (``msms.qc.messages``), list fields with
#: items of every kind, so that a sample of each phrase exercises its wording in full.
FINDING_FIELDS: dict[str, str] = {
    "n": "3", "n_blanks": "0", "minimum": "1", "absent": "29", "total": "48", "n_wells": "96",
    "n_missing": "3", "n_checked": "10", "fraction": "30%", "limit_percent": "10%",
    "limit": "0.5", "well": "D07", "analyte": "C8", "sample_type": "qc_low", "level": "low",
    "lot": "VQC-L-2501", "rule": "1-3s", "method": "nonderivatized 0.1.0-default (unverified)",
    "expires": "2027-12-31", "sample_id": "'QC LOW'", "specimen": "S003", "source": "cards.csv",
    "z": "+3.40 (A02), -2.10 (A03)",
    "analytes": "C3, C5", "wells": "A01, A02, A03, A04 and 92 more", "columns": "birth_weight_g",
    "specimens": "S001, S002", "lots": "none",
    "values": "Phe 19 umol/L (20% of p99), C0 1.2 umol/L (15% of p99)",
    "estimates": "C0 1.00% (A03 -> A04), C8 0.80% (A07 -> A08)",
    "causes": "D3-C8: internal standard low (21% of the plate median) -> C6, C8; "
              "IS of C10: internal standard missing in this well -> C10; "
              "D9-C0: no internal-standard signal for this analyte on the plate -> C0",
    "lacking": "C3, the internal standard of C8",
    "differences": "C0 (12%), C3 (7%)",
}
#: The step that writes each phrase of the findings (``<step>: <message>`` in a run's reasons).
FINDING_STEPS: dict[str, str] = {
    "response_not_used": "validate", "analyte_not_in_method": "intensities",
    "vendor_differs_from_method": "concentrations", "replicates_averaged": "profiles",
    "card_columns_absent": "profiles", "no_card_data": "profiles",
    "is_not_reportable": "internal_standard", "is_plate_failure": "internal_standard",
    "well_incomplete": "completeness", "analyte_missing_in_wells": "completeness",
    "file_truncated": "completeness", "analytes_not_measured": "method_coverage",
    "analytes_not_measured_no_wells": "method_coverage", "blank_missing": "blanks",
    "blank_high": "blanks", "carryover_no_pair": "carryover",
    "carryover_no_high_well": "carryover", "carryover_high": "carryover",
    "qc_other_not_evaluated": "controls", "lot_level_mismatch": "controls",
    "lot_unknown": "controls", "lot_assumed": "controls", "lot_expired": "controls",
    "control_level_missing": "controls", "control_value_missing": "controls",
    "westgard_lot": "westgard", "westgard_across": "westgard",
}


def every_finding_reason() -> list[str]:
    """A run's reason (``<step>: <message>``) for every phrase of the findings."""
    from msms.qc.messages import FINDINGS

    return [f"{FINDING_STEPS[p.code]}: "
            + p.text(**{name: FINDING_FIELDS[name] for name in p.fields}) for p in FINDINGS]
