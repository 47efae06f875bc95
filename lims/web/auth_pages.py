"""Pages: sign in and out, home, password change, the language choice, and the API's own
documentation (Swagger UI and ReDoc) served from the app's files.

Public names: ``router``.
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from lims.auth import service as auth
from lims.deps import token_cache
from lims.errors import AuthenticationError, InvalidInputError, ThrottledError
from lims.models import User
from lims.tokens import TOKEN_HOURS, token_digest
from lims.web.context import (
    FORM_ERRORS,
    Page,
    check_csrf,
    error_message,
    page,
    posted_form,
    render,
)
from lims.web.i18n import LOCALES
from lims.web.refusals import FORM_REFUSALS
from lims.web.security import (
    CSRF_FIELD,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    cookie_options,
    same_token,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Current = Annotated[Page, Depends(page)]


def _safe_next(value: object) -> str:
    """Only a path of this site (never another host) after signing in."""
    text = value if isinstance(value, str) else ""
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or parts.scheme or parts.netloc:
        return "/lab"
    return text


def _login_form(request: Request, *, error: str = "", next_path: str = "/lab",
                status_code: int = 200) -> HTMLResponse:
    nonce = secrets.token_urlsafe(24)
    response = render(request, "login.html", None, status_code=status_code, error=error,
                      login_csrf=nonce, next_path=next_path)
    response.set_cookie(LOGIN_CSRF_COOKIE, nonce,
                        **cookie_options(request.app.state.settings, max_age=3600))
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/lab") -> HTMLResponse:  # noqa: A002
    return _login_form(request, next_path=_safe_next(next))


def _sign_in(request: Request, username: str, password: str) -> tuple[User, str]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            user = auth.authenticate(session, username, password)
        except (AuthenticationError, ThrottledError):
            session.commit()  # keep the failure count and the audit event
            raise
        token = auth.issue_token(session, user)
        session.commit()
        return user, token


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    next_path = _safe_next(form.get("next"))
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), str(form.get(CSRF_FIELD) or "")):
        return _login_form(request, error="csrf", next_path=next_path, status_code=403)
    try:
        _user, token = await run_in_threadpool(_sign_in, request, str(form.get("username", "")),
                                               str(form.get("password", "")))
    except ThrottledError as exc:
        return _login_form(request, error=str(exc), next_path=next_path, status_code=429)
    except AuthenticationError:
        return _login_form(request, error="wrong", next_path=next_path, status_code=401)
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(SESSION_COOKIE, request.app.state.web.signer.dumps(token),
                        **cookie_options(request.app.state.settings,
                                         max_age=TOKEN_HOURS * 3600))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _sign_out(request: Request, user: User, token: str) -> None:
    with Session(request.app.state.engine) as session:
        auth.revoke_token(session, user, token)
        session.commit()
    token_cache(request.app).forget(token_digest(token))


@router.post("/logout")
async def logout(request: Request, current: Current) -> Response:
    check_csrf(request, current, await request.form())
    await run_in_threadpool(_sign_out, request, current.user, current.token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lab", response_class=HTMLResponse)
def home(request: Request, current: Current) -> HTMLResponse:
    return render(request, "home.html", current)


@router.get("/lab/password", response_class=HTMLResponse)
def password_form(request: Request, current: Current) -> HTMLResponse:
    return render(request, "password.html", current)


def _change(request: Request, current: Page, old: str, new: str) -> None:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        try:
            auth.change_password(session, current.user, current=old, new=new,
                                 keep_token=current.token)
        except (AuthenticationError, ThrottledError):
            session.commit()  # keep the failure count and the audit event
            raise
        session.commit()
    token_cache(request.app).clear()


@router.post("/lab/password", response_class=HTMLResponse)
async def change_password(request: Request, current: Current) -> HTMLResponse:
    form = await posted_form(request, current)
    new, again = str(form.get("new_password", "")), str(form.get("new_password_again", ""))
    try:
        if new != again:
            raise InvalidInputError(FORM_REFUSALS.text("passwords_differ"),
                                    field="new_password_again")
        await run_in_threadpool(_change, request, current, str(form.get("current_password", "")),
                                new)
    except FORM_ERRORS as exc:
        return render(request, "password.html", current, error=error_message(exc),
                      status_code=422)
    return render(request, "password.html", current, done=True)


@router.post("/language")
async def choose_language(request: Request) -> Response:
    """Keep the chosen language in a cookie (a year); signed in or not. Choosing one changes
    nothing else, so it needs no CSRF token."""
    form = await request.form()
    choice = str(form.get("lang", ""))
    back = _safe_next(form.get("next"))
    response = RedirectResponse(back, status_code=303)
    if choice in LOCALES:
        response.set_cookie(LANG_COOKIE, choice,
                            **cookie_options(request.app.state.settings,
                                             max_age=365 * 24 * 3600))
    return response


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title="Newborn screening laboratory - API",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None})


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url, title="Newborn screening laboratory - API",
        redoc_js_url="/static/vendor/redoc/redoc.standalone.js",
        redoc_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
        with_google_fonts=False)


