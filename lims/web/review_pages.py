"""The reviewer's pages: the queue (time-critical first), a specimen (card data, covariates,
each flagged disorder with its markers, value against cutoff, percentile and multiple of the
median, drawn against babies like this one, the disorder score and second-tier result, the
reflex second tier's assays against their levels and its decision per referral group
(``lims.reflex.summary``), the baby's specimens as a trend), the decision and the correction
of a released result, each signed with the re-entered password (a refused form comes back
with what was typed, never the password), the bulk release of normals (the form carries the
count and the digest of the cards it was drawn with: a changed set is refused); and the
time-critical alerts banner with its acknowledgement.

Public names: ``router``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from lims.accession import service as accession
from lims.alerts import service as alerts
from lims.audit import Actor
from lims.deps import PathId
from lims.errors import InvalidInputError, http_status
from lims.models import Specimen, User
from lims.pipeline import Screening
from lims.reflex import repository as reflex_repository
from lims.reflex.skip import send_to_review
from lims.reflex.summary import second_tier_of
from lims.reflex.waiting import held_cards
from lims.review import population
from lims.review import repository as review_repository
from lims.review import service as review
from lims.review.schemas import CallView
from lims.vocabulary import Decision, Role, Transition
from lims.web.context import (
    FORM_ERRORS,
    Page,
    check_csrf,
    error_message,
    in_session,
    in_session_async,
    pages_for,
    render,
    shown_on_page,
)
from lims.web.forms import optional
from lims.web.marker_charts import PopulationChart, population_chart, trend_chart
from lims.web.markers import Marker, markers_of
from lims.web.refusals import FORM_REFUSALS
from lims.workflow import allowed_transitions

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Reviewer = Annotated[Page, Depends(pages_for(Role.reviewer, Role.admin))]
Responder = Annotated[Page, Depends(pages_for(Role.reviewer, Role.follow_up, Role.admin))]
Staff = Annotated[Page, Depends(pages_for(Role.technician, Role.reviewer, Role.follow_up,
                                          Role.admin))]


def _pipeline(request: Request) -> Screening:
    pipeline: Screening = request.app.state.pipeline
    return pipeline


#: the bulk release's limit on the queue page (the count shown is of at most this many)
_BULK_LIMIT = 5000


def _queue(session: Session, actor: Actor, pipeline: Screening) -> dict[str, Any]:
    """The queue, each card's current reflex decisions (specimen id -> decisions), the cards
    waiting for the second tier and the normals waiting."""
    items = review.review_queue(session, actor, pipeline)
    reflex: dict[int, list[Any]] = {}
    for d in reflex_repository.current_decisions(session, [i.specimen_id for i in items]):
        reflex.setdefault(d.specimen_id, []).append(d)
    return {"items": items, "reflex": reflex, "held": held_cards(session),
            "normals": review.normals_waiting(session, limit=_BULK_LIMIT)}


@router.get("/lab/review", response_class=HTMLResponse)
def queue_page(request: Request, current: Reviewer, done: str = "") -> HTMLResponse:
    actor, pipeline = Actor.of(current.user), _pipeline(request)
    view = in_session(request, lambda s: _queue(s, actor, pipeline))
    return render(request, "queue.html", current, done=done, **view)


@dataclass
class _Call:
    """A flagged disorder as the specimen page shows it."""

    call: CallView
    markers: list[Marker]
    #: the reasons that are not a marker against a cutoff
    other: list[str]
    chart: PopulationChart | None = None


def _trend(session: Session, actor: Actor, pipeline: Screening, specimen: Specimen,
           calls: list[_Call]) -> dict[str, Any]:
    """The baby's specimens with the markers flagged on this one (else on any of them), each
    marker's chart with the cutoff the latest call naming it used (this one's first)."""
    specimens = population.baby_specimens(session, actor, specimen)
    cutoffs = {m.marker: m.cutoff for entry in calls for m in entry.markers}
    if not cutoffs:
        others = review_repository.current_calls(
            session, [s.id for s in specimens if s.id is not None])
        for s in specimens:  # oldest first: a later call's cutoff replaces an earlier one
            for call in others.get(s.id or 0, []):
                cutoffs.update({m.marker: m.cutoff for m in markers_of(call.reasons, {})[0]})
    rows = population.baby_trend(session, pipeline, specimens, list(cutoffs))
    charts = [trend_chart(marker, rows, specimen.id or 0, cutoff)
              for marker, cutoff in cutoffs.items()] if len(rows) > 1 else []
    return {"specimens": rows, "markers": list(cutoffs), "charts": charts}


def _specimen(session: Session, actor: Actor, pipeline: Screening,
              specimen_id: int) -> dict[str, Any]:
    card = accession.read_specimen_row(session, actor, specimen_id)
    infant = accession.get_infant(session, actor, card["infant_id"], audit=False)
    specimen = accession.get_specimen(session, actor, specimen_id, audit=False)
    item = review.review_item(session, actor, pipeline, specimen_id)
    calls = [_Call(call, *markers_of(call.reasons, item.scores)) for call in item.calls]
    trend = _trend(session, actor, pipeline, specimen, calls)
    mine = next((t for t in trend["specimens"] if t.specimen_id == specimen_id), None)
    for entry in calls:  # the bands of this specimen, drawn for the trend too
        if entry.markers:
            entry.chart = population_chart(entry.markers, mine.bands if mine else {})
    return {"card": card, "infant": infant, "item": item, "calls": calls, "context": specimen,
            "trend": trend, "second_tier": second_tier_of(session, specimen_id, pipeline),
            "can_correct": Transition.correct in allowed_transitions(specimen.state,
                                                                    actor.role),
            "can_skip_second_tier": Transition.skip_second_tier in allowed_transitions(
                specimen.state, actor.role),
            "releases": review.releases(session, actor, specimen_id)}


@router.get("/lab/specimens/{specimen_id}", response_class=HTMLResponse)
def specimen_page(request: Request, specimen_id: PathId, current: Staff) -> HTMLResponse:
    actor, pipeline = Actor.of(current.user), _pipeline(request)
    with shown_on_page():
        view = in_session(request, lambda s: _specimen(s, actor, pipeline, specimen_id))
    return render(request, "specimen.html", current, **view)


def _decide(session: Session, user: User, specimen_id: int, decision: Decision, reason: str,
            password: str) -> None:
    review.decide(session, user, specimen_id, decision, reason=reason, password=password)


@router.post("/lab/specimens/{specimen_id}/decide", response_class=HTMLResponse)
async def decide(request: Request, specimen_id: PathId, current: Reviewer) -> Response:
    form = await request.form()
    check_csrf(request, current, form)
    user = current.user
    choice = optional(form, "decision") or ""
    reason = (optional(form, "reason") or "")[:1000]
    typed = {"form": "decision", "decision": choice, "reason": reason}
    try:
        if choice not in tuple(Decision):
            raise InvalidInputError(FORM_REFUSALS.text("choose_decision"), field="decision")
        if choice in (Decision.override, Decision.refer, Decision.request_repeat_specimen) \
                and not reason.strip():
            raise InvalidInputError(FORM_REFUSALS.text("reason_for_decision"), field="reason")
        password = str(form.get("password") or "")
        await in_session_async(request, lambda s: _decide(s, user, specimen_id,
                                                          Decision(choice), reason, password))
    except FORM_ERRORS as exc:
        return await _form_error(request, current, specimen_id, exc, typed)
    return RedirectResponse(f"/lab/specimens/{specimen_id}?decided=1", status_code=303)


async def _form_error(request: Request, current: Page, specimen_id: int,
                      exc: Exception, typed: dict[str, str]) -> HTMLResponse:
    """The specimen page again, with the error of the form that failed and what was typed in
    it (``typed``: the form's name, its reason and decision; never the password)."""
    actor, pipeline = Actor.of(current.user), _pipeline(request)
    with shown_on_page():
        view = await in_session_async(
            request, lambda s: _specimen(s, actor, pipeline, specimen_id))
    return render(request, "specimen.html", current, status_code=http_status(exc),
                  error=error_message(exc), typed=typed, **view)


@router.post("/lab/specimens/{specimen_id}/skip-second-tier", response_class=HTMLResponse)
async def skip_second_tier(request: Request, specimen_id: PathId,
                           current: Reviewer) -> Response:
    """Send a card waiting for the reflex second tier to review without it
    (``lims.reflex.skip``), signed with the re-entered password, with a reason."""
    form = await request.form()
    check_csrf(request, current, form)
    user = current.user
    reason = (optional(form, "reason") or "")[:1000]
    typed = {"form": "skip_second_tier", "reason": reason}
    try:
        password = str(form.get("password") or "")
        await in_session_async(request, lambda s: send_to_review(
            s, user, specimen_id, reason=reason, password=password))
    except FORM_ERRORS as exc:
        return await _form_error(request, current, specimen_id, exc, typed)
    return RedirectResponse(f"/lab/specimens/{specimen_id}?sent=1", status_code=303)


@router.post("/lab/specimens/{specimen_id}/correct", response_class=HTMLResponse)
async def correct(request: Request, specimen_id: PathId, current: Reviewer) -> Response:
    """Reopen a released result as a new version (``POST /specimens/{id}/corrections``),
    signed with the re-entered password; the transition is audited with its reason."""
    form = await request.form()
    check_csrf(request, current, form)
    user = current.user
    reason = (optional(form, "reason") or "")[:1000]
    typed = {"form": "correction", "reason": reason}
    try:
        if not reason:
            raise InvalidInputError(FORM_REFUSALS.text("reason_for_correction"),
                                    field="reason")
        password = str(form.get("password") or "")
        await in_session_async(request, lambda s: review.correct(
            s, user, specimen_id, reason=reason, password=password))
    except FORM_ERRORS as exc:
        return await _form_error(request, current, specimen_id, exc, typed)
    return RedirectResponse(f"/lab/specimens/{specimen_id}?corrected=1", status_code=303)


def _counted(form: Any) -> int | None:
    value = optional(form, "count") or ""
    return int(value) if value.isdigit() else None


@router.post("/lab/review/release-normals", response_class=HTMLResponse)
async def release_normals(request: Request, current: Reviewer) -> Response:
    """Release the normals the page counted: the form's ``digest`` (and ``count``) are those of
    the cards waiting when the page was drawn; a changed set is refused, nothing released."""
    form = await request.form()
    check_csrf(request, current, form)
    user, password = current.user, str(form.get("password") or "")
    digest, count = optional(form, "digest") or "", _counted(form)
    try:
        if not digest:
            raise InvalidInputError(FORM_REFUSALS.text("not_counted"), field="digest")
        released = await in_session_async(request, lambda s: review.release_normals(
            s, user, password=password, limit=_BULK_LIMIT, digest=digest, count=count))
    except FORM_ERRORS as exc:
        actor, pipeline = Actor.of(user), _pipeline(request)
        view = await in_session_async(request, lambda s: _queue(s, actor, pipeline))
        return render(request, "queue.html", current, status_code=http_status(exc),
                      error=error_message(exc), **view)
    return RedirectResponse(f"/lab/review?done={len(released)}", status_code=303)


def _open_alerts(session: Session, actor: Actor) -> list[dict[str, Any]]:
    return alerts.banner_rows(session, actor)


@router.get("/lab/alerts/banner", response_class=HTMLResponse)
def alerts_banner(request: Request, current: Responder) -> HTMLResponse:
    """The open time-critical alerts, on every page of the roles that handle them (htmx)."""
    actor = Actor.of(current.user)
    rows = in_session(request, lambda s: _open_alerts(s, actor))
    return render(request, "_alerts_banner.html", current, alerts=rows)


@router.get("/lab/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, current: Responder) -> HTMLResponse:
    actor = Actor.of(current.user)
    rows = in_session(request, lambda s: alerts.alert_rows(s, actor, status=None))
    return render(request, "alerts.html", current, alerts=rows)


@router.post("/lab/alerts/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge(request: Request, alert_id: PathId, current: Responder) -> Response:
    form = await request.form()
    check_csrf(request, current, form)
    actor = Actor.of(current.user)
    full_name = optional(form, "full_name") or current.user.full_name
    note = (optional(form, "note") or "")[:1000]
    try:
        await in_session_async(request, lambda s: alerts.acknowledge(
            s, actor, alert_id, full_name=full_name, note=note))
    except FORM_ERRORS as exc:
        rows = await in_session_async(request, lambda s: alerts.alert_rows(s, actor,
                                                                           status=None))
        return render(request, "alerts.html", current, status_code=http_status(exc),
                      alerts=rows, error=error_message(exc))
    if request.headers.get("HX-Request"):
        rows = await in_session_async(request, lambda s: _open_alerts(s, actor))
        return render(request, "_alerts_banner.html", current, alerts=rows)
    return RedirectResponse("/lab/alerts", status_code=303)
