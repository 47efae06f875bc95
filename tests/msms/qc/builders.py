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
