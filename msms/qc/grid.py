"""A plate's measurements as wells x analytes arrays, one per measurement kind.

Quantitation and the internal-standard check pair values by (well, analyte); on a grid that is
plain array arithmetic. Wells keep the order they first appear in; analytes follow the
catalogue.

Public names: ``PlateGrid``, ``plate_grid``, ``TableCodes``, ``table_codes``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from msms.catalogue import Catalogue, default_catalogue

__all__ = ["PlateGrid", "TableCodes", "plate_grid", "table_codes"]


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


@dataclass(frozen=True)
class TableCodes:
    """Integer codes of a measurements table's well, analyte and kind columns
    (``pandas.factorize``), so validation and the grid factorize once."""

    well_code: np.ndarray
    wells: np.ndarray
    analyte_code: np.ndarray
    analytes: np.ndarray
    kind_code: np.ndarray
    kinds: np.ndarray


def table_codes(measurements: pd.DataFrame) -> TableCodes:
    """Factorize the well, analyte and kind columns (order of first appearance; NA -> -1)."""
    parts = []
    for column in ("well", "analyte", "kind"):
        code, uniques = pd.factorize(measurements[column])
        parts += [np.asarray(code, dtype=np.intp), np.asarray(uniques, dtype=object)]
    return TableCodes(*parts)


def plate_grid(measurements: pd.DataFrame, *, catalogue: Catalogue | None = None,
               codes: TableCodes | None = None) -> PlateGrid:
    """Arrange a validated measurements table (one plate, no duplicate (well, analyte, kind)).

    ``codes`` may pass the table's :func:`table_codes` when the caller has them.
    """
    catalogue = catalogue or default_catalogue()
    m = measurements
    codes = codes or table_codes(m)
    rank = {code: i for i, code in enumerate(catalogue.codes)}
    order = np.argsort([rank[a] for a in codes.analytes], kind="stable")
    analytes = codes.analytes[order]
    position = np.empty(len(order), dtype=np.intp)
    position[order] = np.arange(len(order))
    well_codes = codes.well_code
    analyte_codes = position[codes.analyte_code]
    first = np.unique(well_codes, return_index=True)[1]
    sample_id = m["sample_id"].to_numpy(dtype=object)[first]
    sample_type = m["sample_type"].to_numpy(dtype=object)[first]
    value = m["value"].to_numpy(dtype=float)
    shape = (len(codes.wells), len(analytes))
    values: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    for k, kind in enumerate(codes.kinds):
        rows = codes.kind_code == k
        grid = np.full(shape, np.nan)
        mask = np.zeros(shape, dtype=bool)
        grid[well_codes[rows], analyte_codes[rows]] = value[rows]
        mask[well_codes[rows], analyte_codes[rows]] = True
        values[str(kind)], present[str(kind)] = grid, mask
    return PlateGrid(codes.wells, analytes, sample_id, sample_type, values, present)
