"""A case is closed as not confirmed (outcome ``normal_repeat``) only on a released normal
result of a later card of the baby: by hand before the repeat card was tested it is refused
(409 naming what is missing) and changes nothing."""

from __future__ import annotations

from sqlmodel import Session, select

from lims.models import FollowUpCase
from tests.lims.helpers import (
    API,
    card,
    decide,
    flagged_card,
    release_held_back_repeat,
    specimen_body,
    upload,
)
from tests.lims.plates import plate_csv


def test_normal_repeat_needs_a_released_normal_later_card(client, world, engine):
    first = flagged_card(client, world)
    decide(client, world, first["id"], "request_repeat_specimen")
    tech, north = world.auth("technician"), world.submitter_ids[0]
    repeat = client.post(f"{API}/specimens", json=specimen_body(
        card(2), north, previous_barcode=card(1)), headers=tech)
    assert repeat.status_code == 201, repeat.text
    with Session(engine) as session:
        case = session.exec(select(FollowUpCase)).one()
        assert case.state == "repeat_received"
        case_id, before = case.id, case.model_dump()
    fu = world.auth("follow_up")
    refused = client.post(f"{API}/cases/{case_id}/transitions",
                          json={"transition": "close_not_confirmed"}, headers=fu)
    assert refused.status_code == 409, refused.text
    assert "needs a released normal result on a later card of the baby" in refused.text
    with Session(engine) as session:
        assert session.get(FollowUpCase, case_id).model_dump() == before
    exported = client.get(f"{API}/cases/{case_id}", headers=fu).json()
    assert (exported["state"], exported["outcome"]) == ("repeat_received", None)
    # a third card of the baby, released normal, is a later normal result: now it closes
    third = client.post(f"{API}/specimens", json=specimen_body(
        card(3), north, previous_barcode=card(2)), headers=tech)
    assert third.status_code == 201, third.text
    assert upload(client, world, "r.csv", plate_csv("P-REP", {card(3): {}})).status_code == 201
    release_held_back_repeat(client, world, third.json()["id"])
    closed = client.post(f"{API}/cases/{case_id}/transitions",
                         json={"transition": "close_not_confirmed"}, headers=fu)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["outcome"]) == ("closed", "normal_repeat")
