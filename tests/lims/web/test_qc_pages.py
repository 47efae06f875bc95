"""The plate page's QC: Levey-Jennings charts as inline SVG with the run's Westgard flags
listed, each well's internal-standard signal, in English and Chinese; the technician's sign-off
shown instead of its buttons once given; the plate's withdrawal."""

from __future__ import annotations

import re

from tests.lims.helpers import card
from tests.lims.plates import plate_csv
from tests.lims.runs.test_qc_charts import HIGH, low_at
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession, _upload


def _plates(web, csrf, *zs):  # type: ignore[no-untyped-def]
    urls = []
    for n, z in enumerate(zs, start=1):
        response = _upload(web, csrf, f"W-{n}.csv", plate_csv(
            f"W-{n}", {card(n): {}}, qc_low_phe=low_at(z), qc_high_phe=HIGH.mean_umol_l))
        assert response.status_code == 303, response.text
        urls.append(response.headers["location"])
    return urls


def test_the_plate_page_charts_the_controls_with_their_westgard_flags(web, world):
    csrf = sign_in_page(web, "technician")
    for n in (1, 2, 3):
        assert _accession(web, csrf, card(n)).status_code == 201
    first, _, third = _plates(web, csrf, 0.1, 2.3, 2.1)
    page = web.get(third).text
    flags = page.split('id="westgard-flags"')[1].split("</table>")[0]
    assert re.search(r">2-2s<.*?reject.*?Phe.*?VQC-L-2501.*?\+2\.30 \(RUN-\d{6}\), \+2\.10 \(A01\)",
                     flags, re.S), flags
    assert ">1-2s<" in flags and "VQC-H-2501" not in flags
    chart = page.split('id="lj-VQC-L-2501-Phe"')[1].split("</figure>")[0]
    assert "<svg" in chart and chart.count("<circle") == 3
    assert chart.count("lj-point current flagged") == 1       # this run's point, in red
    assert 'class="lj-flag"' in chart and "1-2s 2-2s" in chart
    assert "<script" not in page.split('id="levey-jennings"')[1]
    # the first run broke nothing
    assert 'id="westgard-none"' in web.get(first).text
    # another analyte chosen: both lots of it
    chosen = web.get(third, params={"analyte": "Phe"}).text
    assert 'id="lj-VQC-L-2501-Phe"' in chosen and 'id="lj-VQC-H-2501-Phe"' in chosen
    assert web.get(third, params={"analyte": "Nope"}).status_code == 200
    # no signal stored by the CSV plates: said so
    assert "No internal-standard signal was stored" in page
    chinese = web.get(third, headers={"Accept-Language": "zh-CN"}).text
    assert "Levey-Jennings质控图" in chinese and "本批次的Westgard标记" in chinese
    assert "靶值" in chinese  # a control's target value, not a programme goal (目标)
    assert "2-2s" in chinese.split('id="westgard-flags"')[1]


def test_the_plate_page_is_for_the_laboratory(web, world):
    sign_in_page(web, "follow_up")  # a reviewer reads it (test_plate_for_reviewer.py)
    assert web.get("/lab/runs/1").status_code in (403, 404)


def test_a_plate_is_withdrawn_from_its_page(web, world):
    csrf = sign_in_page(web, "technician")
    assert _accession(web, csrf, card(1)).status_code == 201
    url, = _plates(web, csrf, 0.0)
    page = web.get(url).text
    assert 'id="withdraw-form"' in page
    reject = web.post(f"{url}/qc", data={"csrf_token": csrf, "decision": "reject",
                                         "reason": "smudged"})
    assert reject.status_code == 409 and "withdraw the plate" in reject.text
    assert web.post(f"{url}/withdraw", data={"csrf_token": "forged",
                                             "reason": "smudged"}).status_code == 403
    empty = web.post(f"{url}/withdraw", data={"csrf_token": csrf, "reason": " "})
    assert empty.status_code == 422 and "give a reason" in empty.text
    done = web.post(f"{url}/withdraw", data={"csrf_token": csrf, "reason": "smudged punches"})
    assert done.status_code == 200 and done.url.path == url
    assert 'id="qc-decision">withdrawn' in done.text
    assert "Automatic decision" not in done.text  # the plate was accepted at its upload
    assert "withdrawn" in done.text and "smudged punches" in done.text
    assert 'id="withdraw-form"' not in done.text
    # no sign-off is offered that the plate can no longer take
    assert 'id="qc-form"' not in done.text and 'id="qc-withdrawn"' in done.text
    assert "accessioned" in web.get("/lab/search", params={"q": card(1)}).text
    chinese = web.get(url, headers={"Accept-Language": "zh-CN"}).text
    assert "已撤回" in chinese


def test_a_signed_off_plate_shows_its_sign_off_instead_of_the_buttons(web, world):
    csrf = sign_in_page(web, "technician")
    assert _accession(web, csrf, card(1)).status_code == 201
    url, = _plates(web, csrf, 0.0)
    before = web.get(url).text
    assert 'id="qc-accept"' in before and 'id="qc-reject"' in before
    assert "Not signed off yet." in before and 'id="qc-signed"' not in before
    signed = web.post(f"{url}/qc", data={"csrf_token": csrf, "decision": "accept",
                                         "reason": "controls within limits"})
    assert signed.status_code == 200 and signed.url.path == url
    page = signed.text
    assert 'id="qc-form"' not in page and 'id="qc-accept"' not in page
    assert 'id="qc-reject"' not in page and "Accept plate" not in page
    assert re.search(r'id="qc-signed" data-decision="accept">The plate is signed off\.', page)
    sign_off, = re.findall(r'<p class="sign-off">(.*?)</p>', page, re.S)
    assert re.search(r"accepted</span>\s+technician &middot; 20\d\d-\d\d-\d\d \d\d:\d\d"
                     r".* &middot; controls within limits", sign_off), sign_off
    assert 'id="withdraw-form"' in page  # its stored results are still withdrawn from here
    chinese = web.get(url, headers={"Accept-Language": "zh-CN"}).text
    assert "本板已签核。" in chinese and 'id="qc-accept"' not in chinese


def test_a_plate_rejected_at_its_sign_off_offers_no_sign_off_again(web, world):
    csrf = sign_in_page(web, "technician")
    upload = _upload(web, csrf, "h.csv", plate_csv("HELD-1", {card(7): {}}))  # a held well
    url = upload.headers["location"]
    rejected = web.post(f"{url}/qc", data={"csrf_token": csrf, "decision": "reject",
                                           "reason": "wrong rack"})
    assert rejected.status_code == 200 and 'id="qc-decision">reject' in rejected.text
    assert 'id="qc-form"' not in rejected.text
    assert 'id="qc-signed" data-decision="reject"' in rejected.text
    assert "rejected</span>" in rejected.text and "wrong rack" in rejected.text
