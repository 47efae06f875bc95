"""Which runs lock a plate id: an accepted run does (another file is a conflict); a run rejected by
QC does not (the corrected file is stored, the rejected run stays recorded as rejected)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, select

from lims.models import AuditEvent, ControlResult, Result, Run
from lims.runs.service import retired_plate_key
from tests.lims.helpers import API, accession, card, count, upload
from tests.lims.plates import plate_csv


def test_a_rejected_plate_gives_way_to_the_corrected_file(client, world, engine):
    cards = accession(client, world, 1, 2)
    bad = upload(client, world, "bad.csv", plate_csv("P-LOCK", {card(1): {}, card(2): {}},
                                                     qc_low_phe=10))
    assert bad.status_code == 201 and bad.json()["qc_decision"] == "reject"
    good = upload(client, world, "good.csv", plate_csv("P-LOCK", {card(1): {}, card(2): {}}))
    assert good.status_code == 201, good.text
    assert (good.json()["plate_id"], good.json()["qc_decision"]) == ("P-LOCK", "accept")
    assert good.json()["n_results"] == 6
    for n in (1, 2):
        state = client.get(f"{API}/specimens/{cards[n]['id']}", headers=world.auth("admin"))
        assert state.json()["state"] == "awaiting_review"
    old = client.get(f"{API}/runs/{bad.json()['id']}", headers=world.auth("technician")).json()
    assert old["qc_decision"] == "reject"
    assert old["plate_id"] == retired_plate_key("P-LOCK", old["id"]) == "P-LOCK~rejected-run-1"
    assert "uploaded again as good.csv" in old["qc_reasons"][-1]
    with Session(engine) as session:
        assert len(session.exec(select(ControlResult).where(
            ControlResult.run_id == old["id"])).all()) == 2
        supersede = session.exec(select(AuditEvent).where(
            AuditEvent.action == "supersede")).one()
        assert supersede.before["plate_id"] == "P-LOCK"
    # now the plate is held by an accepted run
    third = upload(client, world, "third.csv", plate_csv("P-LOCK", {card(1): {"Phe": 70}}))
    assert third.status_code == 409 and "good.csv" in third.json()["detail"]


def test_a_long_plate_id_keeps_a_retired_key_within_the_column():
    key = retired_plate_key("P" * 64, 123456)
    assert len(key) == 64 and key.endswith("~rejected-run-123456")


def test_files_racing_for_a_rejected_plate_store_one(client, world, engine):
    accession(client, world, *range(1, 7))
    bad = upload(client, world, "bad.csv", plate_csv("P-RACE", {card(1): {}}, qc_low_phe=10))
    assert bad.json()["qc_decision"] == "reject"
    files = [plate_csv("P-RACE", {card(n): {"Phe": 60 + n}}) for n in range(1, 7)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda d: upload(client, world, "fix.csv", d), files))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert count(engine, Run) == 2 and count(engine, Result) == 3
    with Session(engine) as session:
        plates = sorted(session.exec(select(Run.plate_id)).all())
        assert plates == ["P-RACE", "P-RACE~rejected-run-1"]
