"""A case's page offers only what can succeed now: before its repeat card is released normal, a
repeat request's case offers no "Close: not confirmed" form and no new recall letter (the
repeat card has arrived); a refused close reads in plain words, in English and in Chinese; the
letter form names the languages. The API's case detail lists the same moves. On SQLite and
PostgreSQL."""

from __future__ import annotations

import re

from tests.lims.documents.test_letter_case_state import hand_opened_case
from tests.lims.documents.test_letter_repeat_received import repeat_arrived
from tests.lims.helpers import (
    API,
    card,
    release_held_back_repeat,
    specimen_body,
    upload,
)
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page

ZH = {"Accept-Language": "zh-CN"}


def _error(page: str) -> str:
    return page.split('id="case-error">')[1].split("</p>")[0]


def test_a_case_awaiting_its_repeat_result_offers_no_close_and_no_letter(
        client, world, engine, web):
    case_id, _ = repeat_arrived(client, world, engine, "request_repeat_specimen")
    csrf = sign_in_page(web, "follow_up")
    page = web.get(f"/followup/cases/{case_id}").text
    assert 'id="form-close_not_confirmed"' not in page
    assert 'id="letter-form"' not in page
    assert "The repeat card has arrived: no recall letter asking for one is due" in page
    assert 'id="form-diagnose"' in page  # the state's other moves are still offered
    # the API's case detail lists the same moves as the page offers
    detail = client.get(f"{API}/cases/{case_id}", headers=world.auth("follow_up")).json()
    assert "close_not_confirmed" not in detail["allowed_transitions"]
    assert "diagnose" in detail["allowed_transitions"]
    # the service refuses the close as the page does not offer it, in plain words
    refused = web.post(f"/followup/cases/{case_id}/transitions", data={
        "csrf_token": csrf, "transition": "close_not_confirmed"})
    assert refused.status_code == 409
    assert _error(refused.text) == (
        f"case {case_id} cannot be closed as not confirmed yet: that needs a released normal "
        "result on a later card of the baby, and none is released yet (the repeat card is "
        "still to be tested and released)")
    assert "normal_repeat" not in _error(refused.text)
    chinese = web.post(f"/followup/cases/{case_id}/transitions", headers=ZH, data={
        "csrf_token": csrf, "transition": "close_not_confirmed"})
    assert _error(chinese.text) == (f"病例 {case_id} 暂不能以“未确诊”结案：需要该婴儿之后的血片"
                                    "已发布正常结果，目前尚无（复采卡仍待检测和发布）")
    letter = web.post(f"/followup/cases/{case_id}/letters", headers=ZH, data={
        "csrf_token": csrf, "audience": "clinic", "language": "en"})
    assert letter.status_code == 409
    assert _error(letter.text) == (f"病例 {case_id} 已收到复采卡（复采卡 {card(2)} 已到）：无需再"
                                   "发要求复采的召回信（此前已发的信件可重新打印）")


def test_the_close_is_offered_once_a_later_card_is_released_normal(client, world, engine, web):
    case_id, _ = repeat_arrived(client, world, engine, "request_repeat_specimen")
    third = client.post(f"{API}/specimens", json=specimen_body(
        card(3), world.submitter_ids[0], previous_barcode=card(2)),
        headers=world.auth("technician"))
    assert third.status_code == 201, third.text
    assert upload(client, world, "r.csv", plate_csv("P-REP", {card(3): {}})).status_code == 201
    release_held_back_repeat(client, world, third.json()["id"])
    sign_in_page(web, "follow_up")
    assert 'id="form-close_not_confirmed"' in web.get(f"/followup/cases/{case_id}").text
    detail = client.get(f"{API}/cases/{case_id}", headers=world.auth("follow_up")).json()
    assert "close_not_confirmed" in detail["allowed_transitions"]


def test_the_letter_form_names_the_languages(client, world, web):
    case_id = hand_opened_case(client, world)
    sign_in_page(web, "follow_up")
    form = web.get(f"/followup/cases/{case_id}").text.split('id="letter-form"')[1]
    form = form.split("</form>")[0]
    options = re.findall(r'<option value="([^"]+)"(?: selected)?>([^<]+)</option>', form)
    assert ("en", "English") in options and ("zh-CN", "简体中文") in options
    assert ">en<" not in form and ">zh-CN<" not in form
