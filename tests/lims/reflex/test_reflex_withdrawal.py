"""Withdrawing a plate whose cards wait for the second tier, on SQLite and PostgreSQL: the
cards go back to waiting for a new first-tier result, off the reflex worklist, their reflex
decisions retired, and the time-critical alerts the plate raised are withdrawn (who, when,
why; audited); a second-tier run then finds no card waiting, and a new file for the plate
puts the cards back on the worklist."""

from __future__ import annotations

from sqlmodel import Session, col, select

from lims.alerts.service import open_alert
from lims.audit import SYSTEM
from lims.models import Alert, AuditEvent, ReflexDecisionRecord, ReflexRequest, Specimen
from tests.lims.helpers import API, accession, card, upload
from tests.lims.reflex.plates import first_tier_plate
from tests.lims.reflex.test_reflex_flow import CARDS, FIXTURE, _states


def _alerts(engine) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        rows = session.exec(select(Specimen.barcode, Alert.status, Alert.withdrawal_reason)
                            .join(Alert, col(Alert.specimen_id) == col(Specimen.id))).all()
    return {barcode: (status, note) for barcode, status, note in rows}


def test_withdrawing_a_plate_takes_its_cards_off_the_second_tier(reflex_client, world, engine):
    tech = world.auth("technician")
    cards = accession(reflex_client, world, *CARDS)
    plate = first_tier_plate("P-RW", {card(n): v for n, v in CARDS.items()})
    run = upload(reflex_client, world, "p-rw.csv", plate).json()
    on_worklist = {card(n) for n in (1, 2, 6, 7)}
    waiting = on_worklist - {card(2)}  # the time-critical card is in review while its assay runs
    assert {b for b, s in _states(engine).items() if s == "awaiting_second_tier"} == waiting
    # MSUD (card 2, allo-isoleucine to run) and MSUD critical (card 4) raised alerts
    assert {b: s for b, (s, _n) in _alerts(engine).items()} == {card(2): "open",
                                                                 card(4): "open"}

    done = reflex_client.post(f"{API}/runs/{run['id']}/withdrawal",
                              json={"reason": "internal standard added twice"}, headers=tech)
    assert done.status_code == 200, done.text
    body = done.json()
    assert sorted(body["to_new_run"]) == sorted(card(n) for n in CARDS)
    assert sorted(body["off_reflex_worklist"]) == sorted(on_worklist)
    assert len(body["alerts_withdrawn"]) == 2
    assert set(_states(engine).values()) == {"accessioned"}
    assert reflex_client.get(f"{API}/worklists/reflex", headers=tech).json() == []
    note = "plate P-RW withdrawn: internal standard added twice"
    assert _alerts(engine) == {card(2): ("withdrawn", note), card(4): ("withdrawn", note)}
    with Session(engine) as session:
        assert set(session.exec(select(ReflexRequest.status)).all()) == {"withdrawn"}
        assert not session.exec(select(ReflexDecisionRecord).where(
            col(ReflexDecisionRecord.current))).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "withdraw",
                                                       AuditEvent.entity == "alert")).all()
        assert {e.entity_id for e in events} == {str(i) for i in body["alerts_withdrawn"]}
        assert all(e.before["status"] == "open" and e.after["status"] == "withdrawn"
                   and e.username == "technician" and e.reason == note for e in events)
        moved = session.exec(select(AuditEvent).where(
            AuditEvent.action == "withdraw_results")).all()
        assert {e.entity_id for e in moved} == {str(c["id"]) for c in cards.values()}
        assert {e.before["state"] for e in moved} == {"awaiting_second_tier", "awaiting_review"}
        withdrawal = session.exec(select(AuditEvent).where(
            AuditEvent.action == "qc_withdraw")).one()
        assert sorted(withdrawal.after["off_reflex_worklist"]) == sorted(on_worklist)

    # a withdrawn alert is neither open nor acknowledged later
    listed = reflex_client.get(f"{API}/alerts", params={"status": "withdrawn"},
                               headers=world.auth("reviewer"))
    assert listed.status_code == 200, listed.text
    assert {a["withdrawn_by_name"] for a in listed.json()} == {"technician"}
    assert {a["acknowledged_by_name"] for a in listed.json()} == {""}
    assert reflex_client.get(f"{API}/alerts", params={"status": "open"},
                             headers=world.auth("reviewer")).json() == []
    refused = reflex_client.post(f"{API}/alerts/{body['alerts_withdrawn'][0]}/acknowledge",
                                 json={"full_name": "Dr Wang"}, headers=world.auth("reviewer"))
    assert refused.status_code == 409 and "withdrawn" in refused.json()["detail"]

    # the second-tier run finds nobody waiting
    stored = reflex_client.post(f"{API}/second-tier-runs",
                                files={"file": ("ST-1.txt", FIXTURE.read_bytes(), "text/plain")},
                                headers=tech)
    assert stored.status_code == 201, stored.text
    assert stored.json()["n_specimens"] == 0
    assert set(_states(engine).values()) == {"accessioned"}

    # a new file for the plate (punched again: other Phe values): the cards wait again
    again = upload(reflex_client, world, "p-rw-again.csv", first_tier_plate(
        "P-RW", {card(n): {"Phe": 60.0, **v} for n, v in CARDS.items()}))
    assert again.status_code == 201, again.text
    assert {b for b, s in _states(engine).items() if s == "awaiting_second_tier"} == waiting
    rows = reflex_client.get(f"{API}/worklists/reflex", headers=tech).json()
    assert {r["barcode"] for r in rows} == on_worklist
    assert {r["source_run_id"] for r in rows} == {again.json()["id"]}


def test_an_alert_the_plate_raised_without_a_stored_call_is_withdrawn_with_it(reflex_client,
                                                                                world, engine):
    """A repeat card referred by the second tier while its own calls are normal has an alert
    but no stored call behind it: the alert names the plate's run, and withdrawing the plate
    withdraws it too."""
    cards = accession(reflex_client, world, 4)
    run = upload(reflex_client, world, "p-rw2.csv", first_tier_plate(
        "P-RW2", {card(4): CARDS[4]})).json()
    with Session(engine) as session:
        specimen = session.get(Specimen, cards[4]["id"])
        assert specimen is not None
        raised = session.exec(select(Alert).where(Alert.specimen_id == specimen.id)).one()
        assert raised.run_id == run["id"]  # the result's alert names its run
        open_alert(session, SYSTEM, specimen, disorder="MCAD",
                   message="repeat referred", evaluation_id=None, run_id=run["id"])
        session.commit()
    done = reflex_client.post(f"{API}/runs/{run['id']}/withdrawal",
                              json={"reason": "wrong plate map"}, headers=world.auth("technician"))
    assert done.status_code == 200, done.text
    assert len(done.json()["alerts_withdrawn"]) == 2
    with Session(engine) as session:
        statuses = session.exec(select(Alert.status).where(
            Alert.specimen_id == cards[4]["id"])).all()
    assert statuses == ["withdrawn", "withdrawn"]
