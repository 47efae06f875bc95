"""Routes: follow-up cases (list, open by hand, read, contacts, transitions, visits, the overdue
worklist, reminders, the recall letter's data), second-tier results, clinics and their users,
directors, the model registry, the programme measures.

Public names: ``router``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from lims.audit import Actor
from lims.deps import CurrentUser, PathId, SessionDep, committed, require
from lims.followup import letters, outcomes, programme, service
from lims.followup.births import parse_month
from lims.followup.schemas import (
    ActivateIn,
    CaseCreate,
    CaseDetail,
    CaseLetterView,
    CasePublic,
    ClinicCreate,
    ClinicPublic,
    ClinicUserIn,
    ContactIn,
    ContactPublic,
    DirectorIn,
    MeasuresPublic,
    ModelPublic,
    SecondTierUpdate,
    TransitionIn,
    VisitIn,
    VisitPublic,
)
from lims.models import MAX_ID, Clinic, ContactAttempt, FollowUpVisit, ModelRecord, User
from lims.vocabulary import CaseState, Role

__all__ = ["router"]

router = APIRouter(tags=["follow-up"])
_R = Role
FollowUp = Annotated[User, Depends(require(_R.follow_up, _R.admin))]
CaseWorkers = Annotated[User, Depends(require(_R.follow_up, _R.clinic, _R.admin, _R.reviewer,
                                              _R.technician))]
Clinical = Annotated[User, Depends(require(_R.follow_up, _R.clinic, _R.admin))]
Staff = Annotated[User, Depends(require(_R.technician, _R.reviewer, _R.follow_up, _R.admin,
                                        _R.clinic))]
Admin = Annotated[User, Depends(require(_R.admin))]
Reviewer = Annotated[User, Depends(require(_R.reviewer, _R.admin))]
Programme = Annotated[User, Depends(require(_R.follow_up, _R.reviewer, _R.admin))]


@router.get("/cases", response_model=list[CasePublic])
def list_cases(session: SessionDep, user: CurrentUser, state: CaseState | None = None,
               infant_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[dict[str, Any]]:
    """Follow-up cases in your scope (a clinic: those referred to it; a submitter: its own
    babies'), newest first."""
    return committed(session, service.list_cases(session, Actor.of(user), state=state,
                                                 infant_id=infant_id, limit=limit, offset=offset))


@router.post("/cases", response_model=CasePublic, status_code=201)
def open_case(body: CaseCreate, session: SessionDep, user: FollowUp) -> Any:
    """Open a case by hand (or add the disorders to the baby's open case of their group)."""
    return committed(session, service.open_case(session, Actor.of(user), body))


@router.get("/cases/overdue", response_model=list[CasePublic])
def overdue(session: SessionDep, user: Staff,
            limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    """The overdue worklist: open cases past their due date, most overdue first."""
    return committed(session, service.overdue_cases(session, Actor.of(user), limit=limit))


@router.post("/cases/remind")
def remind(session: SessionDep, user: FollowUp) -> dict[str, list[int]]:
    """Raise a reminder (an alert, escalated as alerts are) for each newly overdue case."""
    return {"alert_ids": committed(session, service.remind_overdue(session, Actor.of(user)))}


@router.get("/cases/{case_id}", response_model=CaseDetail | CasePublic)
def read_case(case_id: PathId, session: SessionDep, user: CurrentUser) -> Any:
    """A case with its contacts, diagnosis, treatment and visits (a submitter: its status)."""
    return committed(session, service.case_detail(session, Actor.of(user), case_id))


@router.post("/cases/{case_id}/contacts", response_model=ContactPublic, status_code=201)
def add_contact(case_id: PathId, body: ContactIn, session: SessionDep,
                user: FollowUp) -> ContactAttempt:
    """Log a contact attempt; the first that reaches the family marks the case contacted."""
    return committed(session, service.record_contact(session, Actor.of(user), case_id, body))


@router.post("/cases/{case_id}/transitions", response_model=CaseDetail,
             responses={409: {"description": "not allowed from the case's state; the body "
                                             "names the allowed transitions"}})
def apply_transition(case_id: PathId, body: TransitionIn, session: SessionDep,
                     user: CaseWorkers) -> Any:
    """Move the case: refer (clinic, appointment), diagnose (outcome, disorder found),
    start treatment, close, ..."""
    actor = Actor.of(user)
    service.transition(session, actor, case_id, body)
    return committed(session, service.case_detail(session, actor, case_id))


@router.post("/cases/{case_id}/visits", response_model=VisitPublic, status_code=201)
def add_visit(case_id: PathId, body: VisitIn, session: SessionDep,
              user: Clinical) -> FollowUpVisit:
    """Record a long-term follow-up visit (growth, development, metabolic control)."""
    return committed(session, service.record_visit(session, Actor.of(user), case_id, body))


@router.get("/cases/{case_id}/letter", response_model=CaseLetterView)
def letter_view(case_id: PathId, session: SessionDep, user: FollowUp) -> CaseLetterView:
    """What a recall letter about the case says (baby, card, suspected disorders, values,
    what to do by when, clinic)."""
    return committed(session, letters.case_letter_view(session, Actor.of(user), case_id))


@router.post("/specimens/{specimen_id}/second-tier", response_model=list[CasePublic])
def second_tier(specimen_id: PathId, body: list[SecondTierUpdate], session: SessionDep,
                user: Reviewer) -> Any:
    """Record a card's second-tier results on the baby's open cases."""
    return committed(session, service.record_second_tier(session, Actor.of(user), specimen_id,
                                                         body))


@router.get("/clinics", response_model=list[ClinicPublic])
def list_clinics(session: SessionDep, _user: Staff) -> list[Clinic]:
    """The clinics cases are referred to."""
    return service.list_clinics(session)


@router.post("/clinics", response_model=ClinicPublic, status_code=201)
def create_clinic(body: ClinicCreate, session: SessionDep, user: FollowUp) -> Clinic:
    """Add a clinic."""
    return committed(session, service.create_clinic(session, Actor.of(user), body))


@router.post("/clinics/{clinic_id}/users", status_code=201)
def assign_clinic_user(clinic_id: PathId, body: ClinicUserIn, session: SessionDep,
                       user: Admin) -> dict[str, int]:
    """Tie a user of role clinic to this clinic (admin)."""
    row = service.assign_clinic_user(session, Actor.of(user), clinic_id, body.user_id)
    session.commit()
    return {"user_id": row.user_id, "clinic_id": row.clinic_id}


@router.post("/directors", status_code=201)
def grant_director(body: DirectorIn, session: SessionDep, user: Admin) -> dict[str, int]:
    """Give a reviewer the laboratory director's authority (admin)."""
    row = service.grant_director(session, Actor.of(user), body.user_id)
    session.commit()
    return {"user_id": row.user_id}


@router.get("/models", response_model=list[ModelPublic])
def list_models(session: SessionDep, _user: Reviewer) -> list[ModelRecord]:
    """The registered second-tier models with their checks on held-back outcomes."""
    return outcomes.list_models(session)


@router.post("/models/{model_id}/activate", response_model=ModelPublic,
             responses={403: {"description": "not a director"},
                        409: {"description": "not a candidate, or failed its check"}})
def activate_model(model_id: PathId, body: ActivateIn, request: Request, session: SessionDep,
                   user: Reviewer) -> ModelRecord:
    """A director activates a checked candidate (signed with the password); the service
    screens with it from now on."""
    row = outcomes.activate_model(session, user, model_id, password=body.password)
    session.commit()
    request.app.state.pipeline = outcomes.configured_pipeline(
        request.app.state.settings, request.app.state.engine,
        catalogue=request.app.state.catalogue)
    return row


@router.get("/programme/measures", response_model=MeasuresPublic)
def measures(session: SessionDep, _user: Programme,
             month: Annotated[str, Query(min_length=7, max_length=7)]) -> dict[str, Any]:
    """The programme measures of a month (YYYY-MM): the programme's, per submitter, district
    and suspected disorder (docs/followup.md "Measures")."""
    result = programme.programme_measures(session, parse_month(month))
    return asdict(result)
