"""Every read of a baby's record is audited, list reads included: one event per request,
naming the records read and their babies, written in one insert."""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session, select

from lims.models import AuditEvent
from tests.lims.helpers import API, accession, card, open_alert, specimen_body


def _list_reads(engine, entity: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(
            AuditEvent.action == "read_list", AuditEvent.entity == entity)
            .order_by(AuditEvent.id)))


def _south_card(client, world, n: int) -> dict:
    south = world.submitter_ids[1]
    response = client.post(f"{API}/specimens", json=specimen_body(card(n), south),
                           headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    return response.json()


def test_specimen_lists_are_audited_with_ids_and_babies(client, world, engine):
    cards = accession(client, world, 1, 2, 3)
    _south_card(client, world, 4)
    listed = client.get(f"{API}/specimens?limit=50", headers=world.auth("reviewer")).json()
    [event] = _list_reads(engine, "specimen")
    assert event.username == "reviewer" and event.entity_id == "list"
    assert event.after["ids"] == [s["id"] for s in listed]
    assert event.after["infant_ids"] == sorted({s["infant_id"] for s in listed})
    assert event.after["filters"] == {"limit": 50, "offset": 0}
    assert event.infant_id is None  # four babies: see after["infant_ids"]

    baby = cards[2]["infant_id"]
    one = client.get(f"{API}/specimens?infant_id={baby}", headers=world.auth("follow_up"))
    assert [s["id"] for s in one.json()] == [cards[2]["id"]]
    event = _list_reads(engine, "specimen")[-1]
    assert event.infant_id == baby and event.after["ids"] == [cards[2]["id"]]
    assert event.after["filters"]["infant_id"] == baby


def test_a_submitter_s_list_read_names_only_its_babies(client, world, engine):
    north = accession(client, world, 1, 2)
    _south_card(client, world, 3)
    listed = client.get(f"{API}/specimens", headers=world.auth("submitter")).json()
    assert sorted(s["id"] for s in listed) == sorted(c["id"] for c in north.values())
    [event] = _list_reads(engine, "specimen")
    assert sorted(event.after["infant_ids"]) == sorted(c["infant_id"] for c in north.values())


def test_infant_repeat_request_and_alert_lists_are_audited(client, world, engine):
    cards = accession(client, world, 1, 2)
    infants = client.get(f"{API}/infants", headers=world.auth("admin")).json()
    [event] = _list_reads(engine, "infant")
    assert event.after["ids"] == [i["id"] for i in infants] == event.after["infant_ids"]

    rejected = client.post(f"{API}/specimens/{cards[1]['id']}/unsatisfactory",
                           json={"code": "U01"}, headers=world.auth("technician"))
    assert rejected.status_code == 200, rejected.text
    requests = client.get(f"{API}/repeat-requests", headers=world.auth("submitter")).json()
    [event] = _list_reads(engine, "repeat_request")
    assert event.username == "submitter"
    assert event.after["ids"] == [r["id"] for r in requests]
    assert event.infant_id == cards[1]["infant_id"]

    alert_id = open_alert(engine, cards[2]["id"])
    alerts = client.get(f"{API}/alerts?status=open", headers=world.auth("follow_up")).json()
    assert [a["id"] for a in alerts] == [alert_id]
    assert "infant_id" not in alerts[0]
    [event] = _list_reads(engine, "alert")
    assert event.after == {"ids": [alert_id], "infant_ids": [cards[2]["infant_id"]],
                           "filters": {"status": "open"}}


def test_an_empty_list_writes_no_event(client, world, engine):
    assert client.get(f"{API}/specimens", headers=world.auth("reviewer")).json() == []
    assert client.get(f"{API}/alerts", headers=world.auth("reviewer")).json() == []
    assert _list_reads(engine, "specimen") == [] and _list_reads(engine, "alert") == []


def test_a_page_of_specimens_is_one_audit_insert(client, world, engine):
    accession(client, world, *range(1, 9))
    inserts: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _many):
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENT"):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(client.get(f"{API}/specimens", headers=world.auth("admin")).json()) == 8
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 1
    [read] = _list_reads(engine, "specimen")
    assert len(read.after["ids"]) == 8
