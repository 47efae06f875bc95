"""Plate ingest: file -> screening pipeline (read, quantify, QC) -> store -> evaluate, in one
transaction.

Rules (docs/lims.md "Rules"):

- Idempotent by the file's SHA-256: the same bytes return the earlier run (even when ten
  identical uploads race: the unique hash lets one in, the others find it).
- A different file for a plate already stored is a ``ConflictError``, never an overwrite --
  unless the stored run was rejected by QC (e.g. a truncated export): then the new file is
  ingested and the rejected run stays recorded as rejected, with its control values and its
  audit trail, under a retired plate key (``P-1~rejected-run-7``; the unique plate id of the
  schema leaves no other way) and a note naming the file that superseded it.
- Patient wells whose barcode is not an accessioned card, or whose card is not waiting for
  results, are *held* for a technician with the values kept; nothing is guessed.
- Result rows are written in bulk (``lims.runs.repository``), not as ORM objects.
- Time-critical alerts are written in the same transaction as the results that raise them.
- Initial results out of range go to the repeat-in-duplicate worklist; when the duplicates
  arrive, the mean of the duplicate wells is evaluated and decides.
- With the reflex second tier on (``NBS_REFLEX``), a card about to go to review whose flagged
  referral group waits for a reflex assay (and none is referred at once) goes to
  ``awaiting_second_tier`` and the reflex worklist instead (``lims.reflex.service``).
- A specimen is *flagged* when any of its calls is out of range in the first tier, even when the
  second tier recommends no recall (``final = negative``): that recommendation is for the
  reviewer to see and accept or override, one specimen at a time, never a bulk release.

Public names: ``IngestOutcome``, ``ingest``, ``ingest_bytes``, ``file_sha256``,
``upload_sha256``, ``retired_plate_key``, ``list_runs``, ``get_run``, ``duplicates_worklist``,
``evaluate_stored`` (shared with attaching held wells, ``lims.runs.held``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from instruments import Source
from lims.accession.repository import infants_by_ids, specimens_by_barcodes
from lims.alerts.messages import ALERT_MESSAGES
from lims.alerts.rule import raises_alert
from lims.alerts.service import open_alert
from lims.audit import Actor, record, snapshot
from lims.errors import ConflictError, InvalidInputError, found
from lims.lengths import check_plate_lengths
from lims.models import DuplicateRequest, Run, Specimen, utcnow
from lims.pipeline import ScreenedPlate, Screening, card_covariates, with_covariates
from lims.reflex.ingest_calls import evaluate_cards
from lims.reflex.service import hold_for_second_tier
from lims.runs import repository
from lims.runs.notes import HELD_REASONS, RUN_NOTES
from lims.runs.refusals import RUN_REFUSALS
from lims.runs.westgard_verdicts import store_verdicts
from lims.vocabulary import (
    Action,
    DuplicateRequestStatus,
    EvaluationStage,
    Final,
    FirstTier,
    HeldWellStatus,
    QcDecision,
    SpecimenState,
    Stage,
    Transition,
)
from lims.workflow import apply_transitions
from msms.tables import PROFILE_ID

__all__ = ["IngestOutcome", "duplicates_worklist", "evaluate_stored", "file_sha256",
           "get_run", "ingest", "ingest_bytes", "list_runs", "retired_plate_key",
           "upload_sha256"]

_CONTROL_TYPES = ("blank", "qc_low", "qc_high", "qc_other", "calibrator", "proficiency")


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


def list_runs(session: Session) -> list[Run]:
    """The latest runs, newest first."""
    return repository.list_runs(session)


def get_run(session: Session, run_id: int, *, for_update: bool = False) -> Run:
    """A run; ``for_update``: read afresh and locked until the transaction ends
    (``repository.run_for_update``)."""
    run = repository.run_for_update(session, run_id) if for_update else session.get(Run, run_id)
    return found(run, f"run {run_id}")


def duplicates_worklist(session: Session) -> list[dict[str, Any]]:
    """Cards to re-punch twice on the next plate, with their barcodes."""
    return repository.open_duplicate_rows(session)


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
        raise InvalidInputError(RUN_REFUSALS.text("empty_file"), file=file_name)
    if plate_map is not None and not plate_map.data:
        raise InvalidInputError(RUN_REFUSALS.text("empty_plate_map"), file=plate_map.name)
    plate = pipeline.screen(data, file_name, plate_map=plate_map,
                            control_history=repository.control_history(session))
    check_plate_lengths(file_name, plate.plate_id, plate.instrument_run_id, plate.wells)
    _refuse_other_file_for_plate(session, actor, plate.plate_id, sha256, file_name)
    wells = plate.wells.assign(sample_id=plate.wells["sample_id"].astype("str").str.strip())
    run = _store_run(session, plate, wells, sha256, file_name, actor)
    # what the run was made of: with a plate map, file_sha256 is the hash of both files
    sources: dict[str, Any] = {} if plate_map is None else {
        "export_sha256": export_sha256, "plate_map": plate_map.name[:255],
        "plate_map_sha256": map_sha256}
    if plate.qc_decision == QcDecision.reject:
        record(session, actor, "ingest", "run", run.id, after={**(snapshot(run) or {}),
                                                               **sources},
               reason="plate rejected by QC; patient results not accepted: "
                      + "; ".join(plate.qc_reasons))
        return IngestOutcome(run, True)
    _store_patients(session, actor, run, wells[wells["sample_type"] == "patient"],
                    plate.profiles, pipeline)
    session.add(run)
    record(session, actor, "ingest", "run", run.id, after={**(snapshot(run) or {}), **sources})
    return IngestOutcome(run, True)


def _store_run(session: Session, plate: ScreenedPlate, wells: pd.DataFrame, sha256: str,
               file_name: str, actor: Actor) -> Run:
    """The run row, the plate's control values (Westgard's history) with the Westgard verdicts
    on them, and each well's internal-standard signal."""
    run = Run(file_sha256=sha256, plate_id=plate.plate_id,
              instrument_run_id=plate.instrument_run_id, file_name=file_name[:255],
              format=plate.format, uploaded_by=actor.user_id, uploaded_at=utcnow(),
              qc_decision=plate.qc_decision, qc_reasons=[*plate.qc_reasons, *plate.issues],
              n_wells=int(wells["well"].nunique()))
    session.add(run)
    session.flush()
    assert run.id is not None
    repository.insert_controls(session, run.id, wells[wells["sample_type"].isin(_CONTROL_TYPES)])
    store_verdicts(session, run.id)
    if plate.is_signal is not None:
        repository.insert_well_signal(session, run.id, plate.is_signal)
    return run


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
    if other.qc_decision != QcDecision.reject:
        raise ConflictError(RUN_REFUSALS.text(
            "plate_stored", plate=plate_id, file_name=other.file_name, run=other.id,
            sha256=other.file_sha256[:12]))
    assert other.id is not None
    before = snapshot(other)
    retired = retired_plate_key(plate_id, other.id)
    note = RUN_NOTES.text("superseded", plate_id=plate_id, file_name=file_name[:120],
                          sha256=sha256[:12], retired=retired)
    # guarded: when two new files race for the plate, only one retires the rejected run
    if not repository.retire_run(session, other, retired, [*(other.qc_reasons or []), note]):
        raise ConflictError(RUN_REFUSALS.text("plate_stored_meanwhile", file_name=file_name,
                                              plate=plate_id))
    session.refresh(other)
    record(session, actor, "supersede", "run", other.id, before=before, after=snapshot(other),
           reason=f"plate {plate_id} rejected by QC; a new file is ingested for it")


def _store_patients(session: Session, actor: Actor, run: Run, patients: pd.DataFrame,
                    profiles: pd.DataFrame, pipeline: Screening) -> None:
    """Store the wells of cards waiting for results, hold the others, evaluate the cards."""
    assert run.id is not None
    barcodes = sorted(patients["sample_id"].unique().tolist())
    specimens = specimens_by_barcodes(session, barcodes)
    waiting = repository.duplicate_requests_for(session, [
        s.id for s in specimens.values() if s.state == SpecimenState.awaiting_duplicate and s.id])
    initial: list[Specimen] = []
    duplicate: list[Specimen] = []
    held: dict[str, str] = {}
    for barcode in barcodes:
        specimen = specimens.get(barcode)
        if specimen is None:
            held[barcode] = HELD_REASONS.text("unknown_barcode")
        elif specimen.state == SpecimenState.accessioned:
            initial.append(specimen)
        elif specimen.state == SpecimenState.awaiting_duplicate and specimen.id in waiting:
            duplicate.append(specimen)
        else:
            held[barcode] = HELD_REASONS.text("card_state", state=specimen.state)
    held_rows = [
        {"run_id": run.id, "well": str(well), "sample_id": barcode, "reason": reason,
         "values": {str(a): _number(v) for a, v in zip(group["analyte"], group["conc_umol_l"],
                                                         strict=True)},
         "status": HeldWellStatus.held}
        for barcode, reason in held.items()
        for well, group in patients[patients["sample_id"] == barcode].groupby("well")]
    repository.insert_held_wells(session, held_rows)
    accepted = {s.barcode: s for s in initial + duplicate}
    rows = patients[patients["sample_id"].isin(list(accepted))]
    repository.insert_results(session, run.id, rows,
                              {b: s.id for b, s in accepted.items() if s.id is not None})
    run.n_results = len(rows)
    run.n_held = len(held_rows)
    if accepted:
        evaluate_stored(session, actor, run, profiles, initial, duplicate, waiting, pipeline,
                        source=f"plate {run.plate_id}")


def _calls(session: Session, profiles: pd.DataFrame, initial: list[Specimen],
           duplicate: list[Specimen], pipeline: Screening
           ) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """The calls of the initial cards and of the duplicates' means, every call of the repeat
    cards among them (normal ones included, for their reflex decision;
    ``lims.reflex.ingest_calls``), and the versions."""
    infants = infants_by_ids(session, [s.infant_id for s in initial + duplicate])
    frames, repeats, versions = [], [], []
    for group, stage in ((initial, Stage.initial), (duplicate, Stage.duplicate_mean)):
        if group:
            covariates = {s.barcode: card_covariates(s, infants[s.infant_id]) for s in group}
            evaluated, every = evaluate_cards(session, pipeline,
                                              with_covariates(profiles, covariates),
                                              {s.barcode: s for s in group}, stage)
            frames.append(evaluated.calls)
            repeats.append(every)
            versions.append((evaluated.cutoff_version, evaluated.model_version))
    calls = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    every = pd.concat(repeats, ignore_index=True) if len(repeats) > 1 else repeats[0]
    return calls, every, versions[0][0], versions[0][1]


def evaluate_stored(session: Session, actor: Actor, run: Run, profiles: pd.DataFrame,
                    initial: list[Specimen], duplicate: list[Specimen],
                    waiting: dict[int, DuplicateRequest], pipeline: Screening, *,
                    source: str) -> None:
    """Evaluate the ``profiles`` of these cards (the mean of each card's stored wells) and
    apply what the calls say: evaluations, transitions (audited), the duplicates worklist and
    time-critical alerts."""
    calls, repeat_calls, cutoff_version, model_version = _calls(session, profiles, initial,
                                                                duplicate, pipeline)
    run.cutoff_version = run.cutoff_version or cutoff_version[:64]
    run.model_version = run.model_version or model_version[:64]
    if duplicate:
        repository.retire_evaluations(session, [s.id for s in duplicate if s.id is not None])
    accepted = {s.barcode: s for s in initial + duplicate}
    stage = ({s.barcode: EvaluationStage.duplicate for s in duplicate}
             | {s.barcode: EvaluationStage.initial for s in initial})
    now = utcnow()
    rows: list[dict[str, Any]] = [{
        "specimen_id": accepted[c[PROFILE_ID]].id, "run_id": run.id,
        "stage": stage[c[PROFILE_ID]], "disorder": str(c["disorder"]),
        "first_tier": str(c["first_tier"]), "reasons": str(c["reasons"] or "")[:2000],
        "score": _number(c["score"]),
        "second_tier_probability": _number(c["second_tier_probability"]),
        "final": str(c["final"]), "time_critical": _truthy(c["time_critical"]),
        "action": str(c["action"]), "cutoff_version": str(c["cutoff_version"] or "")[:64],
        "model_version": str(c["model_version"] or "")[:64], "current": True,
        "created_at": now,
    } for c in calls[calls[PROFILE_ID].isin(list(accepted))].to_dict("records")]
    evaluation_id = repository.insert_evaluations(session, rows)
    by_specimen: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        by_specimen.setdefault(row["specimen_id"], []).append(row)
    assert run.id is not None
    held = hold_for_second_tier(  # the reflex second tier (docs/second_tier.md)
        session, actor, run.id, calls, profiles,
        [s for s in initial if not _to_duplicates(by_specimen.get(s.id, []))] + duplicate,
        pipeline, repeat_calls=repeat_calls)
    _move(session, actor, run, initial, duplicate, waiting, by_specimen, source, held.waiting,
          held.referred)
    for specimen in initial + duplicate:
        for r in by_specimen.get(specimen.id, []):
            if raises_alert(r["time_critical"], r["final"]):
                open_alert(session, actor, specimen, disorder=r["disorder"],
                           message=ALERT_MESSAGES.text(
                               "time_critical", disorder=r["disorder"],
                               barcode=specimen.barcode, reasons=r["reasons"]),
                           evaluation_id=evaluation_id.get((r["specimen_id"], r["disorder"])),
                           run_id=run.id)


def _flags(call: dict[str, Any]) -> bool:
    """A call puts its specimen in front of a reviewer: out of range in the first tier (a
    second-tier negative included), or a final call or action other than normal."""
    return (call["first_tier"] != FirstTier.normal or call["final"] != Final.negative
            or call["action"] != Action.none)


def _to_duplicates(calls: list[dict[str, Any]]) -> bool:
    """An initial card out of range and not referred at once is re-punched in duplicate."""
    actions = {r["action"] for r in calls}
    return Action.repeat_in_duplicate in actions and Action.immediate_referral not in actions


def _move(session: Session, actor: Actor, run: Run, initial: list[Specimen],
          duplicate: list[Specimen], waiting: dict[int, DuplicateRequest],
          calls: dict[int | None, list[dict[str, Any]]], source: str,
          second_tier: set[int] | frozenset[int] = frozenset(),
          referred: set[int] | frozenset[int] = frozenset()) -> None:
    """Move each card as its calls say (audited) and fill the duplicates worklist: an initial
    card out of range (and not referred at once) is re-punched in duplicate; a card's
    duplicates complete its request; a card in ``second_tier`` waits for the second tier; a
    repeat card ``referred`` by the reflex second tier is flagged whatever its calls."""
    now = utcnow()
    moves: list[tuple[Specimen, str, str]] = []
    flagged: dict[int, dict[str, Any]] = {}
    duplicate_rows: list[dict[str, Any]] = []
    for specimen in initial:
        assert specimen.id is not None
        mine = calls.get(specimen.id, [])
        flagged[specimen.id] = {"flagged": any(_flags(r) for r in mine)
                                or specimen.id in referred}
        if _to_duplicates(mine):
            moves.append((specimen, Transition.request_duplicate, f"out of range on {source}"))
            disorders = sorted({r["disorder"] for r in mine
                                if r["action"] == Action.repeat_in_duplicate})
            duplicate_rows.append({
                "specimen_id": specimen.id, "source_run_id": run.id,
                "disorders": ", ".join(disorders)[:500],
                "status": DuplicateRequestStatus.open, "requested_at": now})
        elif specimen.id in second_tier:
            moves.append((specimen, Transition.request_second_tier, f"reflex assays; {source}"))
        else:
            moves.append((specimen, Transition.record_results, source))
    for specimen in duplicate:
        assert specimen.id is not None
        flagged[specimen.id] = {"flagged": any(_flags(r) for r in calls.get(specimen.id, []))
                                or specimen.id in referred}
        request = waiting[specimen.id]
        request.status = DuplicateRequestStatus.completed
        request.completed_run_id = run.id
        request.completed_at = now
        session.add(request)
        moves.append((specimen, Transition.request_second_tier if specimen.id in second_tier
                      else Transition.record_duplicates, f"duplicates on {source}"))
    apply_transitions(session, actor, moves, also=flagged)
    repository.insert_duplicate_requests(session, duplicate_rows)


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
            raise ConflictError(RUN_REFUSALS.text("same_plate_meanwhile",
                                                  file_name=file_name)) from None
