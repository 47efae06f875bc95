"""Review, release with the password again, corrections as versions, alerts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from lims.alerts.service import escalate_overdue
from lims.models import Alert, AuditEvent, utcnow
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, sign_off_plates, upload
from tests.lims.plates import plate_csv


@pytest.fixture
def plate(client, world):
    cards = accession(client, world, 1, 2, 3)
    response = upload(client, world, "p.csv", plate_csv(
        "P-REV", {card(1): {}, card(2): {"Xle": 800}, card(3): {}}))
    assert response.status_code == 201
    sign_off_plates(client, world.auth("technician"))  # the bulk release awaits it
    return cards


def test_queue_shows_flagged_with_values_and_reasons(client, world, plate):
    queue = client.get(f"{API}/review/queue", headers=world.auth("reviewer"))
    assert queue.status_code == 200
    [item] = queue.json()
    assert item["barcode"] == card(2)
    assert item["values_umol_l"]["Xle"] == 800.0
    assert item["calls"][0]["reasons"] == "Xle=800>400"
    assert item["covariates"]["age_at_collection_hours"] == 36.0
    assert item["open_alerts"] == 1
    # a standing call: release as normal only by an override with a reason
    assert item["allowed_decisions"] == ["override", "request_repeat_specimen", "refer"]
    assert item["second_tier_recommendation"] is None  # no model configured
    assert client.get(f"{API}/review/queue",
                      headers=world.auth("technician")).status_code == 403


def test_release_needs_the_password_and_is_immutable(client, world, plate, engine):
    reviewer = world.auth("reviewer")
    wrong = client.post(f"{API}/review/release-normals", json={"password": "not-mine"},
                        headers=reviewer)
    assert wrong.status_code == 401
    ok = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                     headers=reviewer)
    assert sorted(ok.json()["released_specimen_ids"]) == [plate[1]["id"], plate[3]["id"]]
    flagged = plate[2]["id"]
    as_normal = client.post(f"{API}/specimens/{flagged}/decisions", json={
        "decision": "release_normal", "password": PASSWORD}, headers=reviewer)
    assert as_normal.status_code == 409
    no_reason = client.post(f"{API}/specimens/{flagged}/decisions", json={
        "decision": "override", "password": PASSWORD}, headers=reviewer)
    assert no_reason.status_code == 422
    for decision in ("refer", "request_repeat_specimen"):  # the form says so: not without one
        for reason in ({}, {"reason": "  "}):
            unexplained = client.post(f"{API}/specimens/{flagged}/decisions", json={
                "decision": decision, "password": PASSWORD, **reason}, headers=reviewer)
            assert unexplained.status_code == 422, (decision, reason)
            assert unexplained.json()["field"] == "reason"
    referred = client.post(f"{API}/specimens/{flagged}/decisions", json={
        "decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
        headers=reviewer)
    assert referred.status_code == 201, referred.text
    assert referred.json()["outcome"] == "referred"
    assert referred.json()["summary"]["values_umol_l"]["Xle"] == 800.0
    again = client.post(f"{API}/specimens/{flagged}/decisions", json={
        "decision": "refer", "reason": "twice", "password": PASSWORD}, headers=reviewer)
    assert again.status_code == 409
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("UPDATE release SET outcome = 'normal'"))


def test_correction_is_a_new_version_and_keeps_the_old(client, world, plate):
    reviewer, target = world.auth("reviewer"), plate[1]["id"]
    client.post(f"{API}/review/release-normals", json={"password": PASSWORD}, headers=reviewer)
    corrected = client.post(f"{API}/specimens/{target}/corrections", json={
        "reason": "card belonged to the twin", "password": PASSWORD}, headers=reviewer)
    assert corrected.json() == {"specimen_id": target, "state": "awaiting_review", "version": 2}
    second = client.post(f"{API}/specimens/{target}/decisions", json={
        "decision": "request_repeat_specimen", "reason": "identity in doubt",
        "password": PASSWORD}, headers=reviewer)
    assert second.status_code == 201, second.text
    versions = client.get(f"{API}/specimens/{target}/releases",
                          headers=world.auth("submitter")).json()
    assert [(v["version"], v["outcome"]) for v in versions] == [
        (1, "normal"), (2, "repeat_specimen_requested")]
    assert versions[1]["supersedes_id"] == versions[0]["id"]
    requests = client.get(f"{API}/repeat-requests", headers=world.auth("submitter")).json()
    assert [r["specimen_id"] for r in requests] == [target]


def test_alert_open_until_a_named_person_acknowledges(client, world, plate, engine):
    alerts = client.get(f"{API}/alerts?status=open", headers=world.auth("follow_up")).json()
    assert [a["disorder"] for a in alerts] == ["MSUD"]
    alert_id = alerts[0]["id"]
    with Session(engine) as session:
        escalated = escalate_overdue(session, now=utcnow() + timedelta(minutes=125),
                                     interval_minutes=60)
        session.commit()
        assert [a.escalation_level for a in escalated] == [2]
    assert client.post(f"{API}/alerts/{alert_id}/acknowledge", json={"full_name": "Dr Zhou"},
                       headers=world.auth("technician")).status_code == 403
    ack = client.post(f"{API}/alerts/{alert_id}/acknowledge",
                      json={"full_name": "Dr Zhou Min", "note": "family called at 10:05"},
                      headers=world.auth("follow_up"))
    assert ack.status_code == 200
    assert ack.json()["status"] == "acknowledged"
    assert ack.json()["acknowledged_by_name"] == "Dr Zhou Min"
    assert ack.json()["acknowledgement_note"] == "family called at 10:05"
    twice = client.post(f"{API}/alerts/{alert_id}/acknowledge", json={"full_name": "X"},
                        headers=world.auth("follow_up"))
    assert twice.status_code == 409
    with Session(engine) as session:
        alert = session.exec(select(Alert)).one()
        assert alert.escalation_level == 2
        actions = [e.action for e in session.exec(
            select(AuditEvent).where(AuditEvent.entity == "alert").order_by(AuditEvent.id))]
        assert actions == ["open", "read_list", "escalate", "acknowledge"]
    [listed] = client.get(f"{API}/alerts?status=acknowledged",
                          headers=world.auth("follow_up")).json()
    assert listed["acknowledgement_note"] == "family called at 10:05"  # what was done, and when
    assert listed["acknowledged_at"] == ack.json()["acknowledged_at"] is not None


def test_a_corrected_result_waits_in_the_queue_and_is_never_released_in_bulk(client, world,
                                                                             plate):
    reviewer, target = world.auth("reviewer"), plate[1]["id"]
    client.post(f"{API}/review/release-normals", json={"password": PASSWORD}, headers=reviewer)
    corrected = client.post(f"{API}/specimens/{target}/corrections", json={
        "reason": "card belonged to the twin", "password": PASSWORD}, headers=reviewer)
    assert corrected.status_code == 200, corrected.text
    queue = client.get(f"{API}/review/queue", headers=reviewer).json()
    mine = {item["specimen_id"]: item for item in queue}
    assert set(mine) == {plate[2]["id"], target}  # the flagged card and the correction
    assert mine[target]["version"] == 2
    assert mine[target]["correction"]["reason"] == "card belonged to the twin"
    assert mine[target]["correction"]["version"] == 2
    assert mine[target]["correction"]["corrected_by"] == "reviewer"
    assert mine[target]["allowed_decisions"] == [
        "release_normal", "request_repeat_specimen", "refer"]
    assert mine[plate[2]["id"]]["correction"] is None
    # the bulk release counts it out and leaves it for a person
    waiting = client.get(f"{API}/review/release-normals", headers=reviewer).json()
    assert waiting["specimen_ids"] == [] and waiting["count"] == 0
    bulk = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                       headers=reviewer)
    assert bulk.json()["released_specimen_ids"] == []
    assert target in {i["specimen_id"] for i in client.get(
        f"{API}/review/queue", headers=reviewer).json()}
    decided = client.post(f"{API}/specimens/{target}/decisions", json={
        "decision": "release_normal", "password": PASSWORD}, headers=reviewer)
    assert decided.status_code == 201, decided.text
    assert decided.json()["version"] == 2 and decided.json()["supersedes_id"] is not None
    assert target not in {i["specimen_id"] for i in client.get(
        f"{API}/review/queue", headers=reviewer).json()}


def test_the_bulk_release_releases_exactly_the_cards_it_counted(client, world, plate):
    reviewer = world.auth("reviewer")
    counted = client.get(f"{API}/review/release-normals", headers=reviewer).json()
    assert counted["count"] == 2
    assert counted["specimen_ids"] == [plate[1]["id"], plate[3]["id"]]
    # a card arrives between counting and signing: the signed release is refused, nothing moves
    accession(client, world, 4)
    assert upload(client, world, "p2.csv",
                  plate_csv("P-REV2", {card(4): {}})).status_code == 201
    sign_off_plates(client, world.auth("technician"))
    changed = client.post(f"{API}/review/release-normals", json={
        "password": PASSWORD, "digest": counted["digest"], "count": 2}, headers=reviewer)
    assert changed.status_code == 409, changed.text
    assert "2" in changed.json()["detail"] and "3" in changed.json()["detail"]
    again = client.get(f"{API}/review/release-normals", headers=reviewer).json()
    assert again["count"] == 3 and again["digest"] != counted["digest"]  # nothing released
    done = client.post(f"{API}/review/release-normals", json={
        "password": PASSWORD, "digest": again["digest"]}, headers=reviewer)
    assert done.status_code == 200, done.text
    assert done.json()["released_specimen_ids"] == again["specimen_ids"]
