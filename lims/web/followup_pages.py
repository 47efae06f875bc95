"""The follow-up coordinator's pages (role ``follow_up``, and ``admin``), under ``/followup``:
the case board by state with the overdue cases first, a case with its timeline, and working it
through the case state machine (``lims.followup.machine``): contact attempts, the recall letter
(issued and stored by ``lims.documents``, downloaded as its PDF, a new version naming the
clinic once one is assigned), the repeat card, the referral to a clinic, the outcome and the
closure. The board, the case page, transitions, visits and downloads are the shared case
pages (``lims.web.case_pages``).

Public names: ``router``, ``FOLLOW``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from lims.audit import Actor
from lims.deps import PathId
from lims.documents import service as documents
from lims.errors import InvalidInputError, NotFoundError
from lims.followup import service
from lims.vocabulary import DocumentKind, DocumentLanguage, LetterAudience, Role
from lims.web.case_forms import contact_from_form
from lims.web.case_pages import Follow, case_form, case_router
from lims.web.context import Page, lab_zone, pages_for
from lims.web.forms import optional
from lims.web.refusals import FORM_REFUSALS

__all__ = ["FOLLOW", "router"]

FOLLOW = Follow(prefix="/followup", coordinator=True)
_ROLES = (Role.follow_up, Role.admin)
Coordinator = Annotated[Page, Depends(pages_for(*_ROLES))]
router = case_router(FOLLOW, _ROLES)


@router.post("/followup/cases/{case_id}/contacts", response_class=HTMLResponse)
async def add_contact(request: Request, case_id: PathId, current: Coordinator) -> Response:
    """Log a contact attempt; the first that reaches the family marks the case contacted."""
    def work(session: Session, actor: Actor, body: Any) -> object:
        return service.record_contact(session, actor, case_id, body)

    zone = lab_zone(request)
    return await case_form(request, current, FOLLOW, case_id, work,
                           lambda form: contact_from_form(form, zone), "contact_attempt")


@router.post("/followup/cases/{case_id}/repeat", response_class=HTMLResponse)
async def record_repeat(request: Request, case_id: PathId, current: Coordinator) -> Response:
    """The baby's repeat card, by its barcode."""
    def work(session: Session, actor: Actor, barcode: Any) -> object:
        return service.link_repeat_specimen(session, actor, case_id, barcode)

    def barcode_of(form: Any) -> str:
        barcode = optional(form, "barcode")
        if barcode is None:
            raise InvalidInputError(FORM_REFUSALS.text("repeat_barcode"), field="barcode")
        return barcode

    return await case_form(request, current, FOLLOW, case_id, work, barcode_of,
                           "receive_repeat")


def _choice(form: Any, name: str, allowed: tuple[str, ...]) -> str:
    value = optional(form, name) or ""
    if value not in allowed:
        raise InvalidInputError(FORM_REFUSALS.text("choose_one_of", choices=", ".join(allowed)),
                                field=name)
    return value


@router.post("/followup/cases/{case_id}/letters", response_class=HTMLResponse)
async def issue_letter(request: Request, case_id: PathId, current: Coordinator) -> Response:
    """Issue the case's recall letter (to the clinic or the family, in a language): stored
    once with its hash; asking again gives the stored version."""
    def work(session: Session, actor: Actor, form: Any) -> object:
        audience = _choice(form, "audience", tuple(LetterAudience))
        language = _choice(form, "language", tuple(DocumentLanguage))
        return documents.issue_letter(session, actor, case_id, audience=audience,
                                      language=language)

    return await case_form(request, current, FOLLOW, case_id, work, None, "letter")


@router.post("/followup/cases/{case_id}/letters/{document_id}/correct",
             response_class=HTMLResponse)
async def correct_letter(request: Request, case_id: PathId, document_id: PathId,
                         current: Coordinator) -> Response:
    """A new version of one of the case's letters, built from the case as it is now (the
    clinic it is referred to), naming the version it replaces and why."""
    def work(session: Session, actor: Actor, form: Any) -> object:
        reason = optional(form, "reason")
        if reason is None:
            raise InvalidInputError(FORM_REFUSALS.text("why_letter_again"), field="reason")
        letters = documents.list_documents(session, actor, kind=DocumentKind.recall_letter,
                                           case_id=case_id)
        if document_id not in {d["id"] for d in letters}:
            raise NotFoundError(f"letter {document_id} of case {case_id} not found")
        return documents.correct(session, actor, document_id, reason[:1000])

    return await case_form(request, current, FOLLOW, case_id, work, None, "letter")
