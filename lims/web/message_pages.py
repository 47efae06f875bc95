"""The HL7 result messages and their delivery, one row per released version of a specimen
(docs/hl7.md "In the LIMS"): the laboratory sees where each message is; an admin sends a parked
message again once the receiver's problem is fixed. Reads and resends are audited by the
interfaces domain's service, as through the API.

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lims.audit import Actor
from lims.deps import PathId
from lims.errors import http_status
from lims.interfaces import service as interfaces
from lims.vocabulary import OutboxStatus, Role
from lims.web.context import (
    FORM_ERRORS,
    Page,
    error_message,
    in_session,
    in_session_async,
    pages_for,
    posted_form,
    render,
    shown_on_page,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Lab = Annotated[Page, Depends(pages_for(Role.technician, Role.reviewer, Role.admin))]
Admin = Annotated[Page, Depends(pages_for(Role.admin))]
#: The most messages one page lists (newest first).
PAGE_SIZE = 200


def _listing(request: Request, current: Page, status: str, *, error: str = "",
             status_code: int = 200) -> HTMLResponse:
    chosen = status if status in tuple(OutboxStatus) else None
    actor = Actor.of(current.user)
    rows = in_session(request, lambda s: interfaces.outbox(s, actor, status=chosen,
                                                           limit=PAGE_SIZE))
    return render(request, "messages.html", current, status_code=status_code, rows=rows,
                  status=chosen or "", statuses=tuple(OutboxStatus), error=error,
                  can_resend=current.role == Role.admin)


@router.get("/lab/messages", response_class=HTMLResponse)
def messages_page(request: Request, current: Lab, status: str = "") -> HTMLResponse:
    with shown_on_page():
        return _listing(request, current, status)


@router.post("/lab/messages/{message_id}/resend", response_class=HTMLResponse)
async def resend(request: Request, message_id: PathId, current: Admin) -> Response:
    await posted_form(request, current)
    actor = Actor.of(current.user)
    try:
        await in_session_async(request, lambda s: interfaces.resend(s, actor, message_id))
    except FORM_ERRORS as exc:
        return _listing(request, current, "parked", error=error_message(exc),
                        status_code=http_status(exc))
    return RedirectResponse("/lab/messages?status=parked&resent=1", status_code=303)
