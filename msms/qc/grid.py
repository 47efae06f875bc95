"""A plate's measurements as wells x analytes arrays, one per measurement kind.

Quantitation and the internal-standard check pair values by (well, analyte); on a grid that is
plain array arithmetic. Wells keep the order they first appear in; analytes follow the
catalogue.

Public names: ``PlateGrid``, ``plate_grid``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from msms.catalogue import Catalogue, default_catalogue
from msms.tables import MEASUREMENT_KINDS

__all__ = ["PlateGrid", "plate_grid"]


@dataclass(frozen=True)
class PlateGrid:
    """``values[kind]`` is a (wells x analytes) float array, NaN where the table has no row;
    ``present[kind]`` says where it has one (its value may itself be NaN)."""

    wells: np.ndarray
    analytes: np.ndarray
    sample_id: np.ndarray
    sample_type: np.ndarray
    values: dict[str, np.ndarray]
    present: dict[str, np.ndarray]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.wells), len(self.analytes)

    def kind(self, kind: str) -> tuple[np.ndarray, np.ndarray]:
        """``(values, present)`` of one kind (all-NaN / all-False when the plate has none)."""
        if kind in self.values:
            return self.values[kind], self.present[kind]
        return np.full(self.shape, np.nan), np.zeros(self.shape, dtype=bool)


def plate_grid(measurements: pd.DataFrame, *, catalogue: Catalogue | None = None) -> PlateGrid:
    """Arrange a validated measurements table (one plate, no duplicate (well, analyte, kind))."""
    catalogue = catalogue or default_catalogue()
    m = measurements
    well_codes, wells = pd.factorize(m["well"], sort=False)
    present_analytes = set(pd.unique(m["analyte"]))
    analytes = np.array([c for c in catalogue.codes if c in present_analytes], dtype=object)
    position = {code: i for i, code in enumerate(analytes)}
    analyte_codes = m["analyte"].map(position).to_numpy(dtype=np.intp)
    first = np.unique(well_codes, return_index=True)[1]
    sample_id = m["sample_id"].to_numpy(dtype=object)[first]
    sample_type = m["sample_type"].to_numpy(dtype=object)[first]
    kinds = m["kind"].to_numpy(dtype=object)
    value = m["value"].to_numpy(dtype=float)
    shape = (len(wells), len(analytes))
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for kind in MEASUREMENT_KINDS:
        rows = kinds == kind
        if not rows.any():
            continue
        grid = np.full(shape, np.nan)
        mask = np.zeros(shape, dtype=bool)
        grid[well_codes[rows], analyte_codes[rows]] = value[rows]
        mask[well_codes[rows], analyte_codes[rows]] = True
        values[kind], present[kind] = grid, mask
    return PlateGrid(np.asarray(wells, dtype=object), analytes, sample_id, sample_type, values,
                     present)
