"""The reflex page (technicians): the reflex worklist -- cards waiting for second-tier assays
on the same card, with the assays to run, time-critical first, then the oldest -- the upload
of a second-tier run and of a molecular laboratory's genotype results, and the latest
second-tier runs with the wells (or genotype rows) not stored and why (docs/second_tier.md
"In the LIMS").

Public names: ``router``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from lims.audit import Actor
from lims.errors import InvalidInputError, http_status
from lims.reflex import service as reflex
from lims.reflex.genotypes import import_genotypes
from lims.vocabulary import Role
from lims.web.context import (
    FORM_ERRORS,
    Page,
    check_csrf,
    error_message,
    in_session,
    in_session_async,
    lab_zone,
    pages_for,
    render,
)
from lims.web.lab_pages import read_upload

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Lab = Annotated[Page, Depends(pages_for(Role.technician, Role.admin))]


def _lists(session: Session) -> dict[str, Any]:
    return {"requests": reflex.worklist(session), "runs": reflex.list_runs(session)[:50]}


def _switches(request: Request) -> dict[str, Any]:
    """Whether the reflex second tier is on (``NBS_REFLEX``) and whether the laboratory
    imports genotypes (``NBS_REFLEX_GENOTYPES``), as the service's pipeline applies them."""
    reflex = getattr(request.app.state.pipeline, "reflex", None)
    return {"reflex_on": reflex is not None,
            "genotypes_on": reflex is not None and reflex.genotyped}


@router.get("/lab/reflex", response_class=HTMLResponse)
def reflex_page(request: Request, current: Lab, run: int = 0) -> HTMLResponse:
    return render(request, "reflex.html", current, uploaded=run, **_switches(request),
                  **in_session(request, _lists))


@router.post("/lab/reflex/runs", response_class=HTMLResponse)
async def upload_second_tier_run(request: Request, current: Lab) -> Response:
    """Upload a second-tier run: attached to the waiting cards, each decided again."""
    async with request.form() as form:
        check_csrf(request, current, form)
        actor, pipeline = Actor.of(current.user), request.app.state.pipeline
        try:
            upload = await read_upload(form.get("file"), "file")
            if upload is None:
                raise InvalidInputError("choose the second-tier run's export file",
                                        field="file")
            outcome = await in_session_async(request, lambda s: reflex.import_run(
                s, actor, upload.data, upload.name, pipeline))
        except FORM_ERRORS as exc:
            lists = await in_session_async(request, _lists)
            return render(request, "reflex.html", current, status_code=http_status(exc),
                          error=error_message(exc), uploaded=0, **_switches(request), **lists)
        return RedirectResponse(f"/lab/reflex?run={outcome.run.id}", status_code=303)


@router.post("/lab/reflex/genotypes", response_class=HTMLResponse)
async def upload_genotypes(request: Request, current: Lab) -> Response:
    """Upload a molecular laboratory's genotype results: attached to the cards waiting for
    those genes, each decided again."""
    async with request.form() as form:
        check_csrf(request, current, form)
        actor, pipeline = Actor.of(current.user), request.app.state.pipeline
        zone = lab_zone(request)
        try:
            upload = await read_upload(form.get("file"), "file")
            if upload is None:
                raise InvalidInputError("choose the genotype results file", field="file")
            outcome = await in_session_async(request, lambda s: import_genotypes(
                s, actor, upload.data, upload.name, pipeline, default_tz=zone))
        except FORM_ERRORS as exc:
            lists = await in_session_async(request, _lists)
            return render(request, "reflex.html", current, status_code=http_status(exc),
                          error=error_message(exc), uploaded=0, **_switches(request), **lists)
        return RedirectResponse(f"/lab/reflex?run={outcome.run.id}", status_code=303)
