"""Queries of runs: by hash or plate, control history, worklists, held wells.

Public names: ``run_by_sha256``, ``run_by_plate``, ``control_history``, ``open_duplicate_requests``,
``open_duplicate_rows``, ``duplicate_requests_for``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.models import ControlResult, DuplicateRequest, Run, Specimen

__all__ = [
    "control_history",
    "duplicate_requests_for",
    "open_duplicate_requests",
    "open_duplicate_rows",
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
    table = ControlResult.__table__  # type: ignore[attr-defined]
    rows = session.execute(core_select(*(table.c[c] for c in columns))
                           .where(table.c.run_id.in_(recent))
                           .order_by(table.c.run_id, table.c.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def open_duplicate_requests(session: Session) -> list[DuplicateRequest]:
    return list(session.exec(select(DuplicateRequest).where(DuplicateRequest.status == "open")
                             .order_by(col(DuplicateRequest.id))))


def open_duplicate_rows(session: Session) -> list[dict[str, Any]]:
    """Open duplicate requests with their card's barcode, as plain rows (one query)."""
    requests = DuplicateRequest.__table__  # type: ignore[attr-defined]
    specimens = Specimen.__table__  # type: ignore[attr-defined]
    query = (core_select(requests.c.id, requests.c.specimen_id, specimens.c.barcode,
                         requests.c.source_run_id, requests.c.disorders, requests.c.status,
                         requests.c.requested_at)
             .join(specimens, specimens.c.id == requests.c.specimen_id)
             .where(requests.c.status == "open").order_by(requests.c.id))
    return [dict(r._mapping) for r in session.execute(query)]


def duplicate_requests_for(session: Session, specimen_ids: Sequence[int]) -> dict[
        int, DuplicateRequest]:
    if not specimen_ids:
        return {}
    rows = session.exec(select(DuplicateRequest).where(
        col(DuplicateRequest.specimen_id).in_(list(specimen_ids)),
        DuplicateRequest.status == "open"))
    return {r.specimen_id: r for r in rows}
