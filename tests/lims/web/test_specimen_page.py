"""The specimen page: the baby's markers drawn against babies like this one, the baby's
specimens as a trend, the signed correction of a released result, times in the laboratory's
time zone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlmodel import Session, select

from lims.app import create_app
from lims.models import AuditEvent, Specimen
from lims.settings import Settings
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import card
from tests.lims.plates import CsvPipeline, plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession, _upload


def _section(html: str, marker: str, end: str = "</svg>") -> str:
    return html.split(marker, 1)[1].split(end, 1)[0]


def _baby_with_a_repeat(web: TestClient) -> dict[str, int]:
    """card(1) flagged PKU (Phe 180, then its duplicates), card(3) MSUD (critical), card(4) a
    repeat card of card(1)'s baby; returns the specimen ids by barcode."""
    csrf = sign_in_page(web, "technician")
    for n in (1, 3):
        assert _accession(web, csrf, card(n)).status_code == 201
    repeat = web.post("/lab/accession", data={
        "csrf_token": csrf, "barcode": card(4), "submitter_id": "1",
        "previous_barcode": card(1), "collected_at": "2026-03-05T08:00",
        "received_at": "2026-03-06T08:00"})
    assert repeat.status_code == 201, repeat.text
    _upload(web, csrf, "s1.csv", plate_csv("S-1", {card(1): {"Phe": 180}, card(3): {"Xle": 950}}))
    _upload(web, csrf, "s2.csv", plate_csv("S-2", [(card(1), {"Phe": 170}),
                                                   (card(1), {"Phe": 180})]))
    _upload(web, csrf, "s3.csv", plate_csv("S-3", {card(4): {"Phe": 90}}))
    web.cookies.clear()
    with Session(web.app.state.engine) as session:  # type: ignore[attr-defined]
        return {s.barcode: s.id for s in session.exec(select(Specimen)) if s.id}


def test_the_markers_are_drawn_against_babies_like_this_one_and_as_a_trend(web, world):
    ids = _baby_with_a_repeat(web)
    sign_in_page(web, "reviewer")
    page = web.get(f"/lab/specimens/{ids[card(1)]}").text
    chart = _section(page, 'class="chart population-chart"')
    assert chart.count('class="value"') == 1 and 'data-marker="Phe"' in chart
    assert chart.count('class="band ') == 4  # P0.1-P99.9, P1-P99, P5-P95, P25-P75
    assert 'class="cutoff"' in chart and 'class="median"' in chart
    cutoff_x = float(re.search(r'class="cutoff" x1="([0-9.]+)"', chart).group(1))
    value_x = float(re.search(r'class="value" cx="([0-9.]+)"', chart).group(1))
    p99_to = re.search(r'class="band p99" x="([0-9.]+)"[^>]*width="([0-9.]+)"', chart)
    assert value_x > cutoff_x  # 175 µmol/L is above the cutoff of 120
    assert float(p99_to.group(1)) + float(p99_to.group(2)) < cutoff_x  # P99 below the cutoff
    # the trend: both of the baby's specimens, one point each, the other one linked
    table = page.split('id="trend"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr") == 3 and f'href="/lab/specimens/{ids[card(4)]}"' in table
    assert "36.0" in table and "96.0" in table  # ages at collection (h)
    trend = _section(page, 'class="chart trend-chart" data-marker="Phe"')
    assert trend.count("<circle") == 2 and trend.count('class="value current"') == 1
    assert trend.count('class="band"') == 2 and "<polyline" in trend
    # another baby with one specimen: no trend chart, a critical call drawn
    other = web.get(f"/lab/specimens/{ids[card(3)]}").text
    assert 'id="no-earlier"' in other and 'class="chart trend-chart"' not in other
    assert _section(other, 'class="chart population-chart"').count('class="value"') == 1
    # the repeat card (no call of its own) draws the marker flagged on the first
    repeat = web.get(f"/lab/specimens/{ids[card(4)]}").text
    assert 'class="chart population-chart"' not in repeat
    assert _section(repeat, 'data-marker="Phe"').count("<circle") == 2


def test_a_released_result_is_corrected_with_the_signature(web, world):
    ids = _baby_with_a_repeat(web)
    specimen = ids[card(3)]
    csrf = sign_in_page(web, "reviewer")
    assert 'id="correction-form"' not in web.get(f"/lab/specimens/{specimen}").text
    early = web.post(f"/lab/specimens/{specimen}/correct", data={
        "csrf_token": csrf, "reason": "typo", "password": PASSWORD})
    assert early.status_code == 409  # awaiting review: nothing released to correct
    assert web.post(f"/lab/specimens/{specimen}/decide", data={
        "csrf_token": csrf, "decision": "refer", "reason": "confirm",
        "password": PASSWORD}).status_code == 200
    page = web.get(f"/lab/specimens/{specimen}").text
    assert 'id="correction-form"' in page and 'action="/lab/specimens/' in page
    url = f"/lab/specimens/{specimen}/correct"
    form = {"csrf_token": csrf, "reason": "wrong plate map", "password": PASSWORD}
    assert web.post(url, data={**form, "csrf_token": "forged"}).status_code == 403
    assert web.post(url, data={**form, "password": "nope"}).status_code == 401
    assert web.post(url, data={**form, "reason": ""}).status_code == 422
    done = web.post(url, data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?corrected=1")
    shown = web.get(done.headers["location"]).text
    assert 'id="corrected"' in shown and "version 2" in shown
    assert 'id="specimen-state">awaiting review' in shown and 'id="correction-form"' not in shown
    assert "referred" in shown.split('id="releases"', 1)[1]  # the released version stays
    with Session(web.app.state.engine) as session:  # type: ignore[attr-defined]
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "correct", AuditEvent.entity_id == str(specimen))).all()
    assert [e.reason for e in events] == ["wrong plate map"]
    web.cookies.clear()
    csrf = sign_in_page(web, "technician")
    assert 'id="correction-form"' not in web.get(f"/lab/specimens/{specimen}").text
    assert web.post(url, data={**form, "csrf_token": csrf}).status_code == 403


def test_the_correction_form_is_in_chinese(web, world):
    ids = _baby_with_a_repeat(web)
    csrf = sign_in_page(web, "reviewer")
    web.post(f"/lab/specimens/{ids[card(3)]}/decide", data={
        "csrf_token": csrf, "decision": "refer", "reason": "confirm", "password": PASSWORD})
    web.cookies.set("nbs_lang", "zh_CN")
    page = web.get(f"/lab/specimens/{ids[card(3)]}").text
    form = page.split('id="correction-form"', 1)[1].split("</form>", 1)[0]
    assert "Correct" not in page and "Reason for" not in form and "签名" in form


@pytest.fixture
def shanghai(settings: Settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    local = settings.model_copy(update={"time_zone": "Asia/Shanghai"})
    app = create_app(local, engine, pipeline=CsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_times_are_shown_in_the_laboratory_time_zone(shanghai, world):
    ids = _baby_with_a_repeat(shanghai)
    sign_in_page(shanghai, "reviewer")
    page = shanghai.get(f"/lab/specimens/{ids[card(1)]}").text
    assert "2026-03-02 20:00 Asia/Shanghai" in page  # typed on the laboratory's clock
    assert " UTC" not in page
    banner = shanghai.get("/lab/alerts/banner").text
    assert "Asia/Shanghai" in banner and " UTC" not in banner
    assert "Asia/Shanghai" in shanghai.get("/lab/alerts").text


def test_an_unknown_time_zone_stops_start_up_naming_the_setting(monkeypatch):
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        Settings(time_zone="Mars/Olympus")
    assert Settings(time_zone=" Europe/Berlin ").time_zone == "Europe/Berlin"
    from lims.errors import ConfigurationError
    from lims.settings import get_settings

    monkeypatch.setenv("NBS_TIME_ZONE", "Asia/Nowhere")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="NBS_TIME_ZONE: .*unknown time zone"):
            get_settings()
    finally:
        get_settings.cache_clear()


class _NotedPipeline(CsvPipeline):
    """The test pipeline, its calls carrying the notes the real tiers write."""

    NOTES = ("secondary markers in range; second tier: p=0.213; not filtered (MSUD not in the "
             "training data); top features: Xle=950 (FP median 180; for recall); "
             "unread: Leu missing, Xle/Phe undefined (Phe missing)")

    def evaluate(self, profiles, *, stage=None):  # type: ignore[no-untyped-def]
        out = super().evaluate(profiles) if stage is None else super().evaluate(profiles,
                                                                                 stage=stage)
        out.calls["reasons"] = out.calls["reasons"] + "; " + self.NOTES
        return out


@pytest.fixture
def noted(settings: Settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=_NotedPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


_ENGLISH = ("time-critical", "on card", "secondary markers", "second tier", "not filtered",
            "training data", "top features", "FP median", "for recall", "unread", "missing")


def test_alerts_and_reasons_are_shown_in_chinese_without_english_left(noted, world):
    ids = _baby_with_a_repeat(noted)
    sign_in_page(noted, "reviewer")
    english = noted.get(f"/lab/specimens/{ids[card(3)]}").text
    assert "secondary markers in range" in english and "not filtered (MSUD" in english
    assert "time-critical MSUD on card" in noted.get("/lab/alerts").text
    noted.cookies.set("nbs_lang", "zh_CN")
    page = noted.get(f"/lab/specimens/{ids[card(3)]}").text
    reasons = " ".join(re.findall(r'<p class="muted reason">(.*?)</p>', page))
    assert "次要标志物在范围内" in reasons and "训练数据中没有 MSUD" in reasons
    assert "Leu 缺失" in reasons and "Xle/Phe 无法计算（Phe 缺失）" in reasons
    assert "Xle=950（假阳性中位数 180；支持召回）" in reasons
    banner = noted.get("/lab/alerts/banner").text
    alerts = noted.get("/lab/alerts").text
    for text in (reasons, banner, alerts):
        assert not [w for w in _ENGLISH if w in text], text
    assert f"危急：卡片 {card(3)} 的 MSUD：Xle=950&gt;400" in banner


def test_stored_texts_no_phrase_wrote_are_shown_as_written():
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from lims.alerts.messages import ALERT_MESSAGES
    from lims.review.service import REVIEW_REASONS
    from lims.web.context import lab_time
    from lims.web.i18n import load_translations
    from lims.web.phrases import Phrases

    zh = Phrases(load_translations()["zh_CN"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))
    assert zh.review_reason("the mother called") == "the mother called"
    assert zh.review_reason(REVIEW_REASONS.text("accepted_no_recall", disorders="PKU")) \
        == "审核者接受二级筛查对 PKU 的建议（不召回）"
    due = datetime(2026, 3, 5, 8, 0, tzinfo=UTC).isoformat(timespec="minutes")
    message = ALERT_MESSAGES.text("followup_overdue", case=12, label="PKU",
                                  due_action="first_contact", due_at=due)
    assert zh.alert_message(message) == (
        "随访病例 12（PKU）已逾期：first_contact 应于 2026-03-05 16:00 Asia/Shanghai 完成")
    assert zh.reasons("Phe=180>120; a note of the lab's own") == \
        "Phe=180>120; a note of the lab's own"
