"""Routes: submitters, infants, specimens (accessioning), unsatisfactory codes, linkage.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from lims.accession import service
from lims.accession.schemas import (
    InfantCreate,
    InfantPublic,
    LinkSuggestion,
    RepeatRequestPublic,
    SpecimenCreate,
    SpecimenPublic,
    SubmitterCreate,
    SubmitterPublic,
    UnsatisfactoryIn,
)
from lims.audit import Actor
from lims.deps import CurrentUser, PathId, SessionDep, committed, require
from lims.models import MAX_ID, Infant, RepeatRequest, Specimen, Submitter, User
from lims.reference import unsatisfactory_codes
from lims.vocabulary import RepeatRequestStatus, Role, SpecimenState

__all__ = ["router"]

router = APIRouter(tags=["accessioning"])
Admin = Annotated[User, Depends(require(Role.admin))]
Lab = Annotated[User, Depends(require(Role.technician, Role.admin))]
Staff = Annotated[User, Depends(require(Role.technician, Role.reviewer, Role.follow_up,
                                        Role.admin))]


@router.get("/submitters", response_model=list[SubmitterPublic])
def list_submitters(session: SessionDep, user: CurrentUser) -> list[Submitter]:
    """Submitting hospitals (a submitter user sees its own)."""
    return service.list_submitters(session, Actor.of(user))


@router.post("/submitters", response_model=SubmitterPublic, status_code=201)
def create_submitter(body: SubmitterCreate, session: SessionDep, user: Admin) -> Submitter:
    """Add a submitting hospital or unit (admin)."""
    return committed(session, service.create_submitter(session, Actor.of(user), body))


@router.get("/unsatisfactory-codes")
def list_unsatisfactory_codes(_user: CurrentUser) -> list[dict[str, str]]:
    """The unsatisfactory-specimen codes (CLSI NBS01-style)."""
    return [{"code": c.code, "description": c.description, "category": c.category,
             "source": c.source} for c in unsatisfactory_codes().values()]


@router.get("/infants", response_model=list[InfantPublic])
def list_infants(session: SessionDep, user: CurrentUser,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[Infant]:
    """Infants in the caller's scope (the read is audited)."""
    return committed(session, service.list_infants(session, Actor.of(user), limit=limit,
                                                   offset=offset))


@router.post("/infants", response_model=InfantPublic, status_code=201)
def create_infant(body: InfantCreate, session: SessionDep, user: Lab) -> Infant:
    """Register a baby (usually done with its first card)."""
    return committed(session, service.create_infant(session, Actor.of(user), body))


@router.get("/infants/{infant_id}", response_model=InfantPublic)
def get_infant(infant_id: PathId, session: SessionDep, user: CurrentUser) -> Infant:
    """A baby's record (the read is audited)."""
    return committed(session, service.get_infant(session, Actor.of(user), infant_id))


@router.get("/infants/{infant_id}/link-suggestions", response_model=list[LinkSuggestion])
def get_link_suggestions(infant_id: PathId, session: SessionDep, user: Staff) -> list[
        LinkSuggestion]:
    """Possible duplicates of this baby, for a person to check; never merged automatically."""
    return committed(session, service.link_suggestions(session, Actor.of(user), infant_id))


@router.get("/specimens", response_model=list[SpecimenPublic])
async def list_specimens(session: SessionDep, user: CurrentUser,
                         state: SpecimenState | None = None,
                         infant_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                         barcode: Annotated[str | None, Query(min_length=1,
                                                              max_length=32)] = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 100,
                         offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[
                             dict[str, Any]]:
    """Specimens in the caller's scope, optionally by state, infant or barcode (exact: the
    card, or none); the read is audited. A parameter not listed here is refused (422)."""
    return await run_in_threadpool(_list_specimens, session, Actor.of(user), state, infant_id,
                                   barcode, limit, offset)


@router.post("/specimens", response_model=SpecimenPublic, status_code=201,
             responses={409: {"description": "card already accessioned"},
                        422: {"description": "bad barcode or data"}})
def accession_specimen(body: SpecimenCreate, session: SessionDep, user: Lab) -> Specimen:
    """Accession a card: barcode checked, baby linked, unsatisfactory code recorded."""
    return committed(session, service.accession(session, Actor.of(user), body))


def _list_specimens(session: Session, who: Actor, state: str | None, infant_id: int | None,
                    barcode: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    return committed(session, service.list_specimen_rows(session, who, state=state,
                                                         infant_id=infant_id, barcode=barcode,
                                                         limit=limit, offset=offset))


def _read_specimen(session: Session, who: Actor, specimen_id: int) -> dict[str, Any]:
    return committed(session, service.read_specimen_row(session, who, specimen_id))


@router.get("/specimens/{specimen_id}", response_model=SpecimenPublic)
async def get_specimen(specimen_id: PathId, session: SessionDep,
                       user: CurrentUser) -> dict[str, Any]:
    """One specimen (the read is audited)."""
    return await run_in_threadpool(_read_specimen, session, Actor.of(user), specimen_id)


@router.post("/specimens/{specimen_id}/unsatisfactory", response_model=RepeatRequestPublic,
             responses={409: {"description": "not in a state that can be rejected"}})
def mark_unsatisfactory(specimen_id: PathId, body: UnsatisfactoryIn, session: SessionDep,
                        user: Lab) -> RepeatRequest:
    """Reject a card with an unsatisfactory code; a repeat specimen is requested."""
    specimen = service.get_specimen(session, Actor.of(user), specimen_id, audit=False)
    return committed(session, service.mark_unsatisfactory(session, Actor.of(user), specimen,
                                                          body.code, body.note))


@router.get("/repeat-requests", response_model=list[RepeatRequestPublic])
def list_repeat_requests(session: SessionDep, user: CurrentUser,
                         status: RepeatRequestStatus | None = None
                         ) -> list[RepeatRequest]:
    """Requests for a new card (a submitter sees its own; the read is audited); ``due``: the
    laboratory's day a serial-screening card is due from, as the pages show it."""
    return committed(session, service.list_repeat_requests(session, Actor.of(user), status=status))
