"""The submitting unit's pages (role submitter; the user belongs to one unit): its time-critical
notices to acknowledge, repeat cards requested with their due dates, unsatisfactory cards, its
babies' cards and results with the result report (PDF); a baby's page; its own report card
(page and PDF).

Every read goes through the domains' scoped services (the user's ``submitter_id``): another
unit's baby, card, alert or report is "not found" (a 404 page), as in the API.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from lims.accession import service as accession
from lims.alerts import service as alerts
from lims.audit import Actor
from lims.deps import PathId
from lims.documents import repository as documents_repository
from lims.documents import service as documents
from lims.documents.bulletins import card_view
from lims.documents.laboratory import laboratory
from lims.documents.views import specimen_result
from lims.errors import NotFoundError
from lims.followup.service import list_cases
from lims.models import Alert, Specimen, Submitter, utcnow
from lims.reference import unsatisfactory_codes
from lims.vocabulary import AlertStatus, CaseReason, CaseState, RepeatRequestStatus, Role
from lims.web.context import (
    FORM_ERRORS,
    Page,
    PageError,
    doc_lang,
    in_session_async,
    page_from,
    pages_for,
    pdf_response,
    posted_form,
    refused_form,
    shown_on_page,
)
from lims.web.forms import optional
from lims.web.names import babies_of, named_requests
from lims.web.programme_pages import chosen_month, measure_range, month_of_text
from lims.web.refusals import PAGE_REFUSALS
from reports.bulletin import fmt_measure
from reports.indicators import indicators
from reports.models import DocumentInfo
from reports.wording import wording

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Unit = Annotated[Page, Depends(pages_for(Role.submitter))]
_REPEAT_REASONS = (CaseReason.unsatisfactory, CaseReason.repeat_specimen)


def _actor(current: Page) -> Actor:
    actor = Actor.of(current.user)
    if actor.submitter_id is None:
        raise PageError(403, PAGE_REFUSALS.text("no_unit"))
    return actor


def _home(session: Session, current: Page, q: str) -> dict[str, Any]:
    actor = _actor(current)
    unit = session.get(Submitter, actor.submitter_id)
    notices = [a for a in alerts.alert_rows(session, actor, status=None)
               if a["status"] == AlertStatus.open]
    open_cases = [c for c in list_cases(session, actor, limit=1000)
                  if c["reason"] in _REPEAT_REASONS and c["state"] != CaseState.closed]
    due = {c["specimen_id"]: c for c in open_cases}
    requests = accession.list_repeat_requests(session, actor, status=RepeatRequestStatus.open)
    if q.strip():
        cards = accession.search_specimens(session, actor, q[:200], limit=200)
    else:
        cards = accession.list_specimen_rows(session, actor, limit=200, newest_first=True)
    releases = documents_repository.latest_releases(session, [c["id"] for c in cards])
    codes = unsatisfactory_codes()
    repeats = [{"request": r.request, "barcode": r.barcode, "case": due.get(r.request.specimen_id),
                "serial_due": r.due} for r in named_requests(session, requests)]
    return {"unit": unit, "notices": notices, "repeats": repeats, "cards": cards,
            "babies": babies_of(session, cards), "releases": releases, "q": q,
            "unsatisfactory": [c for c in cards if c["unsatisfactory_code"]],
            "code_labels": {k: v.description for k, v in codes.items()}}


@router.get("/unit", response_class=HTMLResponse)
def unit_home(request: Request, current: Unit, q: str = "") -> HTMLResponse:
    return page_from(request, "unit_home.html", current, lambda s: _home(s, current, q))


def _baby(session: Session, current: Page, infant_id: int) -> dict[str, Any]:
    actor = _actor(current)
    infant = accession.get_infant(session, actor, infant_id)
    cards = accession.list_specimen_rows(session, actor, infant_id=infant_id)
    releases = documents_repository.latest_releases(session, [c["id"] for c in cards])
    text = laboratory().text(doc_lang(current.locale))
    results = {}
    for specimen_id, release in releases.items():
        specimen = session.get(Specimen, specimen_id)
        assert specimen is not None
        results[specimen_id] = specimen_result(session, specimen, release, text=text)
    cases = list_cases(session, actor, infant_id=infant_id)
    return {"infant": infant, "cards": cards, "releases": releases, "results": results,
            "cases": cases, "words": wording(doc_lang(current.locale))}


@router.get("/unit/babies/{infant_id}", response_class=HTMLResponse)
def baby_page(request: Request, infant_id: PathId, current: Unit) -> HTMLResponse:
    return page_from(request, "unit_baby.html", current, lambda s: _baby(s, current, infant_id))


@router.post("/unit/results/{specimen_id}/pdf")
async def result_pdf(request: Request, specimen_id: PathId, current: Unit) -> Response:
    """The specimen's result report (issued the first time, its stored bytes after)."""
    await posted_form(request, current)
    with shown_on_page():
        doc = await in_session_async(request, lambda s: documents.issue_result(
            s, _actor(current), specimen_id).document)
    return pdf_response(doc)


def _acknowledge(session: Session, current: Page, alert_id: int, name: str, note: str) -> None:
    actor = _actor(current)
    alert = session.get(Alert, alert_id)
    specimen = session.get(Specimen, alert.specimen_id) if alert is not None else None
    if specimen is None or specimen.submitter_id != actor.submitter_id:
        raise NotFoundError(f"alert {alert_id} not found")
    alerts.acknowledge(session, actor, alert_id, full_name=name, note=note)


@router.post("/unit/notices/{alert_id}/acknowledge", response_class=HTMLResponse)
async def acknowledge_notice(request: Request, alert_id: PathId, current: Unit) -> Response:
    """The unit's named clinician acknowledges a time-critical notice of its baby."""
    form = await posted_form(request, current)
    name = optional(form, "full_name") or ""
    note = optional(form, "note") or ""
    try:
        await in_session_async(request, lambda s: _acknowledge(s, current, alert_id, name,
                                                               note[:1000]))
    except FORM_ERRORS as exc:
        return await refused_form(request, "unit_home.html", current, exc,
                                  lambda s: _home(s, current, ""))
    return RedirectResponse("/unit?acknowledged=1", status_code=303)


def _card(session: Session, current: Page, month_text: str) -> dict[str, Any]:
    actor = _actor(current)
    shown = chosen_month(session, month_text, actor.submitter_id)
    month = shown.month
    unit = session.get(Submitter, actor.submitter_id)
    assert unit is not None
    lang = doc_lang(current.locale)
    info = DocumentInfo(document_id="page", issued_at=utcnow(), lang=lang)
    card = card_view(session, month, unit.code, document=info, lab=laboratory())
    words, definitions = wording(lang), indicators()
    rows = []
    for i in definitions.indicator:
        m = card.unit.measures.get(i.code)
        value = None if m is None else m.value
        rows.append({"code": i.code, "name": i.text("name", lang),
                     "value": fmt_measure(i, value, words),
                     "n": "-" if m is None or m.n is None else f"{m.n:,}",
                     "median": fmt_measure(i, card.medians.get(i.code), words),
                     "range": measure_range(i, card.lows.get(i.code),
                                            card.highs.get(i.code), words),
                     "rank": (f"{card.ranks[i.code]} / {card.ranked_counts.get(i.code, '-')}"
                              if i.code in card.ranks else "-"),
                     "target": "-" if i.target is None else fmt_measure(i, i.target, words),
                     "met": i.meets(value)})
    return {"card": card, "rows": rows, "month": card.period_start, "unit": unit,
            **shown.context()}


@router.get("/unit/report-card", response_class=HTMLResponse)
def report_card_page(request: Request, current: Unit, month: str = "") -> HTMLResponse:
    return page_from(request, "unit_card.html", current, lambda s: _card(s, current, month))


@router.post("/unit/report-card/pdf")
async def report_card_pdf(request: Request, current: Unit) -> Response:
    """The unit's report card of the month as a PDF (in the page's language)."""
    form = await posted_form(request, current)

    def issue(s: Session) -> Any:
        actor = _actor(current)
        assert actor.submitter_id is not None
        return documents.issue_card(s, actor, actor.submitter_id,
                                    month_of_text(str(form.get("month") or "")),
                                    language=doc_lang(current.locale)).document

    with shown_on_page():
        doc = await in_session_async(request, issue)
    return pdf_response(doc)
