"""The review pages a reviewer walks through (SQLite and PostgreSQL): a corrected result waits
in the queue marked as a correction and stays out of the bulk release; the bulk release says
how many it releases and releases exactly those; a refused decision or correction comes back
with what was typed (never the password)."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from lims.models import Specimen
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import card
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import csrf_of, sign_in_page
from tests.lims.web.test_lab_pages import _accession, _upload


def _plate(web) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """card(1) and card(2) normal, card(3) flagged MSUD; the specimen ids by barcode."""
    csrf = sign_in_page(web, "technician")
    for n in (1, 2, 3):
        assert _accession(web, csrf, card(n)).status_code == 201
    run_url = _upload(web, csrf, "q1.csv", plate_csv("Q-1", {card(1): {}, card(2): {},
                                                             card(3): {"Xle": 950}})
                      ).headers["location"]
    assert web.post(f"{run_url}/qc", data={"csrf_token": csrf, "decision": "accept",
                                           "reason": "controls in range"}).status_code == 200
    web.cookies.clear()
    with Session(web.app.state.engine) as session:  # type: ignore[attr-defined]
        return {s.barcode: s.id for s in session.exec(select(Specimen)) if s.id}


def _waiting(html: str) -> int:
    return int(re.search(r'id="normals-waiting" data-count="(\d+)"', html).group(1))


def _field(html: str, form: str, name: str) -> str:
    section = html.split(f'id="{form}"', 1)[1].split("</form>", 1)[0]
    return re.search(rf'name="{name}" value="([^"]*)"', section).group(1)


def _queue_error(html: str) -> str:
    return re.search(r'<p class="error" role="alert" id="queue-error">([^<]*)</p>', html).group(1)


def _release(web, csrf: str, page: str, **extra: str):  # type: ignore[no-untyped-def]
    return web.post("/lab/review/release-normals", data={
        "csrf_token": csrf, "password": PASSWORD,
        "count": _field(page, "release-normals", "count"),
        "digest": _field(page, "release-normals", "digest"), **extra})


def test_a_corrected_result_is_queued_as_a_correction_and_never_released_in_bulk(web, world):
    ids = _plate(web)
    csrf = sign_in_page(web, "reviewer")
    queue = web.get("/lab/review").text
    assert _waiting(queue) == 2 and "Release 2 as normal" in queue
    released = _release(web, csrf, queue)
    assert "2 normal results released" in released.text
    target = ids[card(1)]
    done = web.post(f"/lab/specimens/{target}/correct", data={
        "csrf_token": csrf, "reason": "card belonged to the twin", "password": PASSWORD})
    assert done.status_code == 200 and 'id="corrected"' in done.text
    assert 'id="correction-note" data-version="2"' in done.text
    assert "card belonged to the twin" in done.text.split('id="correction-note"', 1)[1]
    queue = web.get("/lab/review").text
    row = queue.split(f'href="/lab/specimens/{target}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-correction="2"' in row and "card belonged to the twin" in row
    assert "No flagged specimen is waiting" not in queue
    assert _waiting(queue) == 0 and 'id="release-normals-submit" disabled' in queue
    again = _release(web, csrf, queue)
    assert "0 normal results released" in again.text
    page = web.get(f"/lab/specimens/{target}").text
    assert 'id="specimen-state">awaiting review' in page  # still waiting for a person
    decided = web.post(f"/lab/specimens/{target}/decide", data={
        "csrf_token": csrf, "decision": "release_normal", "password": PASSWORD})
    assert decided.status_code == 200 and "Decision signed and released" in decided.text
    assert f'href="/lab/specimens/{target}"' not in web.get("/lab/review").text


def test_the_bulk_release_is_refused_when_the_cards_changed_since_the_page(web, world):
    ids = _plate(web)
    csrf = sign_in_page(web, "reviewer")
    drawn = web.get("/lab/review").text
    assert _waiting(drawn) == 2
    # card(2) is decided on its own page after the queue page was drawn
    assert web.post(f"/lab/specimens/{ids[card(2)]}/decide", data={
        "csrf_token": csrf, "decision": "release_normal",
        "password": PASSWORD}).status_code == 200
    refused = _release(web, csrf, drawn)
    assert refused.status_code == 409
    assert "1 wait now, not the 2 counted" in refused.text
    assert _waiting(refused.text) == 1  # the page is drawn again with the new count
    assert "Release 1 as normal" in refused.text
    wrong = _release(web, csrf, refused.text, password="nope")
    assert wrong.status_code == 401
    forged = _release(web, csrf, refused.text, digest="0" * 64)
    assert forged.status_code == 409
    assert "1 wait now, not the 1 counted" in _queue_error(forged.text)
    # the refusal in Chinese, with and without the count the page carried
    web.post("/language", data={"lang": "zh_CN", "next": "/lab/review"})
    chinese = _release(web, csrf, refused.text, digest="0" * 64)
    assert chinese.status_code == 409
    assert _queue_error(chinese.text) == (
        "自清点以来，等待发布的正常结果已有变化：现有 1 份，而非清点时的 1 份；"
        "未发布任何结果。请重新清点后签名")
    uncounted = _release(web, csrf, refused.text, digest="0" * 64, count="")
    assert _queue_error(uncounted.text) == (
        "自清点以来，等待发布的正常结果已有变化：现有 1 份，而非清点时的数目；"
        "未发布任何结果。请重新清点后签名")
    web.post("/language", data={"lang": "en", "next": "/lab/review"})
    unsigned = _release(web, csrf, refused.text, digest="")
    assert unsigned.status_code == 422 and "open the review queue again" in unsigned.text
    done = _release(web, csrf, refused.text)
    assert "1 normal result released" in done.text
    assert 'id="specimen-state">released' in web.get(f"/lab/specimens/{ids[card(1)]}").text


def _textarea(html: str, form: str) -> str:
    section = html.split(f'id="{form}"', 1)[1].split("</form>", 1)[0]
    return re.search(r"<textarea[^>]*>([^<]*)</textarea>", section).group(1)


def test_a_refused_form_keeps_what_was_typed_but_never_the_password(web, world):
    ids = _plate(web)
    csrf = sign_in_page(web, "reviewer")
    flagged = ids[card(3)]
    wrong = web.post(f"/lab/specimens/{flagged}/decide", data={
        "csrf_token": csrf, "decision": "refer", "reason": "MSUD: call the family <today>",
        "password": "not-my-password"})
    assert wrong.status_code == 401
    assert _textarea(wrong.text, "decision-form") == "MSUD: call the family &lt;today&gt;"
    assert 'value="refer" required checked' in wrong.text
    assert 'id="decision-form-error"' in wrong.text and "not-my-password" not in wrong.text
    assert _textarea(wrong.text, "decision-form") != ""
    csrf = csrf_of(wrong.text)
    assert web.post(f"/lab/specimens/{flagged}/decide", data={
        "csrf_token": csrf, "decision": "refer", "reason": "confirm",
        "password": PASSWORD}).status_code == 200
    refused = web.post(f"/lab/specimens/{flagged}/correct", data={
        "csrf_token": csrf, "reason": "wrong plate map", "password": "not-my-password"})
    assert refused.status_code == 401
    assert _textarea(refused.text, "correction-form") == "wrong plate map"
    assert 'id="correction-form-error"' in refused.text
    assert "not-my-password" not in refused.text
    assert 'id="decision-form-error"' not in refused.text
