"""Time-critical alerts under concurrency: one acknowledgement wins, an escalation happens
once, and each escalation names who is to be notified."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from lims.alerts.service import escalate_overdue
from lims.models import Alert, AuditEvent
from tests.lims.helpers import API, accession, open_alert


@pytest.fixture
def specimen_ids(client, world) -> list[int]:
    return [s["id"] for s in accession(client, world, 1, 2).values()]


def _events(engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)
                                 .order_by(AuditEvent.id)))


def test_parallel_acknowledgements_one_wins(client, world, engine, specimen_ids):
    alert_id = open_alert(engine, specimen_ids[0])
    people = [("reviewer", "Dr Zhou Min"), ("follow_up", "Nurse Wang"), ("admin", "Dr Li"),
              ("reviewer", "Dr Chen"), ("follow_up", "Nurse Zhao"), ("admin", "Dr Sun")]

    def ack(person: tuple[str, str]):
        role, name = person
        return name, client.post(f"{API}/alerts/{alert_id}/acknowledge",
                                 json={"full_name": name, "note": "ward called"},
                                 headers=world.auth(role))

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        answers = list(pool.map(ack, people))
    codes = sorted(r.status_code for _, r in answers)
    assert codes == [200] + [409] * (len(people) - 1), [r.text for _, r in answers]
    [winner] = [name for name, r in answers if r.status_code == 200]
    for _, response in answers:
        if response.status_code == 409:
            assert winner in response.json()["detail"]
    with Session(engine) as session:
        alert = session.get(Alert, alert_id)
        assert alert.status == "acknowledged" and alert.acknowledged_by_name == winner
    [event] = _events(engine, "acknowledge")
    assert event.after["acknowledged_by_name"] == winner
    assert event.before["status"] == "open"


def test_escalation_names_who_to_notify_and_is_audited(engine, world, specimen_ids):
    first = open_alert(engine, specimen_ids[0], age=timedelta(minutes=70))
    second = open_alert(engine, specimen_ids[1], age=timedelta(minutes=150))
    open_alert(engine, specimen_ids[1], age=timedelta(minutes=10))  # not due yet
    with Session(engine) as session:
        escalated = escalate_overdue(session)
        session.commit()
    assert [(e.alert_id, e.escalation_level) for e in escalated] == [(first, 1), (second, 2)]
    assert escalated[0].notify_roles == ("reviewer", "follow_up")
    assert escalated[1].notify_roles == ("reviewer", "follow_up", "admin")
    assert escalated[1].notify_users == ("reviewer", "follow_up", "admin")
    events = _events(engine, "escalate")
    assert [e.entity_id for e in events] == [str(first), str(second)]
    assert events[1].after == {"escalation_level": 2,
                               "notify_roles": ["reviewer", "follow_up", "admin"],
                               "notify_users": ["reviewer", "follow_up", "admin"]}
    assert events[0].infant_id is not None and events[0].username == "system"
    with Session(engine) as session:  # nothing more is due
        assert escalate_overdue(session) == []


def test_parallel_escalations_raise_each_alert_once(engine, world, specimen_ids):
    ids = [open_alert(engine, specimen_ids[k % 2], age=timedelta(minutes=65))
           for k in range(4)]

    def escalate(_: int) -> int:
        with Session(engine) as session:
            done = escalate_overdue(session)
            session.commit()
            return len(done)

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert sum(pool.map(escalate, range(4))) == len(ids)
    assert sorted(int(e.entity_id) for e in _events(engine, "escalate")) == ids


def test_an_acknowledged_alert_is_not_escalated(client, world, engine, specimen_ids):
    alert_id = open_alert(engine, specimen_ids[0], age=timedelta(minutes=90))
    assert client.post(f"{API}/alerts/{alert_id}/acknowledge", json={
        "full_name": "Dr Li", "note": "ward called"}, headers=world.auth("reviewer")
                       ).status_code == 200
    with Session(engine) as session:
        assert escalate_overdue(session) == []
