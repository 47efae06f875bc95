"""Held wells: a technician attaches a well held for an unknown barcode to the card accessioned
later (its values become the card's results and are evaluated like an ingest, in one
transaction, audited), or discards it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, select

from lims.audit import Actor
from lims.models import Alert, AuditEvent, DuplicateRequest, Evaluation, HeldWell, Result, Specimen
from lims.runs.held import attach_held_well
from tests.lims.helpers import API, accession, card, count, upload
from tests.lims.plates import FailingPipeline, plate_csv


def _resolve(client, world, held_id, **body):  # noqa: ANN202 - a test helper
    return client.post(f"{API}/held-wells/{held_id}/resolve", json=body,
                       headers=world.auth("technician"))


def _held(client, world, run_id):  # noqa: ANN202 - a test helper
    return client.get(f"{API}/runs/{run_id}/held-wells", headers=world.auth("technician")).json()


@pytest.fixture
def plate(client, world):
    """Card 1 accessioned; cards 50 (two wells, Phe high) and 51 (Xle critical) not yet."""
    accession(client, world, 1)
    response = upload(client, world, "p.csv", plate_csv("P-HELD", [
        (card(1), {}), (card(50), {"Phe": 150}), (card(50), {"Phe": 170}),
        (card(51), {"Xle": 900})]))
    assert response.status_code == 201, response.text
    assert response.json()["n_held"] == 3
    return response.json()


def test_a_held_well_is_attached_to_the_card_accessioned_later(client, world, engine, plate):
    held = {h["well"]: h for h in _held(client, world, plate["id"])}
    assert {h["sample_id"] for h in held.values()} == {card(50), card(51)}
    assert not accession(client, world, 50)[50]["flagged"]
    attached = _resolve(client, world, held["A04"]["id"], action="attach", barcode=card(50),
                        note="card arrived late; accessioned today")
    assert attached.status_code == 200, attached.text
    specimen_id = attached.json()["specimen_id"]
    assert attached.json()["status"] == "attached" and specimen_id is not None
    # both of the card's wells on the run were attached: the mean of the replicates decides
    after = {h["well"]: h for h in _held(client, world, plate["id"])}
    assert {w: (h["status"], h["specimen_id"]) for w, h in after.items()} == {
        "A04": ("attached", specimen_id), "A05": ("attached", specimen_id),
        "A06": ("held", None)}
    with Session(engine) as session:
        results = session.exec(select(Result).where(Result.specimen_id == specimen_id)).all()
        assert sorted((r.well, r.replicate, r.analyte, r.conc_umol_l) for r in results
                      if r.analyte == "Phe") == [("A04", 1, "Phe", 150.0),
                                                 ("A05", 2, "Phe", 170.0)]
        assert len(results) == 6 and {r.run_id for r in results} == {plate["id"]}
        [evaluation] = session.exec(select(Evaluation).where(
            Evaluation.specimen_id == specimen_id)).all()
        assert (evaluation.disorder, evaluation.reasons, evaluation.run_id) == (
            "PKU", "Phe=160>120", plate["id"])
        specimen = session.get(Specimen, specimen_id)
        assert (specimen.state, specimen.flagged) == ("awaiting_duplicate", True)
        assert session.exec(select(DuplicateRequest)).one().specimen_id == specimen_id
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action.in_(["attach", "request_duplicate"]))  # type: ignore[attr-defined]
            .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["attach", "attach", "request_duplicate"]
        assert events[0].reason == "card arrived late; accessioned today"
        assert events[0].after["specimen_id"] == specimen_id
        assert events[0].before["status"] == "held" and events[0].after["status"] == "attached"
        assert events[2].reason.startswith("out of range on held well(s) A04, A05 of plate P-HELD")
    run = client.get(f"{API}/runs/{plate['id']}", headers=world.auth("technician")).json()
    assert run["n_results"] == 3 + 6 and run["n_held"] == 3
    worklist = client.get(f"{API}/worklists/duplicates", headers=world.auth("technician"))
    assert [w["barcode"] for w in worklist.json()] == [card(50)]
    # resolved already
    again = _resolve(client, world, held["A05"]["id"], action="attach", barcode=card(50),
                     note="twice")
    assert again.status_code == 409


def test_an_attached_time_critical_result_opens_its_alert(client, world, engine, plate):
    held = {h["well"]: h for h in _held(client, world, plate["id"])}
    accession(client, world, 51)
    response = _resolve(client, world, held["A06"]["id"], action="attach", barcode=card(51),
                        note="late card")
    assert response.status_code == 200, response.text
    with Session(engine) as session:
        alert = session.exec(select(Alert)).one()
        assert alert.disorder == "MSUD" and alert.specimen_id == response.json()["specimen_id"]
        assert session.get(Evaluation, alert.evaluation_id).run_id == plate["id"]
    queue = client.get(f"{API}/review/queue", headers=world.auth("reviewer")).json()
    assert [(q["barcode"], q["open_alerts"]) for q in queue] == [(card(51), 1)]


def test_attach_is_refused_when_it_cannot_be_right(client, world, engine, plate):
    held = {h["well"]: h for h in _held(client, world, plate["id"])}
    well = held["A06"]["id"]
    not_yet = _resolve(client, world, well, action="attach", barcode=card(51), note="n")
    assert not_yet.status_code == 404 and "accession the card first" in not_yet.json()["detail"]
    accession(client, world, 51, 52)
    other = _resolve(client, world, well, action="attach", barcode=card(52), note="n")
    assert other.status_code == 422 and other.json()["field"] == "barcode"
    assert _resolve(client, world, well, action="attach", note="n").status_code == 422
    assert _resolve(client, world, well, action="discard", barcode=card(51),
                    note="n").status_code == 422
    assert _resolve(client, world, 999_999, action="attach", barcode=card(51),
                    note="n").status_code == 404
    # a card that already has its results does not take a held well
    upload(client, world, "q.csv", plate_csv("P-OTHER", {card(51): {}}))
    busy = _resolve(client, world, well, action="attach", barcode=card(51), note="n")
    assert busy.status_code == 409 and "awaiting_review" in busy.json()["detail"]
    reviewer = client.post(f"{API}/held-wells/{well}/resolve", headers=world.auth("reviewer"),
                           json={"action": "discard", "note": "n"})
    assert reviewer.status_code == 403
    discarded = _resolve(client, world, well, action="discard", note="card was re-run")
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    assert discarded.json()["specimen_id"] is None
    with Session(engine) as session:
        assert session.get(HeldWell, well).values["Xle"] == 900.0  # the values stay


def test_a_failure_while_attaching_leaves_nothing_changed(client, world, engine, plate):
    held = {h["well"]: h for h in _held(client, world, plate["id"])}
    accession(client, world, 50)
    results_before, audit_before = count(engine, Result), count(engine, AuditEvent)
    with Session(engine) as session, pytest.raises(RuntimeError, match="evaluation crashed"):
        technician = world.users["technician"]
        attach_held_well(session, Actor(technician.id, technician.username, "technician"),
                         held["A04"]["id"], barcode=card(50), note="n",
                         pipeline=FailingPipeline())
    assert count(engine, Result) == results_before and count(engine, AuditEvent) == audit_before
    after = {h["well"]: h["status"] for h in _held(client, world, plate["id"])}
    assert after == {"A04": "held", "A05": "held", "A06": "held"}
    with Session(engine) as session:
        assert session.exec(select(Specimen.state).where(
            Specimen.barcode == card(50))).one() == "accessioned"


def test_parallel_attaches_of_one_well_attach_it_once(client, world, engine, plate):
    held = {h["well"]: h for h in _held(client, world, plate["id"])}
    accession(client, world, 50)
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: _resolve(
            client, world, held["A04"]["id"], action="attach", barcode=card(50), note="n"),
            range(4)))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [
        r.text for r in responses]
    with Session(engine) as session:
        assert len(session.exec(select(Result).where(
            Result.run_id == plate["id"], Result.well.in_(["A04", "A05"]))  # type: ignore[attr-defined]
        ).all()) == 6
