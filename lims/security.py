"""HTTP hardening every response and request goes through (a pure ASGI middleware, so it costs
one dictionary update per response).

- Headers on every response: ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer`` and a Content-Security-Policy that allows only the
  service's own origin (``default-src 'self'``, no framing, no plugins); the interactive API
  pages (``/docs``, ``/redoc``), served from the app's own files, also allow their inline
  start-up script and styles.
- ``Cache-Control: no-store`` on everything under ``/api/`` (patient data) and on the pages.
- JSON bodies larger than ``MAX_JSON_BYTES`` are refused with 413 before they are read: by
  their ``Content-Length``, or, sent without one, as soon as more than the limit has arrived.
  Uploads (``multipart/form-data``) have their own limit (the runs domain).

Public names: ``MAX_JSON_BYTES``, ``SecurityMiddleware``, ``CSP``, ``DOCS_CSP``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["CSP", "DOCS_CSP", "MAX_JSON_BYTES", "SecurityMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The largest JSON request body accepted (the largest legitimate ones are a few kB).
MAX_JSON_BYTES = 1024 * 1024
CSP = ("default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src 'self' blob:; "
            "frame-ancestors 'none'; object-src 'none'; base-uri 'self'")
_DOCS = ("/docs", "/redoc")


def _headers(path: str) -> list[tuple[bytes, bytes]]:
    csp = DOCS_CSP if path.startswith(_DOCS) else CSP
    headers = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"no-referrer"),
               (b"content-security-policy", csp.encode())]
    if path.startswith("/api/") or path == "/":
        headers.append((b"cache-control", b"no-store"))
    return headers


async def _too_large(send: Send) -> None:
    body = json.dumps({"detail": f"a JSON body may hold at most {MAX_JSON_BYTES:,} bytes",
                       "error": "PayloadTooLarge"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *_headers("/api/")]})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """Adds the security headers to every response and refuses oversized JSON bodies."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = _headers(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in extra if h[0] not in present)]
            await send(message)

        headers = dict(scope.get("headers", []))
        if b"json" in headers.get(b"content-type", b"").lower():
            length = headers.get(b"content-length")
            if length is not None:
                if not length.isdigit() or int(length) > MAX_JSON_BYTES:
                    await _too_large(send)
                    return
            else:
                replay = await self._read_limited(receive)
                if replay is None:
                    await _too_large(send)
                    return
                receive = replay
        await self.app(scope, receive, send_with_headers)

    @staticmethod
    async def _read_limited(receive: Receive) -> Receive | None:
        """Read a body sent without a length, up to the limit; a receive that replays it, or
        None when it is too large."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_JSON_BYTES:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, sent = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay
