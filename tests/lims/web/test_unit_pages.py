"""The submitting unit's pages on SQLite and PostgreSQL: its own babies' results and result
report, its repeat requests and unsatisfactory cards, a time-critical notice acknowledged,
its report card; another unit's baby, report or notice refused; the role check and CSRF."""

from __future__ import annotations

from sqlmodel import Session, select

from lims.models import Alert
from tests.lims.documents.test_documents import _referred
from tests.lims.helpers import API, card, open_alert, specimen_body
from tests.lims.web.conftest import csrf_of, sign_in_page


def _south_card(web, world, n):  # type: ignore[no-untyped-def]
    south = world.submitter_ids[1]
    made = web.post(f"{API}/specimens", json=specimen_body(card(n), south),
                    headers=world.auth("technician"))
    assert made.status_code == 201, made.text
    return made.json()


def test_a_submitter_sees_its_own_results_and_is_refused_another_units(web, world, engine):
    ours = _referred(web, world)
    theirs = _south_card(web, world, 40)
    unsat = web.post(f"{API}/specimens", json=specimen_body(
        card(41), world.submitter_ids[0], unsatisfactory_code="U01"),
        headers=world.auth("technician"))
    assert unsat.status_code == 201, unsat.text
    csrf = sign_in_page(web, "submitter")
    home = web.get("/unit")
    assert home.status_code == 200
    assert card(1) in home.text and card(41) in home.text and card(40) not in home.text
    assert 'id="unsatisfactory"' in home.text and "U01" in home.text
    assert "Repeat cards requested" in home.text
    baby = web.get(f"/unit/babies/{ours['infant_id']}")
    assert baby.status_code == 200 and card(1) in baby.text
    assert "Maple syrup" in baby.text or "MSUD" in baby.text
    # another unit's baby, report and notice: not found
    refused = web.get(f"/unit/babies/{theirs['infant_id']}")
    assert refused.status_code == 404 and card(40) not in refused.text
    assert web.post(f"/unit/results/{theirs['id']}/pdf",
                    data={"csrf_token": csrf}).status_code == 404
    report = web.post(f"/unit/results/{ours['id']}/pdf", data={"csrf_token": csrf})
    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    assert report.content.startswith(b"%PDF") and report.headers["x-document-id"].startswith(
        "RES-")
    assert web.post(f"/unit/results/{ours['id']}/pdf",
                    data={"csrf_token": "forged"}).status_code == 403
    foreign_alert = open_alert(engine, theirs["id"])
    assert web.post(f"/unit/notices/{foreign_alert}/acknowledge",
                    data={"csrf_token": csrf, "full_name": "Dr Wu"}).status_code == 404
    # its own notice, acknowledged by a named clinician
    with Session(engine) as session:
        own = [a.id for a in session.exec(select(Alert).where(
            Alert.specimen_id == ours["id"], Alert.status == "open"))]
    if not own:
        own = [open_alert(engine, ours["id"])]
    assert f'data-alert="{own[0]}"' in web.get("/unit").text
    assert web.post(f"/unit/notices/{own[0]}/acknowledge",
                    data={"csrf_token": "forged", "full_name": "Dr Wu"}).status_code == 403
    done = web.post(f"/unit/notices/{own[0]}/acknowledge",
                    data={"csrf_token": csrf, "full_name": "Dr Wu", "note": "family called"})
    assert done.status_code == 200 and "Notice acknowledged" in done.text
    with Session(engine) as session:
        alert = session.get(Alert, own[0])
        assert alert is not None and alert.status == "acknowledged"
        assert alert.acknowledged_by_name == "Dr Wu"
    # the report card: page and PDF
    page = web.get("/unit/report-card", params={"month": "2026-03"})
    assert page.status_code == 200 and "North General Hospital" in page.text
    pdf = web.post("/unit/report-card/pdf", data={"csrf_token": csrf_of(page.text),
                                                  "month": "2026-03"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["x-document-id"] == "CARD-NORTH-2026-03-en"


def test_the_unit_pages_are_for_submitters_only(web, world):
    sign_in_page(web, "technician")
    assert web.get("/unit").status_code == 403
    assert web.get("/unit/report-card").status_code == 403


def test_the_unit_pages_in_chinese(web, world):
    _referred(web, world)
    sign_in_page(web, "submitter")
    web.cookies.set("nbs_lang", "zh_CN")
    home = web.get("/unit")
    assert home.status_code == 200
    assert "待确认的危急结果通知" in home.text and "不合格血片" in home.text
    assert "Time-critical notices" not in home.text
