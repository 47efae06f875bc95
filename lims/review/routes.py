"""Routes: review queue, decisions, batch release of normals, corrections, releases, alerts.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from lims.alerts import service as alerts
from lims.api.deps import CurrentUser, PathId, SessionDep, actor, require
from lims.audit import Actor
from lims.models import Alert, Release, Specimen, User
from lims.review import service
from lims.review.models import (
    AcknowledgeIn,
    AlertPublic,
    CorrectionIn,
    DecisionIn,
    ReleaseNormalsIn,
    ReleasePublic,
    ReviewItem,
)

__all__ = ["router"]

router = APIRouter(tags=["review"])
Reviewer = Annotated[User, Depends(require("reviewer", "admin"))]
Responder = Annotated[User, Depends(require("reviewer", "follow_up", "admin"))]
Staff = Annotated[User, Depends(require("technician", "reviewer", "follow_up", "admin"))]


@router.get("/review/queue", response_model=list[ReviewItem])
def review_queue(request: Request, session: SessionDep, user: Reviewer,
                 flagged_only: bool = True,
                 limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[ReviewItem]:
    """Flagged specimens awaiting review: values, covariate-adjusted percentiles, covariates,
    calls (first tier, second-tier probability, final call, versions), reasons, alerts."""
    items = service.review_queue(session, actor(user), request.app.state.pipeline,
                                 flagged_only=flagged_only, limit=limit)
    session.commit()
    return items


@router.post("/specimens/{specimen_id}/decisions", response_model=ReleasePublic,
             status_code=201,
             responses={401: {"description": "the signing password is wrong"},
                        409: {"description": "not awaiting review, or needs override"}})
def decide(specimen_id: PathId, body: DecisionIn, session: SessionDep,
           user: Reviewer) -> Release:
    """Decide: release normal, request a repeat specimen, refer, or override with a reason."""
    release = service.decide(session, user, specimen_id, body.decision, reason=body.reason,
                             password=body.password)
    session.commit()
    return release


@router.post("/review/release-normals")
def release_normals(body: ReleaseNormalsIn, session: SessionDep,
                    user: Reviewer) -> dict[str, list[int]]:
    """Release every unflagged specimen awaiting review (signed with the password)."""
    released = service.release_normals(session, user, password=body.password, limit=body.limit)
    session.commit()
    return {"released_specimen_ids": released}


@router.post("/specimens/{specimen_id}/corrections", response_model=dict[str, int | str])
def correct(specimen_id: PathId, body: CorrectionIn, session: SessionDep,
            user: Reviewer) -> dict[str, int | str]:
    """Reopen a released result as a new version; the released one stays visible."""
    specimen: Specimen = service.correct(session, user, specimen_id, reason=body.reason,
                                         password=body.password)
    session.commit()
    return {"specimen_id": specimen_id, "state": specimen.state, "version": specimen.version}


@router.get("/specimens/{specimen_id}/releases", response_model=list[ReleasePublic])
def list_releases(specimen_id: PathId, session: SessionDep, user: CurrentUser) -> list[Release]:
    """Every released version of this specimen's result (a submitter sees its own)."""
    rows = service.releases(session, actor(user), specimen_id)
    session.commit()
    return rows


def _alert_rows(session: Session, who: Actor, status: str | None) -> list[dict[str, Any]]:
    rows = alerts.alert_rows(session, who, status=status)
    session.commit()
    return rows


@router.get("/alerts", response_model=list[AlertPublic])
async def list_alerts(session: SessionDep, user: Staff,
                      status: Literal["open", "acknowledged"] | None = None) -> list[
                          dict[str, Any]]:
    """Time-critical alerts (overdue ones are escalated when listed)."""
    return await run_in_threadpool(_alert_rows, session, actor(user), status)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertPublic,
             responses={409: {"description": "already acknowledged"}})
def acknowledge(alert_id: PathId, body: AcknowledgeIn, session: SessionDep,
                user: Responder) -> Alert:
    """A named person acknowledges the alert and takes it on."""
    alert = alerts.acknowledge(session, actor(user), alert_id, full_name=body.full_name,
                               note=body.note)
    session.commit()
    return alert


