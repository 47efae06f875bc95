"""A second-tier run read and quantified: the same instrument readers and quantitation as a
first-tier plate (``instruments.read``, ``msms.quantify``), with the second-tier panel's
method and the catalogue its analytes extend (``msms.second_tier_panel``).

A file holding no analyte of the panel (a first-tier plate uploaded here, say) is refused;
names the panel does not know are refused by the reader, naming file, line and field.

Public names: ``SecondTierPlate``, ``read_second_tier``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

import instruments
from instruments import ArchiveLimits
from lims.errors import InvalidInputError
from msms.quantify import quantify
from msms.second_tier_panel import second_tier_catalogue, second_tier_method

__all__ = ["SecondTierPlate", "read_second_tier"]


@dataclass(frozen=True)
class SecondTierPlate:
    """The patient wells of a second-tier run: ``wells`` has ``well, sample_id, assay,
    conc_umol_l`` (NaN where not reportable), one row per well and panel assay."""

    plate_id: str
    instrument_run_id: str
    format: str
    method_version: str
    wells: pd.DataFrame


def read_second_tier(data: bytes, name: str, *, format: str = "auto",
                     limits: ArchiveLimits | None = None) -> SecondTierPlate:
    """Read, then quantify through the panel's internal standards, the uploaded bytes.

    Raises
    ------
    InstrumentError
        The reader's error (file, line, field).
    InvalidInputError
        The file holds no second-tier analyte, or no patient well.
    """
    method = second_tier_method()
    catalogue = second_tier_catalogue()
    file_name = Path(name).name or "upload"
    run = instruments.read(data, format=format, name=file_name, transitions=method,
                           catalogue=catalogue, limits=limits)
    panel = set(method.codes)
    measured = set(run.measurements["analyte"].astype(str))
    if not measured & panel:
        raise InvalidInputError(
            f"no second-tier analyte in the file (it holds {', '.join(sorted(measured)[:6])}"
            f"{', ...' if len(measured) > 6 else ''}); the panel measures "
            f"{', '.join(method.codes)}", file=file_name, field="analyte")
    measurements = run.measurements[run.measurements["analyte"].astype(str).isin(panel)]
    quantified = quantify(measurements, method, catalogue=catalogue)
    conc = quantified.concentrations
    patients = conc[conc["sample_type"].astype(str) == "patient"]
    if patients.empty:
        raise InvalidInputError("the run holds no patient well", file=file_name,
                                field="sample_type")
    wells = pd.DataFrame({
        "well": patients["well"].astype(str).to_numpy(),
        "sample_id": patients["sample_id"].astype(str).str.strip().to_numpy(),
        "assay": patients["analyte"].astype(str).to_numpy(),
        "conc_umol_l": pd.to_numeric(patients["conc_umol_l"], errors="coerce").to_numpy(),
    })
    return SecondTierPlate(plate_id=str(quantified.plate_id or run.plate_id),
                           instrument_run_id=str(run.run_id), format=str(run.format),
                           method_version=method.label[:64], wells=wells)
