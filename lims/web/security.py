"""The pages' session cookie and CSRF tokens.

- Signing in issues a bearer token as the API does (``lims.auth.service.issue_token``: random,
  only its SHA-256 stored, ``TOKEN_HOURS`` long); the browser holds it inside the cookie
  ``nbs_session``, signed with ``NBS_SECRET_KEY`` (itsdangerous), HttpOnly, SameSite=Lax, and
  Secure outside development. Signing out deletes the token, so a copied cookie stops working.
- Every form carries a CSRF token derived from the session's token (an HMAC under the secret
  key); htmx requests send it as the ``X-CSRF-Token`` header. The sign-in form, before a session
  exists, uses a random value held in the cookie ``nbs_login_csrf`` and repeated in the form.

Public names: ``SESSION_COOKIE``, ``LOGIN_CSRF_COOKIE``, ``LANG_COOKIE``, ``CSRF_FIELD``,
``CSRF_HEADER``, ``CookieSigner``, ``csrf_token``, ``same_token``, ``cookie_options``.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from lims.settings import Settings
from lims.tokens import TOKEN_HOURS

__all__ = ["CSRF_FIELD", "CSRF_HEADER", "LANG_COOKIE", "LOGIN_CSRF_COOKIE", "SESSION_COOKIE",
           "CookieSigner", "cookie_options", "csrf_token", "same_token"]

SESSION_COOKIE = "nbs_session"
LOGIN_CSRF_COOKIE = "nbs_login_csrf"
LANG_COOKIE = "nbs_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class CookieSigner:
    """Signs the session cookie's token and reads it back (None: absent, forged or older than
    the token's lifetime)."""

    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="nbs-web-session")
        self._secret = secret_key.encode()

    def dumps(self, token: str) -> str:
        return self._serializer.dumps({"t": token})

    def loads(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=TOKEN_HOURS * 3600)
        except BadSignature:
            return None
        token = data.get("t") if isinstance(data, dict) else None
        return token if isinstance(token, str) else None

    def csrf_for(self, token: str) -> str:
        """The CSRF token of a session (an HMAC of its bearer token)."""
        return csrf_token(self._secret, token)


def csrf_token(secret: bytes, token: str) -> str:
    return hmac.new(secret, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; an absent value never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def cookie_options(settings: Settings, *, max_age: int | None) -> dict[str, Any]:
    """HttpOnly, SameSite=Lax, path /, Secure outside development."""
    return {"httponly": True, "samesite": "lax", "path": "/", "max_age": max_age,
            "secure": settings.environment != "development"}
