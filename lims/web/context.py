"""What every page needs: the signed-in user from the session cookie, the page's language, the
CSRF check, the role check and rendering a template in the page's language, with times shown
in the laboratory's time zone (the ``lab_time`` filter; ``time_zone`` names it to every
template, and the forms read their times in it: ``lab_zone``).

A page that needs a signed-in user redirects to ``/login`` without one; a user whose role may
not see a page gets a 403 page. Domain errors raised by a form's service call are shown on the
page (``error_message``), never as a server error.

Public names: ``WebState``, ``Page``, ``SignInRequired``, ``install_state``, ``page``,
``pages_for``, ``render``, ``check_csrf``, ``posted_form``, ``error_message``, ``lang_of``,
``PageError``, ``shown_on_page``, ``FORM_ERRORS``, ``lab_time``, ``lab_zone``, ``page_from``,
``refused_form``, ``doc_lang``, ``pdf_response``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlmodel import Session
from starlette.datastructures import FormData

from lims.deps import user_for_token
from lims.errors import AuthenticationError, LimsError, http_status
from lims.models import IssuedDocument, User
from lims.settings import Settings
from lims.vocabulary import Role
from lims.web.i18n import LOCALES, load_translations, negotiate
from lims.web.navigation import alert_roles, navigation
from lims.web.phrases import install as install_phrases
from lims.web.refusals import PAGE_REFUSALS
from lims.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    LANG_COOKIE,
    SESSION_COOKIE,
    CookieSigner,
    same_token,
)
from msms.errors import MsmsError
from reports.models import Lang
from reports.numbers import fmt_number, fmt_percentile

__all__ = ["FORM_ERRORS", "Page", "PageError", "SignInRequired", "WebState", "check_csrf",
           "doc_lang", "error_message", "in_session", "in_session_async", "install_state",
           "lab_time", "lab_zone", "lang_of", "page", "page_from", "pages_for", "pdf_response",
           "posted_form", "refused_form", "render", "shown_on_page"]

T = TypeVar("T")
TEMPLATES = Path(__file__).parent / "templates"
#: Errors a form's service call may raise and the page shows.
FORM_ERRORS: tuple[type[Exception], ...] = (LimsError, MsmsError)


class SignInRequired(Exception):
    """No valid session: the page redirects to the sign-in form."""


@dataclass
class WebState:
    """Built once per app: the cookie signer and one template environment per language."""

    settings: Settings
    signer: CookieSigner
    environments: dict[str, Environment] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> WebState:
        state = cls(settings, CookieSigner(settings.secret_key))
        shown_in = lab_time(ZoneInfo(settings.time_zone))
        for locale, translations in load_translations().items():
            env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                              autoescape=select_autoescape(default=True),
                              extensions=["jinja2.ext.i18n"], auto_reload=False)
            env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
            env.filters["lab_time"] = shown_in
            env.filters["number"] = fmt_number  # as the documents print values
            env.filters["percentile"] = fmt_percentile
            install_phrases(env, translations.gettext, shown_in)
            state.environments[locale] = env
        return state


def lab_time(zone: ZoneInfo) -> Callable[..., str]:
    """The template filter ``lab_time``: a stored time (UTC; a naive one is read as UTC) shown
    in the laboratory's time zone (``NBS_TIME_ZONE``), the zone named: ``2026-03-03 04:00
    Asia/Shanghai``; '' for no time."""

    def shown(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if value is None:
            return ""
        if not isinstance(value, datetime):
            return value.strftime(fmt)  # a day is the laboratory's day already
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return f"{aware.astimezone(zone).strftime(fmt)} {zone.key}"

    return shown


def lab_zone(request: Request) -> ZoneInfo:
    """The laboratory's time zone (``NBS_TIME_ZONE``): the forms' times are its clock."""
    return ZoneInfo(_state(request).settings.time_zone)


def install_state(app: FastAPI, settings: Settings) -> None:
    app.state.web = WebState.build(settings)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def lang_of(request: Request) -> str:
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))


@dataclass
class Page:
    """The signed-in user of a page, the session's token and CSRF token, the language."""

    user: User
    token: str
    csrf: str
    locale: str

    @property
    def role(self) -> str:
        return self.user.role


async def page(request: Request) -> Page:
    """Dependency: the signed-in user's page (redirects to the sign-in form without one)."""
    state = _state(request)
    token = state.signer.loads(request.cookies.get(SESSION_COOKIE))
    if token is None:
        raise SignInRequired()
    try:
        user = await user_for_token(request.app, token)
    except AuthenticationError:
        raise SignInRequired() from None
    return Page(user=user, token=token, csrf=state.signer.csrf_for(token),
                locale=lang_of(request))


def pages_for(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Page]]:
    """Dependency: as ``page``, for ``roles`` only (a 403 page for the others)."""

    async def check(request: Request) -> Page:
        current = await page(request)
        if current.role not in roles:
            raise PageError(403, PAGE_REFUSALS.text("role_may_not_see", role=current.role))
        return current

    return check


def check_csrf(request: Request, current: Page, form: FormData | None) -> None:
    """Refuse a state-changing request whose CSRF token (form field or header) is not the
    session's."""
    given = request.headers.get(CSRF_HEADER)
    if given is None and form is not None:
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not same_token(current.csrf, given):
        raise PageError(403, PAGE_REFUSALS.text("stale_form"))


async def posted_form(request: Request, current: Page) -> FormData:
    """The request's form, its CSRF token checked (``check_csrf``)."""
    form = await request.form()
    check_csrf(request, current, form)
    return form


def in_session(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a session of the app's database and commit (reads are audited, so a
    page that reads commits too); a domain error rolls everything back."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        out = work(session)
        session.commit()
        return out


async def in_session_async(request: Request, work: Callable[[Session], T]) -> T:
    """``in_session`` off the event loop."""
    return await run_in_threadpool(in_session, request, work)


def error_message(exc: Exception) -> str:
    """A domain error as shown on a page (its message names the file, line and field): the
    English text, which the templates show in the page's language with the ``page_error``
    filter (``lims.web.phrases``) when a refusal phrase wrote it."""
    return str(exc)


class PageError(Exception):
    """A page that cannot be shown: its status and the reason, rendered as an error page."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


@contextmanager
def shown_on_page() -> Iterator[None]:
    """Turn a domain error raised while building a page into an error page with its status."""
    try:
        yield
    except FORM_ERRORS as exc:
        raise PageError(http_status(exc), error_message(exc)) from exc


def render(request: Request, template: str, current: Page | None, *, status_code: int = 200,
           locale: str | None = None, **context: Any) -> HTMLResponse:
    """The template in the page's language, with the navigation of the user's role."""
    state = _state(request)
    locale = locale or (current.locale if current else lang_of(request))
    env = state.environments[locale]
    html = env.get_template(template).render(
        request=request, page=current, user=current.user if current else None,
        csrf=current.csrf if current else "", locale=locale, locales=LOCALES,
        navigation=navigation(current.role) if current else [],
        show_alerts=bool(current and current.role in alert_roles()),
        csrf_field=CSRF_FIELD, csrf_header=CSRF_HEADER, path=request.url.path,
        time_zone=state.settings.time_zone, **context)
    return HTMLResponse(html, status_code=status_code)


def page_from(request: Request, template: str, current: Page,
              build: Callable[[Session], dict[str, Any]], **context: Any) -> HTMLResponse:
    """``template`` with what ``build`` reads in a session (``in_session``) and ``context``; a
    domain error while reading is an error page (``shown_on_page``)."""
    with shown_on_page():
        read = in_session(request, build)
    return render(request, template, current, **read, **context)


async def refused_form(request: Request, template: str, current: Page, exc: Exception,
                       build: Callable[[Session], dict[str, Any]], *,
                       shown_as: str = "error") -> HTMLResponse:
    """A form's page again, read by ``build``, with why ``exc`` refused the form (in the
    template's ``shown_as`` field) and its status."""
    with shown_on_page():
        read = await in_session_async(request, build)
    return render(request, template, current, status_code=http_status(exc),
                  **{shown_as: error_message(exc)}, **read)


def doc_lang(locale: str) -> Lang:
    """A page's locale as a document language."""
    return "zh-CN" if locale == "zh_CN" else "en"


def pdf_response(doc: IssuedDocument) -> Response:
    """A stored document's bytes as a file to save, named by its id and version."""
    return Response(doc.content, media_type="application/pdf", headers={
        "X-Document-Id": doc.document_id, "X-Document-Version": str(doc.version),
        "X-Document-Sha256": doc.sha256,
        "Content-Disposition": f'attachment; filename="{doc.document_id}-v{doc.version}.pdf"'})
