"""Follow-up cases end to end through the API on SQLite and PostgreSQL: a referred baby from
release to a closed case through every state with its audit trail; a normal repeat card closes
its case; a clinic sees only its own cases; an illegal transition is 409 and changes nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from lims.models import AuditEvent, FollowUpCase, utcnow
from tests.lims.helpers import (
    API,
    accession,
    card,
    decide,
    flagged_card,
    release_held_back_repeat,
    specimen_body,
    upload,
)
from tests.lims.plates import plate_csv


def _move(client, world, case_id, role, **body):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/cases/{case_id}/transitions", json=body, headers=world.auth(role))


def _clinic(client, world, code, user):  # type: ignore[no-untyped-def]
    clinic = client.post(f"{API}/clinics", json={"code": code, "name": f"{code} clinic",
                                                 "phone": "+86 10 0000"},
                         headers=world.auth("follow_up"))
    assert clinic.status_code == 201, clinic.text
    tied = client.post(f"{API}/clinics/{clinic.json()['id']}/users",
                       json={"user_id": user.id}, headers=world.auth("admin"))
    assert tied.status_code == 201, tied.text
    return clinic.json()["id"]


def test_a_referred_baby_from_release_to_a_closed_case(client, world, engine):
    specimen = flagged_card(client, world)
    decide(client, world, specimen["id"], "refer")
    fu = world.auth("follow_up")
    cases = client.get(f"{API}/cases", headers=fu).json()
    assert len(cases) == 1
    case = cases[0]
    assert (case["state"], case["reason"], case["suspected"], case["referral_group"],
            case["time_critical"], case["due_action"]) == (
        "opened", "referral", ["MSUD"], "amino_acid", True, "contact")
    case_id = case["id"]
    for result in ("no_answer", "reached"):
        contact = client.post(f"{API}/cases/{case_id}/contacts", json={
            "method": "phone", "contacted": "mother", "result": result}, headers=fu)
        assert contact.status_code == 201, contact.text
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"])
    appointment = (utcnow() + timedelta(days=1)).replace(microsecond=0, tzinfo=None)
    referred = _move(client, world, case_id, "follow_up", transition="refer",
                     clinic_id=clinic_id, appointment_at=f"{appointment.isoformat()}+00:00")
    assert referred.status_code == 200, referred.text
    assert referred.json()["appointment_at"].startswith(appointment.isoformat())
    with Session(engine) as session:
        stored = session.get(FollowUpCase, case_id)
        assert stored is not None and stored.appointment_at is not None
        assert stored.appointment_at.replace(tzinfo=None) == appointment
    assert referred.json()["state"] == "referred"
    assert referred.json()["due_action"] == "diagnosis"
    clinic_view = client.get(f"{API}/cases", headers=world.auth("clinic")).json()
    assert [c["id"] for c in clinic_view] == [case_id]
    diagnosed = _move(client, world, case_id, "clinic", transition="diagnose",
                      outcome="confirmed", disorder="MSUD",
                      confirmatory_tests="plasma allo-isoleucine 12 umol/L")
    assert diagnosed.status_code == 422 and "severity" in diagnosed.text  # refused: no severity
    diagnosed = _move(client, world, case_id, "clinic", transition="diagnose",
                      outcome="confirmed", disorder="MSUD", severity="severe",
                      confirmatory_tests="plasma allo-isoleucine 12 umol/L")
    assert diagnosed.status_code == 200, diagnosed.text
    assert diagnosed.json()["due_action"] == "start_treatment"
    treated = _move(client, world, case_id, "clinic", transition="start_treatment",
                    description="leucine-free formula")
    assert treated.status_code == 200, treated.text
    visit = client.post(f"{API}/cases/{case_id}/visits", json={
        "kind": "metabolic_control", "findings": "Leu 180 umol/L"},
        headers=world.auth("clinic"))
    assert visit.status_code == 201, visit.text
    assert visit.json()["next_due_at"] is not None
    closed = _move(client, world, case_id, "follow_up", transition="close",
                   reason="transferred to the adult metabolic service")
    assert closed.status_code == 200, closed.text
    detail = closed.json()
    assert detail["state"] == "closed" and detail["outcome"] == "confirmed"
    assert [c["result"] for c in detail["contacts"]] == ["no_answer", "reached"]
    assert detail["diagnoses"][0]["disorder"] == "MSUD"
    assert detail["treatments"][0]["description"] == "leucine-free formula"
    assert detail["allowed_transitions"] == []
    letter = client.get(f"{API}/cases/{case_id}/letter", headers=fu)
    assert letter.status_code == 200, letter.text
    assert letter.json()["suspected"][0]["code"] == "MSUD"
    assert letter.json()["values_umol_l"]["Xle"] == 900.0
    assert letter.json()["clinic"]["code"] == "METAB"
    with Session(engine) as session:
        trail = session.exec(select(AuditEvent.action).where(
            AuditEvent.entity == "followup_case", AuditEvent.entity_id == str(case_id),
            col(AuditEvent.action) != "read").order_by(col(AuditEvent.id))).all()
    assert trail == ["open", "contact_attempt", "contact_attempt", "contact", "refer",
                     "diagnose", "start_treatment", "start_long_term_follow_up", "visit",
                     "close"]


def test_a_normal_repeat_card_closes_its_case(client, world, engine):
    specimen = flagged_card(client, world)
    decide(client, world, specimen["id"], "request_repeat_specimen")
    tech, north = world.auth("technician"), world.submitter_ids[0]
    repeat = client.post(f"{API}/specimens", json=specimen_body(
        card(2), north, previous_barcode=card(1)), headers=tech)
    assert repeat.status_code == 201, repeat.text
    with Session(engine) as session:
        case = session.exec(select(FollowUpCase)).one()
        assert (case.state, case.repeat_specimen_id) == ("repeat_received", repeat.json()["id"])
    assert upload(client, world, "r.csv", plate_csv("P-REP", {card(2): {}})).status_code == 201
    released = release_held_back_repeat(client, world, repeat.json()["id"])
    assert released["specimen_id"] == repeat.json()["id"]
    with Session(engine) as session:
        case = session.exec(select(FollowUpCase)).one()
        assert (case.state, case.outcome) == ("closed", "normal_repeat")
        assert case.closed_at is not None


def test_an_unsatisfactory_card_opens_a_case(client, world):
    specimen = accession(client, world, 7)[7]
    marked = client.post(f"{API}/specimens/{specimen['id']}/unsatisfactory",
                         json={"code": "U01"}, headers=world.auth("technician"))
    assert marked.status_code == 200, marked.text
    cases = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()
    assert [(c["reason"], c["referral_group"], c["due_action"]) for c in cases] == [
        ("unsatisfactory", "unsatisfactory", "contact")]


def test_a_clinic_sees_only_its_own_cases(client, world):
    specimen = flagged_card(client, world)
    decide(client, world, specimen["id"], "refer")
    other = client.post(f"{API}/users", json={
        "username": "clinic-b", "full_name": "Dr B", "role": "clinic",
        "password": "long-enough-password"}, headers=world.auth("admin"))
    assert other.status_code == 201, other.text
    signed = client.post(f"{API}/auth/login", json={"username": "clinic-b",
                                                    "password": "long-enough-password"})
    other_auth = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    a = _clinic(client, world, "CLINIC-A", world.users["clinic"])
    with Session(client.app.state.engine) as session:
        from lims.models import User
        user_b = session.exec(select(User).where(User.username == "clinic-b")).one()
    _clinic(client, world, "CLINIC-B", user_b)
    case_id = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()[0]["id"]
    client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "father", "result": "reached"},
        headers=world.auth("follow_up"))
    assert _move(client, world, case_id, "follow_up", transition="refer",
                 clinic_id=a).status_code == 200
    assert client.get(f"{API}/cases/{case_id}", headers=world.auth("clinic")).status_code == 200
    assert client.get(f"{API}/cases/{case_id}", headers=other_auth).status_code == 404
    assert client.get(f"{API}/cases", headers=other_auth).json() == []
    refused = client.post(f"{API}/cases/{case_id}/transitions", headers=other_auth, json={
        "transition": "diagnose", "outcome": "false_positive"})
    assert refused.status_code == 404
    # the submitter of the baby sees the status only; a clinic may not refer
    status = client.get(f"{API}/cases/{case_id}", headers=world.auth("submitter")).json()
    assert status["state"] == "referred" and "contacts" not in status
    assert _move(client, world, case_id, "clinic", transition="close",
                 reason="r").status_code == 403


def test_an_illegal_transition_is_409_and_changes_nothing(client, world, engine):
    specimen = flagged_card(client, world)
    decide(client, world, specimen["id"], "refer")
    case_id = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()[0]["id"]
    with Session(engine) as session:
        before = session.get(FollowUpCase, case_id).model_dump()
        events = len(session.exec(select(AuditEvent.id)).all())
    refused = _move(client, world, case_id, "follow_up", transition="start_treatment",
                    description="formula")
    assert refused.status_code == 409, refused.text
    assert refused.json()["allowed"] == ["contact", "receive_repeat", "diagnose"]
    assert "contact, receive_repeat, diagnose" in refused.json()["detail"]
    with Session(engine) as session:
        assert session.get(FollowUpCase, case_id).model_dump() == before
        assert len(session.exec(select(AuditEvent.id)).all()) == events
    later = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    future = _move(client, world, case_id, "follow_up", transition="diagnose",
                   outcome="false_positive", at=later.isoformat())
    assert future.status_code == 422, future.text
    assert f"{later:%Y-%m-%d %H:%M} UTC lies in the future: give the time it happened" in (
        future.text)


def test_overdue_cases_are_listed_and_reminded_once(client, world, engine):
    specimen = flagged_card(client, world)
    decide(client, world, specimen["id"], "refer")
    with Session(engine) as session:
        case = session.exec(select(FollowUpCase)).one()
        case.due_at = utcnow() - timedelta(hours=2)
        case_id = case.id
        session.add(case)
        session.commit()
    fu = world.auth("follow_up")
    overdue = client.get(f"{API}/cases/overdue", headers=fu).json()
    assert [c["id"] for c in overdue] == [case_id]
    first = client.post(f"{API}/cases/remind", headers=fu).json()["alert_ids"]
    again = client.post(f"{API}/cases/remind", headers=fu).json()["alert_ids"]
    assert len(first) == 1 and again == []
    alerts = client.get(f"{API}/alerts", headers=fu).json()
    assert any(f"follow-up case {case_id}" in a["message"] for a in alerts)
