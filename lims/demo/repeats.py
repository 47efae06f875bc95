"""The demo's normal repeat card: a case closed as not confirmed (``normal_repeat``) is closed
as the service closes a real one, on a released normal result of a later card of the baby.
The repeat card is measured on a plate of its own (every analyte at its population median:
the virtual instrument reads it as normal), ingested through the real pipeline and released
as normal by the demo reviewer's signed decision; the release closes the case.

Public names: ``release_normal_repeats``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from instruments.virtual import simulate_plate
from lims.audit import SYSTEM
from lims.demo.plates import PATIENT_WELLS, write_cards_plate
from lims.models import FollowUpCase, Specimen, User
from lims.pipeline import Screening
from lims.review.service import decide
from lims.runs.service import ingest_bytes
from lims.vocabulary import Decision
from msms.catalogue import default_catalogue
from msms.population import simulate_cohort

__all__ = ["release_normal_repeats"]

_SEED = 404


def _repeat_plate(barcodes: Sequence[str], *, plate_id: str, folder: Path) -> Path:
    """A plate of these cards, every analyte at its population median, the other patient
    wells left empty; as MassLynx."""
    cohort = simulate_cohort(PATIENT_WELLS, seed=_SEED, disorder_rate=0.0)
    catalogue = default_catalogue()
    for analyte in catalogue.analytes:
        if analyte.code in cohort.columns:
            cohort[analyte.code] = analyte.pop_median_umol_l
    cohort.loc[: len(barcodes) - 1, "specimen_id"] = list(barcodes)
    plate = simulate_plate(seed=_SEED, cohort=cohort, plate_id=plate_id)
    return write_cards_plate(plate, barcodes, plate_id=plate_id, folder=folder)


def release_normal_repeats(engine: Engine, pipeline: Screening, case_ids: Sequence[int],
                           reviewer: User, password: str, *, tag: str,
                           folder: Path) -> list[str]:
    """Measure the repeat card of each case (``case_ids``: cases that received one) on a plate
    and release it as normal, signed by ``reviewer`` with ``password``: the release closes
    each case as not confirmed. Returns a summary line."""
    with Session(engine, expire_on_commit=False) as session:
        repeats: list[int] = []
        for case_id in case_ids:
            case = session.get(FollowUpCase, case_id)
            assert case is not None and case.repeat_specimen_id is not None
            repeats.append(case.repeat_specimen_id)
        barcodes = [s.barcode for i in repeats if (s := session.get(Specimen, i)) is not None]
    if not barcodes:
        return []
    path = _repeat_plate(barcodes, plate_id=f"DEMO-REPEAT{tag}", folder=folder)
    outcome = ingest_bytes(engine, SYSTEM, path.read_bytes(), path.name, pipeline)
    with Session(engine, expire_on_commit=False) as session:
        for specimen_id in repeats:
            decide(session, reviewer, specimen_id, Decision.release_normal,
                   reason="repeat card normal (demo)", password=password)
        session.commit()
    return [f"  repeat cards' plate {outcome.run.plate_id} (QC {outcome.run.qc_decision}): "
            f"released normal={len(repeats)}"]
