"""The API takes times with their UTC offset (docs/web.md): a time without one is refused
(422) naming the field, on every body field that is a time; the pages' forms, which know the
laboratory's zone, keep sending local times."""

from __future__ import annotations

from tests.lims.helpers import API, BIRTH, card, specimen_body

NAIVE = "2026-03-02T20:00:00"


def _refused(response, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][-1] == field
    assert "needs a UTC offset, e.g. 2026-12-04T10:00:00+08:00" in error["msg"]


def test_a_time_without_its_offset_is_refused_naming_the_field(client, world):
    tech, north = world.auth("technician"), world.submitter_ids[0]
    _refused(client.post(f"{API}/specimens", json=specimen_body(
        card(1), north, collected_at=NAIVE), headers=tech), "collected_at")
    _refused(client.post(f"{API}/specimens", json=specimen_body(
        card(1), north, tpn=True, tpn_started_at=NAIVE), headers=tech), "tpn_started_at")
    infant = {"submitter_id": north, "birth_at": "2026-03-01T08:00", "sex": "F"}
    _refused(client.post(f"{API}/specimens", json=specimen_body(card(1), north, infant=infant),
                         headers=tech), "birth_at")
    assert client.get(f"{API}/specimens", headers=tech).json() == []  # nothing stored
    with_offset = specimen_body(card(1), north, collected_at="2026-03-03T04:00:00+08:00")
    made = client.post(f"{API}/specimens", json=with_offset, headers=tech)
    assert made.status_code == 201, made.text
    assert made.json()["collected_at"].startswith("2026-03-02T20:00")
    z = client.post(f"{API}/specimens", json=specimen_body(
        card(2), north, received_at=(BIRTH.replace(day=4)).strftime("%Y-%m-%dT%H:%M:%SZ")),
        headers=tech)
    assert z.status_code == 201, z.text


def test_a_case_time_without_its_offset_is_refused(client, world):
    fu = world.auth("follow_up")  # the body is checked before the case is looked up
    _refused(client.post(f"{API}/cases/1/contacts", json={
        "at": NAIVE, "method": "phone", "contacted": "mother", "result": "reached"},
        headers=fu), "at")
    _refused(client.post(f"{API}/cases/1/transitions", json={
        "transition": "refer", "clinic_id": 1, "appointment_at": NAIVE}, headers=fu),
        "appointment_at")
