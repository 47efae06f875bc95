"""``nbs ingest`` of a plate QC rejects exits non-zero with the reasons; an override to normal
closes the baby's open time-critical alerts, audited."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from instruments.virtual import simulate_plate, write_plate
from lims.models import Alert, AuditEvent, Run
from tests.conftest import ROOT
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, nbs, upload
from tests.lims.plates import plate_csv


def test_ingest_of_a_rejected_plate_exits_3_with_the_reasons(settings, engine, tmp_path):
    plate = simulate_plate(seed=5, plate_id="EXPIRED-5")
    plate.run.metadata["acquired_at"] = "2028-01-05T08:00:00"  # the lots expire 2027-12-31
    path = tmp_path / "EXPIRED-5.txt"
    write_plate(plate, path, format="masslynx")
    env = {"NBS_DATABASE_URL": settings.database_url}
    for status in ("stored", "already stored"):
        result = nbs("ingest", str(path), env=env, cwd=ROOT, timeout=180)
        assert result.returncode == 3, result.stdout + result.stderr
        assert f"{status}: run" in result.stdout and "qc=reject" in result.stdout
        assert "nbs: QC reject: " in result.stderr and "expired on 2027-12-31" in result.stderr
        assert "plate EXPIRED-5 rejected by QC" in result.stderr
    with Session(engine) as session:
        assert session.exec(select(Run)).one().qc_decision == "reject"


def test_ingest_of_a_cut_short_plate_says_its_warnings_as_warnings(settings, tmp_path):
    """A reader's warning stored with a rejected plate's reasons is said as a warning, not as a
    reason "QC reject: warning: ...", and the count says how many of each."""
    plate = simulate_plate(seed=7, plate_id="CUT-7")
    whole = tmp_path / "whole.txt"
    write_plate(plate, whole, format="masslynx")
    cut = tmp_path / "cut.txt"
    cut.write_bytes(whole.read_bytes()[:3000])
    result = nbs("ingest", str(cut), env={"NBS_DATABASE_URL": settings.database_url}, cwd=ROOT,
                 timeout=180)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "QC reject: warning" not in result.stderr, result.stderr
    assert "nbs: warning: cut.txt:" in result.stderr
    assert "nbs: QC reject: method_coverage" in result.stderr and "cut short" in result.stderr
    assert re.search(r"\(\d+ reason\(s\), \d+ warning\(s\)\)", result.stderr), result.stderr


def test_an_override_closes_the_babys_open_alerts(client, world, engine):
    cards = accession(client, world, 1, 2)
    assert upload(client, world, "p.csv", plate_csv(
        "P-OVR", {card(1): {}, card(2): {"Xle": 800}})).status_code == 201
    flagged = cards[2]["id"]
    [alert] = client.get(f"{API}/alerts", headers=world.auth("reviewer")).json()
    assert alert["specimen_id"] == flagged and alert["status"] == "open"
    decided = client.post(f"{API}/specimens/{flagged}/decisions", json={
        "decision": "override", "reason": "contaminated punch, clinically well",
        "password": PASSWORD}, headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    assert client.get(f"{API}/alerts?status=open", headers=world.auth("reviewer")).json() == []
    with Session(engine) as session:
        closed = session.get(Alert, alert["id"])
        assert closed is not None and closed.status == "acknowledged"
        assert closed.acknowledged_by == world.users["reviewer"].id
        assert "override of specimen" in closed.acknowledgement_note
        [event] = session.exec(select(AuditEvent).where(
            AuditEvent.action == "close_by_override")).all()
    assert event.entity_id == str(alert["id"]) and event.username == "reviewer"
    assert "contaminated punch" in event.reason
