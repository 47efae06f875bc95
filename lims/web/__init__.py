"""The web pages of the laboratory, the follow-up coordinator and the clinic: server-rendered
(Jinja2, htmx for partial updates), in English and Simplified Chinese, signed in with a session
cookie; every page calls the domains' services, as the API's routes do (docs/web.md).

Public names: ``install_web``, ``STATIC_DIR``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

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

#: Paths whose refusals stay the framework's (JSON): the API, the static files.
_NOT_PAGES = ("/api/", "/static/", "/openapi.json")

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


async def _malformed(request: Request, exc: Exception) -> Response:
    """A page's address whose id or parameter does not read (``/lab/runs/abc``): the error
    page (422) naming it; under ``/api`` the framework's JSON as before."""
    assert isinstance(exc, RequestValidationError)
    if request.url.path.startswith("/api/"):
        return await request_validation_exception_handler(request, exc)
    first = exc.errors()[0] if exc.errors() else {}
    loc = first.get("loc") or ("", "")
    return render(request, "error.html", None, status_code=422, status=422,
                  message=str(first.get("msg", "")),
                  malformed={"field": str(loc[-1]), "value": str(first.get("input", ""))[:40]})


def _no_page(app: FastAPI) -> Callable[[Request, Exception], Awaitable[Response]]:
    """An unknown page (404 outside ``/api``, ``/static`` and the API's documents) and a page's
    address asked with a method it does not take (405, its ``Allow`` header kept) as the error
    page; any other refusal by the framework as the handler already installed does."""
    framework: Any = app.exception_handlers.get(HTTPException, http_exception_handler)

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and not request.url.path.startswith(_NOT_PAGES):
            return render(request, "error.html", None, status_code=404, status=404,
                          message="", no_page=True)
        if exc.status_code == 405 and not request.url.path.startswith(_NOT_PAGES):
            page = render(request, "error.html", None, status_code=405, status=405,
                          message="", wrong_method=request.method)
            page.headers.update(exc.headers or {})
            return page
        return await framework(request, exc)

    return handle


def _favicon() -> FileResponse:
    """The icon browsers ask for at ``/favicon.ico`` (the pages link ``/static/favicon.svg``,
    the same file): a static SVG, served from the app's own origin as the CSP allows."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


def install_web(app: FastAPI, settings: Settings) -> None:
    """Add the pages, the static files and their error pages to ``app``."""
    install_state(app, settings)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.add_api_route("/favicon.ico", _favicon, methods=["GET"], include_in_schema=False)
    for module in (auth_pages, lab_pages, review_pages, audit_pages, message_pages,
                   followup_pages, clinic_pages, reflex_pages, submitter_pages, programme_pages):
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, _sign_in_first)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(RequestValidationError, _malformed)
    app.add_exception_handler(HTTPException, _no_page(app))
