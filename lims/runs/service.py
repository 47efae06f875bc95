"""Plate ingest: file -> read -> quantify -> QC -> store -> evaluate, in one transaction.

Rules (DESIGN §10):

- Idempotent by the file's SHA-256: the same bytes return the earlier run (even when ten
  identical uploads race: the unique hash lets one in, the others find it).
- A different file for a plate already stored is a ``ConflictError``, never an overwrite --
  unless the stored run was rejected by QC (e.g. a truncated export): then the new file is
  ingested and the rejected run stays recorded as rejected, with its control values and its
  audit trail, under a retired plate key (``P-1~rejected-run-7``; the unique plate id of the
  schema leaves no other way) and a note naming the file that superseded it.
- Patient wells whose barcode is not an accessioned card, or whose card is not waiting for
  results, are *held* for a technician with the values kept; nothing is guessed.
- Result rows are written in bulk (``insert().values`` / executemany), not as ORM objects.
- Time-critical alerts are written in the same transaction as the results that raise them.
- Initial results out of range go to the repeat-in-duplicate worklist; when the duplicates
  arrive, the mean of the duplicate wells is evaluated and decides (DESIGN §6.4).
- A specimen is *flagged* when any of its calls is out of range in the first tier, even when the
  second tier recommends no recall (``final = negative``): that recommendation is for the
  reviewer to see and accept or override, one specimen at a time, never a bulk release.

Public names: ``IngestOutcome``, ``ingest``, ``ingest_bytes``, ``file_sha256``,
``build_profiles``, ``retired_plate_key``, ``store_results``, ``evaluate_stored`` (the last two
are shared with attaching held wells, ``lims.runs.held``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from instruments import Source
from lims.accession.repository import specimens_by_barcodes
from lims.alerts.service import open_alert
from lims.audit import Actor, record, snapshot
from lims.errors import ConflictError, InvalidInputError
from lims.models import (
    ControlResult,
    DuplicateRequest,
    Evaluation,
    HeldWell,
    Infant,
    Result,
    Run,
    Specimen,
    utcnow,
)
from lims.pipeline import Screening, card_covariates, with_covariates
from lims.runs import repository
from lims.vocabulary import QcDecision, Stage
from lims.workflow import apply_transitions
from msms.tables import PROFILE_ID

__all__ = ["IngestOutcome", "evaluate_stored", "file_sha256", "ingest", "ingest_bytes",
           "retired_plate_key", "store_results", "upload_sha256"]

_CONTROL_TYPES = ("blank", "qc_low", "qc_high", "qc_other", "calibrator", "proficiency")
_STRONG_ACTIONS = ("immediate_referral",)


@dataclass(frozen=True)
class IngestOutcome:
    """The stored run, and whether this upload created it (False: the same bytes again)."""

    run: Run
    created: bool


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload_sha256(export_sha256: str, plate_map_sha256: str | None = None) -> str:
    """The upload's identity: the file's SHA-256, or with a plate map the SHA-256 of both
    files' hashes, so the same export with another map is another upload (a conflict for a
    stored plate), never the earlier run."""
    if plate_map_sha256 is None:
        return export_sha256
    both = f"file:{export_sha256}\nplate-map:{plate_map_sha256}\n"
    return file_sha256(both.encode("ascii"))


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value) and not pd.isna(value)


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def ingest(session: Session, actor: Actor, data: bytes, file_name: str,
           pipeline: Screening, *, plate_map: Source | None = None) -> IngestOutcome:
    """Store one instrument file, with the plate's map when given (the caller owns the
    transaction; see ``ingest_bytes``)."""
    export_sha256 = file_sha256(data)
    map_sha256 = None if plate_map is None else file_sha256(plate_map.data)
    sha256 = upload_sha256(export_sha256, map_sha256)
    existing = repository.run_by_sha256(session, sha256)
    if existing is not None:
        return IngestOutcome(existing, False)
    if not data:
        raise InvalidInputError("the file is empty", file=file_name)
    if plate_map is not None and not plate_map.data:
        raise InvalidInputError("the plate map is empty", file=plate_map.name)
    plate = pipeline.screen(data, file_name, plate_map=plate_map,
                            control_history=repository.control_history(session))
    _refuse_other_file_for_plate(session, actor, plate.plate_id, sha256, file_name)
    wells = plate.wells.copy()
    wells["sample_id"] = wells["sample_id"].astype("str").str.strip()
    run = Run(file_sha256=sha256, plate_id=plate.plate_id,
              instrument_run_id=plate.instrument_run_id, file_name=file_name[:255],
              format=plate.format, uploaded_by=actor.user_id, uploaded_at=utcnow(),
              qc_decision=plate.qc_decision, qc_reasons=[*plate.qc_reasons, *plate.issues],
              n_wells=int(wells["well"].nunique()))
    session.add(run)
    session.flush()
    assert run.id is not None
    controls = wells[wells["sample_type"].isin(_CONTROL_TYPES)]
    _bulk_tuples(session, ControlResult, (
        "run_id", "well", "sample_id", "sample_type", "analyte", "conc_umol_l"), [
        (run.id, well, sample, kind, analyte, None if conc != conc else conc)
        for well, sample, kind, analyte, conc in zip(
            controls["well"].tolist(), controls["sample_id"].tolist(),
            controls["sample_type"].tolist(), controls["analyte"].tolist(),
            controls["conc_umol_l"].astype("float64").tolist(), strict=True)])
    patients = wells[wells["sample_type"] == "patient"]
    # what the run was made of: with a plate map, file_sha256 is the hash of both files
    sources: dict[str, Any] = {} if plate_map is None else {
        "export_sha256": export_sha256, "plate_map": plate_map.name[:255],
        "plate_map_sha256": map_sha256}
    if plate.qc_decision == QcDecision.reject:
        record(session, actor, "ingest", "run", run.id, after={**snapshot(run), **sources},
               reason="plate rejected by QC; patient results not accepted: "
                      + "; ".join(plate.qc_reasons))
        return IngestOutcome(run, True)
    _store_patients(session, actor, run, patients, plate.profiles, pipeline)
    session.add(run)
    record(session, actor, "ingest", "run", run.id, after={**snapshot(run), **sources})
    return IngestOutcome(run, True)


def retired_plate_key(plate_id: str, run_id: int) -> str:
    """The plate key a QC-rejected run keeps once another file for its plate is stored."""
    suffix = f"~rejected-run-{run_id}"
    return plate_id[:64 - len(suffix)] + suffix


def _refuse_other_file_for_plate(session: Session, actor: Actor, plate_id: str, sha256: str,
                                 file_name: str) -> None:
    """A plate holds one accepted file. A run rejected by QC does not lock its plate id: it is
    retired (kept, still rejected) so that the corrected file can be stored."""
    other = repository.run_by_plate(session, plate_id)
    if other is None or other.file_sha256 == sha256:
        return
    if other.qc_decision != "reject":
        raise ConflictError(
            f"plate {plate_id} is already stored from {other.file_name} (run {other.id}, "
            f"sha256 {other.file_sha256[:12]}); a different file for the same plate, or the "
            f"same file with another plate map, is refused")
    assert other.id is not None
    before = snapshot(other)
    retired = retired_plate_key(plate_id, other.id)
    note = (f"superseded: plate {plate_id} was uploaded again as {file_name[:120]} (sha256 "
            f"{sha256[:12]}); this rejected run stays recorded as {retired}")
    table = Run.__table__  # type: ignore[attr-defined]
    # guarded: when two new files race for the plate, only one retires the rejected run
    moved = session.execute(
        update(table).where(table.c.id == other.id, table.c.plate_id == plate_id,
                            table.c.qc_decision == "reject")
        .values(plate_id=retired, qc_reasons=[*(other.qc_reasons or []), note]))
    if moved.rowcount != 1:
        raise ConflictError(
            f"{file_name}: another file for plate {plate_id} was stored at the same time")
    session.refresh(other)
    record(session, actor, "supersede", "run", other.id, before=before, after=snapshot(other),
           reason=f"plate {plate_id} rejected by QC; a new file is ingested for it")


def _bulk(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    """Core executemany on the model's table (no ORM bookkeeping per row)."""
    if rows:
        session.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]


def _bulk_tuples(session: Session, model: type, columns: tuple[str, ...],
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


def _store_patients(session: Session, actor: Actor, run: Run, patients: pd.DataFrame,
                    profiles: pd.DataFrame, pipeline: Screening) -> None:
    assert run.id is not None
    barcodes = sorted(patients["sample_id"].unique().tolist())
    specimens = specimens_by_barcodes(session, barcodes)
    waiting = repository.duplicate_requests_for(
        session, [s.id for s in specimens.values() if s.state == "awaiting_duplicate" and s.id])
    initial: list[Specimen] = []
    duplicate: list[Specimen] = []
    held: dict[str, str] = {}
    for barcode in barcodes:
        specimen = specimens.get(barcode)
        if specimen is None:
            held[barcode] = "unknown barcode: no accessioned card"
        elif specimen.state == "accessioned":
            initial.append(specimen)
        elif specimen.state == "awaiting_duplicate" and specimen.id in waiting:
            duplicate.append(specimen)
        else:
            held[barcode] = f"card is {specimen.state}; results are not accepted in that state"
    held_rows = []
    for barcode, reason in held.items():
        for well, group in patients[patients["sample_id"] == barcode].groupby("well"):
            held_rows.append({
                "run_id": run.id, "well": str(well), "sample_id": barcode, "reason": reason,
                "values": {str(a): _number(v) for a, v in zip(group["analyte"],
                                                               group["conc_umol_l"],
                                                               strict=True)},
                "status": "held"})
    _bulk(session, HeldWell, held_rows)
    accepted = {s.barcode: s for s in initial + duplicate}
    rows = patients[patients["sample_id"].isin(list(accepted))]
    store_results(session, run, rows, accepted)
    run.n_results = len(rows)
    run.n_held = len(held_rows)
    if not accepted:
        return
    evaluate_stored(session, actor, run, profiles, initial, duplicate, waiting, pipeline,
                    source=f"plate {run.plate_id}")


def store_results(session: Session, run: Run, rows: pd.DataFrame,
                   specimens: dict[str, Specimen]) -> None:
    """Result rows of ``specimens`` (by barcode) from a run's patient wells, in bulk."""
    # replicate: 1, 2, ... over each card's wells in well order
    replicate = rows.groupby("sample_id")["well"].rank(method="dense").astype("int64")
    specimen_id = {barcode: s.id for barcode, s in specimens.items()}
    _bulk_tuples(session, Result, (
        "run_id", "specimen_id", "well", "replicate", "analyte", "conc_umol_l"), [
        (run.id, specimen_id[sample], well, rep, analyte, None if conc != conc else conc)
        for sample, well, rep, analyte, conc in zip(
            rows["sample_id"].tolist(), rows["well"].tolist(), replicate.tolist(),
            rows["analyte"].tolist(), rows["conc_umol_l"].astype("float64").tolist(),
            strict=True)])


def evaluate_stored(session: Session, actor: Actor, run: Run, profiles: pd.DataFrame,
                    initial: list[Specimen], duplicate: list[Specimen],
                    waiting: dict[int, DuplicateRequest], pipeline: Screening, *,
                    source: str) -> None:
    """Evaluate the ``profiles`` of these cards (their stored results: the mean of each
    card's wells) and apply what the calls say: evaluations, transitions (audited), the
    duplicates worklist and time-critical alerts."""
    assert run.id is not None
    accepted = {s.barcode: s for s in initial + duplicate}
    infants = _infants(session, {s.infant_id for s in accepted.values()})
    frames, versions = [], []
    for group, stage_name in ((initial, Stage.initial), (duplicate, Stage.duplicate_mean)):
        if not group:
            continue
        covariates = {s.barcode: card_covariates(s, infants[s.infant_id]) for s in group}
        evaluated = pipeline.evaluate(with_covariates(profiles, covariates), stage=stage_name)
        frames.append(evaluated.calls)
        versions.append((evaluated.cutoff_version, evaluated.model_version))
    run.cutoff_version = run.cutoff_version or versions[0][0][:64]
    run.model_version = run.model_version or versions[0][1][:64]
    all_calls = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if duplicate:
        session.execute(update(Evaluation).where(
            col(Evaluation.specimen_id).in_([s.id for s in duplicate])).values(current=False))
    stage = {s.barcode: "duplicate" for s in duplicate} | {s.barcode: "initial" for s in initial}
    calls = all_calls[all_calls[PROFILE_ID].isin(list(accepted))]
    now = utcnow()
    evaluation_rows: list[dict[str, Any]] = [{
        "specimen_id": accepted[c[PROFILE_ID]].id, "run_id": run.id,
        "stage": stage[c[PROFILE_ID]], "disorder": str(c["disorder"]),
        "first_tier": str(c["first_tier"]), "reasons": str(c["reasons"] or "")[:2000],
        "score": _number(c["score"]),
        "second_tier_probability": _number(c["second_tier_probability"]),
        "final": str(c["final"]), "time_critical": _truthy(c["time_critical"]),
        "action": str(c["action"]), "cutoff_version": str(c["cutoff_version"] or "")[:64],
        "model_version": str(c["model_version"] or "")[:64], "current": True,
        "created_at": now,
    } for c in calls.to_dict("records")]
    stored: list[Any] = []
    if evaluation_rows:
        stored = list(session.execute(
            insert(Evaluation).returning(col(Evaluation.id), col(Evaluation.specimen_id),
                                         col(Evaluation.disorder)), evaluation_rows))
    evaluation_id = {(sid, disorder): eid for eid, sid, disorder in stored}
    barcode_of = {s.id: barcode for barcode, s in accepted.items()}
    by_specimen: dict[str, list[dict[str, Any]]] = {}
    for row in evaluation_rows:
        by_specimen.setdefault(barcode_of[row["specimen_id"]], []).append(row)
    moves: list[tuple[Specimen, str, str]] = []
    flagged: dict[int, dict[str, Any]] = {}
    duplicate_rows: list[dict[str, Any]] = []
    for barcode, specimen in accepted.items():
        assert specimen.id is not None
        mine = by_specimen.get(barcode, [])
        actions = {r["action"] for r in mine}
        flagged[specimen.id] = {"flagged": any(_flags(r) for r in mine)}
        if stage[barcode] == "initial":
            if "repeat_in_duplicate" in actions and not actions & set(_STRONG_ACTIONS):
                moves.append((specimen, "request_duplicate", f"out of range on {source}"))
                disorders = sorted({r["disorder"] for r in mine
                                    if r["action"] == "repeat_in_duplicate"})
                duplicate_rows.append({
                    "specimen_id": specimen.id, "source_run_id": run.id,
                    "disorders": ", ".join(disorders)[:500], "status": "open",
                    "requested_at": now})
            else:
                moves.append((specimen, "record_results", source))
        else:
            request = waiting[specimen.id]
            request.status = "completed"
            request.completed_run_id = run.id
            request.completed_at = now
            session.add(request)
            moves.append((specimen, "record_duplicates", f"duplicates on {source}"))
    apply_transitions(session, actor, moves, also=flagged)
    _bulk(session, DuplicateRequest, duplicate_rows)
    for barcode, specimen in accepted.items():
        for r in by_specimen.get(barcode, []):
            if r["time_critical"] and r["final"] == "positive":
                open_alert(session, actor, specimen, disorder=r["disorder"],
                           message=f"time-critical {r['disorder']} on card {barcode}: "
                                   f"{r['reasons']}",
                           evaluation_id=evaluation_id.get((specimen.id, r["disorder"])))


def _flags(call: dict[str, Any]) -> bool:
    """A call puts its specimen in front of a reviewer: out of range in the first tier (a
    second-tier negative included), or a final call or action other than normal."""
    return (call["first_tier"] != "normal" or call["final"] != "negative"
            or call["action"] != "none")


def _infants(session: Session, infant_ids: set[int]) -> dict[int, Infant]:
    """The infants with these ids, in one query."""
    return {i.id: i for i in session.exec(select(Infant).where(col(Infant.id).in_(
        sorted(infant_ids)))) if i.id is not None}


def ingest_bytes(engine: Engine, actor: Actor, data: bytes, file_name: str,
                 pipeline: Screening, *, plate_map: Source | None = None) -> IngestOutcome:
    """Ingest in a transaction of its own: all of the plate or nothing.

    When identical uploads race, the loser's insert hits the unique hash; it rolls back and
    returns the winner's run.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            outcome = ingest(session, actor, data, file_name, pipeline, plate_map=plate_map)
            if outcome.created:
                session.commit()
            return outcome
        except IntegrityError:
            session.rollback()
            existing = repository.run_by_sha256(session, upload_sha256(
                file_sha256(data),
                None if plate_map is None else file_sha256(plate_map.data)))
            if existing is not None:
                return IngestOutcome(existing, False)
            raise ConflictError(
                f"{file_name}: another file for the same plate was stored at the same time"
            ) from None
