"""The reviewer's queue names the plates whose cards wait for their technician's sign-off and
links them: the reviewer reads the plate's page, without its sign-off and withdrawal forms (the
technician's). A page refused to a role says why in the page's language."""

from __future__ import annotations

import re

from tests.lims.helpers import card
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession, _upload


def test_the_reviewer_reads_the_plate_held_back_but_does_not_sign_it_off(web, world):
    csrf = sign_in_page(web, "technician")
    assert _accession(web, csrf, card(1)).status_code == 201
    assert _upload(web, csrf, "s.csv", plate_csv("S-1", {card(1): {}})).status_code == 303
    web.cookies.clear()
    csrf = sign_in_page(web, "reviewer")
    queue = web.get("/lab/review").text
    [link] = re.findall(r'<a href="(/lab/runs/\d+)">S-1</a>', queue)
    plate = web.get(link)
    assert plate.status_code == 200 and "S-1" in plate.text
    assert 'id="qc-technician"' in plate.text
    assert 'id="qc-form"' not in plate.text and 'id="withdraw-form"' not in plate.text
    assert web.post(f"{link}/qc", data={"csrf_token": csrf, "decision": "accept",
                                        "reason": "looked fine"}).status_code == 403
    web.cookies.clear()
    sign_in_page(web, "follow_up")
    refused = web.get(link)
    assert refused.status_code == 403 and "role follow-up may not see this page" in refused.text
    chinese = web.get(link, headers={"Accept-Language": "zh-CN"})
    assert chinese.status_code == 403
    assert "无权查看此页面" in chinese.text and "may not see" not in chinese.text
