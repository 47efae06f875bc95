"""Routes: the reflex worklist, upload and list second-tier runs, upload a molecular
laboratory's genotype results, a card's reflex decisions.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from lims.audit import Actor
from lims.deps import PathId, PipelineDep, SessionDep, require
from lims.models import SecondTierRun, User
from lims.reflex import service
from lims.reflex.genotypes import import_genotypes
from lims.reflex.schemas import ReflexRequestPublic, SecondTierRunPublic, SpecimenReflex
from lims.runs.routes import read_limited
from lims.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["reflex"])
Lab = Annotated[User, Depends(require(Role.technician, Role.admin))]
Staff = Annotated[User, Depends(require(Role.technician, Role.reviewer, Role.admin))]


@router.get("/worklists/reflex", response_model=list[ReflexRequestPublic])
def reflex_worklist(session: SessionDep, _user: Lab) -> list[dict[str, Any]]:
    """Cards waiting for second-tier assays on the same card, with the assays to run:
    time-critical first, then the oldest request."""
    return service.worklist(session)


@router.post("/second-tier-runs", response_model=SecondTierRunPublic, status_code=201,
             responses={200: {"description": "the same file was uploaded before",
                              "model": SecondTierRunPublic},
                        413: {"description": "the file is larger than the upload limit"},
                        422: {"description": "the file cannot be read"}})
async def upload_second_tier_run(file: UploadFile, response: Response, session: SessionDep,
                                 pipeline: PipelineDep, user: Lab) -> SecondTierRun:
    """Upload a second-tier run (any instrument format the readers support): its results
    are attached to the waiting cards by barcode, each card is decided again and audited,
    and a card with no group still waiting goes to review. The same bytes answer 200 with
    the earlier run, after attaching the wells left unmatched whose cards are now accessioned
    and on the reflex worklist."""
    data = await read_limited(file, "the file")
    outcome = await run_in_threadpool(
        lambda: service.import_run(session, Actor.of(user), data, file.filename or "upload",
                                   pipeline))
    if outcome.created or outcome.attached:
        session.commit()
    if not outcome.created:
        response.status_code = 200
    return outcome.run


@router.post("/second-tier-genotypes", response_model=SecondTierRunPublic, status_code=201,
             responses={200: {"description": "the same file was uploaded before",
                              "model": SecondTierRunPublic},
                        409: {"description": "the laboratory does not genotype "
                                             "(NBS_REFLEX_GENOTYPES off); nothing was "
                                             "stored"},
                        413: {"description": "the file is larger than the upload limit"},
                        422: {"description": "a row is malformed (file, line, field); "
                                             "nothing was stored"}})
async def upload_genotypes(file: UploadFile, request: Request, response: Response,
                           session: SessionDep, pipeline: PipelineDep, user: Lab
                           ) -> SecondTierRun:
    """Upload a molecular laboratory's genotype results (CSV: ``barcode``, ``gene``,
    ``variants_detected`` 0-2, ``variants`` HGVS text, ``reported_at``, ``lab_reference``;
    docs/second_tier.md "Genotype results"): each row is attached to its card when the card
    waits on the reflex worklist for that gene, each card is decided again and audited, and a
    card with no group still waiting goes to review. The rows not stored are listed with the
    reason; the same bytes answer 200 with the earlier import, after attaching the rows left
    unmatched whose cards now wait on the reflex worklist for that gene. A laboratory that does
    not genotype (``NBS_REFLEX_GENOTYPES`` off) answers 409 and stores nothing."""
    data = await read_limited(file, "the file")
    zone = ZoneInfo(request.app.state.settings.time_zone)
    outcome = await run_in_threadpool(
        lambda: import_genotypes(session, Actor.of(user), data, file.filename or "genotypes.csv",
                                 pipeline, default_tz=zone))
    if outcome.created or outcome.attached:
        session.commit()
    if not outcome.created:
        response.status_code = 200
    return outcome.run


@router.get("/second-tier-runs", response_model=list[SecondTierRunPublic])
def list_second_tier_runs(session: SessionDep, _user: Staff) -> list[SecondTierRun]:
    """Second-tier runs, newest first."""
    return service.list_runs(session)


@router.get("/second-tier-runs/{run_id}", response_model=SecondTierRunPublic)
def get_second_tier_run(run_id: PathId, session: SessionDep, _user: Staff) -> SecondTierRun:
    return service.get_run(session, run_id)


@router.get("/specimens/{specimen_id}/reflex", response_model=SpecimenReflex)
def specimen_reflex(specimen_id: PathId, session: SessionDep, _user: Staff) -> dict[str, Any]:
    """A card's context, current reflex decisions and second-tier results."""
    return service.specimen_reflex(session, specimen_id)
