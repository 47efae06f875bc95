"""A Chinese page shows the domain errors a technician, a reviewer and a follow-up coordinator
meet in Chinese, keeping the file, line and field they name: sign-in and password refusals, a
card's and a case's transitions (409), the review's decisions (a missing reason), uploads, a
plate's sign-off and held wells. Each is written with a refusal phrase and read back by the
``page_error`` filter; an error no phrase wrote stays English, and an English page shows every
error exactly as the service wrote it."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

import instruments
from instruments.issues import READER_ERRORS
from instruments.platemap import read_plate_map
from lims.accession.service import CARD_REFUSALS
from lims.auth.service import AUTH_REFUSALS, MAX_FAILED_LOGINS
from lims.documents.service import LETTER_REFUSALS
from lims.errors import ConflictError, InvalidInputError
from lims.followup.machine import CASE_REFUSALS
from lims.reference import BARCODE_REFUSALS
from lims.reflex.genotypes import GENOTYPE_REFUSALS
from lims.review.service import RELEASE_REFUSALS
from lims.runs.notes import HELD_REASONS
from lims.runs.refusals import RUN_REFUSALS
from lims.runs.withdrawal import WITHDRAWAL_REFUSALS
from lims.web.context import lab_time
from lims.web.i18n import load_translations
from lims.web.phrases import ERROR_BOOKS, Phrases
from lims.web.refusals import FORM_REFUSALS, PAGE_REFUSALS, UPLOAD_REFUSALS
from lims.workflow import TRANSITION_REFUSALS
from msms.phrases import Phrase, Phrasebook
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import card, flagged_card
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import csrf_of, sign_in_page
from tests.lims.web.test_case_pages import _referral
from tests.lims.web.test_chinese_input_errors import _ReadsExports
from tests.lims.web.test_chinese_stored_texts import english_left
from tests.lims.web.test_lab_pages import _upload

#: The errors the pages show in Chinese, by who meets them: every refusal phrasebook the
#: ``page_error`` filter reads (an error raised with another text stays English).
COVERED: dict[str, Phrasebook] = {
    "sign-in, password change, signature": AUTH_REFUSALS,
    "a card's transitions (409, a missing reason)": TRANSITION_REFUSALS,
    "a case's transitions and forms (409, 422)": CASE_REFUSALS,
    "a recall letter not due (409)": LETTER_REFUSALS,
    "a reviewer's decision, the bulk release of normals": RELEASE_REFUSALS,
    "the pages' own checks of a form (a reason, a decision, an upload's size)": FORM_REFUSALS,
    "an upload, a plate's sign-off, a held well": RUN_REFUSALS,
    "a plate's withdrawal": WITHDRAWAL_REFUSALS,
    "a card number": BARCODE_REFUSALS,
    "a card's data": CARD_REFUSALS,
    "an instrument file no profile or reader reads": UPLOAD_REFUSALS,
    "an instrument file or plate map a reader refuses (the commonest)": READER_ERRORS,
    "a genotype file": GENOTYPE_REFUSALS,
    "a page refused": PAGE_REFUSALS,
}

#: A value of the fields the page words (a vocabulary's word, a list, a QC reason); the others
#: take ``12``, which every field's pattern reads.
_SAMPLES = {
    "barcode": "2026000018", "state": "awaiting_review", "source": "opened",
    "states": "awaiting_review or awaiting_duplicate", "transition": "refer",
    "transitions": "contact, diagnose", "outcome": "deceased", "outcomes": "deceased, moved",
    "severities": "mild, severe", "status": "discarded", "role": "technician",
    "what": "the plate map",
    "qc_reasons": "blanks: no blank follows a sample well in injection order: carryover not "
                  "estimated",
    "rejection": "rejected by QC", "file_name": "p1.csv", "value": "'12ab'", "check": "3",
    "expected": "4", "scheme": "luhn",
}
_ZH = Phrases(load_translations()["zh_CN"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))
_EN = Phrases(load_translations()["en"].gettext, lab_time(ZoneInfo("Asia/Shanghai")))


def _written(phrase: Phrase) -> tuple[str, dict[str, str]]:
    """The phrase's English text with sample fields, and the fields."""
    fields = {name: _SAMPLES.get(name, "12") for name in phrase.fields}
    return phrase.text(**fields), fields


def test_the_covered_errors_are_the_filter_s():
    assert set(map(id, COVERED.values())) == set(map(id, ERROR_BOOKS))


#: The books an English page shows as the service wrote them (the others word a role or a
#: card's state by its English label, as they did before they were read by ``page_error``).
AS_WRITTEN_IN_ENGLISH = (AUTH_REFUSALS, TRANSITION_REFUSALS, CASE_REFUSALS, LETTER_REFUSALS,
                         FORM_REFUSALS, RUN_REFUSALS, READER_ERRORS)


@pytest.mark.parametrize(("book", "phrase"), [(b, p) for b in ERROR_BOOKS for p in b],
                         ids=lambda p: p.code if isinstance(p, Phrase) else "")
def test_every_refusal_reads_in_chinese_with_its_place(book, phrase):
    text, fields = _written(phrase)
    for error in (text, str(InvalidInputError(text, field="reason", file="p1.csv", line=3))):
        shown = _ZH.page_error(error)
        assert shown != error
        if book in AS_WRITTEN_IN_ENGLISH:
            assert _EN.page_error(error) == error
        rest = shown
        for value in sorted([*fields.values(), "p1.csv", "reason", "sha256", "=true", "[analytes]",
                             '"ignore"', "columns.", "“well”", "“sample_id”", "“barcode”",
                             "“sample_type”", "well、barcode", "µmol/L"], key=len,
                            reverse=True):
            rest = rest.replace(value, " ")
        assert not re.search(r"[a-z]{3,}", rest), (error, shown)  # CSRF, QC may stay
    placed = _ZH.page_error(str(InvalidInputError(text, field="reason", file="p1.csv", line=3)))
    assert placed.startswith("p1.csv:3，字段 reason：")


def test_why_a_well_was_held_reads_in_chinese():
    assert [_ZH.held_reason(HELD_REASONS.text(p.code, **_written(p)[1])) for p in HELD_REASONS] \
        == ["未知编号：没有已登记的血片", "血片当前为“待审核”；该状态下不接收结果"]
    assert _ZH.held_reason("a reason no phrase wrote") == "a reason no phrase wrote"


@pytest.mark.parametrize(("name", "data", "shown"), [
    ("map.csv", b"well,sample_type\nA01,bogus\n",
     "map.csv:2，字段 sample_type：'bogus' 不在以下取值中：patient, "),
    ("map.csv", b"well,sample_id\nA01,1\nA01,2\n", "map.csv:3，字段 well：孔 A01 已在第 2 行给出"),
    ("x.csv", b"Well,Sample ID,Analyte,Value\nA01,S1,Foo,1\nA02,S2,Bar,1\n",
     "x.csv:2，字段 Value：未映射的分析物 'Foo'：既不是目录中的代码也不是别名；请在仪器配置的 "
     "[analytes] 表中映射它（或映射为 \"ignore\"）（另有 1 个错误）"),
    ("x.csv", b"Well,Sample ID,Analyte,Value,Unit\nA01,S1,Phe,1,mg/dL\n",
     "x.csv:2，字段 Value：单位 'mg/dL' 不是 µmol/L；浓度须以 µmol/L（全血）表示"),
], ids=["map-sample-type", "map-well-twice", "unmapped-and-more", "unit"])
def test_the_readers_commonest_errors_read_in_chinese(name, data, shown):
    with pytest.raises(instruments.errors.InstrumentError) as refused:
        if name == "map.csv":
            read_plate_map(data, name=name)
        else:
            instruments.read(data, name=name)
    assert _ZH.page_error(str(refused.value)).startswith(shown)
    assert _EN.page_error(str(refused.value)) == str(refused.value)


def test_a_file_no_reader_recognises_gets_the_page_s_advice(web, world):
    web.app.state.pipeline = _ReadsExports()  # type: ignore[attr-defined]
    csrf = sign_in_page(web, "technician")
    web.cookies.set("nbs_lang", "zh_CN")
    refused = _upload(web, csrf, "notes.txt", b"this is not an instrument export\n")
    assert refused.status_code == 422
    shown = refused.text.split('id="upload-error">')[1].split("</p>")[0]
    assert shown.startswith("notes.txt，字段 file：本实验室没有能识别此文件的读取程序（"
                            "可读取的格式："), shown
    assert "format=" not in shown


def test_an_error_no_phrase_wrote_stays_english():
    for error in ("the moon is not a card", str(ConflictError("plate P-1 is on fire")),
                  str(InvalidInputError("not a number", field="weight", file="c.csv", line=2))):
        assert _ZH.page_error(error) == error


def test_sign_in_and_password_errors_read_in_chinese(web, world):
    csrf = sign_in_page(web, "technician")
    web.cookies.set("nbs_lang", "zh_CN")

    def change(current, new, again):  # type: ignore[no-untyped-def]
        answer = web.post("/lab/password", data={
            "csrf_token": csrf, "current_password": current, "new_password": new,
            "new_password_again": again})
        assert answer.status_code == 422
        return answer.text.split('role="alert">')[1].split("</p>")[0]

    assert change(PASSWORD, "long-enough-1", "long-enough-2") == \
        "字段 new_password_again：两次输入的新密码不一致"
    assert change(PASSWORD, "short", "short") == "字段 new_password：至少需要 10 个字符"
    assert change(PASSWORD, PASSWORD, PASSWORD) == "字段 new_password：新密码与当前密码相同"
    assert change("not-the-password", "long-enough-1", "long-enough-1") == "当前密码错误"
    web.cookies.delete("nbs_lang")
    assert change(PASSWORD, "short", "short") == "field new_password: at least 10 characters"
    web.cookies.clear()
    web.cookies.set("nbs_lang", "zh_CN")
    for _ in range(MAX_FAILED_LOGINS):
        form = web.get("/login")
        assert web.post("/login", data={"username": "reviewer", "password": "wrong-password",
                                        "csrf_token": csrf_of(form.text)}).status_code == 401
    form = web.get("/login")
    locked = web.post("/login", data={"username": "reviewer", "password": PASSWORD,
                                      "csrf_token": csrf_of(form.text)})
    assert locked.status_code == 429
    shown = locked.text.split('role="alert">')[1].split("</p>")[0]
    assert re.fullmatch(r"登录失败次数过多；请在 \d+ 秒后重试", shown), shown


def test_a_reviewer_s_refused_decisions_read_in_chinese(client, web, world):
    specimen = flagged_card(client, world)
    csrf = sign_in_page(web, "reviewer")
    web.cookies.set("nbs_lang", "zh_CN")
    url = f"/lab/specimens/{specimen['id']}/decide"

    def refused(status, **data):  # type: ignore[no-untyped-def]
        answer = web.post(url, data={"csrf_token": csrf, "password": PASSWORD, **data})
        assert answer.status_code == status, answer.text
        return answer.text.split('id="decision-error">')[1].split("</p>")[0]

    assert refused(422, decision="refer", reason=" ") == "字段 reason：请填写此决定的原因"
    assert refused(422, decision="fly") == "字段 decision：请选择决定"
    shown = refused(409, decision="release_normal")
    assert shown.startswith(f"血片 {card(1)} 有未解除的判读（MSUD ") and "推翻判读" in shown
    assert not english_left(f"<main>{shown.replace('MSUD', '')}</main>"), shown
    web.cookies.delete("nbs_lang")
    assert refused(409, decision="release_normal").startswith(
        f"specimen {card(1)} has a standing call (MSUD ")


def test_a_case_s_refused_transition_reads_in_chinese(client, web, world):
    _, case = _referral(client, world)
    csrf = sign_in_page(web, "follow_up")
    web.cookies.set("nbs_lang", "zh_CN")
    answer = web.post(f"/followup/cases/{case['id']}/transitions",
                      data={"csrf_token": csrf, "transition": "close", "reason": "done"})
    assert answer.status_code == 409
    shown = answer.text.split('id="case-error">')[1].split("</p>")[0]
    assert shown.startswith(f"病例 {case['id']} 当前为“") and "状态下允许的操作：" in shown
    assert not english_left(f"<main>{shown}</main>"), shown


def test_upload_and_held_well_errors_read_in_chinese(web, world):
    csrf = sign_in_page(web, "technician")
    web.cookies.set("nbs_lang", "zh_CN")
    empty = _upload(web, csrf, "empty.csv", b"")
    assert empty.status_code == 422
    assert empty.text.split('id="upload-error">')[1].split("</p>")[0] == "empty.csv：文件为空"
    assert _upload(web, csrf, "h.csv", plate_csv("H-1", {card(7): {}})).status_code == 303
    again = _upload(web, csrf, "h2.csv", plate_csv("H-1", {card(7): {"Phe": 80}}))
    assert again.status_code == 409
    shown = again.text.split('id="upload-error">')[1].split("</p>")[0]
    assert shown.startswith("板 H-1 已由 h.csv 存储（批次 ") and "均被拒绝" in shown, shown
    lists = web.get("/lab/worklists").text
    held = re.search(r'data-held="(\d+)">.*?<td class="held-reason">([^<]*)</td>', lists, re.S)
    assert held is not None and held.group(2) == "未知编号：没有已登记的血片"
    answer = web.post(f"/lab/held-wells/{held.group(1)}/resolve", data={
        "csrf_token": csrf, "action": "attach", "barcode": card(8), "note": "arrived"})
    assert answer.status_code == 422
    shown = answer.text.split('id="worklist-error">')[1].split("</p>")[0]
    assert shown.startswith("字段 barcode：暂存孔 ") and "孔不会被重新标记" in shown, shown
