"""The pages a follow-up case is worked on, shared by the follow-up coordinator's pages
(``/followup``, ``lims.web.followup_pages``) and the clinic's (``/clinic``,
``lims.web.clinic_pages``): the case board, a case with its timeline (cards, results, letters,
contacts, referral, diagnosis, treatment, visits, closure), the transitions the user's role may
apply and the visits, and the documents (the recall letters, the baby's result reports) as
stored PDFs.

``case_router(prefix, roles)`` builds these routes for one prefix and its roles. Scope is the
follow-up domain's: a clinic user reaches only the cases referred to its clinic (any other is
"not found", 404), and the documents of those cases and babies.

Public names: ``case_router``, ``case_page``, ``timeline``, ``TimelineEntry``, ``Follow``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from lims.audit import Actor
from lims.deps import PathId
from lims.documents import service as documents
from lims.errors import NotFoundError, http_status
from lims.followup import board, service
from lims.followup.machine import NO_DIAGNOSIS, allowed_case_transitions
from lims.models import IssuedDocument
from lims.vocabulary import (
    CaseState,
    CaseTransition,
    ContactMethod,
    ContactResult,
    DocumentKind,
    DocumentLanguage,
    LetterAudience,
    OutcomeClass,
    Role,
    Severity,
    VisitKind,
)
from lims.web.case_forms import transition_from_form, visit_from_form
from lims.web.case_labels import board_labels
from lims.web.context import (
    FORM_ERRORS,
    Page,
    doc_lang,
    error_message,
    in_session,
    in_session_async,
    lab_zone,
    page_from,
    pages_for,
    pdf_response,
    posted_form,
    shown_on_page,
)
from reports.wording import wording

__all__ = ["Follow", "TimelineEntry", "case_page", "case_router", "timeline"]

#: The cases one page of a single state lists.
PAGE_SIZE = 100
#: The board lists the most overdue cases and the first cases of each open state.
OVERDUE, PER_STATE = 25, 10
#: Transitions applied by another form than the transition form (a contact that reaches the
#: family, the repeat card, the first visit).
_OTHER_FORMS = (CaseTransition.contact, CaseTransition.receive_repeat,
                CaseTransition.start_long_term_follow_up)
#: The roles that record visits (``lims.followup.routes``: clinic, follow_up, admin).
_VISITORS = (Role.clinic, Role.follow_up, Role.admin)


@dataclass(frozen=True)
class Follow:
    """Where a role works its cases: the pages' prefix and whether it runs the whole case
    (contacts, repeat cards, letters) or records the clinic's part."""

    prefix: str
    coordinator: bool


@dataclass
class TimelineEntry:
    """One event of a case, in time order; ``kind`` selects its wording in the template."""

    at: datetime
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timeline(record: board.CaseRecord, letters: Sequence[dict[str, Any]]) -> list[
        TimelineEntry]:
    """Every event of a case and its baby's cards, oldest first."""
    case = record.detail
    entries = [TimelineEntry(case.opened_at, "opened", {"reason": case.reason})]
    barcodes = {c["id"]: c["barcode"] for c in record.cards}
    for card in record.cards:
        entries.append(TimelineEntry(card["received_at"], "card", card))
    for release in record.releases:
        entries.append(TimelineEntry(release.released_at, "release", {
            "barcode": barcodes.get(release.specimen_id, ""), "outcome": release.outcome,
            "version": release.version, "reason": release.reason}))
    for letter in letters:
        entries.append(TimelineEntry(letter["issued_at"], "letter", letter))
    for contact in case.contacts:
        entries.append(TimelineEntry(contact.at, "contact", contact.model_dump()))
    if case.repeat_received_at is not None:
        entries.append(TimelineEntry(case.repeat_received_at, "repeat",
                                     {"barcode": record.repeat_barcode or ""}))
    if case.referred_at is not None:
        entries.append(TimelineEntry(case.referred_at, "referred", {
            "clinic": record.clinic.name if record.clinic else "",
            "appointment_at": case.appointment_at}))
    for diagnosis in case.diagnoses:
        entries.append(TimelineEntry(diagnosis.diagnosed_at, "diagnosis",
                                     diagnosis.model_dump()))
    for treatment in case.treatments:
        entries.append(TimelineEntry(treatment.started_at, "treatment",
                                     treatment.model_dump()))
    for visit in case.visits:
        entries.append(TimelineEntry(visit.visit_at, "visit", visit.model_dump()))
    if case.closed_at is not None:
        entries.append(TimelineEntry(case.closed_at, "closed", {"outcome": case.outcome}))
    order = {kind: k for k, kind in enumerate(
        ("opened", "card", "release", "letter", "contact", "repeat", "referred", "diagnosis",
         "treatment", "visit", "closed"))}
    for entry in entries:
        entry.at = _utc(entry.at)
    return sorted(entries, key=lambda e: (e.at, order[e.kind]))


def _case_view(session: Session, actor: Actor, case_id: int) -> dict[str, Any]:
    record = board.case_record(session, actor, case_id)
    letters = documents.list_documents(session, actor, kind=DocumentKind.recall_letter,
                                       case_id=case_id)
    case = record.detail
    allowed = allowed_case_transitions(case.state, actor.role)
    ready = service.ready_transitions(session, actor, case_id)
    released = {r.specimen_id for r in record.releases}
    return {
        "record": record, "case": case, "timeline": timeline(record, letters),
        "letters": letters, "released": released,
        "newest_letters": {next(d["id"] for d in letters if d["document_id"] == key)
                           for key in {d["document_id"] for d in letters}},
        "transitions": [t for t in ready if t not in _OTHER_FORMS],
        "can_receive_repeat": CaseTransition.receive_repeat in allowed,
        "letter_not_due": documents.letter_not_due(session, actor, case_id),
        "can_visit": actor.role in _VISITORS and case.state in (
            CaseState.treatment, CaseState.long_term_follow_up),
        "clinics": service.list_clinics(session) if CaseTransition.refer in allowed else [],
        "outcomes": [o for o in OutcomeClass if o != OutcomeClass.normal_repeat
                     and (case.state == CaseState.referred or o in NO_DIAGNOSIS)],
        "disorders": sorted(service.catalogue().values(), key=lambda d: d.code),
        "severities": list(Severity),
    }


def _language_names() -> dict[str, str]:
    """The documents' languages by code, each named in itself (the wording's
    ``language_name``)."""
    return {lang.value: wording(lang.value).language_name for lang in DocumentLanguage}


def case_page(request: Request, current: Page, follow: Follow, case_id: int, *,
              error: str = "", status_code: int = 200) -> HTMLResponse:
    """A case's page (a domain error while reading it: its error page)."""
    actor = Actor.of(current.user)
    return page_from(request, "case.html", current, lambda s: _case_view(s, actor, case_id),
                     status_code=status_code, error=error, follow=follow,
                     methods=list(ContactMethod), results=list(ContactResult),
                     visit_kinds=list(VisitKind), audiences=list(LetterAudience),
                     languages=_language_names(), document_lang=doc_lang(current.locale),
                     done=request.query_params.get("done", ""))


async def case_form(request: Request, current: Page, follow: Follow, case_id: int,
                    work: Callable[[Session, Actor, Any], object],
                    parse: Callable[[Any], Any] | None, done: str) -> Response:
    """A case's form: CSRF checked, ``parse`` the form, ``work`` it in a transaction, back to
    the case (the error shown on the case's page, with its status, and nothing stored)."""
    form = await posted_form(request, current)
    actor = Actor.of(current.user)
    try:
        data = parse(form) if parse is not None else form
        await in_session_async(request, lambda s: work(s, actor, data))
    except FORM_ERRORS as exc:
        return case_page(request, current, follow, case_id, error=error_message(exc),
                         status_code=http_status(exc))
    return RedirectResponse(f"{follow.prefix}/cases/{case_id}?done={done}", status_code=303)


def case_router(follow: Follow, roles: tuple[Role, ...]) -> APIRouter:
    """The board, the case page, its transitions and visits, and its documents under
    ``follow.prefix``, for ``roles``."""
    router = APIRouter(include_in_schema=False)
    dependency: Callable[[Request], Coroutine[Any, Any, Page]] = pages_for(*roles)
    # the routes' annotations are strings (``from __future__``) read in this module's
    # namespace, so the dependency is a parameter default rather than a local ``Annotated``
    worker = Depends(dependency)
    prefix = follow.prefix

    @router.get(prefix, response_class=HTMLResponse)
    def board_page(request: Request, current: Page = worker, state: str = "",
                   offset: int = 0) -> HTMLResponse:
        actor = Actor.of(current.user)
        chosen = state or None
        return page_from(request, "case_board.html", current, lambda s: {
            "board": board.case_board(s, actor, state=chosen, per_state=PER_STATE,
                                      overdue_limit=OVERDUE, limit=PAGE_SIZE,
                                      offset=max(0, offset))},
            follow=follow, states=board.BOARD_STATES, label_values=board_labels())

    @router.get(prefix + "/cases/{case_id}", response_class=HTMLResponse)
    def read_case(request: Request, case_id: PathId, current: Page = worker) -> HTMLResponse:
        return case_page(request, current, follow, case_id)

    @router.post(prefix + "/cases/{case_id}/transitions", response_class=HTMLResponse)
    async def move_case(request: Request, case_id: PathId, current: Page = worker) -> Response:
        def work(session: Session, actor: Actor, body: Any) -> object:
            return service.transition(session, actor, case_id, body)

        form = await request.form()
        done = str(form.get("transition") or "")
        zone = lab_zone(request)
        return await case_form(request, current, follow, case_id, work,
                               lambda form: transition_from_form(form, zone),
                               done if done in tuple(CaseTransition) else "transition")

    @router.post(prefix + "/cases/{case_id}/visits", response_class=HTMLResponse)
    async def add_visit(request: Request, case_id: PathId, current: Page = worker) -> Response:
        def work(session: Session, actor: Actor, body: Any) -> object:
            return service.record_visit(session, actor, case_id, body)

        zone = lab_zone(request)
        return await case_form(request, current, follow, case_id, work,
                               lambda form: visit_from_form(form, zone), "visit")

    @router.get(prefix + "/documents/{document_id}")
    def download(request: Request, document_id: PathId, current: Page = worker) -> Response:
        actor = Actor.of(current.user)
        with shown_on_page():
            doc = in_session(request, lambda s: documents.reprint(s, actor, document_id))
        return pdf_response(doc)

    @router.post(prefix + "/cases/{case_id}/results/{specimen_id}")
    async def result_report(request: Request, case_id: PathId, specimen_id: PathId,
                            current: Page = worker) -> Response:
        await posted_form(request, current)
        actor, language = Actor.of(current.user), doc_lang(current.locale)

        def work(session: Session) -> IssuedDocument:
            record = board.case_record(session, actor, case_id)
            if specimen_id not in {c["id"] for c in record.cards}:
                raise NotFoundError(f"specimen {specimen_id} is not a card of this baby")
            return documents.issue_result(session, actor, specimen_id,
                                          language=language).document

        try:
            doc = await in_session_async(request, work)
        except FORM_ERRORS as exc:
            return case_page(request, current, follow, case_id, error=error_message(exc),
                             status_code=http_status(exc))
        return RedirectResponse(f"{prefix}/documents/{doc.id}", status_code=303)

    return router
