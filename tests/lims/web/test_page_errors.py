"""Addresses and forms the pages refuse, on SQLite and PostgreSQL: a malformed id in a page's
address, an unknown page, a bulletin month past the calendar, a contact attempt without its
result, each answered with the app's error page (HTML, in the page's language) naming what was
refused, never the framework's JSON or a server error; the API keeps its JSON. The accession
form preselects neither sex nor feeding and says them in words; a card sent without them is
stored as sex U and feeding unknown. No template holds an inline script, event handler or style
(the Content-Security-Policy, ``default-src 'self'``, would block it)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lims.models import ContactAttempt, Infant, Specimen, utcnow
from lims.web import STATIC_DIR
from tests.lims.helpers import API, card
from tests.lims.web.conftest import csrf_of, sign_in_page
from tests.lims.web.test_case_pages import _referral

TEMPLATES = [*(Path(STATIC_DIR).parent / "web" / "templates").glob("*.html"),
             *(Path(STATIC_DIR).parent / "templates").glob("*.html")]


def _error_page(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html"), response.text[:300]
    match = re.search(r'<p class="error" role="alert"[^>]*>([^<]*)</p>', response.text)
    assert match, response.text[:2000]
    return match.group(1)


@pytest.mark.parametrize("path", ["/lab/runs/abc", "/lab/runs/0", "/lab/specimens/x1",
                                  "/lab/runs/99999999999999999999"])
def test_a_malformed_id_in_a_page_address_is_the_error_page(web, world, path):
    sign_in_page(web, "technician")
    message = _error_page(web.get(path), 422)
    value = path.rsplit("/", 1)[1]
    assert f"“{value}”" in message and "_id" in message, message


def test_the_error_pages_name_what_was_refused_in_both_languages(client, web, world):
    sign_in_page(web, "submitter")
    assert "“abc” as its infant_id" in _error_page(web.get("/unit/babies/abc"), 422)
    assert "There is no page" in _error_page(web.get("/unit/nowhere"), 404)
    web.post("/language", data={"lang": "zh_CN", "next": "/lab"})
    assert "infant_id“abc”无效" in _error_page(web.get("/unit/babies/abc"), 422)
    assert "此地址没有页面" in _error_page(web.get("/lab/nowhere"), 404)
    # the API answers as before, in JSON
    api = client.get(f"{API}/runs/abc", headers=world.auth("technician"))
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["path", "run_id"]
    assert client.get(f"{API}/nowhere", headers=world.auth("technician")).json()[
        "error"] == "NotFound"


def test_a_wrong_method_on_a_page_address_is_the_error_page(client, web, world):
    """POST to a page that is only read, GET to a form's address: the error page (405, with
    its Allow header) in the page's language; the API keeps its JSON."""
    csrf = sign_in_page(web, "reviewer")
    posted = web.post("/lab/review", data={"csrf_token": csrf})
    assert "does not take a POST request" in _error_page(posted, 405)
    assert posted.headers["allow"] == "GET"
    read = web.get("/lab/review/release-normals")
    assert "does not take a GET request" in _error_page(read, 405)
    assert read.headers["allow"] == "POST"
    web.post("/language", data={"lang": "zh_CN", "next": "/lab"})
    assert "此地址不接受 GET 请求" in _error_page(web.get("/lab/review/release-normals"), 405)
    api = client.put(f"{API}/specimens", headers=world.auth("technician"))
    assert api.status_code == 405 and api.json()["error"] == "MethodNotAllowed"


@pytest.mark.parametrize("month", ["9999-12", "9999-01", "0001-01", "0001-03"])
def test_a_month_the_calendar_cannot_measure_is_refused_naming_it(web, world, month):
    sign_in_page(web, "admin")
    for path in ("/programme/bulletin", "/programme/bulletin/trend",
                 "/programme/indicators/unsatisfactory_rate"):
        message = _error_page(web.get(path, params={"month": month}), 422)
        assert f"field month: {month} is outside the months" in message, message
    assert "2026-13" in _error_page(web.get("/programme/bulletin",
                                            params={"month": "2026-13"}), 422)


def test_a_contact_attempt_needs_its_result(client, web, world, engine):
    _, case = _referral(client, world)
    csrf = sign_in_page(web, "follow_up")
    url = f"/followup/cases/{case['id']}"
    form = web.get(url).text.split('id="contact-form"')[1].split("</form>")[0]
    assert re.search(r'<select name="result" required><option value="">-</option>', form)
    for result in ({}, {"result": ""}, {"result": " "}):
        answer = web.post(f"{url}/contacts", data={"csrf_token": csrf, "method": "phone",
                                                   "contacted": "mother", **result})
        assert answer.status_code == 422, answer.text[:300]
        assert "result" in answer.text.split('id="case-error"')[1].split("</p>")[0]
    with Session(engine) as session:
        assert session.exec(select(ContactAttempt)).all() == []


def test_the_accession_form_leaves_sex_and_feeding_to_the_server(web, world, engine):
    sign_in_page(web, "technician")
    page = web.get("/lab/accession").text
    for name in ("sex", "feeding"):
        options = re.search(rf'<select name="{name}">(.*?)</select>', page, re.S)
        assert options, name
        first = re.search(r"<option ([^>]*)>([^<]*)</option>", options.group(1))
        assert first and first.group(1) == 'value=""' and first.group(2) == "not stated (unknown)"
        assert "selected" not in options.group(1)
    assert "sex M" not in page and ">male</option>" in page and ">female</option>" in page
    now = utcnow()
    answer = web.post("/lab/accession", data={
        "csrf_token": csrf_of(page), "barcode": card(31), "submitter_id": world.submitter_ids[0],
        "collected_at": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "received_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "birth_at": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "sex": "", "feeding": ""})
    assert answer.status_code == 201 and 'id="accessioned"' in answer.text, answer.text[:500]
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(31))).one()
        infant = session.get(Infant, specimen.infant_id)
        assert specimen.feeding == "unknown" and infant is not None and infant.sex == "U"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_no_template_holds_inline_script_or_style(template):
    text = template.read_text()
    assert not re.search(r"<style|<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", text), \
        template.name
