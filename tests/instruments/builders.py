"""Readable builders of plate runs for the instrument tests and benchmarks: a 96-well plate as
the virtual instrument makes one (blanks, low and high controls, patients; analyte areas and
internal-standard areas, one IS value per IS compound and well)."""

from __future__ import annotations

import numpy as np

from instruments.run import PlateRun, measurements_frame
from instruments.transitions import load_transitions
from instruments.wells import plate_wells

__all__ = ["plate_run"]


def plate_run(*, seed: int = 1, plate_id: str = "PLATE0001", analytes: list[str] | None = None,
              kinds: tuple[str, ...] = ("area", "is_area"), n_wells: int = 96,
              transitions: str = "butylated") -> PlateRun:
    """A plate run with ``n_wells`` wells: A01-A02 blanks, A03-A04 qc_low, A05-A06 qc_high."""
    rng = np.random.default_rng(seed)
    table = load_transitions(transitions)
    if analytes is None:
        analytes = [t.analytes[0] for t in table.transitions
                    if t.role == "analyte" and table.internal_standard_for(t.analytes[0])]
    rows = []
    for i, well in enumerate(plate_wells(96)[:n_wells]):
        sample_type = ("blank" if i < 2 else "qc_low" if i < 4 else "qc_high" if i < 6
                       else "patient")
        sample_id = f"{sample_type.upper()}-{i + 1:03d}" if i < 6 else f"NB{seed:02d}{i:05d}"
        is_values: dict[str, float] = {}
        for analyte in analytes:
            if "area" in kinds:
                rows.append(dict(run_id=plate_id, plate_id=plate_id, well=well,
                                 sample_id=sample_id, sample_type=sample_type, analyte=analyte,
                                 value=float(rng.lognormal(8, 1)), unit="counts", kind="area",
                                 source_file="", source_row=0))
            if "is_area" in kinds:
                is_name = table.internal_standard_for(analyte).name
                value = is_values.setdefault(is_name, float(rng.lognormal(10, 0.3)))
                rows.append(dict(run_id=plate_id, plate_id=plate_id, well=well,
                                 sample_id=sample_id, sample_type=sample_type, analyte=analyte,
                                 value=value, unit="counts", kind="is_area",
                                 source_file="", source_row=0))
            if "concentration" in kinds:
                rows.append(dict(run_id=plate_id, plate_id=plate_id, well=well,
                                 sample_id=sample_id, sample_type=sample_type, analyte=analyte,
                                 value=float(rng.lognormal(1, 1)), unit="umol/L",
                                 kind="concentration", source_file="", source_row=0))
    return PlateRun(run_id=plate_id, plate_id=plate_id, format="virtual", source_file="",
                    metadata={}, measurements=measurements_frame(rows))
