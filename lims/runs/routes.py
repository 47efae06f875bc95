"""Routes: upload a run, list runs, sign off a run's QC, withdraw a run, held wells (one or
every one whose card arrived), the repeat-in-duplicate worklist.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from instruments import Source
from lims.audit import Actor
from lims.deps import PathId, PipelineDep, SessionDep, committed, require
from lims.errors import PayloadTooLargeError
from lims.models import Run, User
from lims.runs import plate, service, withdrawal
from lims.runs.held import (
    attach_arrived,
    attach_held_well,
    discard_held_well,
    held_well_rows,
)
from lims.runs.schemas import (
    AttachArrivedRequest,
    DuplicateRequestPublic,
    HeldWellPublic,
    HeldWellResolve,
    RunPublic,
    SignOffPublic,
    SignOffRequest,
    WithdrawalPublic,
    WithdrawalRequest,
)
from lims.runs.withdrawal import Withdrawal
from lims.vocabulary import HeldWellAction, Role

__all__ = ["MAX_UPLOAD_BYTES", "read_limited", "router"]

router = APIRouter(tags=["runs"])
Lab = Annotated[User, Depends(require(Role.technician, Role.admin))]
Staff = Annotated[User, Depends(require(Role.technician, Role.reviewer, Role.admin))]

#: Largest instrument file accepted (bytes).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@router.post("/runs", response_model=RunPublic, status_code=201,
             responses={200: {"description": "the same file was uploaded before",
                              "model": RunPublic},
                        409: {"description": "another file for this plate is stored"},
                        413: {"description": "the file is larger than the upload limit"},
                        422: {"description": "the file cannot be read"}})
async def upload_run(file: UploadFile, request: Request, response: Response,
                     pipeline: PipelineDep, user: Lab,
                     plate_map: UploadFile | None = None) -> Run:
    """Upload an instrument file: read, quantify, QC, store and evaluate in one transaction.

    ``plate_map`` (optional): the puncher's plate map (CSV: ``well`` and ``barcode`` and/or
    ``sample_type``), which fills barcodes the export lacks and refuses an export that lacks a
    well it lists. Idempotent by the file's SHA-256 (with a map, of both files): the same
    upload answers 200 with the earlier run. A file for a plate whose stored run was rejected
    by QC is ingested; the rejected run stays.
    """
    data = await read_limited(file, "the file")
    map_upload = None
    if plate_map is not None:
        map_upload = Source(plate_map.filename or "plate-map.csv",
                            await read_limited(plate_map, "the plate map"))
    outcome = await run_in_threadpool(
        lambda: service.ingest_bytes(request.app.state.engine, Actor.of(user), data,
                                     file.filename or "upload", pipeline,
                                     plate_map=map_upload))
    if not outcome.created:
        response.status_code = 200
    return outcome.run


async def read_limited(upload: UploadFile, what: str) -> bytes:
    """The upload's bytes; larger than ``MAX_UPLOAD_BYTES``: ``PayloadTooLargeError``."""
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        # the size of an HTTP request body, not a business rule: answered here, at the edge
        raise PayloadTooLargeError(f"{upload.filename or what} is larger than the upload "
                                   f"limit of {MAX_UPLOAD_BYTES} bytes")
    return data


@router.get("/runs", response_model=list[RunPublic])
def list_runs(session: SessionDep, _user: Staff) -> list[Run]:
    """Runs, newest first."""
    return service.list_runs(session)


@router.get("/runs/{run_id}", response_model=RunPublic)
def get_run(run_id: PathId, session: SessionDep, _user: Staff) -> Run:
    return service.get_run(session, run_id)


@router.post("/runs/{run_id}/sign-off", response_model=SignOffPublic,
             responses={404: {"description": "no such run"},
                        409: {"description": "accepting a rejected plate, or rejecting one "
                                             "whose patient results are stored (withdraw it)"},
                        422: {"description": "no reason given"}})
def sign_off(run_id: PathId, body: SignOffRequest, session: SessionDep,
             user: Lab) -> dict[str, Any]:
    """The technician's sign-off of the plate's QC, with a reason (audited), as on the plate
    page: ``accept`` confirms the automatic decision (the bulk release of normals takes only
    cards whose plate is signed off); ``reject`` confirms a QC rejection, or rejects a plate
    that stored no patient result (its held wells are discarded)."""
    return committed(session, plate.sign_off(session, Actor.of(user), run_id,
                                              accept=body.decision == "accept",
                                              reason=body.reason))


@router.post("/runs/{run_id}/withdrawal", response_model=WithdrawalPublic,
             responses={404: {"description": "no such run"},
                        409: {"description": "already rejected, or a reviewer has decided on "
                                             "results from it (correct those first)"},
                        422: {"description": "no reason given"}})
def withdraw_run(run_id: PathId, body: WithdrawalRequest, session: SessionDep,
                 pipeline: PipelineDep, user: Lab) -> Withdrawal:
    """Withdraw a plate whose results are stored: the run is rejected, with the reason, and
    the cards whose latest results it holds go back to waiting for a new run (or for their
    duplicates); the repeats of its cards that asked for one are decided again on their own.
    Refused when a reviewer has released or decided any of them: correct those results
    (``POST /specimens/{id}/corrections``) instead. Audited."""
    return committed(session, withdrawal.withdraw_run(session, Actor.of(user), run_id,
                                                      reason=body.reason, pipeline=pipeline))


@router.get("/runs/{run_id}/held-wells", response_model=list[HeldWellPublic])
def list_held_wells(run_id: PathId, session: SessionDep, _user: Lab) -> list[dict[str, Any]]:
    """Patient wells held for a technician (unknown barcode or card not waiting), with the
    card each attached well went to."""
    return held_well_rows(session, run_id)


@router.post("/held-wells/attach-arrived", response_model=list[HeldWellPublic],
             responses={422: {"description": "no note given"}})
def attach_arrived_wells(body: AttachArrivedRequest, session: SessionDep,
                         pipeline: PipelineDep, user: Lab) -> list[dict[str, Any]]:
    """Attach every held well whose card has been accessioned since (of runs not rejected),
    with one note, each well audited; the wells attached (none when nothing has arrived
    since: calling it again changes nothing)."""
    wells = attach_arrived(session, Actor.of(user), note=body.note, pipeline=pipeline)
    session.commit()
    ids = {w.id for w in wells}
    return [r for run_id in sorted({w.run_id for w in wells})
            for r in held_well_rows(session, run_id) if r["id"] in ids]


@router.post("/held-wells/{held_id}/resolve", response_model=HeldWellPublic,
             responses={404: {"description": "no such held well, or no card with the barcode"},
                        409: {"description": "resolved already, or the card is not waiting"},
                        422: {"description": "the barcode is not the well's"}})
def resolve_held_well(held_id: PathId, body: HeldWellResolve, session: SessionDep,
                      pipeline: PipelineDep, user: Lab) -> dict[str, Any]:
    """Resolve a held well: ``discard`` it with a note (its values stay stored with the run),
    or ``attach`` it to the card accessioned later with its barcode: its values (and the run's
    other held wells of that barcode) become the card's results and are evaluated like an
    ingest, in one transaction, audited."""
    if body.action == HeldWellAction.attach:
        assert body.barcode is not None
        wells = attach_held_well(session, Actor.of(user), held_id, barcode=body.barcode,
                                 note=body.note, pipeline=pipeline)
        run_id = wells[0].run_id
    else:
        run_id = discard_held_well(session, Actor.of(user), held_id, note=body.note).run_id
    session.commit()
    return next(r for r in held_well_rows(session, run_id) if r["id"] == held_id)


@router.get("/worklists/duplicates", response_model=list[DuplicateRequestPublic])
async def duplicates_worklist(session: SessionDep, _user: Lab) -> list[dict[str, Any]]:
    """Cards to re-punch twice on the next plate (initial result out of range)."""
    return await run_in_threadpool(service.duplicates_worklist, session)
