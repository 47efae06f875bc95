"""Accessioning through HTTP: barcode rule, linkage, unsatisfactory codes, scope, audit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, select

from lims.models import AuditEvent
from lims.reference import barcode_rule
from tests.lims.helpers import card, specimen_body

API = "/api/v1"


@given(st.integers(min_value=0, max_value=99_999_999), st.integers(min_value=0, max_value=8))
def test_a_single_mistyped_digit_is_caught(n, position):
    rule = barcode_rule()
    good = rule.make(f"{n:08d}")
    assert rule.validate(good) == good
    wrong = good[:position] + str((int(good[position]) + 1) % 10) + good[position + 1:]
    try:
        rule.validate(wrong)
    except Exception as exc:  # noqa: BLE001
        assert "check digit" in str(exc)
    else:
        raise AssertionError(f"{wrong} accepted")


def test_accession_links_repeat_cards_and_rejects_bad_barcodes(client, world, engine):
    tech, north = world.auth("technician"), world.submitter_ids[0]
    first = client.post(f"{API}/specimens", json=specimen_body(card(1), north), headers=tech)
    assert first.status_code == 201, first.text
    infant_id = first.json()["infant_id"]
    assert first.json()["state"] == "accessioned" and first.json()["kind"] == "initial"

    mistyped = card(2)[:-1] + str((int(card(2)[-1]) + 1) % 10)
    bad = client.post(f"{API}/specimens", json=specimen_body(mistyped, north), headers=tech)
    assert bad.status_code == 422 and bad.json()["field"] == "barcode"

    again = client.post(f"{API}/specimens", json=specimen_body(card(1), north), headers=tech)
    assert again.status_code == 409

    repeat = client.post(f"{API}/specimens", json=specimen_body(
        card(3), north, previous_barcode=card(1)), headers=tech)
    assert repeat.status_code == 201, repeat.text
    assert repeat.json()["infant_id"] == infant_id and repeat.json()["kind"] == "repeat"
    assert repeat.json()["previous_specimen_id"] == first.json()["id"]

    by_id = client.post(f"{API}/specimens", json=specimen_body(card(4), north,
                                                               infant_id=infant_id), headers=tech)
    assert by_id.json()["infant_id"] == infant_id


def test_twins_are_suggested_never_merged(client, world):
    tech, north = world.auth("technician"), world.submitter_ids[0]
    twin = {"submitter_id": north, "birth_at": "2026-03-01T08:00:00Z", "sex": "M",
            "mother_name": "Wang Fang", "mother_id": "M-77", "plurality": 2}
    a = client.post(f"{API}/specimens", json=specimen_body(
        card(10), north, infant={**twin, "birth_order": 1}), headers=tech).json()
    b = client.post(f"{API}/specimens", json=specimen_body(
        card(11), north, infant={**twin, "birth_order": 2}), headers=tech).json()
    assert a["infant_id"] != b["infant_id"]
    suggestions = client.get(f"{API}/infants/{a['infant_id']}/link-suggestions",
                             headers=tech).json()
    assert [s["infant_id"] for s in suggestions] == [b["infant_id"]]
    assert suggestions[0]["twin"] is True
    assert len(client.get(f"{API}/infants", headers=world.auth("admin")).json()) == 2


def test_unsatisfactory_code_requests_a_repeat(client, world):
    tech, north = world.auth("technician"), world.submitter_ids[0]
    s = client.post(f"{API}/specimens", json=specimen_body(card(20), north), headers=tech).json()
    unknown = client.post(f"{API}/specimens/{s['id']}/unsatisfactory", json={"code": "X99"},
                          headers=tech)
    assert unknown.status_code == 422
    request = client.post(f"{API}/specimens/{s['id']}/unsatisfactory",
                          json={"code": "U06", "note": "serum rings on spots 2 and 3"},
                          headers=tech)
    assert request.status_code == 200, request.text
    assert request.json()["status"] == "open" and "serum rings" in request.json()["reason"]
    twice = client.post(f"{API}/specimens/{s['id']}/unsatisfactory", json={"code": "U06"},
                        headers=tech)
    assert twice.status_code == 409  # illegal transition: already unsatisfactory
    repeat = client.post(f"{API}/specimens", json=specimen_body(
        card(21), north, previous_barcode=card(20)), headers=tech).json()
    requests = client.get(f"{API}/repeat-requests", headers=tech).json()
    assert requests[0]["status"] == "fulfilled"
    assert requests[0]["fulfilled_by_specimen_id"] == repeat["id"]


def test_late_card_is_unsatisfactory_on_arrival(client, world):
    tech, north = world.auth("technician"), world.submitter_ids[0]
    body = specimen_body(card(30), north, received_at="2026-03-20T08:00:00Z")
    s = client.post(f"{API}/specimens", json=body, headers=tech).json()
    assert s["state"] == "unsatisfactory" and s["unsatisfactory_code"] == "U09"


def test_submitter_sees_only_its_own_babies_and_reads_are_audited(client, world, engine):
    tech = world.auth("technician")
    north, south = world.submitter_ids
    mine = client.post(f"{API}/specimens", json=specimen_body(card(40), north),
                       headers=tech).json()
    other = client.post(f"{API}/specimens", json=specimen_body(card(41), south), headers=tech)
    other = other.json()
    sub = world.auth("submitter")  # belongs to NORTH
    assert client.get(f"{API}/specimens/{mine['id']}", headers=sub).status_code == 200
    assert client.get(f"{API}/specimens/{other['id']}", headers=sub).status_code == 404
    assert client.get(f"{API}/infants/{other['infant_id']}", headers=sub).status_code == 404
    listed = client.get(f"{API}/specimens", headers=sub).json()
    assert [s["barcode"] for s in listed] == [card(40)]
    assert client.post(f"{API}/specimens", json=specimen_body(card(42), north),
                       headers=sub).status_code == 403
    with Session(engine) as session:
        reads = session.exec(select(AuditEvent).where(AuditEvent.action == "read")).all()
        assert [(r.username, r.entity, r.infant_id) for r in reads] == [
            ("submitter", "specimen", mine["infant_id"])]


def test_the_specimen_list_filters_by_barcode_and_refuses_an_unknown_filter(
        client, world, engine):
    tech = world.auth("technician")
    north, south = world.submitter_ids
    for n, submitter in ((50, north), (51, north), (52, south)):
        assert client.post(f"{API}/specimens", json=specimen_body(card(n), submitter),
                           headers=tech).status_code == 201
    one = client.get(f"{API}/specimens", params={"barcode": card(51)}, headers=tech)
    assert one.status_code == 200 and [s["barcode"] for s in one.json()] == [card(51)]
    # exact: a barcode's start is no match (the pages' search finds by the start)
    assert client.get(f"{API}/specimens", params={"barcode": card(51)[:5]},
                      headers=tech).json() == []
    # in scope only: the submitter of NORTH does not find SOUTH's card by its barcode
    sub = world.auth("submitter")
    assert client.get(f"{API}/specimens", params={"barcode": card(52)}, headers=sub).json() == []
    assert [s["barcode"] for s in client.get(f"{API}/specimens", params={
        "barcode": card(50)}, headers=sub).json()] == [card(50)]
    with Session(engine) as session:
        read = session.exec(select(AuditEvent).where(AuditEvent.action == "read_list")
                            .order_by(AuditEvent.id.desc())).first()  # type: ignore[union-attr]
        assert read is not None and read.after is not None
        assert read.after["filters"]["barcode"] == card(50)
    # an unknown filter is refused naming it, never ignored (the whole list answered)
    for params in ({"barcod": card(51)}, {"barcode": card(51), "submitter": "NORTH"}):
        refused = client.get(f"{API}/specimens", params=params, headers=tech)
        assert refused.status_code == 422, refused.text
        unknown = next(iter(set(params) - {"barcode"}))
        detail, = refused.json()["detail"]
        assert detail["loc"] == ["query", unknown] and detail["type"] == "extra_forbidden"
        assert unknown in detail["msg"] and "barcode" in detail["msg"]
    assert client.get(f"{API}/specimens", params={"barcode": ""},
                      headers=tech).status_code == 422
    # every list of the API refuses what it does not declare
    for path in ("/infants", "/repeat-requests", "/runs", "/alerts", "/review/queue"):
        assert client.get(f"{API}{path}", params={"nope": "1"},
                          headers=world.auth("admin")).status_code == 422, path
        assert client.get(f"{API}{path}", headers=world.auth("admin")).status_code == 200, path
