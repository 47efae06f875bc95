"""Texts the code builds and stores in English are shown in Chinese on the Chinese pages: a
serial-screening repeat request (worklists, the unit's home), a run's QC reasons (a rejected
run superseded by a new file of its plate, a withdrawn plate, every plate-QC finding, every
instrument reader's warning) and
why a result message waits (the messages page). The pages are scanned for English left over:
no three English words in a row outside the markup."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from lims.web.context import lab_time
from lims.web.i18n import load_translations
from lims.web.phrases import Phrases
from msms.qc.messages import FINDINGS
from tests.instruments.builders import AS_WRITTEN, every_reader_warning
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, sign_off_plates, specimen_body, upload
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.msms.qc.builders import FINDING_FIELDS, every_finding_reason

#: three English words in a row (a sentence the page did not translate)
_WORDS = re.compile(r"[A-Za-z][a-z]+(?:[ ,;:()]+[a-z]+){2,}")


def english_left(html: str) -> list[str]:
    """Runs of English words in the page's text (scripts, styles and tags removed)."""
    body = html.split("<main", 1)[-1]
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    text = re.sub(r"<[^>]+>", "\n", body)
    return [m.group(0) for m in _WORDS.finditer(text)]


def test_the_scan_finds_an_english_sentence():
    assert english_left("<main><td>serial screening (birth weight 1500 g)</td></main>")
    assert not english_left("<main><td>连续筛查 Phe=180&gt;120 HL7 A01</td></main>")


def test_built_texts_are_shown_in_chinese(client, web, world):
    tech = world.auth("technician")
    small = client.post(f"{API}/specimens", json=specimen_body(
        card(1), world.submitter_ids[0], birth_weight_g=1500), headers=tech)
    assert small.status_code == 201, small.text
    accession(client, world, 2)
    rejected = upload(client, world, "p1.csv", plate_csv("SUP-1", {card(2): {}},
                                                         qc_low_phe=5.0))
    assert rejected.status_code in (201, 422), rejected.text
    good = upload(client, world, "p1-again.csv", plate_csv("SUP-1", {card(2): {}}))
    assert good.status_code == 201, good.text
    sign_off_plates(client, tech)  # the bulk release takes the cards of signed-off plates
    released = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                           headers=world.auth("reviewer"))
    assert released.status_code == 200, released.text
    runs = client.get(f"{API}/runs", headers=tech).json()
    first = min(r["id"] for r in runs)

    sign_in_page(web, "admin")
    english = web.get(f"/lab/runs/{first}").text
    assert "superseded: plate SUP-1 was uploaded again" in english
    assert "serial screening (birth weight 1500 g" in web.get("/lab/worklists").text
    assert "no HL7 endpoint for this submitter" in web.get("/lab/messages").text
    web.cookies.set("nbs_lang", "zh_CN")
    pages = {path: web.get(path).text for path in (
        "/lab/worklists", f"/lab/runs/{first}", "/lab/messages")}
    assert "连续筛查（出生体重 1500 g，低于 2000 g）" in pages["/lab/worklists"]
    assert "已被取代：板 SUP-1 已以 p1-again.csv 重新上传" in pages[f"/lab/runs/{first}"]
    assert "该送检单位没有 HL7 端点" in pages["/lab/messages"]
    web.cookies.clear()
    sign_in_page(web, "submitter")
    web.cookies.set("nbs_lang", "zh_CN")
    pages["/unit"] = web.get("/unit").text
    assert "连续筛查（出生体重 1500 g" in pages["/unit"]
    for path, html in pages.items():
        assert not english_left(html), (path, english_left(html))


def test_the_method_coverage_finding_reads_in_chinese():
    zh = Phrases(load_translations()["zh_CN"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))
    reason = "method_coverage: " + FINDINGS.text(
        "analytes_not_measured", absent=29, total=48, method="NBS-48", n_wells=96,
        wells="A01, A02, A03, A04 and 92 more", analytes="C3, C5")
    shown = zh.qc_reason(reason)
    assert shown.startswith("方法覆盖：方法 NBS-48 的 48 个分析物中有 29 个")
    assert "A01、A02、A03、A04 等，另有 92 个" in shown and "C3、C5；" in shown
    assert not english_left(shown)
    due = datetime(2026, 3, 5, 8, 0, tzinfo=UTC).isoformat(timespec="minutes")
    from lims.interfaces.phrases import DELIVERY_PHRASES
    waiting = DELIVERY_PHRASES.text("endpoint_failed", failures=2, error="connection refused",
                                    due_at=due)
    assert zh.delivery_note(waiting) == (
        "端点已失败 2 次（connection refused）；下次尝试 2026-03-05 16:00 Asia/Shanghai")


#: A word of three or more lower-case Latin letters (codes such as C5DC, Phe or p99 have none).
_ENGLISH_WORD = re.compile(r"[A-Za-z]*[a-z]{3,}[A-Za-z]*")
#: What a reason keeps as written: analyte codes, wells, lots, numbers.
_KEPT = re.compile(r"[A-Z][A-Za-z]?\d+\w*|\d+(?:\.\d+)?")
#: Names the sample reasons carry as they are (a method's label, a file, a column), the unit,
#: the rules' name and the measurement kind ``response`` (a code of the measurements table).
_AS_WRITTEN = (FINDING_FIELDS["method"], FINDING_FIELDS["source"], FINDING_FIELDS["columns"],
               "Westgard", "µmol/L", "response")


def test_every_plate_qc_finding_reads_in_chinese():
    """Every phrase of the plate QC's findings (``msms.qc.messages``), with items of every
    kind in its lists, is translated: no English word left, every code and number kept."""
    zh = Phrases(load_translations()["zh_CN"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))
    en = Phrases(load_translations()["en"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))
    untranslated = {}
    for reason in every_finding_reason():
        assert en.qc_reason(reason) == reason
        shown = zh.qc_reason(reason)
        left = shown
        for name in _AS_WRITTEN:
            left = left.replace(name, " ")
        if _ENGLISH_WORD.search(left) or sorted(_KEPT.findall(reason)) != sorted(
                _KEPT.findall(shown)):
            untranslated[reason] = shown
    assert not untranslated, untranslated
    shown = zh.qc_reason(every_finding_reason()[-2])  # westgard_lot
    assert shown == "Westgard规则：C8 违反 1-3s（批号 VQC-L-2501）：z = +3.40 (A02), -2.10 (A03)"


def test_every_reader_warning_reads_in_chinese():
    """Every warning the instrument readers write (``instruments.issues``), as a run keeps it
    with its QC reasons, is translated: what names a thing in the file or a setting of the
    reader's profile is kept as written, no other English word is left."""
    zh = Phrases(load_translations()["zh_CN"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))
    en = Phrases(load_translations()["en"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))
    untranslated = {}
    for stored in every_reader_warning():
        assert en.qc_reason(stored) == stored
        shown = zh.qc_reason(stored)
        if not shown.startswith("警告：") or _ENGLISH_WORD.search(AS_WRITTEN.sub(" ", shown)):
            untranslated[stored] = shown
    assert not untranslated, untranslated
