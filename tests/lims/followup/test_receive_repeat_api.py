"""The API's ``receive_repeat`` on a follow-up case names the repeat card and links it, on
SQLite and PostgreSQL: without a barcode, with an unknown card, another baby's card or the
case's own card it is refused naming the field and changes nothing; with the baby's card the
case receives it at the card's receipt time (audited), and its normal release closes the
case."""

from __future__ import annotations

from sqlmodel import Session, select

from lims.models import AuditEvent, FollowUpCase
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


def _case(engine) -> FollowUpCase:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(FollowUpCase)).one()


def test_receive_repeat_names_and_links_the_repeat_card(client, world, engine):
    tech, north = world.auth("technician"), world.submitter_ids[0]
    first = accession(client, world, 1)[1]
    repeat = client.post(f"{API}/specimens", json=specimen_body(
        card(2), north, previous_barcode=card(1)), headers=tech)
    assert repeat.status_code == 201, repeat.text
    accession(client, world, 3)  # another baby's card
    assert upload(client, world, "a.csv", plate_csv("P-RR", {card(1): {"Xle": 900}})) \
        .status_code == 201
    decided = client.post(f"{API}/specimens/{first['id']}/decisions", json={
        "decision": "request_repeat_specimen", "reason": "MSUD suspected",
        "password": PASSWORD}, headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    case_id = _case(engine).id
    follow = world.auth("follow_up")

    def move(**body):  # type: ignore[no-untyped-def]
        return client.post(f"{API}/cases/{case_id}/transitions",
                           json={"transition": "receive_repeat", **body}, headers=follow)

    for body, message in (({}, "barcode"), ({"barcode": " "}, "barcode"),
                          ({"barcode": "NOPE"}, "no card"),
                          ({"barcode": card(3)}, "another baby"),
                          ({"barcode": card(1)}, "opened on")):
        refused = move(**body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["field"] == "barcode" and message in refused.json()["detail"]
    timed = move(barcode=card(2), at="2026-03-05T08:00:00Z")
    assert timed.status_code == 422 and timed.json()["field"] == "at"
    elsewhere = client.post(f"{API}/cases/{case_id}/transitions",
                            json={"transition": "contact", "barcode": card(2)}, headers=follow)
    assert elsewhere.status_code == 422 and elsewhere.json()["field"] == "barcode"
    assert (_case(engine).state, _case(engine).repeat_specimen_id) == ("opened", None)

    linked = move(barcode=card(2))
    assert linked.status_code == 200, linked.text
    assert linked.json()["state"] == "repeat_received"
    assert linked.json()["repeat_specimen_id"] == repeat.json()["id"]
    case = _case(engine)
    assert case.repeat_received_at is not None
    assert case.repeat_received_at.isoformat()[:19] == repeat.json()["received_at"][:19]
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "receive_repeat", AuditEvent.entity_id == str(case_id))).one()
    assert event.username == "follow_up"
    assert move(barcode=card(2)).status_code == 409  # received already

    assert upload(client, world, "b.csv", plate_csv("P-RR2", {card(2): {}})).status_code == 201
    release_held_back_repeat(client, world, repeat.json()["id"])
    assert (_case(engine).state, _case(engine).outcome) == ("closed", "normal_repeat")
