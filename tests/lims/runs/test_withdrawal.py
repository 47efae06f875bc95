"""Withdrawing a plate whose results are stored, on SQLite and PostgreSQL: the run is
rejected, the unreleased cards go back to waiting for a new run (or for their duplicates), a
new file for the plate is then ingested; a released result refuses the withdrawal; roles,
reasons and the audit trail."""

from __future__ import annotations

from sqlmodel import Session, col, select

from lims.models import Alert, AuditEvent, DuplicateRequest, Evaluation, HeldWell
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, sign_off_plates, upload
from tests.lims.plates import plate_csv
from tests.reports.pdfcheck import assert_contains, assert_pages_sound


def _state(client, world, specimen):  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/specimens/{specimen['id']}", headers=world.auth("admin"))
    return response.json()["state"], response.json()["flagged"]


def _withdraw(client, world, run_id, reason="smudged punches", role="technician"):  # type: ignore[no-untyped-def]
    return client.post(f"{API}/runs/{run_id}/withdrawal", json={"reason": reason},
                       headers=world.auth(role))


def test_a_withdrawn_plate_sends_its_cards_back_for_a_new_run(client, world, engine):
    cards = accession(client, world, 1, 2)
    run = upload(client, world, "w1.csv", plate_csv("P-W", {
        card(1): {}, card(2): {"Phe": 150}, card(9): {}})).json()
    assert _state(client, world, cards[1]) == ("awaiting_review", False)
    assert _state(client, world, cards[2]) == ("awaiting_duplicate", True)
    assert _withdraw(client, world, run["id"], reason=" ").status_code == 422
    assert _withdraw(client, world, run["id"], role="reviewer").status_code == 403
    assert _withdraw(client, world, run["id"], role="submitter").status_code == 403
    done = _withdraw(client, world, run["id"])
    assert done.status_code == 200, done.text
    assert done.json() == {"run_id": run["id"], "to_new_run": [card(1), card(2)],
                           "to_duplicates": [], "held_discarded": 1,
                           "off_reflex_worklist": [], "alerts_withdrawn": []}
    assert _state(client, world, cards[1]) == ("accessioned", False)
    assert _state(client, world, cards[2]) == ("accessioned", False)
    stored = client.get(f"{API}/runs/{run['id']}", headers=world.auth("technician")).json()
    assert stored["qc_decision"] == "reject"
    assert stored["qc_reasons"][-1] == "withdrawn by technician: smudged punches"
    assert client.get(f"{API}/worklists/duplicates", headers=world.auth("technician")).json() == []
    with Session(engine) as session:
        assert not session.exec(select(Evaluation).where(col(Evaluation.current))).all()
        assert session.exec(select(DuplicateRequest.status)).all() == ["withdrawn"]
        assert session.exec(select(HeldWell.status)).all() == ["discarded"]
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "qc_withdraw")).one()
        assert event.entity_id == str(run["id"]) and event.reason == "smudged punches"
        assert event.after["to_new_run"] == [card(1), card(2)]
        moved = session.exec(select(AuditEvent).where(
            AuditEvent.action == "withdraw_results")).all()
        assert {e.entity_id for e in moved} == {str(cards[1]["id"]), str(cards[2]["id"])}
    assert _withdraw(client, world, run["id"]).status_code == 409    # already rejected
    # the plate takes a new file; its cards are tested again
    again = upload(client, world, "w1-again.csv", plate_csv("P-W", {card(1): {},
                                                                    card(2): {}}))
    assert again.status_code == 201, again.text
    assert again.json()["n_results"] == 6
    assert _state(client, world, cards[2]) == ("awaiting_review", False)


def test_withdrawing_the_plate_of_the_duplicates_reopens_their_request(client, world, engine):
    cards = accession(client, world, 5)
    first = upload(client, world, "d1.csv", plate_csv("P-D1", {card(5): {"Phe": 150}})).json()
    second = upload(client, world, "d2.csv", plate_csv("P-D2", [
        (card(5), {"Phe": 170}), (card(5), {"Phe": 190})])).json()
    assert _state(client, world, cards[5]) == ("awaiting_review", True)
    done = _withdraw(client, world, second["id"], reason="duplicates punched from the wrong card")
    assert done.status_code == 200, done.text
    assert done.json()["to_duplicates"] == [card(5)] and done.json()["to_new_run"] == []
    assert _state(client, world, cards[5]) == ("awaiting_duplicate", False)
    listed = client.get(f"{API}/worklists/duplicates", headers=world.auth("technician")).json()
    assert [r["barcode"] for r in listed] == [card(5)]
    with Session(engine) as session:
        current = session.exec(select(Evaluation).where(col(Evaluation.current))).all()
        assert [(e.run_id, e.stage) for e in current] == [(first["id"], "initial")]
    # a new plate with the duplicates completes the request again
    third = upload(client, world, "d3.csv", plate_csv("P-D3", [
        (card(5), {"Phe": 100}), (card(5), {"Phe": 110})]))
    assert third.status_code == 201, third.text
    assert _state(client, world, cards[5])[0] == "awaiting_review"


def test_a_released_result_is_not_withdrawn(client, world, engine):
    cards = accession(client, world, 3, 4)
    run = upload(client, world, "r.csv", plate_csv("P-R", {card(3): {}, card(4): {}})).json()
    sign_off_plates(client, world.auth("technician"))
    released = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                           headers=world.auth("reviewer"))
    assert released.status_code == 200, released.text
    refused = _withdraw(client, world, run["id"])
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert card(3) in detail and "Correct the released result" in detail
    assert _state(client, world, cards[3])[0] == "released"
    stored = client.get(f"{API}/runs/{run['id']}", headers=world.auth("technician")).json()
    assert stored["qc_decision"] != "reject"
    with Session(engine) as session:
        assert not session.exec(select(AuditEvent).where(
            AuditEvent.action == "qc_withdraw")).all()


def test_the_qc_report_of_a_withdrawn_plate_names_who_withdrew_it(client, world):
    accession(client, world, 7)
    run = upload(client, world, "q.csv", plate_csv("P-Q", {card(7): {}})).json()
    assert _withdraw(client, world, run["id"], reason="wrong extraction buffer").status_code == 200
    qc = client.post(f"{API}/documents/qc", json={"run_id": run["id"]},
                     headers=world.auth("technician"))
    assert qc.status_code == 201, qc.text
    assert_contains(qc.content, "withdrawn (wrong extraction buffer)",
                    "withdrawn by technician: wrong extraction buffer")
    assert_pages_sound(qc.content)


def test_an_alert_acknowledged_before_the_withdrawal_stays_acknowledged(client, world, engine):
    cards = accession(client, world, 11, 12)
    run = upload(client, world, "a.csv", plate_csv("P-A", {card(11): {"Xle": 900},
                                                           card(12): {"Xle": 800}})).json()
    with Session(engine) as session:
        alerts = {a.specimen_id: a.id for a in session.exec(select(Alert))}
    first, second = alerts[cards[11]["id"]], alerts[cards[12]["id"]]
    taken = client.post(f"{API}/alerts/{first}/acknowledge",
                        json={"full_name": "Dr Zhou", "note": "ward called"},
                        headers=world.auth("reviewer"))
    assert taken.status_code == 200, taken.text
    done = _withdraw(client, world, run["id"], reason="plate swapped")
    assert done.status_code == 200, done.text
    assert done.json()["alerts_withdrawn"] == [second]
    with Session(engine) as session:
        rows = {a.id: (a.status, a.acknowledged_by_name, a.withdrawn_by_name,
                       a.withdrawal_reason) for a in session.exec(select(Alert))}
    assert rows == {first: ("acknowledged", "Dr Zhou", "", ""),
                    second: ("withdrawn", "", "technician", "plate P-A withdrawn: plate swapped")}
