"""Every page in the laboratory's time zone (``NBS_TIME_ZONE`` Asia/Shanghai, 8 hours ahead of
UTC, on SQLite and PostgreSQL): a time typed in a form is the laboratory's clock, stored in UTC
and shown back as typed, naming the zone; the lists (search, runs, the plate, worklists, the
case board and a case, the audit trail) show their times in the zone, none in UTC; the audit
trail's days are the laboratory's days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from lims.models import AuditEvent, ContactAttempt, FollowUpCase, Infant, Run, Specimen
from tests.lims.helpers import card
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_case_pages import _referral
from tests.lims.web.test_lab_pages import _accession, _upload
from tests.lims.web.test_specimen_page import shanghai  # noqa: F401 (the fixture)

ZONE = ZoneInfo("Asia/Shanghai")


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _shown(value: datetime) -> str:
    return f"{_utc(value).astimezone(ZONE):%Y-%m-%d %H:%M} Asia/Shanghai"


def test_a_card_typed_in_the_laboratory_time_is_stored_in_utc_and_shown_as_typed(
        shanghai, world):  # noqa: F811
    csrf = sign_in_page(shanghai, "technician")
    form = shanghai.get("/lab/accession").text
    assert "Collected at (Asia/Shanghai)" in form and "(UTC)" not in form
    assert _accession(shanghai, csrf, card(1), collected_at="2026-03-02T20:00",
                      received_at="2026-03-03T07:30", birth_at="2026-03-01T06:15",
                      tpn="1", transfused="1",
                      transfused_at="2026-03-01T23:45").status_code == 201
    with Session(shanghai.app.state.engine) as session:  # type: ignore[attr-defined]
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(1))).one()
        infant = session.get(Infant, specimen.infant_id)
        assert infant is not None
        stored = {"collected": _utc(specimen.collected_at), "received": _utc(
            specimen.received_at), "born": _utc(infant.birth_at)}
        transfused = specimen.transfused_at
    assert stored == {"collected": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
                      "received": datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
                      "born": datetime(2026, 2, 28, 22, 15, tzinfo=UTC)}
    assert transfused is not None and _utc(transfused) == datetime(2026, 3, 1, 15, 45,
                                                                   tzinfo=UTC)
    found = shanghai.get("/lab/search", params={"q": card(1)}).text
    assert "2026-03-02 20:00 Asia/Shanghai" in found and "2026-03-01 06:15 Asia/Shanghai" in found
    shanghai.cookies.clear()
    sign_in_page(shanghai, "reviewer")
    page = shanghai.get(f"/lab/specimens/{specimen.id}").text
    for typed in ("2026-03-02 20:00", "2026-03-03 07:30", "2026-03-01 06:15"):
        assert f"{typed} Asia/Shanghai" in page
    assert " UTC" not in page


def test_the_laboratory_pages_show_their_times_in_the_zone(shanghai, world):  # noqa: F811
    csrf = sign_in_page(shanghai, "technician")
    assert _accession(shanghai, csrf, card(1)).status_code == 201
    response = _upload(shanghai, csrf, "z-1.csv", plate_csv("Z-1", {card(1): {"Phe": 180},
                                                                   "9999999999": {}}))
    assert response.status_code == 303, response.text
    with Session(shanghai.app.state.engine) as session:  # type: ignore[attr-defined]
        run = session.exec(select(Run)).one()
    uploaded = _shown(run.uploaded_at)
    for path in ("/lab/runs", response.headers["location"], "/lab/worklists"):
        page = shanghai.get(path).text
        assert "Asia/Shanghai" in page and " UTC" not in page, path
    assert uploaded in shanghai.get("/lab/runs").text
    assert uploaded in shanghai.get(response.headers["location"]).text


def test_a_follow_up_form_reads_the_laboratory_time(client, shanghai, world):  # noqa: F811
    _, case = _referral(client, world)
    with Session(shanghai.app.state.engine) as session:  # type: ignore[attr-defined]
        stored = session.get(FollowUpCase, case["id"])  # opened days ago: a contact 2 days
        assert stored is not None                        # back is after its opening
        stored.opened_at = datetime.now(UTC) - timedelta(days=3)
        session.add(stored)
        session.commit()
    csrf = sign_in_page(shanghai, "follow_up")
    board = shanghai.get("/followup").text
    assert "Times in Asia/Shanghai." in board and "UTC" not in board
    page = shanghai.get(f"/followup/cases/{case['id']}").text
    assert "When (Asia/Shanghai; empty: now)" in page and " UTC" not in page
    local = (datetime.now(UTC) - timedelta(days=2)).astimezone(ZONE).replace(
        second=0, microsecond=0, tzinfo=None)
    done = shanghai.post(f"/followup/cases/{case['id']}/contacts", data={
        "csrf_token": csrf, "method": "phone", "contacted": "mother", "result": "reached",
        "at": local.strftime("%Y-%m-%dT%H:%M")})
    assert done.status_code == 200, done.text
    with Session(shanghai.app.state.engine) as session:  # type: ignore[attr-defined]
        attempt = session.exec(select(ContactAttempt)).one()
    assert _utc(attempt.at) == local.replace(tzinfo=ZONE).astimezone(UTC)
    assert f"{local:%Y-%m-%d %H:%M} Asia/Shanghai" in done.text


def test_the_audit_trails_days_are_the_laboratorys(shanghai, world):  # noqa: F811
    sign_in_page(shanghai, "admin")
    with Session(shanghai.app.state.engine) as session:  # type: ignore[attr-defined]
        last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None
    day = _utc(last.at).astimezone(ZONE).date()
    page = shanghai.get("/lab/audit", params={"since": day.isoformat(),
                                              "until": day.isoformat()}).text
    assert "From (Asia/Shanghai date)" in page and _shown(last.at)[:10] in page
    assert f"{_utc(last.at).astimezone(ZONE):%Y-%m-%d %H:%M:%S} Asia/Shanghai" in page
    before = shanghai.get("/lab/audit", params={
        "until": (day - timedelta(days=1)).isoformat()}).text
    assert f"{_utc(last.at).astimezone(ZONE):%Y-%m-%d %H:%M:%S}" not in before
