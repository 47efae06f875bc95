"""The site's icon: every page links it from the app's own static files, and ``/favicon.ico``
(what a browser asks for when a page links none, e.g. a JSON answer) is the same SVG, under the
Content-Security-Policy of every answer, without signing in."""

from __future__ import annotations

from lims.security import CSP
from lims.web import STATIC_DIR


def test_the_icon_is_served_and_every_page_links_it(web, world):
    icon = (STATIC_DIR / "favicon.svg").read_bytes()
    for path in ("/favicon.ico", "/static/favicon.svg"):
        answer = web.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("image/svg+xml")
        assert answer.content == icon and answer.content.startswith(b"<svg")
    assert web.get("/favicon.ico").headers["content-security-policy"] == CSP
    page = web.get("/login").text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
