"""The technician's pages: accession form and card CSV, search, upload and plate view, QC
sign-off, worklists; and the reviewer's: queue, specimen, signed decision, bulk release,
alerts banner."""

from __future__ import annotations

import re

from tests.lims.conftest import PASSWORD
from tests.lims.helpers import card
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page

CARD_FORM = {"submitter_id": "1", "collected_at": "2026-03-02T20:00",
             "received_at": "2026-03-04T08:00", "birth_at": "2026-03-01T08:00", "sex": "F",
             "mother_name": "Wang Fang", "mother_id": "M-77", "medical_record_number": "MRN-5",
             "birth_weight_g": "3200", "gestational_age_weeks": "39", "feeding": "breast"}


def _accession(web, csrf, barcode, **extra):  # type: ignore[no-untyped-def]
    return web.post("/lab/accession", data={**CARD_FORM, "csrf_token": csrf,
                                            "barcode": barcode, **extra})


def test_the_accession_form_checks_the_barcode_and_stores_the_card(web, world):
    csrf = sign_in_page(web, "technician")
    good = card(1)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert "barcode valid" in web.get(f"/lab/accession/barcode?barcode={good}").text
    assert "check digit" in web.get(f"/lab/accession/barcode?barcode={bad}").text.lower()
    refused = _accession(web, csrf, bad)
    assert refused.status_code == 422 and "field barcode" in refused.text
    assert 'value="Wang Fang"' in refused.text  # the form keeps what was typed
    assert _accession(web, "forged", good).status_code == 403
    created = _accession(web, csrf, good)
    assert created.status_code == 201 and f"Card {good} accessioned" in created.text
    assert _accession(web, csrf, good).status_code == 409
    unsatisfactory = _accession(web, csrf, card(2), unsatisfactory_code="U01")
    assert "unsatisfactory" in unsatisfactory.text
    # a repeat card names the earlier one
    repeat = web.post("/lab/accession", data={
        "csrf_token": csrf, "barcode": card(3), "submitter_id": "1", "previous_barcode": card(2),
        "collected_at": "2026-03-05T08:00", "received_at": "2026-03-06T08:00"})
    assert repeat.status_code == 201, repeat.text
    found = web.get("/lab/search", params={"q": "wang"}).text
    assert all(card(n) in found for n in (1, 2, 3))
    assert card(1) in web.get("/lab/search", params={"q": "MRN-5"}).text
    assert card(1) in web.get("/lab/search", params={"q": card(1)[:6]}).text
    assert "No card matches" in web.get("/lab/search", params={"q": "nobody"}).text
    partial = web.get("/lab/search", params={"q": "M-77"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text and card(1) in partial.text


def test_a_card_csv_is_imported_whole_or_refused_naming_the_line(web, world):
    csrf = sign_in_page(web, "technician")
    header = "barcode,submitter,collected_at,birth_at,sex\n"
    good = header + f"{card(5)},NORTH,2026-03-02T20:00Z,2026-03-01T08:00Z,M\n"
    bad = good + f"{card(6)},NORTH,not-a-time,2026-03-01T08:00Z,F\n"
    refused = web.post("/lab/accession/import", data={"csrf_token": csrf},
                       files={"file": ("cards.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 422 and "cards.csv" in refused.text and ":3" in refused.text
    done = web.post("/lab/accession/import", data={"csrf_token": csrf},
                    files={"file": ("cards.csv", good.encode(), "text/csv")})
    assert done.status_code == 200 and "1 created" in done.text
    assert card(5) in web.get("/lab/search", params={"q": card(5)}).text


def _upload(web, csrf, name, data):  # type: ignore[no-untyped-def]
    return web.post("/lab/runs", data={"csrf_token": csrf},
                    files={"file": (name, data, "text/csv")}, follow_redirects=False)


def test_an_upload_shows_the_plate_and_the_technician_signs_off_its_qc(web, world):
    csrf = sign_in_page(web, "technician")
    for n in (1, 2, 3):
        assert _accession(web, csrf, card(n)).status_code == 201
    plate = plate_csv("W-1", {card(1): {}, card(2): {"Phe": 180}, card(3): {"Xle": 950},
                              card(9): {}})
    response = _upload(web, csrf, "plate.csv", plate)
    assert response.status_code == 303
    page = web.get(response.headers["location"]).text
    assert 'id="qc-decision">accept' in page
    wells = {well: kind.strip() for kind, well in re.findall(
        r'class="well ([a-z ]+?)\s*"[^>]*data-well="([A-H]\d\d)"', page)}
    assert wells["A01"] == "control" and wells["A02"] == "control"
    assert wells["A03"] == "patient" and wells["A04"] == "patient flagged"
    assert wells["A05"] == "patient critical" and wells["A06"] == "held"
    assert wells["H12"] == "empty"
    again = _upload(web, csrf, "plate.csv", plate)
    assert again.headers["location"].endswith("?again=1")
    run_url = response.headers["location"]
    assert web.post(f"{run_url}/qc", data={"csrf_token": csrf, "decision": "accept",
                                           "reason": ""}).status_code == 422
    reject = web.post(f"{run_url}/qc", data={"csrf_token": csrf, "decision": "reject",
                                             "reason": "smudged"})
    assert reject.status_code == 409 and "patient results stored" in reject.text
    accepted = web.post(f"{run_url}/qc", data={"csrf_token": csrf, "decision": "accept",
                                               "reason": "controls in range"})
    assert "controls in range" in accepted.text and "technician" in accepted.text
    lists = web.get("/lab/worklists").text
    held = lists.split('id="held-wells"')[1].split("</table>")[0]
    duplicates = lists.split('id="duplicates"')[1].split("</table>")[0]
    assert card(9) in held and card(2) in duplicates
    bad = _upload(web, csrf, "broken.csv", b"not,a,plate\n")
    assert bad.status_code == 422 and "broken.csv" in bad.text


def test_the_reviewer_decides_with_the_signature_and_releases_the_normals(web, world):
    csrf = sign_in_page(web, "technician")
    for n in (1, 2, 3):
        assert _accession(web, csrf, card(n)).status_code == 201
    run_url = _upload(web, csrf, "p1.csv", plate_csv(
        "R-1", {card(1): {}, card(2): {"Phe": 180}, card(3): {"Xle": 950}})).headers["location"]
    assert web.post(f"{run_url}/qc", data={"csrf_token": csrf, "decision": "accept",
                                           "reason": "controls in range"}).status_code == 200
    _upload(web, csrf, "p2.csv", plate_csv("R-2", [(card(2), {"Phe": 170}),
                                                   (card(2), {"Phe": 180})]))
    web.cookies.clear()
    csrf = sign_in_page(web, "reviewer")
    queue = web.get("/lab/review").text
    order = re.findall(r'href="/lab/specimens/(\d+)">([0-9A-Z-]+)</a>', queue)
    assert [b for _, b in order] == [card(3), card(2)]  # time-critical first
    ids = {b: i for i, b in order}
    banner = web.get("/lab/alerts/banner").text
    assert "MSUD" in banner
    specimen = web.get(f"/lab/specimens/{ids[card(3)]}").text
    assert "Xle" in specimen and "950" in specimen and "&gt; 400" in specimen
    wrong = web.post(f"/lab/specimens/{ids[card(3)]}/decide", data={
        "csrf_token": csrf, "decision": "refer", "reason": "confirm", "password": "nope"})
    assert wrong.status_code == 401 and "wrong" in wrong.text
    no_reason = web.post(f"/lab/specimens/{ids[card(3)]}/decide", data={
        "csrf_token": csrf, "decision": "refer", "password": PASSWORD})
    assert no_reason.status_code == 422
    done = web.post(f"/lab/specimens/{ids[card(3)]}/decide", data={
        "csrf_token": csrf, "decision": "refer", "reason": "confirmatory testing",
        "password": PASSWORD})
    assert done.status_code == 200 and "Decision signed and released" in done.text
    assert "referred" in done.text
    review = web.get("/lab/review").text
    assert "1 normal result is waiting to be released." in review
    form = review.split('id="release-normals"', 1)[1]
    counted = {name: re.search(rf'name="{name}" value="([^"]*)"', form).group(1)
               for name in ("count", "digest")}
    assert counted["count"] == "1"
    released = web.post("/lab/review/release-normals", data={"csrf_token": csrf,
                                                             "password": PASSWORD, **counted})
    assert "1 normal result released." in released.text
    alert = re.search(r'data-alert="(\d+)"', banner).group(1)
    acked = web.post(f"/lab/alerts/{alert}/acknowledge", data={"note": "called"},
                     headers={"HX-Request": "true", "X-CSRF-Token": csrf})
    assert acked.status_code == 200 and "MSUD" not in acked.text
    row = web.get("/lab/alerts").text.split('id="alerts"')[1]  # who, when and what was done
    assert re.search(r"acknowledged by [^<,]+, \d{4}-\d\d-\d\d \d\d:\d\d [A-Za-z_/]+: called<",
                     row), row
    web.cookies.set("nbs_lang", "zh_CN")
    row = web.get("/lab/alerts").text.split('id="alerts"')[1]
    assert re.search(r"由 [^<]+ 于 \d{4}-\d\d-\d\d \d\d:\d\d [A-Za-z_/]+ 确认：called<", row), row
    web.cookies.delete("nbs_lang")
    assert web.get("/lab/specimens/999999").status_code == 404


def test_held_wells_are_attached_or_discarded_from_the_worklist(web, world):
    csrf = sign_in_page(web, "technician")
    assert _accession(web, csrf, card(1)).status_code == 201
    _upload(web, csrf, "h.csv", plate_csv("H-1", {card(1): {}, card(7): {}, card(8): {}}))
    lists = web.get("/lab/worklists").text
    held = dict((sample, held_id) for held_id, sample in re.findall(
        r'data-held="(\d+)">.*?<td>[A-H]\d\d</td><td>([0-9A-Z-]+)</td>', lists, re.S))
    assert set(held) == {card(7), card(8)}
    early = web.post(f"/lab/held-wells/{held[card(7)]}/resolve", data={
        "csrf_token": csrf, "action": "attach", "barcode": card(7), "note": "card arrived"})
    assert early.status_code == 404 and "worklist-error" in early.text  # not accessioned yet
    assert _accession(web, csrf, card(7)).status_code == 201
    attached = web.post(f"/lab/held-wells/{held[card(7)]}/resolve", data={
        "csrf_token": csrf, "action": "attach", "barcode": card(7), "note": "card arrived"})
    assert attached.status_code == 200 and card(7) not in attached.text.split(
        'id="held-wells"')[1].split("</table>")[0]
    no_note = web.post(f"/lab/held-wells/{held[card(8)]}/resolve", data={
        "csrf_token": csrf, "action": "discard", "barcode": card(8), "note": ""})
    assert no_note.status_code == 422
    discarded = web.post(f"/lab/held-wells/{held[card(8)]}/resolve", data={
        "csrf_token": csrf, "action": "discard", "barcode": card(8), "note": "punched by mistake"})
    remaining = discarded.text.split('id="held-wells"')[1].split("</table>")[0]
    assert "Nothing waiting" in remaining
    assert "awaiting review" in web.get("/lab/search", params={"q": card(7)}).text
