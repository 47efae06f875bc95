"""The technician's pages: accession a card (barcode check, card fields, unsatisfactory codes)
and import a card CSV; search cards; upload a run and see the plate (wells by sample type and
status with their internal-standard signal, QC summary, Levey-Jennings charts with the Westgard
flags, sign-off, withdrawal); the worklists (held wells, duplicates, repeat requests).

Public names: ``router``, ``read_upload``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

import instruments
from instruments import Source
from instruments.errors import UnknownFormatError
from instruments.profile_choice import NoProfileFitsError
from lims.accession import service as accession
from lims.audit import Actor
from lims.deps import PathId
from lims.errors import InvalidInputError, http_status
from lims.interfaces.inbound import import_cards
from lims.models import WestgardVerdict
from lims.pipeline import Screening
from lims.reference import barcode_rule, unsatisfactory_codes
from lims.runs import plate
from lims.runs import service as runs
from lims.runs.held import attach_arrived, attach_held_well, discard_held_well
from lims.runs.levey_jennings import chart_key, series_charts
from lims.runs.routes import MAX_UPLOAD_BYTES
from lims.runs.schemas import HeldWellResolve
from lims.runs.westgard_verdicts import ranked_series, run_verdicts
from lims.runs.withdrawal import withdraw_run
from lims.vocabulary import Feeding, HeldWellAction, RepeatRequestStatus, Role, Sex
from lims.web.context import (
    FORM_ERRORS,
    Page,
    check_csrf,
    error_message,
    in_session,
    in_session_async,
    lab_zone,
    page_from,
    pages_for,
    posted_form,
    refused_form,
    render,
)
from lims.web.forms import optional, specimen_from_form, validated
from lims.web.lj_chart import lj_chart
from lims.web.names import named_requests
from lims.web.refusals import FORM_REFUSALS, UPLOAD_REFUSALS, UPLOADS
from msms.qc.rules import WESTGARD_RULES

__all__ = ["read_upload", "router"]

router = APIRouter(include_in_schema=False)
Lab = Annotated[Page, Depends(pages_for(Role.technician, Role.admin))]
Staff = Annotated[Page, Depends(pages_for(Role.technician, Role.reviewer, Role.follow_up,
                                          Role.admin))]
#: A plate's page: the laboratory's, and read-only for a reviewer (whose queue names the plates
#: not signed off yet); signing off and withdrawing stay the laboratory's (``Lab``).
PlateReader = Annotated[Page, Depends(pages_for(Role.technician, Role.reviewer, Role.admin))]


def _accession_context(request: Request, current: Page) -> dict[str, Any]:
    submitters = in_session(request, lambda s: accession.list_submitters(
        s, Actor.of(current.user)))
    return {"submitters": submitters, "codes": list(unsatisfactory_codes().values()),
            "feedings": list(Feeding), "sexes": list(Sex)}


@router.get("/lab/accession", response_class=HTMLResponse)
def accession_form(request: Request, current: Lab) -> HTMLResponse:
    return render(request, "accession.html", current, form={},
                  **_accession_context(request, current))


@router.get("/lab/accession/barcode", response_class=HTMLResponse)
def check_barcode(request: Request, current: Lab, barcode: str = "") -> HTMLResponse:
    """The barcode rule's verdict on a typed barcode (htmx, as the technician types)."""
    message, ok = "", False
    if barcode.strip():
        try:
            barcode_rule().validate(barcode.strip())
            ok = True
        except InvalidInputError as exc:
            message = str(exc)
    return render(request, "_barcode_check.html", current, ok=ok, message=message,
                  barcode=barcode.strip())


@router.post("/lab/accession", response_class=HTMLResponse)
async def accession_card(request: Request, current: Lab) -> HTMLResponse:
    form = await posted_form(request, current)
    actor = Actor.of(current.user)
    try:
        data = specimen_from_form(form, lab_zone(request))
        specimen = await in_session_async(
            request, lambda s: accession.accession(s, actor, data))
    except FORM_ERRORS as exc:
        context = await run_in_threadpool(_accession_context, request, current)
        return render(request, "accession.html", current, status_code=http_status(exc),
                      form=dict(form),
                      error=error_message(exc), **context)
    context = await run_in_threadpool(_accession_context, request, current)
    return render(request, "accession.html", current, status_code=201, form={},
                  created=specimen, **context)


@router.post("/lab/accession/import", response_class=HTMLResponse)
async def import_card_file(request: Request, current: Lab) -> HTMLResponse:
    async with request.form() as form:
        check_csrf(request, current, form)
        actor = Actor.of(current.user)
        context = await run_in_threadpool(_accession_context, request, current)
        try:
            source = await read_upload(form.get("file"), "card_file")
            if source is None:
                return render(request, "accession.html", current, status_code=422, form={},
                              import_error="choose a card CSV file", **context)
            imported = await in_session_async(
                request, lambda s: import_cards(s, actor, source.data, source.name))
        except FORM_ERRORS as exc:
            return render(request, "accession.html", current, status_code=http_status(exc),
                          form={}, import_error=error_message(exc), **context)
        return render(request, "accession.html", current, form={}, imported=imported,
                      **context)


@router.get("/lab/search", response_class=HTMLResponse)
def search(request: Request, current: Staff, q: str = "") -> HTMLResponse:
    actor = Actor.of(current.user)
    rows = in_session(request, lambda s: accession.search_specimens(s, actor, q[:200]))
    template = "_search_results.html" if request.headers.get("HX-Request") else "search.html"
    return render(request, template, current, q=q, rows=rows)


@router.get("/lab/runs", response_class=HTMLResponse)
def runs_page(request: Request, current: Lab) -> HTMLResponse:
    listed = in_session(request, runs.list_runs)
    return render(request, "runs.html", current, runs=listed)


async def read_upload(upload: object, what: str) -> Source | None:
    """The uploaded file (None when none was chosen); ``what`` names it by its ``UPLOADS``
    code in the refusal of a file past ``MAX_UPLOAD_BYTES``."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInputError(FORM_REFUSALS.text("upload_too_large", what=UPLOADS.text(what),
                                                   limit=MAX_UPLOAD_BYTES),
                                file=upload.filename)
    return Source(upload.filename, data)


@router.post("/lab/runs", response_class=HTMLResponse)
async def upload_run(request: Request, current: Lab) -> Response:
    async with request.form() as form:
        check_csrf(request, current, form)
        actor = Actor.of(current.user)
        try:
            export = await read_upload(form.get("file"), "instrument_file")
            if export is None:
                raise InvalidInputError(FORM_REFUSALS.text("choose_export"), field="file")
            plate_map = await read_upload(form.get("plate_map"), "plate_map")
            outcome = await run_in_threadpool(
                lambda: runs.ingest_bytes(request.app.state.engine, actor, export.data,
                                          export.name, request.app.state.pipeline,
                                          plate_map=plate_map))
        except NoProfileFitsError as exc:  # the page's advice, not the command line's
            refused = InvalidInputError(UPLOAD_REFUSALS.text(
                "no_profile", tried="; ".join(exc.tried)), file=exc.file, line=1, field="file")
            return await refused_form(request, "runs.html", current, refused,
                                      lambda s: {"runs": runs.list_runs(s)})
        except UnknownFormatError as exc:
            refused = InvalidInputError(UPLOAD_REFUSALS.text(
                "no_reader", formats=", ".join(instruments.formats())), file=exc.file,
                field="file")
            return await refused_form(request, "runs.html", current, refused,
                                      lambda s: {"runs": runs.list_runs(s)})
        except FORM_ERRORS as exc:
            return await refused_form(request, "runs.html", current, exc,
                                      lambda s: {"runs": runs.list_runs(s)})
    target = f"/lab/runs/{outcome.run.id}" + ("" if outcome.created else "?again=1")
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


#: Charts on the plate page when no analyte is chosen: the flagged series first.
PAGE_CHARTS = 6


def _plate_context(session: Session, run_id: int, analyte: str = "") -> dict[str, Any]:
    """The plate view with its Levey-Jennings charts (``analyte``: that analyte's series,
    else the flagged ones and those furthest from target) and the run's Westgard flags, as
    judged at ingest (``lims.runs.westgard_verdicts``)."""
    view = plate.plate_view(session, run_id)
    verdicts = run_verdicts(session, run_id)
    ranked = ranked_series(verdicts)
    flagged = {(v.lot, v.analyte) for v in verdicts if v.rule}
    chosen = ([k for k in sorted(ranked, key=lambda k: k[0]) if k[1] == analyte] if analyte
              else ranked[:max(PAGE_CHARTS, len(flagged))])
    return {**view, "charts": [lj_chart(s, run_id) for s in series_charts(
                session, run_id, chosen)],
            "chart_analytes": sorted({a for _, a in ranked}), "analyte": analyte,
            "flags": westgard_flags(verdicts)}


def westgard_flags(verdicts: Sequence[WestgardVerdict]) -> list[dict[str, Any]]:
    """The rules the run broke, one row per violation (a violation across materials once)."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for v in verdicts:
        if not v.rule:
            continue
        key = (v.rule, v.analyte, "" if v.across_materials else v.lot, v.observations
               if not v.across_materials else "")
        row = rows.setdefault(key, {
            "rule": v.rule, "severity": v.decision, "analyte": v.analyte, "lot": v.lot,
            "across": v.across_materials, "observations": v.observations,
            "chart": chart_key(v.lot, v.analyte)})
        if v.across_materials and row["lot"] != v.lot:
            row["lot"] += f", {v.lot}"
            row["observations"] += f"; {v.observations}"
    order = {rule: i for i, rule in enumerate(WESTGARD_RULES)}
    return sorted(rows.values(), key=lambda r: (r["severity"] != "reject", r["analyte"],
                                                 order[r["rule"]], r["lot"]))


@router.get("/lab/runs/{run_id}", response_class=HTMLResponse)
def plate_page(request: Request, run_id: PathId, current: PlateReader, again: int = 0,
               analyte: str = "") -> HTMLResponse:
    return page_from(request, "plate.html", current,
                     lambda s: _plate_context(s, run_id, analyte[:32]), again=bool(again))


async def _on_plate(request: Request, current: Page, run_id: int,
                    work: Callable[[Session], object]) -> Response:
    """Do ``work`` and go back to the plate, or show the plate with what was refused."""
    try:
        await in_session_async(request, work)
    except FORM_ERRORS as exc:
        return await refused_form(request, "plate.html", current, exc,
                                  lambda s: _plate_context(s, run_id))
    return RedirectResponse(f"/lab/runs/{run_id}", status_code=303)


@router.post("/lab/runs/{run_id}/qc", response_class=HTMLResponse)
async def plate_sign_off(request: Request, run_id: PathId, current: Lab) -> Response:
    form = await posted_form(request, current)
    actor = Actor.of(current.user)
    accept = optional(form, "decision") == "accept"
    reason = optional(form, "reason") or ""
    return await _on_plate(request, current, run_id, lambda s: plate.sign_off(
        s, actor, run_id, accept=accept, reason=reason))


@router.post("/lab/runs/{run_id}/withdraw", response_class=HTMLResponse)
async def plate_withdraw(request: Request, run_id: PathId, current: Lab) -> Response:
    """Withdraw a plate whose results are stored, with a reason (``lims.runs.withdrawal``)."""
    form = await posted_form(request, current)
    actor, pipeline = Actor.of(current.user), request.app.state.pipeline
    reason = optional(form, "reason") or ""
    return await _on_plate(request, current, run_id, lambda s: withdraw_run(
        s, actor, run_id, reason=reason, pipeline=pipeline))


def _worklists(session: Session, actor: Actor) -> dict[str, Any]:
    held = plate.open_held_wells(session)
    return {"held": held,
            "arrived": sum(1 for h in held if h["card_state"] == "accessioned"),
            "duplicates": runs.duplicates_worklist(session),
            "repeats": named_requests(session, accession.list_repeat_requests(
                session, actor, status=RepeatRequestStatus.open))}


@router.get("/lab/worklists", response_class=HTMLResponse)
def worklists(request: Request, current: Lab, attached: int = -1) -> HTMLResponse:
    actor = Actor.of(current.user)
    return render(request, "worklists.html", current, attached=attached,
                  **in_session(request, lambda s: _worklists(s, actor)))


def _resolve(session: Session, actor: Actor, held_id: int, body: HeldWellResolve,
             pipeline: Screening) -> None:
    if body.action == HeldWellAction.attach:
        assert body.barcode is not None
        attach_held_well(session, actor, held_id, barcode=body.barcode, note=body.note,
                         pipeline=pipeline)
    else:
        discard_held_well(session, actor, held_id, note=body.note)


@router.post("/lab/held-wells/attach-arrived", response_class=HTMLResponse)
async def attach_arrived_wells(request: Request, current: Lab) -> Response:
    """Attach every held well whose card has been accessioned since, with one note."""
    form = await posted_form(request, current)
    actor, pipeline = Actor.of(current.user), request.app.state.pipeline
    note = optional(form, "note") or ""
    try:
        wells = await in_session_async(request, lambda s: attach_arrived(
            s, actor, note=note, pipeline=pipeline))
    except FORM_ERRORS as exc:
        return await refused_form(request, "worklists.html", current, exc,
                                  lambda s: _worklists(s, actor))
    return RedirectResponse(f"/lab/worklists?attached={len(wells)}", status_code=303)


@router.post("/lab/held-wells/{held_id}/resolve", response_class=HTMLResponse)
async def resolve_held_well(request: Request, held_id: PathId, current: Lab) -> Response:
    """Attach a held well to the card accessioned since with its barcode (its values become
    the card's results and are evaluated), or discard it, with a note."""
    form = await posted_form(request, current)
    actor, pipeline = Actor.of(current.user), request.app.state.pipeline
    try:
        action = optional(form, "action") or ""
        body = validated(HeldWellResolve, {
            "action": action, "note": optional(form, "note") or "",
            "barcode": optional(form, "barcode") if action == HeldWellAction.attach
            else None}, whole="action")
        await in_session_async(request, lambda s: _resolve(s, actor, held_id, body, pipeline))
    except FORM_ERRORS as exc:
        return await refused_form(request, "worklists.html", current, exc,
                                  lambda s: _worklists(s, actor))
    return RedirectResponse("/lab/worklists", status_code=303)
