"""The laboratory's safety rules on the pages and the API: nothing from a rejected plate reaches
a card; held wells attached in one action once their cards exist."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from lims.audit import Actor, record
from lims.models import AuditEvent, HeldWell, Result, Run, Specimen
from tests.lims.conftest import World
from tests.lims.helpers import card
from tests.lims.plates import plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession, _upload

API = "/api/v1"


def _held_table(html: str) -> str:
    return html.split('id="held-wells"')[1].split("</table>")[0]


def _held_ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {h.sample_id: h.id for h in session.exec(select(HeldWell)) if h.id}


def test_a_rejected_plate_gives_none_of_its_held_wells_to_a_card(
        web: TestClient, client: TestClient, world: World, engine: Engine) -> None:
    csrf = sign_in_page(web, "technician")
    upload = _upload(web, csrf, "r.csv", plate_csv("REJ-1", {card(7): {}, card(8): {}}))
    run_url = upload.headers["location"]
    assert _held_table(web.get("/lab/worklists").text).count("data-held=") == 2
    rejected = web.post(f"{run_url}/qc", data={"csrf_token": csrf, "decision": "reject",
                                               "reason": "spots punched from the wrong rack"})
    assert rejected.status_code == 200 and 'id="qc-decision">reject' in rejected.text
    assert "spots punched from the wrong rack" in rejected.text
    assert "Nothing waiting" in _held_table(web.get("/lab/worklists").text)
    held = _held_ids(engine)
    assert _accession(web, csrf, card(7)).status_code == 201
    page = web.post(f"/lab/held-wells/{held[card(7)]}/resolve", data={
        "csrf_token": csrf, "action": "attach", "barcode": card(7), "note": "card arrived"})
    assert page.status_code == 409 and "worklist-error" in page.text
    assert "REJ-1" in page.text and "rejected" in page.text and "new plate" in page.text
    api = client.post(f"{API}/held-wells/{held[card(7)]}/resolve", headers=world.auth(
        "technician"), json={"action": "attach", "barcode": card(7), "note": "card arrived"})
    assert api.status_code == 409 and "REJ-1" in api.json()["detail"]
    with Session(engine) as session:
        assert {h.status for h in session.exec(select(HeldWell))} == {"discarded"}
        assert session.exec(select(Result)).first() is None
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(7))).one()
        assert specimen.state == "accessioned"
        run = session.exec(select(Run)).one()
        assert run.qc_decision == "reject"
        discards = session.exec(select(AuditEvent).where(
            AuditEvent.entity == "held_well", AuditEvent.action == "discard")).all()
        assert len(discards) == 2 and all("REJ-1" in e.reason for e in discards)
    assert client.get(f"{API}/review/release-normals",
                      headers=world.auth("reviewer")).json()["count"] == 0
    # the plate takes a new file, whose wells go to the card as any plate's
    again = _upload(web, csrf, "r2.csv", plate_csv("REJ-1", {card(7): {}, card(9): {}}))
    assert again.status_code == 303
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(7))).one()
        assert specimen.state == "awaiting_review"


def test_a_plate_whose_last_sign_off_is_a_rejection_gives_no_well(
        web: TestClient, world: World, engine: Engine) -> None:
    """Rows stored before a technician's rejection rejected the run itself: the sign-off
    alone refuses the attach."""
    csrf = sign_in_page(web, "technician")
    _upload(web, csrf, "o.csv", plate_csv("OLD-1", {card(7): {}}))
    with Session(engine) as session:
        run = session.exec(select(Run)).one()
        record(session, Actor.of(world.users["technician"]), "qc_reject", "run", run.id,
               reason="smudged")
        session.commit()
    assert _accession(web, csrf, card(7)).status_code == 201
    held = _held_ids(engine)
    page = web.post(f"/lab/held-wells/{held[card(7)]}/resolve", data={
        "csrf_token": csrf, "action": "attach", "barcode": card(7), "note": "card arrived"})
    assert page.status_code == 409 and "OLD-1" in page.text and "smudged" in page.text
    with Session(engine) as session:
        assert session.exec(select(Result)).first() is None
