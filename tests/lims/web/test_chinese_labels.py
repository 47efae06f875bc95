"""Chinese pages show Chinese: the disorders' names (as the documents name them,
``reports/data/wording/zh-CN.toml``), the unsatisfactory codes' descriptions, the audit trail's
actions and its column, the case's opening time (every action the code audits has its label:
``test_audit_labels.py``)."""

from __future__ import annotations

import re

from lims.followup.service import catalogue
from lims.web.i18n import load_translations
from reports.wording import wording
from tests.lims.documents.test_documents import _referred
from tests.lims.helpers import card
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession


def test_disorder_names_in_chinese_are_the_documents_names():
    chinese, words = load_translations()["zh_CN"], wording("zh-CN")
    for code, disorder in catalogue().items():
        assert chinese.gettext(disorder.name) == words.disorder_name(code), code


def _chinese(web) -> None:  # type: ignore[no-untyped-def]
    web.cookies.set("nbs_lang", "zh_CN")


def test_chinese_pages_read_back_in_chinese(client, web, world):
    _referred(client, world)
    case = client.get("/api/v1/cases", headers=world.auth("follow_up")).json()[0]
    sign_in_page(web, "follow_up")
    _chinese(web)
    page = web.get(f"/followup/cases/{case['id']}").text
    assert "MSUD <span class=\"muted\">（枫糖尿症）</span>" in page
    assert "Maple syrup urine disease" not in page
    assert "<th>开案时间</th>" in page and "发出时间" not in page
    fu = world.auth("follow_up")
    clinic = client.post("/api/v1/clinics", json={"code": "METAB", "name": "Metabolic clinic"},
                         headers=fu).json()
    client.post(f"/api/v1/cases/{case['id']}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached"}, headers=fu)
    referred = client.post(f"/api/v1/cases/{case['id']}/transitions", json={
        "transition": "refer", "clinic_id": clinic["id"]}, headers=fu)
    assert referred.status_code == 200, referred.text
    page = web.get(f"/followup/cases/{case['id']}").text
    found = page.split('id="form-diagnose"')[1].split("</form>")[0]
    assert "MSUD &middot; 枫糖尿症" in found and "PKU &middot; 苯丙酮尿症" in found
    assert "Maple syrup urine disease" not in page
    web.cookies.clear()
    csrf = sign_in_page(web, "technician")
    _chinese(web)
    form = web.get("/lab/accession").text
    assert "U01 &middot; 血量不足，无法检测" in form and "Quantity of blood" not in form
    _accession(web, csrf, card(7))
    web.cookies.clear()
    sign_in_page(web, "admin")
    _chinese(web)
    trail = web.get("/lab/audit").text
    assert "<th>操作</th>" in trail and "<th>处置</th>" not in trail
    shown = dict(re.findall(r'<span data-action="([a-z_]+)">([^<]*)</span>', trail))
    assert shown.get("login") == "登录" and shown.get("create") == "新建", shown
    assert all(not re.search(r"[a-z]_[a-z]", label) for label in shown.values()), shown


def test_the_english_audit_page_reads_in_words(client, web, world):
    sign_in_page(web, "admin")
    trail = web.get("/lab/audit").text
    assert "<th>Event</th>" in trail
    shown = dict(re.findall(r'<span data-action="([a-z_]+)">([^<]*)</span>', trail))
    assert shown.get("login") == "signed in", shown
