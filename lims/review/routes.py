"""Routes: review queue, decisions, batch release of normals, corrections, releases.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from lims.audit import Actor
from lims.deps import CurrentUser, PathId, PipelineDep, SessionDep, committed, require
from lims.models import Release, Specimen, User
from lims.review import service
from lims.review.schemas import (
    CorrectionIn,
    DecisionIn,
    NormalsWaiting,
    ReleaseNormalsIn,
    ReleasePublic,
    ReviewItem,
)
from lims.vocabulary import Role

__all__ = ["router"]

router = APIRouter(tags=["review"])
Reviewer = Annotated[User, Depends(require(Role.reviewer, Role.admin))]


@router.get("/review/queue", response_model=list[ReviewItem])
def review_queue(session: SessionDep, pipeline: PipelineDep, user: Reviewer,
                 flagged_only: bool = True,
                 limit: Annotated[int, Query(ge=1, le=500)] = 200) -> list[ReviewItem]:
    """Flagged specimens awaiting review: values, covariate-adjusted percentiles, covariates,
    calls (first tier, second-tier probability, final call, versions), reasons, alerts."""
    return committed(session, service.review_queue(session, Actor.of(user), pipeline,
                                                   flagged_only=flagged_only, limit=limit))


@router.post("/specimens/{specimen_id}/decisions", response_model=ReleasePublic,
             status_code=201,
             responses={401: {"description": "the signing password is wrong"},
                        409: {"description": "not awaiting review, or needs override"}})
def decide(specimen_id: PathId, body: DecisionIn, session: SessionDep,
           user: Reviewer) -> Release:
    """Decide: release normal, request a repeat specimen, refer, or override with a reason."""
    return committed(session, service.decide(session, user, specimen_id, body.decision,
                                             reason=body.reason, password=body.password))


@router.get("/review/release-normals", response_model=NormalsWaiting)
def normals_waiting(session: SessionDep, user: Reviewer,
                    limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> NormalsWaiting:
    """The cards the bulk release would release now (no flag, no first-tier call, no
    correction), their count and the digest that signs exactly them."""
    return committed(session, service.normals_waiting(session, limit=limit))


@router.post("/review/release-normals",
             responses={401: {"description": "the signing password is wrong"},
                        409: {"description": "the cards waiting are not those counted"}})
def release_normals(body: ReleaseNormalsIn, session: SessionDep,
                    user: Reviewer) -> dict[str, list[int]]:
    """Release every unflagged specimen awaiting review (signed with the password); never a
    correction. With the ``digest`` (and ``count``) of ``GET /review/release-normals``: refused
    (409) when the cards waiting changed since."""
    return {"released_specimen_ids": committed(session, service.release_normals(
        session, user, password=body.password, limit=body.limit, digest=body.digest,
        count=body.count))}


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
    return committed(session, service.releases(session, Actor.of(user), specimen_id))
