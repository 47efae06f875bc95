"""The web pages of the laboratory, the follow-up coordinator and the clinic: server-rendered
(Jinja2, htmx for partial updates), in English and Simplified Chinese, signed in with a session
cookie; every page calls the domains' services, as the API's routes do (docs/web.md).

Public names: ``install_web``, ``STATIC_DIR``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from lims.settings import Settings
from lims.web import (
    audit_pages,
    auth_pages,
    clinic_pages,
    followup_pages,
    lab_pages,
    message_pages,
    programme_pages,
    reflex_pages,
    review_pages,
    submitter_pages,
)
from lims.web.context import PageError, SignInRequired, install_state, render

__all__ = ["STATIC_DIR", "install_web"]

#: Every asset the pages and the API documentation load (htmx, Swagger UI, ReDoc, the style).
STATIC_DIR = Path(__file__).parent.parent / "static"


async def _sign_in_first(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("HX-Request"):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse(f"/login?next={target}" if request.method == "GET" else "/login",
                            status_code=303)


async def _page_error(request: Request, exc: Exception) -> HTMLResponse:
    assert isinstance(exc, PageError)
    return render(request, "error.html", None, status_code=exc.status_code, message=str(exc),
                  status=exc.status_code)


def install_web(app: FastAPI, settings: Settings) -> None:
    """Add the pages, the static files and their error pages to ``app``."""
    install_state(app, settings)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    for module in (auth_pages, lab_pages, review_pages, audit_pages, message_pages,
                   followup_pages, clinic_pages, reflex_pages, submitter_pages, programme_pages):
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(PageError, _page_error)
