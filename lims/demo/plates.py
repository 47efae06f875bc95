"""Plates the demo measures for chosen cards only: the virtual instrument fills every patient
well, so the wells of other samples are dropped before the plate is written (blanks and
controls kept), and the plate is written as MassLynx for the real import.

Public names: ``PATIENT_WELLS``, ``write_cards_plate``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path

from instruments.virtual import SimulatedPlate, suffix, write_plate

__all__ = ["PATIENT_WELLS", "write_cards_plate"]

#: Wells of a 96-well plate the virtual instrument fills with patients.
PATIENT_WELLS = 89


def write_cards_plate(plate: SimulatedPlate, barcodes: Collection[str], *, plate_id: str,
                      folder: Path) -> Path:
    """``plate`` with the patient wells of ``barcodes`` only, written as MassLynx into
    ``folder``; its path."""
    measured = plate.run.measurements
    keep = (measured["sample_type"] != "patient") | measured["sample_id"].isin(list(barcodes))
    run = dataclasses.replace(plate.run, measurements=measured[keep].reset_index(drop=True))
    path = folder / f"{plate_id}{suffix('masslynx')}"
    write_plate(dataclasses.replace(plate, run=run), path, format="masslynx")
    return path
