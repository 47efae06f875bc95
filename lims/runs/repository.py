"""Queries of runs: by hash or plate, control history, worklists, held wells.

Public names: ``run_by_sha256``, ``run_by_plate``, ``control_history``, ``open_duplicate_requests``,
``duplicate_requests_for``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlmodel import Session, col, select

from lims.models import ControlResult, DuplicateRequest, Run

__all__ = [
    "control_history",
    "duplicate_requests_for",
    "open_duplicate_requests",
    "run_by_plate",
    "run_by_sha256",
]

#: Westgard 10-x needs the last ten; keep a few more for charts.
HISTORY_RUNS = 20


def run_by_sha256(session: Session, sha256: str) -> Run | None:
    return session.exec(select(Run).where(Run.file_sha256 == sha256)).first()


def run_by_plate(session: Session, plate_id: str) -> Run | None:
    return session.exec(select(Run).where(Run.plate_id == plate_id)).first()


def control_history(session: Session, runs: int = HISTORY_RUNS) -> pd.DataFrame:
    """Control-well concentrations of the last ``runs`` accepted runs, oldest first."""
    recent = list(session.exec(select(Run.id).where(Run.qc_decision != "reject")
                               .order_by(col(Run.id).desc()).limit(runs)))
    columns = ["run_id", "well", "sample_id", "sample_type", "analyte", "conc_umol_l"]
    if not recent:
        return pd.DataFrame({c: pd.Series([], dtype="float64" if c == "conc_umol_l" else "str")
                             for c in columns})
    rows = session.exec(select(ControlResult).where(col(ControlResult.run_id).in_(recent))
                        .order_by(col(ControlResult.run_id), col(ControlResult.id)))
    return pd.DataFrame([{c: getattr(r, c) for c in columns} for r in rows], columns=columns)


def open_duplicate_requests(session: Session) -> list[DuplicateRequest]:
    return list(session.exec(select(DuplicateRequest).where(DuplicateRequest.status == "open")
                             .order_by(col(DuplicateRequest.id))))


def duplicate_requests_for(session: Session, specimen_ids: Sequence[int]) -> dict[
        int, DuplicateRequest]:
    if not specimen_ids:
        return {}
    rows = session.exec(select(DuplicateRequest).where(
        col(DuplicateRequest.specimen_id).in_(list(specimen_ids)),
        DuplicateRequest.status == "open"))
    return {r.specimen_id: r for r in rows}
