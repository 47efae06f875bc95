"""A serial-screening request shows when its card is due, on the laboratory's worklists and on
the submitter's home page; a request of another kind shows none on the worklists (and its
follow-up case's due time on the submitter's page, as before)."""

from __future__ import annotations

import re
from datetime import timedelta

from lims.settings import get_settings
from tests.lims.accession.test_serial_screening import LATE_BIRTH
from tests.lims.helpers import API, BIRTH, card, specimen_body
from tests.lims.web.conftest import sign_in_page


def _row(html: str, table: str, text: str) -> str:
    body = html.split(f'id="{table}"')[1].split("</table>")[0]
    rows = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", body, re.S) if text in r]
    assert len(rows) == 1, (text, body)
    return rows[0]


def _due(row: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'<td class="due">(.*?)</td>', row, re.S)
                  .group(1)).strip()


def test_the_serial_card_s_due_date_is_listed(web, world):
    north = world.submitter_ids[0]
    small = specimen_body(card(301), north, infant={
        "submitter_id": north, "birth_at": BIRTH.isoformat(), "sex": "M", "birth_weight_g": 1450,
        "gestational_age_weeks": 31.0, "mother_name": "Zhao Min", "mother_id": "M-1450"})
    small["collected_at"] = (BIRTH + timedelta(days=1.5)).isoformat()
    small["received_at"] = (BIRTH + timedelta(days=2.5)).isoformat()
    unusable = specimen_body(card(302), north, unsatisfactory_code="U01")
    for body in (small, unusable):
        created = web.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
        assert created.status_code == 201, created.text

    sign_in_page(web, "technician")
    lab = web.get("/lab/worklists").text
    serial = _row(lab, "repeat-requests", card(301))
    assert "a card at 14 days of age, from 2026-03-15" in serial  # the reason, as before
    assert _due(serial) == "2026-03-15" and 'data-due="2026-03-15"' in serial
    assert _due(_row(lab, "repeat-requests", card(302))) == "-"
    chinese = web.get("/lab/worklists", headers={"Accept-Language": "zh-CN"}).text
    assert _due(_row(chinese, "repeat-requests", card(301))) == "2026-03-15"

    web.cookies.clear()
    sign_in_page(web, "submitter")
    unit = web.get("/unit")
    assert unit.status_code == 200
    assert _due(_row(unit.text, "repeat-requests", card(301))) == "2026-03-15"
    # the unusable card's request shows its follow-up case's due time, as before
    assert _due(_row(unit.text, "repeat-requests", card(302))) not in ("-", "2026-03-15")


def test_the_due_date_is_the_laboratory_s_day(monkeypatch, request, web, world):
    """Born at 18:20 UTC, 2 March in Beijing: the card at 14 days is due from 16 March on the
    worklists page, as the API says."""
    monkeypatch.setenv("NBS_TIME_ZONE", "Asia/Shanghai")
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    north = world.submitter_ids[0]
    body = specimen_body(card(331), north, infant={
        "submitter_id": north, "birth_at": LATE_BIRTH.isoformat(), "sex": "F",
        "birth_weight_g": 1450, "gestational_age_weeks": 31.0, "mother_name": "Li Na",
        "mother_id": "M-331"})
    body["collected_at"] = (LATE_BIRTH + timedelta(days=1.5)).isoformat()
    body["received_at"] = (LATE_BIRTH + timedelta(days=2.5)).isoformat()
    created = web.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert created.status_code == 201, created.text
    sign_in_page(web, "technician")
    serial = _row(web.get("/lab/worklists").text, "repeat-requests", card(331))
    assert _due(serial) == "2026-03-16" and "from 2026-03-16" in serial
    [listed] = web.get(f"{API}/repeat-requests", headers=world.auth("technician")).json()
    assert listed["due"] == "2026-03-16"
