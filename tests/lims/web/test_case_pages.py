"""The follow-up coordinator's and the clinic's pages on SQLite and PostgreSQL: a referral worked
from the board to closure (contacts, letters, referral, the clinic's diagnosis, treatment and
visit, the documents as PDFs); the board's order (overdue first); a repeat card recorded by
barcode; the role of every page; the CSRF token of every form; a clinic reaching only its own
cases and their documents; bad input refused naming the field, with nothing stored."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlmodel import Session, col, func, select

from lims.audit import SYSTEM
from lims.auth.service import create_user
from lims.followup import repository
from lims.models import (
    AuditEvent,
    ContactAttempt,
    Diagnosis,
    FollowUpCase,
    IssuedDocument,
    User,
    utcnow,
)
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import (
    API,
    accession,
    card,
    release_held_back_repeat,
    specimen_body,
    upload,
)
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page

OTHER_PASSWORD = "another-long-password"


def _referral(client, world, n=1, plate="P-WEB"):  # type: ignore[no-untyped-def]
    """A card flagged for MSUD, released as a referral: its case (opened, with its letter)."""
    specimen = accession(client, world, n)[n]
    assert upload(client, world, f"{plate}.csv",
                  plate_csv(plate, {card(n): {"Xle": 900}})).status_code == 201
    decided = client.post(f"{API}/specimens/{specimen['id']}/decisions", json={
        "decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    cases = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()
    return specimen, next(c for c in cases if c["specimen_id"] == specimen["id"])


def _clinic(client, world, code, user_id):  # type: ignore[no-untyped-def]
    made = client.post(f"{API}/clinics", json={"code": code, "name": f"{code} clinic",
                                              "phone": "+86 10 0000"},
                       headers=world.auth("follow_up"))
    assert made.status_code == 201, made.text
    tied = client.post(f"{API}/clinics/{made.json()['id']}/users", json={"user_id": user_id},
                       headers=world.auth("admin"))
    assert tied.status_code == 201, tied.text
    return made.json()["id"]


def _other_clinic_user(engine, username="clinic-b"):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        user = create_user(session, SYSTEM, username=username, password=OTHER_PASSWORD,
                           role="clinic", full_name="Dr B")
        session.commit()
        return user.id


def _post(web, url, csrf, **data):  # type: ignore[no-untyped-def]
    return web.post(url, data={"csrf_token": csrf, **data})


def _kinds(html: str) -> list[str]:
    return re.findall(r'data-kind="(\w+)"', html.split('id="timeline"')[1])


def _state(html: str) -> str:
    match = re.search(r'id="case-state" data-state="(\w+)"', html)
    assert match, html[:2000]
    return match.group(1)


def _count(engine, model, *where):  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_a_referral_from_the_board_to_a_closed_case(client, web, world, engine):
    specimen, case = _referral(client, world)
    case_id = case["id"]
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"].id)
    csrf = sign_in_page(web, "follow_up")
    board = web.get("/followup")
    assert board.status_code == 200
    assert f'href="/followup/cases/{case_id}"' in board.text.split('data-state="opened"')[-1]
    page = web.get(f"/followup/cases/{case_id}")
    assert _state(page.text) == "opened" and card(1) in page.text
    # the card (received days ago), then the release, the case and its letter (one moment)
    kinds = _kinds(page.text)
    assert kinds[0] == "card" and sorted(kinds[1:]) == ["letter", "opened", "release"]
    # contacts: a missed call, then the mother reached
    for result in ("no_answer", "reached"):
        done = _post(web, f"/followup/cases/{case_id}/contacts", csrf, method="phone",
                     contacted="mother", result=result, note=f"call {result}")
        assert done.status_code == 200 and done.url.path == f"/followup/cases/{case_id}"
    assert _state(done.text) == "contacted"
    # the letter to the family in Chinese, stored and downloaded byte for byte
    issued = _post(web, f"/followup/cases/{case_id}/letters", csrf, audience="family",
                   language="zh-CN")
    assert issued.status_code == 200, issued.text
    with Session(engine) as session:
        letters = session.exec(select(IssuedDocument).where(
            IssuedDocument.case_id == case_id).order_by(col(IssuedDocument.id))).all()
    assert [(d.audience, d.language) for d in letters] == [("clinic", "en"),
                                                           ("family", "zh-CN")]
    pdf = web.get(f"/followup/documents/{letters[1].id}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert hashlib.sha256(pdf.content).hexdigest() == letters[1].sha256
    assert "attachment" in pdf.headers["content-disposition"]
    # the referral to the clinic, then the clinic letter again naming the clinic
    appointment = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    referred = _post(web, f"/followup/cases/{case_id}/transitions", csrf, transition="refer",
                     clinic_id=str(clinic_id), appointment_at=appointment)
    assert referred.status_code == 200 and _state(referred.text) == "referred"
    assert "METAB clinic" in referred.text
    again = _post(web, f"/followup/cases/{case_id}/letters/{letters[0].id}/correct", csrf,
                  reason="the clinic is assigned")
    assert again.status_code == 200, again.text
    with Session(engine) as session:
        newest = session.exec(select(IssuedDocument).where(
            IssuedDocument.replaces_id == letters[0].id)).one()
    assert newest.version == 2 and newest.correction_reason == "the clinic is assigned"

    # the clinic: its board, the case, the diagnosis, treatment and a visit, the documents
    web.cookies.clear()
    clinic_csrf = sign_in_page(web, "clinic")
    listed = web.get("/clinic")
    assert listed.status_code == 200 and f'href="/clinic/cases/{case_id}"' in listed.text
    page = web.get(f"/clinic/cases/{case_id}")
    assert 'id="form-diagnose"' in page.text and 'id="contact-form"' not in page.text
    assert 'id="form-close"' not in page.text  # closing is the coordinator's
    no_severity = _post(web, f"/clinic/cases/{case_id}/transitions", clinic_csrf,
                        transition="diagnose", outcome="confirmed", disorder="MSUD")
    assert no_severity.status_code == 422 and "severity" in no_severity.text
    assert _state(no_severity.text) == "referred"
    diagnosed = _post(web, f"/clinic/cases/{case_id}/transitions", clinic_csrf,
                      transition="diagnose", outcome="confirmed", disorder="MSUD",
                      severity="moderate",
                      confirmatory_tests="plasma allo-isoleucine 12 umol/L",
                      reason="seen with the mother")
    assert diagnosed.status_code == 200 and _state(diagnosed.text) == "diagnosed"
    assert 'id="case-severity"' in diagnosed.text and "moderate" in diagnosed.text
    web.cookies.set("nbs_lang", "zh_CN")
    assert "严重程度: 中型" in web.get(f"/clinic/cases/{case_id}").text
    web.cookies.delete("nbs_lang")
    assert 'id="form-start_treatment"' in diagnosed.text
    treated = _post(web, f"/clinic/cases/{case_id}/transitions", clinic_csrf,
                    transition="start_treatment", description="leucine-free formula")
    assert _state(treated.text) == "treatment"
    visited = _post(web, f"/clinic/cases/{case_id}/visits", clinic_csrf,
                    kind="metabolic_control", findings="Leu 180 umol/L")
    assert _state(visited.text) == "long_term_follow_up"
    letter = web.get(f"/clinic/documents/{newest.id}")
    assert letter.status_code == 200 and letter.content == newest.content
    report = _post(web, f"/clinic/cases/{case_id}/results/{specimen['id']}", clinic_csrf)
    assert report.status_code == 200 and report.content.startswith(b"%PDF")
    assert report.url.path.startswith("/clinic/documents/")

    # the coordinator closes the case
    web.cookies.clear()
    csrf = sign_in_page(web, "follow_up")
    closed = _post(web, f"/followup/cases/{case_id}/transitions", csrf, transition="close",
                   reason="transferred to the adult metabolic service")
    assert closed.status_code == 200 and _state(closed.text) == "closed"
    kinds = _kinds(closed.text)
    for kind in ("opened", "card", "release", "letter", "contact", "referred", "diagnosis",
                 "treatment", "visit", "closed"):
        assert kind in kinds, kind
    assert kinds[-1] == "closed" and kinds.count("contact") == 2 and kinds.count("letter") == 3
    assert 'id="contact-form"' not in closed.text  # nothing more to record
    with Session(engine) as session:
        trail = session.exec(select(AuditEvent.action).where(
            AuditEvent.entity == "followup_case", AuditEvent.entity_id == str(case_id),
            col(AuditEvent.action).not_in(["read", "read_list"])).order_by(
            col(AuditEvent.id))).all()
    assert trail == ["open", "contact_attempt", "contact_attempt", "contact", "refer",
                     "diagnose", "start_treatment", "start_long_term_follow_up", "visit",
                     "close"]


def test_the_board_lists_each_state_with_the_overdue_cases_first(client, web, world, engine):
    cases = [_referral(client, world, n, plate=f"P-{n}")[1]["id"] for n in (1, 2, 3)]
    now = utcnow()
    with Session(engine) as session:
        for case_id, hours in zip(cases, (-2, -30, None), strict=True):
            row = session.get(FollowUpCase, case_id)
            row.due_at = None if hours is None else now + timedelta(hours=hours)
            session.add(row)
        session.commit()
        # pages of a state: the dated cases by due date, then those with nothing due
        pages = [[r["id"] for r in repository.board_rows(session, now, state="opened",
                                                         limit=2, offset=k)] for k in (0, 1, 2)]
    assert pages == [[cases[1], cases[0]], [cases[0], cases[2]], [cases[2]]]
    sign_in_page(web, "follow_up")
    html = web.get("/followup").text
    overdue = html.split('id="overdue-cases"')[1].split("</table>")[0]
    assert re.findall(r'data-case="(\d+)"', overdue) == [str(cases[1]), str(cases[0])]
    opened = html.split('id="cases-opened"')[1].split("</table>")[0]
    assert re.findall(r'data-case="(\d+)"', opened) == [str(c) for c in
                                                        (cases[1], cases[0], cases[2])]
    assert "2 overdue" in html.split('id="state-counts"')[1].split("</ul>")[0]
    one_state = web.get("/followup", params={"state": "opened"}).text
    assert len(re.findall(r'data-case="(\d+)"', one_state)) == 3
    assert web.get("/followup", params={"state": "nonsense"}).status_code == 422
    web.cookies.set("nbs_lang", "zh_CN")
    chinese = web.get("/followup").text
    assert "病例看板" in chinese and "已逾期" in chinese


def test_a_repeat_card_recorded_by_its_barcode(client, web, world, engine):
    """The repeat card was accessioned before the result asked for it: the coordinator records
    it by barcode; its normal result then closes the case."""
    tech, north = world.auth("technician"), world.submitter_ids[0]
    specimen = accession(client, world, 1)[1]
    repeat = client.post(f"{API}/specimens", json=specimen_body(
        card(2), north, previous_barcode=card(1)), headers=tech)
    assert repeat.status_code == 201, repeat.text
    stranger = accession(client, world, 3)[3]
    assert upload(client, world, "a.csv", plate_csv("P-A", {card(1): {"Xle": 900}})) \
        .status_code == 201
    decided = client.post(f"{API}/specimens/{specimen['id']}/decisions", json={
        "decision": "request_repeat_specimen", "reason": "borderline", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    case_id = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()[0]["id"]
    csrf = sign_in_page(web, "follow_up")
    for barcode, message in ((card(3), "another baby"), ("NOPE", "no card"),
                             (card(1), "opened on")):
        refused = _post(web, f"/followup/cases/{case_id}/repeat", csrf, barcode=barcode)
        assert refused.status_code == 422 and message in refused.text, (barcode, refused.text)
        assert "barcode" in refused.text
    assert stranger["id"]
    linked = _post(web, f"/followup/cases/{case_id}/repeat", csrf, barcode=card(2))
    assert linked.status_code == 200 and _state(linked.text) == "repeat_received"
    twice = _post(web, f"/followup/cases/{case_id}/repeat", csrf, barcode=card(2))
    assert twice.status_code == 409
    assert upload(client, world, "b.csv", plate_csv("P-B", {card(2): {}})).status_code == 201
    release_held_back_repeat(client, world, repeat.json()["id"])
    page = web.get(f"/followup/cases/{case_id}").text
    assert _state(page) == "closed" and "repeat" in _kinds(page)
    with Session(engine) as session:
        assert session.get(FollowUpCase, case_id).outcome == "normal_repeat"


@pytest.mark.parametrize(("role", "board", "clinic"), [
    ("follow_up", 200, 403), ("admin", 200, 403), ("clinic", 403, 200),
    ("technician", 403, 403), ("reviewer", 403, 403), ("submitter", 403, 403)])
def test_each_page_answers_its_roles_only(client, web, world, role, board, clinic):
    _, case = _referral(client, world)
    csrf = sign_in_page(web, role)
    assert web.get("/followup").status_code == board
    assert web.get(f"/followup/cases/{case['id']}").status_code == board
    assert _post(web, f"/followup/cases/{case['id']}/contacts", csrf, method="phone",
                 contacted="mother", result="no_answer").status_code == board
    assert web.get("/clinic").status_code == clinic
    home = web.get("/lab").text
    assert ('href="/followup"' in home) == (board == 200)
    assert ('href="/clinic"' in home) == (clinic == 200)


def test_signed_out_pages_ask_to_sign_in(web):
    answer = web.get("/followup", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/followup"
    assert web.post("/followup/cases/1/contacts", data={},
                    follow_redirects=False).status_code == 303


def test_every_form_needs_the_csrf_token(client, web, world, engine):
    _, case = _referral(client, world)
    case_id = case["id"]
    sign_in_page(web, "follow_up")
    for url, data in ((f"/followup/cases/{case_id}/contacts",
                       {"method": "phone", "contacted": "mother", "result": "reached"}),
                      (f"/followup/cases/{case_id}/transitions",
                       {"transition": "diagnose", "outcome": "moved"}),
                      (f"/followup/cases/{case_id}/letters",
                       {"audience": "family", "language": "en"}),
                      (f"/followup/cases/{case_id}/repeat", {"barcode": card(1)}),
                      (f"/followup/cases/{case_id}/visits", {"kind": "growth"}),
                      (f"/followup/cases/{case_id}/results/1", {})):
        assert web.post(url, data=data).status_code == 403, url
        assert web.post(url, data={**data, "csrf_token": "forged"}).status_code == 403, url
    assert _count(engine, ContactAttempt) == 0
    assert _count(engine, IssuedDocument) == 1  # the letter issued at release only
    with Session(engine) as session:
        assert session.get(FollowUpCase, case_id).state == "opened"


def test_a_clinic_reaches_its_own_cases_only(client, web, world, engine):
    specimen, case = _referral(client, world)
    case_id = case["id"]
    _, unreferred = _referral(client, world, 2, plate="P-2")
    mine = _clinic(client, world, "CLINIC-A", world.users["clinic"].id)
    other_user = _other_clinic_user(engine)
    _clinic(client, world, "CLINIC-B", other_user)
    fu = world.auth("follow_up")
    client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "father", "result": "reached"}, headers=fu)
    assert client.post(f"{API}/cases/{case_id}/transitions", json={
        "transition": "refer", "clinic_id": mine}, headers=fu).status_code == 200
    with Session(engine) as session:
        letter = session.exec(select(IssuedDocument).where(
            IssuedDocument.case_id == case_id)).one()

    csrf = sign_in_page(web, "clinic")
    listed = web.get("/clinic").text
    assert f"/clinic/cases/{case_id}" in listed
    assert f"/clinic/cases/{unreferred['id']}" not in listed
    assert web.get(f"/clinic/cases/{unreferred['id']}").status_code == 404
    assert web.get(f"/clinic/cases/{case_id}").status_code == 200

    web.cookies.clear()
    csrf = sign_in_page(web, "clinic-b", OTHER_PASSWORD)
    assert "No open case." in web.get("/clinic").text
    assert web.get(f"/clinic/cases/{case_id}").status_code == 404
    assert web.get(f"/clinic/documents/{letter.id}").status_code == 404
    refused = _post(web, f"/clinic/cases/{case_id}/transitions", csrf, transition="diagnose",
                    outcome="false_positive")
    assert refused.status_code == 404
    assert _post(web, f"/clinic/cases/{case_id}/results/{specimen['id']}",
                 csrf).status_code == 404
    assert _count(engine, Diagnosis) == 0
    # the clinic's pages are not the coordinator's
    assert web.get(f"/followup/cases/{case_id}").status_code == 403
    # a result report of a baby with no case at the clinic, through the API too
    tokens = client.post(f"{API}/auth/login", json={"username": "clinic-b",
                                                    "password": OTHER_PASSWORD}).json()
    other = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.post(f"{API}/documents/results", json={"specimen_id": specimen["id"]},
                       headers=other).status_code == 404
    mine_report = client.post(f"{API}/documents/results", json={"specimen_id": specimen["id"]},
                              headers=world.auth("clinic"))
    assert mine_report.status_code == 201
    doc_id = mine_report.headers["Location"].rsplit("/", 1)[1]
    assert client.get(f"{API}/documents/{doc_id}", headers=other).status_code == 404


def test_bad_input_is_refused_naming_the_field_and_stores_nothing(client, web, world, engine):
    _, case = _referral(client, world)
    case_id = case["id"]
    csrf = sign_in_page(web, "follow_up")
    url = f"/followup/cases/{case_id}"
    with Session(engine) as session:
        events = session.exec(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.action) != "read", col(AuditEvent.action) != "read_list")).one()

    def refused(path, status, *words, **data):  # type: ignore[no-untyped-def]
        answer = _post(web, url + path, csrf, **data)
        assert answer.status_code == status, (path, data, answer.status_code)
        error = answer.text.split('id="case-error"')[1].split("</p>")[0]
        for word in words:
            assert word in error, (word, error)

    refused("/contacts", 422, "contacted", method="phone", result="reached")
    refused("/contacts", 422, "method", method="pigeon", contacted="mother", result="reached")
    future = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused("/contacts", 422, "future", method="phone", contacted="mother", result="reached",
            at=future)
    refused("/contacts", 422, "at", method="phone", contacted="mother", result="reached",
            at="yesterday")
    refused("/transitions", 422, "transition", transition="fly")
    refused("/transitions", 409, "contact, receive_repeat, diagnose", transition="close",
            reason="done")
    refused("/transitions", 422, "outcome", transition="diagnose", outcome="confirmed",
            disorder="MSUD")
    refused("/transitions", 422, "clinic_id", transition="refer", clinic_id="abc")
    refused("/letters", 422, "audience", audience="neighbour", language="en")
    refused("/repeat", 422, "barcode")
    refused("/visits", 409, "visits are recorded", kind="growth")
    refused("/letters/999999/correct", 404, "999999", reason="why")
    assert _count(engine, ContactAttempt) == 0
    with Session(engine) as session:
        assert session.get(FollowUpCase, case_id).state == "opened"
        after = session.exec(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.action) != "read", col(AuditEvent.action) != "read_list")).one()
    assert after == events
    # a case that does not exist, or a path that is not an id
    assert web.get("/followup/cases/999999").status_code == 404
    assert web.get("/followup/cases/abc").status_code == 422
    with Session(engine) as session:
        assert session.exec(select(User).where(User.username == "follow_up")).one()
