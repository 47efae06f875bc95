"""Routes: issue a document (answered with its PDF), list the issued ones, reprint a stored
version, correct one, set a submitter's document language.

Each issuing route answers ``application/pdf``: 201 when it issued a new version, 200 when the
document existed (its stored bytes); the headers name the stored version (``X-Document-Id``,
``X-Document-Version``, ``X-Document-Sha256``, ``Location``).

Public names: ``router``, ``PDF``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from lims.audit import Actor
from lims.deps import CurrentUser, PathId, SessionDep, committed, require
from lims.documents import service
from lims.documents.schemas import (
    BatchRequest,
    BulletinRequest,
    CardRequest,
    CorrectionRequest,
    DocumentPublic,
    LanguageIn,
    LetterRequest,
    QcRequest,
    ResultRequest,
)
from lims.models import MAX_ID, IssuedDocument, User
from lims.vocabulary import DocumentKind, Role

__all__ = ["PDF", "router"]

router = APIRouter(tags=["documents"])
PDF = "application/pdf"
Admin = Annotated[User, Depends(require(Role.admin))]
_PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the document existed: its stored version", "content": {PDF: {}}},
    201: {"description": "a new version was issued", "content": {PDF: {}}},
    403: {"description": "the role may not see or issue this kind of document"},
    404: {"description": "not found, or outside the user's scope"},
    422: {"description": "the records cannot make this document"},
}


def _pdf(doc: IssuedDocument, status: int = 200) -> Response:
    return Response(doc.content, status_code=status, media_type=PDF, headers={
        "X-Document-Id": doc.document_id, "X-Document-Version": str(doc.version),
        "X-Document-Sha256": doc.sha256, "Location": f"/api/v1/documents/{doc.id}",
        "Content-Disposition": f'inline; filename="{doc.document_id}-v{doc.version}.pdf"'})


def _answer(session: SessionDep, issued: service.Issued) -> Response:
    return _pdf(committed(session, issued).document, 201 if issued.created else 200)


@router.post("/documents/letters", response_class=Response, status_code=201,
             responses=_PDF_RESPONSES)
def issue_letter(body: LetterRequest, session: SessionDep, user: CurrentUser) -> Response:
    """The recall letter of a follow-up case, to its clinic or to the family."""
    return _answer(session, service.issue_letter(
        session, Actor.of(user), body.case_id, audience=body.audience, language=body.language))


@router.post("/documents/results", response_class=Response, status_code=201,
             responses=_PDF_RESPONSES)
def issue_result(body: ResultRequest, session: SessionDep, user: CurrentUser) -> Response:
    """The result report of a released specimen (a submitter: its own)."""
    return _answer(session, service.issue_result(session, Actor.of(user), body.specimen_id,
                                                 language=body.language))


@router.post("/documents/results/batch", response_class=Response, status_code=201,
             responses=_PDF_RESPONSES)
def issue_batch(body: BatchRequest, session: SessionDep, user: CurrentUser) -> Response:
    """A submitter's results released on a day, in one report."""
    return _answer(session, service.issue_batch(session, Actor.of(user), body.submitter_id,
                                                body.released_on, language=body.language))


@router.post("/documents/qc", response_class=Response, status_code=201,
             responses=_PDF_RESPONSES)
def issue_qc(body: QcRequest, session: SessionDep, user: CurrentUser) -> Response:
    """The QC report of a run."""
    return _answer(session, service.issue_qc(session, Actor.of(user), body.run_id,
                                             language=body.language))


@router.post("/documents/bulletins", response_class=Response, status_code=201,
             responses=_PDF_RESPONSES)
def issue_bulletin(body: BulletinRequest, session: SessionDep, user: CurrentUser) -> Response:
    """The programme bulletin of a month."""
    return _answer(session, service.issue_bulletin(session, Actor.of(user), body.first_day(),
                                                   language=body.language))


@router.post("/documents/report-cards", response_class=Response, status_code=201,
             responses=_PDF_RESPONSES)
def issue_card(body: CardRequest, session: SessionDep, user: CurrentUser) -> Response:
    """A submitting unit's report card for a month (a submitter: its own)."""
    return _answer(session, service.issue_card(session, Actor.of(user), body.submitter_id,
                                               body.first_day(), language=body.language))


@router.get("/documents", response_model=list[DocumentPublic])
def list_documents(session: SessionDep, user: CurrentUser, kind: DocumentKind | None = None,
                   specimen_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                   case_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                   submitter_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                   run_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[dict[str, Any]]:
    """Issued versions in the user's scope, newest first."""
    return committed(session, service.list_documents(
        session, Actor.of(user), kind=kind, specimen_id=specimen_id, case_id=case_id,
        submitter_id=submitter_id, run_id=run_id, limit=limit, offset=offset))


@router.get("/documents/{document_row_id}", response_class=Response,
            responses={200: {"description": "the stored bytes", "content": {PDF: {}}},
                       404: {"description": "not found, or outside the user's scope"}})
def reprint(document_row_id: PathId, session: SessionDep, user: CurrentUser) -> Response:
    """Reprint a stored version: the same bytes as at issue (their hash checked)."""
    return _pdf(committed(session, service.reprint(session, Actor.of(user), document_row_id)))


@router.get("/documents/{document_row_id}/versions", response_model=list[DocumentPublic])
def versions(document_row_id: PathId, session: SessionDep,
             user: CurrentUser) -> list[dict[str, Any]]:
    """Every version of this document, oldest first."""
    return committed(session, service.versions(session, Actor.of(user), document_row_id))


@router.post("/documents/{document_row_id}/corrections", response_class=Response,
             status_code=201, responses=_PDF_RESPONSES)
def correct(document_row_id: PathId, body: CorrectionRequest, session: SessionDep,
            user: CurrentUser) -> Response:
    """Issue a corrected version, built from the records as they are now, naming the version
    it replaces and why."""
    return _pdf(committed(session, service.correct(session, Actor.of(user), document_row_id,
                                                   body.reason)), 201)


@router.put("/submitters/{submitter_id}/document-language",
            response_model=dict[str, int | str])
def set_language(submitter_id: PathId, body: LanguageIn, session: SessionDep,
                 user: Admin) -> dict[str, int | str]:
    """The language of the documents issued to a submitter."""
    submitter = service.set_language(session, Actor.of(user), submitter_id, body.language)
    session.commit()
    return {"submitter_id": submitter_id, "document_language": submitter.document_language}
