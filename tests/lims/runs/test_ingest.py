"""Plate ingest through HTTP: one transaction, idempotent by hash, conflicts, held wells,
duplicates worklist, alerts in the same transaction."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from lims.audit import SYSTEM
from lims.models import Alert, AuditEvent, ControlResult, Evaluation, Result, Run
from lims.runs.service import ingest_bytes
from tests.lims.helpers import API, accession, card, count, upload
from tests.lims.plates import FailingPipeline, plate_csv


def test_ingest_stores_holds_and_is_idempotent(client, world, engine):
    cards = accession(client, world, 1, 2, 3)
    data = plate_csv("PLATE-1", {card(1): {}, card(2): {"Phe": 150}, card(3): {},
                                 card(999): {}})
    first = upload(client, world, "plate1.csv", data)
    assert first.status_code == 201, first.text
    run = first.json()
    assert (run["n_results"], run["n_held"], run["qc_decision"]) == (9, 1, "accept")
    again = upload(client, world, "renamed.csv", data)
    assert again.status_code == 200 and again.json()["id"] == run["id"]
    assert count(engine, Run) == 1 and count(engine, Result) == 9

    held = client.get(f"{API}/runs/{run['id']}/held-wells", headers=world.auth("technician"))
    assert [(h["sample_id"], h["reason"][:15]) for h in held.json()] == [
        (card(999), "unknown barcode")]
    assert held.json()[0]["values"]["Phe"] == 55.0

    states = {n: client.get(f"{API}/specimens/{c['id']}", headers=world.auth("admin"))
              .json()["state"] for n, c in cards.items()}
    assert states == {1: "awaiting_review", 2: "awaiting_duplicate", 3: "awaiting_review"}
    worklist = client.get(f"{API}/worklists/duplicates", headers=world.auth("technician"))
    assert [(w["barcode"], w["disorders"]) for w in worklist.json()] == [(card(2), "PKU")]

    other = upload(client, world, "plate1-v2.csv",
                   plate_csv("PLATE-1", {card(1): {"Phe": 60}}))
    assert other.status_code == 409
    assert "PLATE-1" in other.json()["detail"]
    assert count(engine, Run) == 1


def test_duplicates_decide_by_their_mean(client, world, engine):
    cards = accession(client, world, 5, 6)
    upload(client, world, "p1.csv", plate_csv("P-1", {card(5): {"Phe": 150},
                                                       card(6): {"Phe": 160}}))
    # card 5's duplicates are normal on average; card 6's stay high
    second = upload(client, world, "p2.csv", plate_csv("P-2", [
        (card(5), {"Phe": 100}), (card(5), {"Phe": 110}),
        (card(6), {"Phe": 170}), (card(6), {"Phe": 190})]))
    assert second.status_code == 201, second.text
    assert second.json()["n_results"] == 12
    assert client.get(f"{API}/worklists/duplicates",
                      headers=world.auth("technician")).json() == []
    with Session(engine) as session:
        current = session.exec(select(Evaluation).where(Evaluation.current)).all()
        assert [(e.specimen_id, e.stage, e.reasons) for e in current] == [
            (cards[6]["id"], "duplicate", "Phe=180>120")]
        replicates = session.exec(select(Result.replicate).where(
            Result.specimen_id == cards[5]["id"], Result.analyte == "Phe",
            Result.run_id == second.json()["id"])).all()
        assert sorted(replicates) == [1, 2]
    for n in (5, 6):
        spec = client.get(f"{API}/specimens/{cards[n]['id']}", headers=world.auth("admin"))
        assert spec.json()["state"] == "awaiting_review"
    assert client.get(f"{API}/specimens/{cards[5]['id']}",
                      headers=world.auth("admin")).json()["flagged"] is False


def test_qc_rejected_plate_keeps_controls_but_no_patient_results(client, world, engine):
    cards = accession(client, world, 7)
    response = upload(client, world, "bad-qc.csv",
                      plate_csv("P-QC", {card(7): {}}, qc_low_phe=10))
    assert response.status_code == 201
    assert response.json()["qc_decision"] == "reject"
    assert response.json()["n_results"] == 0
    assert count(engine, ControlResult) == 2 and count(engine, Result) == 0
    spec = client.get(f"{API}/specimens/{cards[7]['id']}", headers=world.auth("admin"))
    assert spec.json()["state"] == "accessioned"


def test_time_critical_alert_is_written_with_the_result(client, world, engine):
    cards = accession(client, world, 8)
    upload(client, world, "p.csv", plate_csv("P-TC", {card(8): {"Xle": 900}}))
    with Session(engine) as session:
        alert = session.exec(select(Alert)).one()
        evaluation = session.get(Evaluation, alert.evaluation_id)
        assert alert.status == "open" and alert.disorder == "MSUD"
        assert evaluation.run_id == session.exec(select(Run.id)).one()
    spec = client.get(f"{API}/specimens/{cards[8]['id']}", headers=world.auth("admin")).json()
    assert spec["state"] == "awaiting_review" and spec["flagged"] is True


def test_unreadable_file_is_422_and_nothing_is_stored(client, world, engine):
    response = upload(client, world, "junk.csv", b"not a plate\n")
    assert response.status_code == 422
    assert response.json()["file"] == "junk.csv" and response.json()["line"] == 1
    assert count(engine, Run) == 0


def test_a_failure_mid_ingest_leaves_no_partial_plate(client, world, engine):
    accession(client, world, 9)
    audit_before = count(engine, AuditEvent)
    with pytest.raises(RuntimeError):
        ingest_bytes(engine, SYSTEM, plate_csv("P-X", {card(9): {}}), "p.csv",
                     FailingPipeline())
    assert count(engine, Run) == 0 and count(engine, Result) == 0
    assert count(engine, ControlResult) == 0 and count(engine, AuditEvent) == audit_before


def test_submitter_and_reviewer_cannot_upload(client, world):
    data = plate_csv("P-R", {})
    assert upload(client, world, "p.csv", data, role="submitter").status_code == 403
    assert upload(client, world, "p.csv", data, role="reviewer").status_code == 403
