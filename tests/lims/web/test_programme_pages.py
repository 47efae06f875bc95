"""The programme's pages on SQLite and PostgreSQL over a simulated year
(``bench.followup_year``): the bulletin page's figures are the PDF's (read back with pypdf),
each indicator drills down to as many specimens as its n, live births recorded on the page give
coverage; the month's measures, stored after the first view, follow a change in its data;
admins and directors only; CSRF on the forms."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import or_
from sqlmodel import Session, col, select

from bench.followup_year import YEAR, load_year, simulate_year
from lims.auth.service import issue_token
from lims.followup.programme import computed_measures
from lims.models import Director, FollowUpCase, ProgrammeMonth, Specimen, User, utcnow
from lims.vocabulary import OutcomeClass, SpecimenKind
from tests.lims.conftest import password_hash
from tests.lims.helpers import API, accession, card, specimen_body
from tests.lims.web.conftest import sign_in_page
from tests.reports.pdfcheck import page_texts, squash

MONTH = f"{YEAR}-06"


@pytest.fixture
def year(engine):  # type: ignore[no-untyped-def]
    simulated = simulate_year(3_000, seed=11, case_rate=0.04)
    load_year(engine, simulated)
    with Session(engine) as session:
        for name, role, submitter in (("admin", "admin", None), ("unit", "submitter", 1),
                                      ("director", "reviewer", None),
                                      ("reviewer", "reviewer", None)):
            user = User(username=name, full_name=name.title(), role=role,
                        password_hash=password_hash(), submitter_id=submitter)
            session.add(user)
            session.flush()
            issue_token(session, user)
            if name == "director":
                session.add(Director(user_id=user.id, granted_by_name="test"))
        session.commit()
    return simulated


def _cells(html: str, table: str) -> list[str]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<td class="num value">(.*?)</td>', body)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


def test_the_bulletin_page_shows_the_pdfs_figures_and_drills_down(web, year):
    csrf = sign_in_page(web, "admin")
    page = web.get("/programme/bulletin", params={"month": MONTH})
    assert page.status_code == 200, page.text
    assert page.text.count("<svg") >= 2 * 4  # by unit and by district for 4 charts
    assert 'hx-get="/programme/bulletin/trend?month=' in page.text
    trend = web.get("/programme/bulletin/trend", params={"month": MONTH})
    assert trend.status_code == 200 and "<html" not in trend.text
    assert trend.text.count('class="chart trend"') == 4
    assert trend.text.count('class="point"') >= 4 * 5  # six months, a value in most
    values = [v for v in _cells(page.text, "programme-measures") if v != "-"]
    assert len(values) >= 8
    pdf = web.post("/programme/bulletin/pdf", data={"csrf_token": csrf, "month": MONTH})
    assert pdf.status_code == 200 and pdf.headers["x-document-id"] == f"BUL-{MONTH}-en"
    text = squash(" ".join(page_texts(pdf.content)))
    for value in values:
        assert squash(value) in text, value
    ranked = re.findall(r'<tr data-unit="(S\d)"', page.text)
    assert sorted(ranked) == [s["code"] for s in year.submitters]
    for code in ranked:
        assert code in text or f"Hospital {code}" in text
    # drill-down: the rows behind a measure are its n (and numerator)
    row = page.text.split('data-code="unsatisfactory_rate"', 1)[1].split("</tr>", 1)[0]
    counts = re.search(r'class="num counts">([\d,]+) / ([\d,]+)<', row)
    assert counts, row
    drill = web.get("/programme/indicators/unsatisfactory_rate", params={"month": MONTH})
    assert drill.status_code == 200
    total = re.search(r'id="drill-total">(\d+)<', drill.text)
    counted = re.search(r'id="drill-counted">(\d+)<', drill.text)
    assert total and counted
    assert (counted.group(1), total.group(1)) == tuple(c.replace(",", "") for c in counts.groups())
    unit = web.get("/programme/indicators/recall_compliance",
                   params={"month": MONTH, "unit": "S1"})
    assert unit.status_code == 200 and "Hospital S1" in unit.text
    assert web.get("/programme/indicators/nonsense", params={"month": MONTH}).status_code == 404
    assert web.get("/programme/bulletin", params={"month": "June"}).status_code == 422


def test_the_chinese_bulletin_page_shows_the_chinese_pdfs_figures(web, year):
    csrf = sign_in_page(web, "admin")
    web.cookies.set("nbs_lang", "zh_CN")
    page = web.get("/programme/bulletin", params={"month": MONTH})
    assert page.status_code == 200 and "项目指标" in page.text
    values = [v for v in _cells(page.text, "programme-measures") if v != "-"]
    assert any("小时" in v or "天" in v for v in values)
    pdf = web.post("/programme/bulletin/pdf", data={"csrf_token": csrf, "month": MONTH})
    assert pdf.headers["x-document-id"] == f"BUL-{MONTH}-zh-CN"
    text = squash(" ".join(page_texts(pdf.content)))
    for value in values:
        assert squash(value) in text, value


def test_live_births_on_the_page_give_coverage(web, year):
    csrf = sign_in_page(web, "director")
    form = web.get("/programme/births", params={"month": MONTH})
    assert form.status_code == 200
    assert web.post("/programme/births", data={"csrf_token": "forged", "month": MONTH,
                                               "births_1": "300"}).status_code == 403
    bad = web.post("/programme/births", data={"csrf_token": csrf, "month": MONTH,
                                              "births_1": "many"})
    assert bad.status_code == 422 and "births_1" in bad.text
    saved = web.post("/programme/births", data={"csrf_token": csrf, "month": MONTH,
                                                **{f"births_{s['id']}": "300"
                                                   for s in year.submitters}})
    assert saved.status_code == 200 and 'id="births-saved"' in saved.text
    refused = web.post("/programme/births/import", data={"csrf_token": csrf, "month": MONTH},
                       files={"file": ("b.csv", b"submitter,month,live_births\nS1,2025-06,x\n",
                                       "text/csv")})
    assert refused.status_code == 422 and "b.csv:2" in refused.text
    page = web.get("/programme/bulletin", params={"month": MONTH})
    row = page.text.split('data-code="coverage"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r"/ 1,800<", row), row


def test_the_programme_pages_are_for_admins_and_directors(web, year):
    sign_in_page(web, "reviewer")
    assert web.get("/programme/bulletin", params={"month": MONTH}).status_code == 403
    assert web.get("/programme/births").status_code == 403
    web.cookies.clear()
    sign_in_page(web, "unit")
    assert web.get("/programme/bulletin", params={"month": MONTH}).status_code == 403
    assert web.get("/programme/indicators/ppv", params={"month": MONTH}).status_code == 403


def _counts(html: str, code: str) -> tuple[int, int]:
    row = html.split(f'data-code="{code}"', 1)[1].split("</tr>", 1)[0]
    found = re.search(r'class="num counts">([\d,]+) / ([\d,]+)<', row)
    assert found, row
    numerator, n = (int(c.replace(",", "")) for c in found.groups())
    return numerator, n


def test_a_change_in_the_months_data_changes_the_page(web, year, engine):
    """The month's measures are stored after the first view; a card marked unsatisfactory
    and a case confirmed later change the page all the same, to the measures computed from
    the data (and the unit's report card with it)."""
    sign_in_page(web, "admin")
    before = web.get("/programme/bulletin", params={"month": MONTH})
    unsatisfactory = _counts(before.text, "unsatisfactory_rate")
    again = web.get("/programme/bulletin", params={"month": MONTH})
    assert _counts(again.text, "unsatisfactory_rate") == unsatisfactory
    with Session(engine) as session:
        stored = session.get(ProgrammeMonth, YEAR * 100 + 6)
        assert stored is not None and stored.computed_version == stored.version
    with Session(engine) as session:
        confirmed = computed_measures(session, date(YEAR, 6, 1)).programme[
            "confirmed_cases"].n
        card = session.exec(select(Specimen).where(
            col(Specimen.received_at) >= datetime(YEAR, 6, 1, tzinfo=UTC),
            col(Specimen.received_at) < datetime(YEAR, 6, 28, tzinfo=UTC),
            Specimen.submitter_id == 1,
            Specimen.kind == SpecimenKind.initial,
            col(Specimen.unsatisfactory_code).is_(None)).limit(1)).one()
        card.unsatisfactory_code = "INSUFF"
        case = session.exec(select(FollowUpCase).where(
            col(FollowUpCase.opened_at) >= datetime(YEAR, 6, 1, tzinfo=UTC),
            col(FollowUpCase.opened_at) < datetime(YEAR, 6, 20, tzinfo=UTC),
            or_(col(FollowUpCase.outcome).is_(None),
                col(FollowUpCase.outcome) != OutcomeClass.confirmed)).limit(1)).one()
        case.outcome, case.diagnosed_disorder = OutcomeClass.confirmed, "PKU"
        case.diagnosed_at = case.opened_at + timedelta(days=5)
        session.add_all([card, case])
        session.commit()
        computed = computed_measures(session, date(YEAR, 6, 1))
    expected = computed.programme
    expected_unit = computed.by_submitter["S1"]["unsatisfactory_rate"].n
    after = web.get("/programme/bulletin", params={"month": MONTH})
    assert _counts(after.text, "unsatisfactory_rate") == (unsatisfactory[0] + 1,
                                                          unsatisfactory[1])
    assert expected["confirmed_cases"].n == confirmed + 1
    row = after.text.split('data-code="confirmed_cases"', 1)[1].split("</tr>", 1)[0]
    assert f'class="num counts">{confirmed + 1:,}<' in row, row
    assert expected["unsatisfactory_rate"].numerator == unsatisfactory[0] + 1
    web.cookies.clear()
    sign_in_page(web, "unit")
    card_page = web.get("/unit/report-card", params={"month": MONTH})
    row = card_page.text.split('data-code="unsatisfactory_rate"', 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num">{expected_unit:,}</td>' in row, row


def _month_shown(html: str) -> str:
    return re.search(r'<span id="bulletin-month">([^<]+)</span>', html).group(1)


def test_the_bulletin_opens_on_the_latest_month_with_cards(client, web, world):
    """No month asked for: the latest month with cards received, said so on the page (last
    month before the first card); a month asked for is shown as asked, the chooser kept."""
    sign_in_page(web, "admin")
    today = utcnow().date().replace(day=1)
    last = (today - timedelta(days=1)).replace(day=1)
    empty = web.get("/programme/bulletin").text
    assert _month_shown(empty) == f"{last:%Y-%m}" and 'data-chosen="no_cards"' in empty
    accession(client, world, 1, 2)  # received in 2026-03
    page = web.get("/programme/bulletin").text
    assert _month_shown(page) == "2026-03" and 'data-chosen="latest"' in page
    assert "2026-03 is the latest month with cards received" in page
    assert 'id="month-in-progress"' not in page
    assert 'name="month" value="2026-03"' in page  # the chooser and the PDF take it
    asked = web.get("/programme/bulletin", params={"month": "2026-02"}).text
    assert _month_shown(asked) == "2026-02" and 'id="month-chosen"' not in asked
    web.post("/language", data={"lang": "zh_CN", "next": "/programme/bulletin"})
    assert "2026-03 是收到血片的最近一个月" in web.get("/programme/bulletin").text
    web.post("/language", data={"lang": "en", "next": "/programme/bulletin"})
    now = utcnow()
    body = specimen_body(card(3), world.submitter_ids[0], infant={
        "submitter_id": world.submitter_ids[0], "birth_at": (now - timedelta(days=3)).isoformat(),
        "sex": "M", "birth_weight_g": 3100, "gestational_age_weeks": 39.0,
        "mother_name": "Wang Fang", "mother_id": "M-3"},
        collected_at=(now - timedelta(days=2)).isoformat(),
        received_at=(now - timedelta(hours=1)).isoformat())
    assert client.post(f"{API}/specimens", json=body,
                       headers=world.auth("technician")).status_code == 201
    current = web.get("/programme/bulletin").text
    assert _month_shown(current) == f"{today:%Y-%m}" and 'data-chosen="latest"' in current
    assert 'id="month-in-progress"' in current



def test_a_units_report_card_opens_on_its_latest_month_with_cards(client, web, world):
    """The unit's own cards choose its report card's month: another unit's later card does
    not."""
    sign_in_page(web, "submitter")
    today = utcnow().date().replace(day=1)
    last = (today - timedelta(days=1)).replace(day=1)
    empty = web.get("/unit/report-card").text
    assert f'name="month" value="{last:%Y-%m}"' in empty and 'data-chosen="no_cards"' in empty
    accession(client, world, 1)  # the submitter's unit, received in 2026-03
    now = utcnow()
    south = world.submitter_ids[1]
    body = specimen_body(card(2), south, infant={
        "submitter_id": south, "birth_at": (now - timedelta(days=3)).isoformat(), "sex": "F",
        "mother_name": "Zhou Lan", "mother_id": "M-9"},
        collected_at=(now - timedelta(days=2)).isoformat(),
        received_at=(now - timedelta(hours=1)).isoformat())
    assert client.post(f"{API}/specimens", json=body,
                       headers=world.auth("technician")).status_code == 201
    page = web.get("/unit/report-card").text
    assert 'name="month" value="2026-03"' in page and 'data-chosen="latest"' in page
    assert "2026-03 is the latest month with cards received" in page
    assert 'id="month-in-progress"' not in page


def test_the_measure_births_and_trend_pages_open_on_the_bulletin_s_month(client, web, world):
    """Without a month they show the month the bulletin opens on (the latest with cards
    received), not last month, which is empty for a laboratory whose cards are older."""
    sign_in_page(web, "admin")
    accession(client, world, 1, 2)  # received in 2026-03
    births = web.get("/programme/births").text
    assert 'name="month" value="2026-03"' in births, births
    drill = web.get("/programme/indicators/unsatisfactory_rate").text
    assert "2026-03" in drill
    trend = web.get("/programme/bulletin/trend").text
    assert web.get("/programme/bulletin/trend", params={"month": "2026-03"}).text == trend
