"""Queries of runs: by hash or plate, the control history, bulk writes of a plate's results,
controls, held wells and evaluations, the duplicates worklist and held wells.

Result and control rows go to the driver's ``executemany`` as plain tuples (``_insert_tuples``),
other rows as Core inserts: no ORM object per row.

Public names: ``run_by_sha256``, ``run_by_plate``, ``run_for_update``, ``list_runs``,
``retire_run``, ``reject_run``,
``control_history``, ``chart_history``, ``insert_controls``, ``insert_results``,
``insert_well_signal``, ``well_signal``, ``insert_westgard_verdicts``,
``westgard_verdicts``, ``insert_held_wells``,
``insert_evaluations``, ``insert_duplicate_requests``, ``retire_evaluations``,
``duplicate_requests_for``, ``open_duplicate_rows``, ``held_wells_of``, ``claim_held_wells``,
``held_well_rows``, ``HISTORY_RUNS``, ``patient_wells``, ``control_wells``,
``time_critical_specimens``, ``open_held_well_rows``, ``arrived_held_wells``,
``qc_sign_off_events``; for a
withdrawal: ``latest_on_run``, ``requests_completed_on``, ``set_calls_current``,
``withdraw_open_requests``, ``held_wells_of_run``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import CursorResult, insert, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.alerts.rule import alerting_calls
from lims.models import (
    AuditEvent,
    ControlResult,
    DuplicateRequest,
    Evaluation,
    HeldWell,
    Result,
    Run,
    Specimen,
    WellSignal,
    WestgardVerdict,
)
from lims.vocabulary import DuplicateRequestStatus, HeldWellStatus, QcDecision, SpecimenState

__all__ = [
    "HISTORY_RUNS",
    "arrived_held_wells",
    "chart_history",
    "claim_held_wells",
    "control_history",
    "duplicate_requests_for",
    "control_wells",
    "held_well_rows",
    "held_wells_of_run",
    "latest_on_run",
    "requests_completed_on",
    "set_calls_current",
    "withdraw_open_requests",
    "held_wells_of",
    "insert_controls",
    "insert_duplicate_requests",
    "insert_evaluations",
    "insert_held_wells",
    "insert_results",
    "insert_well_signal",
    "list_runs",
    "open_duplicate_rows",
    "open_held_well_rows",
    "patient_wells",
    "qc_sign_off_events",
    "retire_evaluations",
    "reject_run",
    "retire_run",
    "run_by_plate",
    "run_by_sha256",
    "run_for_update",
    "time_critical_specimens",
    "well_signal",
    "westgard_verdicts",
    "insert_westgard_verdicts",
]

#: Westgard 10-x needs the last ten; keep a few more for charts.
HISTORY_RUNS = 20
_RUN = Run.__table__  # type: ignore[attr-defined]
_HELD = HeldWell.__table__  # type: ignore[attr-defined]
_HISTORY_COLUMNS = ("run_id", "well", "sample_id", "sample_type", "analyte", "conc_umol_l")
_HELD_COLUMNS = ("id", "run_id", "well", "sample_id", "reason", "values", "status",
                 "resolved_at")


def run_by_sha256(session: Session, sha256: str) -> Run | None:
    return session.exec(select(Run).where(Run.file_sha256 == sha256)).first()


def run_by_plate(session: Session, plate_id: str) -> Run | None:
    return session.exec(select(Run).where(Run.plate_id == plate_id)).first()


def run_for_update(session: Session, run_id: int) -> Run | None:
    """The run read afresh, its row locked until the transaction ends: what rejects or
    withdraws a plate and what attaches its held wells take turns on it, each seeing what the
    other committed (on SQLite the one writer does)."""
    return session.exec(select(Run).where(Run.id == run_id).with_for_update()
                        .execution_options(populate_existing=True)).first()


def list_runs(session: Session, *, limit: int = 200) -> list[Run]:
    """Runs, newest first."""
    return list(session.exec(select(Run).order_by(col(Run.id).desc()).limit(limit)))


def retire_run(session: Session, run: Run, plate_key: str, reasons: list[str]) -> bool:
    """Move a QC-rejected run to ``plate_key`` with ``reasons``; False when another request
    moved it (or it is no longer rejected) meanwhile."""
    moved: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_RUN).where(_RUN.c.id == run.id, _RUN.c.plate_id == run.plate_id,
                           _RUN.c.qc_decision == QcDecision.reject)
        .values(plate_id=plate_key, qc_reasons=reasons))
    return moved.rowcount == 1


def reject_run(session: Session, run: Run, reasons: list[str]) -> bool:
    """Reject a run that is not rejected, with ``reasons``; False when another request
    rejected it meanwhile."""
    done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_RUN).where(_RUN.c.id == run.id, _RUN.c.qc_decision != QcDecision.reject)
        .values(qc_decision=QcDecision.reject, qc_reasons=reasons))
    return done.rowcount == 1


def latest_on_run(session: Session, run_id: int) -> list[Specimen]:
    """The cards with results on ``run_id`` and none on a later run, by id."""
    here = select(Result.specimen_id).where(Result.run_id == run_id).distinct()
    later = select(Result.specimen_id).where(Result.run_id > run_id).distinct()
    return list(session.exec(select(Specimen).where(
        col(Specimen.id).in_(here), col(Specimen.id).not_in(later)).order_by(col(Specimen.id))))


def requests_completed_on(session: Session, run_id: int) -> dict[int, DuplicateRequest]:
    """The duplicate requests ``run_id`` completed, by specimen id."""
    return {r.specimen_id: r for r in session.exec(select(DuplicateRequest).where(
        DuplicateRequest.completed_run_id == run_id))}


def set_calls_current(session: Session, run_id: int, specimen_ids: Sequence[int],
                      current: bool) -> None:
    """Mark the calls ``run_id`` made for these cards current or not."""
    if specimen_ids:
        session.execute(update(Evaluation).where(
            col(Evaluation.run_id) == run_id, col(Evaluation.specimen_id).in_(
                list(specimen_ids))).values(current=current))


def withdraw_open_requests(session: Session, run_id: int, specimen_ids: Sequence[int]) -> None:
    """The open duplicate requests ``run_id`` made for these cards are withdrawn."""
    if specimen_ids:
        session.execute(update(DuplicateRequest).where(
            col(DuplicateRequest.source_run_id) == run_id,
            col(DuplicateRequest.specimen_id).in_(list(specimen_ids)),
            col(DuplicateRequest.status) == DuplicateRequestStatus.open)
            .values(status=DuplicateRequestStatus.withdrawn))


def held_wells_of_run(session: Session, run_id: int) -> list[HeldWell]:
    """A run's wells still held."""
    return list(session.exec(select(HeldWell).where(
        HeldWell.run_id == run_id, HeldWell.status == HeldWellStatus.held)))


def control_history(session: Session, runs: int = HISTORY_RUNS) -> pd.DataFrame:
    """Control-well concentrations of the last ``runs`` accepted runs, oldest first."""
    recent = list(session.exec(select(Run.id).where(Run.qc_decision != QcDecision.reject)
                               .order_by(col(Run.id).desc()).limit(runs)))
    if not recent:
        return pd.DataFrame({c: pd.Series([], dtype="float64" if c == "conc_umol_l" else "str")
                             for c in _HISTORY_COLUMNS})
    table = ControlResult.__table__  # type: ignore[attr-defined]
    rows = session.execute(core_select(*(table.c[c] for c in _HISTORY_COLUMNS))
                           .where(table.c.run_id.in_(recent))
                           .order_by(table.c.run_id, table.c.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(_HISTORY_COLUMNS))


def chart_history(session: Session, run_id: int, shown: int, judged: int,
                  analytes: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[int]]:
    """Control-well values of ``run_id`` and of the ``judged`` accepted runs before it, oldest
    first (run ids as text), only of ``analytes`` when given, in one query; and the runs to
    show: the last ``shown`` of those with values and ``run_id``."""
    table = ControlResult.__table__  # type: ignore[attr-defined]
    earlier = (core_select(_RUN.c.id).where(_RUN.c.id < run_id,
                                            _RUN.c.qc_decision != QcDecision.reject)
               .order_by(_RUN.c.id.desc()).limit(judged))
    query = (core_select(*(table.c[c] for c in _HISTORY_COLUMNS))
             .where((table.c.run_id == run_id) | table.c.run_id.in_(earlier))
             .order_by(table.c.run_id, table.c.id))
    if analytes is not None:
        query = query.where(table.c.analyte.in_(list(analytes)))
    rows = session.execute(query).all()
    frame = pd.DataFrame([(str(r[0]), *r[1:]) for r in rows], columns=list(_HISTORY_COLUMNS))
    before = sorted({int(r[0]) for r in rows if r[0] != run_id})
    return frame, [*before[-shown:], run_id] if shown else [run_id]


def insert_westgard_verdicts(session: Session, rows: list[dict[str, Any]]) -> None:
    """A run's Westgard verdicts (``lims.runs.westgard_verdicts``)."""
    _insert(session, WestgardVerdict, rows)


def westgard_verdicts(session: Session, run_id: int) -> list[WestgardVerdict]:
    """A run's stored Westgard verdicts, in the order stored."""
    return list(session.exec(select(WestgardVerdict).where(
        WestgardVerdict.run_id == run_id).order_by(col(WestgardVerdict.id))))


def _insert_tuples(session: Session, model: type, columns: tuple[str, ...],
                   rows: list[tuple[Any, ...]]) -> None:
    """Plain values (int, float, str, None) straight to the driver's executemany: for the
    thousands of result rows of a plate, without per-row parameter processing."""
    if not rows:
        return
    connection = session.connection()
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    table = model.__table__.name  # type: ignore[attr-defined]
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join([marker] * len(columns))})", rows)


def _insert(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """Core executemany on the model's table (no ORM bookkeeping per row)."""
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


def _values(frame: pd.DataFrame) -> list[float | None]:
    return [None if v != v else v for v in frame["conc_umol_l"].astype("float64").tolist()]


def insert_controls(session: Session, run_id: int, controls: pd.DataFrame) -> None:
    """A run's control wells (``well, sample_id, sample_type, analyte, conc_umol_l``)."""
    _insert_tuples(session, ControlResult, _HISTORY_COLUMNS, list(zip(
        [run_id] * len(controls), controls["well"].tolist(), controls["sample_id"].tolist(),
        controls["sample_type"].tolist(), controls["analyte"].tolist(), _values(controls),
        strict=True)))


def insert_well_signal(session: Session, run_id: int, signal: pd.DataFrame) -> None:
    """A run's internal-standard signal per well (``msms.qc.internal_standard.well_signal``)."""
    fractions = [None if v != v else v for v in signal["fraction"].astype("float64").tolist()]
    _insert_tuples(session, WellSignal, (
        "run_id", "well", "sample_id", "sample_type", "internal_standard", "fraction",
        "status"), list(zip(
            [run_id] * len(signal), signal["well"].tolist(),
            [str(s).strip()[:64] for s in signal["sample_id"].tolist()],
            [str(s)[:16] for s in signal["sample_type"].tolist()],
            [str(s)[:64] for s in signal["internal_standard"].tolist()], fractions,
            signal["status"].tolist(), strict=True)))


def well_signal(session: Session, run_id: int) -> dict[str, WellSignal]:
    """A run's internal-standard signal by well (empty for a run stored without it)."""
    return {w.well: w for w in session.exec(select(WellSignal).where(
        WellSignal.run_id == run_id))}


def insert_results(session: Session, run_id: int, rows: pd.DataFrame,
                   specimen_ids: dict[str, int]) -> None:
    """Result rows of patient wells (``sample_id`` a barcode of ``specimen_ids``); replicates
    1, 2, ... over each card's wells in well order."""
    replicate = rows.groupby("sample_id")["well"].rank(method="dense").astype("int64")
    _insert_tuples(session, Result, (
        "run_id", "specimen_id", "well", "replicate", "analyte", "conc_umol_l"), list(zip(
            [run_id] * len(rows), [specimen_ids[s] for s in rows["sample_id"].tolist()],
            rows["well"].tolist(), replicate.tolist(), rows["analyte"].tolist(),
            _values(rows), strict=True)))


def insert_held_wells(session: Session, rows: list[dict[str, Any]]) -> None:
    _insert(session, HeldWell, rows)


def insert_duplicate_requests(session: Session, rows: list[dict[str, Any]]) -> None:
    _insert(session, DuplicateRequest, rows)


def insert_evaluations(session: Session, rows: list[dict[str, Any]]) -> dict[
        tuple[int, str], int]:
    """Store evaluations; their ids by (specimen id, disorder)."""
    if not rows:
        return {}
    stored = session.execute(insert(Evaluation).returning(
        col(Evaluation.id), col(Evaluation.specimen_id), col(Evaluation.disorder)), rows)
    return {(specimen_id, disorder): id_ for id_, specimen_id, disorder in stored}


def retire_evaluations(session: Session, specimen_ids: Sequence[int]) -> None:
    """The specimens' stored evaluations are no longer current (the duplicates decide)."""
    session.execute(update(Evaluation).where(col(Evaluation.specimen_id).in_(
        list(specimen_ids))).values(current=False))


def duplicate_requests_for(session: Session, specimen_ids: Sequence[int]) -> dict[
        int, DuplicateRequest]:
    """The open duplicate requests of these specimens, by specimen id."""
    if not specimen_ids:
        return {}
    rows = session.exec(select(DuplicateRequest).where(
        col(DuplicateRequest.specimen_id).in_(list(specimen_ids)),
        DuplicateRequest.status == DuplicateRequestStatus.open))
    return {r.specimen_id: r for r in rows}


def open_duplicate_rows(session: Session) -> list[dict[str, Any]]:
    """Open duplicate requests with their card's barcode, as plain rows (one query)."""
    requests = DuplicateRequest.__table__  # type: ignore[attr-defined]
    specimens = Specimen.__table__  # type: ignore[attr-defined]
    query = (core_select(requests.c.id, requests.c.specimen_id, specimens.c.barcode,
                         requests.c.source_run_id, requests.c.disorders, requests.c.status,
                         requests.c.requested_at)
             .join(specimens, specimens.c.id == requests.c.specimen_id)
             .where(requests.c.status == DuplicateRequestStatus.open)
             .order_by(requests.c.id))
    return [dict(r._mapping) for r in session.execute(query)]


def held_wells_of(session: Session, run_id: int, sample_id: str) -> list[HeldWell]:
    """A run's wells of ``sample_id`` still held, in well order."""
    return list(session.exec(select(HeldWell).where(
        HeldWell.run_id == run_id, HeldWell.sample_id == sample_id,
        HeldWell.status == HeldWellStatus.held).order_by(col(HeldWell.well))))


def claim_held_wells(session: Session, wells: list[HeldWell], status: HeldWellStatus,
                     user_id: int | None, at: datetime) -> bool:
    """Move ``wells`` from held to ``status`` in one guarded UPDATE; False (nothing changed
    that counts) when another request resolved one of them meanwhile."""
    done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_HELD).where(_HELD.c.id.in_([w.id for w in wells]),
                            _HELD.c.status == HeldWellStatus.held)
        .values(status=status, resolved_by=user_id, resolved_at=at))
    return done.rowcount == len(wells)


def held_well_rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    """A run's held wells as plain rows, each with the card it was attached to (or None)."""
    wells = list(session.exec(select(HeldWell).where(HeldWell.run_id == run_id)
                              .order_by(col(HeldWell.well))))
    attached = [w.well for w in wells if w.status == HeldWellStatus.attached]
    owner: dict[str, int] = {}
    if attached:
        table = Result.__table__  # type: ignore[attr-defined]
        owner = {well: specimen_id for well, specimen_id in session.execute(
            core_select(table.c.well, table.c.specimen_id).distinct()
            .where(table.c.run_id == run_id, table.c.well.in_(attached)))}
    return [{**{c: getattr(w, c) for c in _HELD_COLUMNS}, "specimen_id": owner.get(w.well)}
            for w in wells]


_RESULT = Result.__table__  # type: ignore[attr-defined]
_CONTROL = ControlResult.__table__  # type: ignore[attr-defined]
_SPECIMEN = Specimen.__table__  # type: ignore[attr-defined]
_EVALUATION = Evaluation.__table__  # type: ignore[attr-defined]


def patient_wells(session: Session, run_id: int) -> list[dict[str, Any]]:
    """A run's patient wells with their card: ``well``, ``specimen_id``, ``barcode``,
    ``state``, ``flagged``."""
    query = (core_select(_RESULT.c.well, _RESULT.c.specimen_id, _SPECIMEN.c.barcode,
                         _SPECIMEN.c.state, _SPECIMEN.c.flagged).distinct()
             .join(_SPECIMEN, _SPECIMEN.c.id == _RESULT.c.specimen_id)
             .where(_RESULT.c.run_id == run_id))
    return [dict(r._mapping) for r in session.execute(query)]


def control_wells(session: Session, run_id: int) -> list[dict[str, Any]]:
    """A run's control, blank and calibrator wells: ``well``, ``sample_id``, ``sample_type``."""
    query = (core_select(_CONTROL.c.well, _CONTROL.c.sample_id, _CONTROL.c.sample_type)
             .distinct().where(_CONTROL.c.run_id == run_id))
    return [dict(r._mapping) for r in session.execute(query)]


def time_critical_specimens(session: Session, run_id: int) -> set[int]:
    """The specimens with a current call from this run that opens a time-critical alert
    (``lims.alerts.rule``: a time-critical disorder called positive)."""
    return set(session.execute(core_select(_EVALUATION.c.specimen_id).distinct().where(
        _EVALUATION.c.run_id == run_id, _EVALUATION.c.current.is_(True),
        alerting_calls(_EVALUATION.c.time_critical, _EVALUATION.c.final))).scalars())


def open_held_well_rows(session: Session, *, limit: int = 500) -> list[dict[str, Any]]:
    """Held wells not yet resolved, across runs, oldest first, with the run's plate and the
    card now accessioned with the well's barcode, if any (``card_id``, ``card_state``); not
    those of a rejected run (rejecting a plate discards them; older rows may remain held)."""
    query = (core_select(*(_HELD.c[c] for c in _HELD_COLUMNS), _RUN.c.plate_id,
                         _SPECIMEN.c.id.label("card_id"), _SPECIMEN.c.state.label("card_state"))
             .join(_RUN, _RUN.c.id == _HELD.c.run_id)
             .outerjoin(_SPECIMEN, _SPECIMEN.c.barcode == _HELD.c.sample_id)
             .where(_HELD.c.status == HeldWellStatus.held,
                    _RUN.c.qc_decision != QcDecision.reject)
             .order_by(_HELD.c.id).limit(limit))
    return [dict(r._mapping) for r in session.execute(query)]


def arrived_held_wells(session: Session) -> list[HeldWell]:
    """The held wells of runs not rejected whose barcode is now a card waiting for its first
    results (``accessioned``), oldest first."""
    return list(session.exec(
        select(HeldWell).join(Run, col(Run.id) == col(HeldWell.run_id))
        .join(Specimen, col(Specimen.barcode) == col(HeldWell.sample_id))
        .where(HeldWell.status == HeldWellStatus.held, Run.qc_decision != QcDecision.reject,
               Specimen.state == SpecimenState.accessioned)
        .order_by(col(HeldWell.id))))


def qc_sign_off_events(session: Session, run_id: int) -> list[AuditEvent]:
    """The technicians' QC sign-offs and withdrawals of a run (audit events), oldest first."""
    return list(session.exec(select(AuditEvent).where(
        AuditEvent.entity == "run", AuditEvent.entity_id == str(run_id),
        col(AuditEvent.action).in_(["qc_accept", "qc_reject", "qc_withdraw"]))
        .order_by(col(AuditEvent.id))))
