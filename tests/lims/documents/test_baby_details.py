"""The birth weight and gestational age documents print: the baby's record, else its first
card (where the submitter wrote them); the demo data records them on both."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from lims.audit import SYSTEM
from lims.demo import accession_cohort
from lims.models import Infant, Specimen, utcnow
from msms.population import simulate_cohort
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, BIRTH, card, specimen_body, upload
from tests.lims.plates import plate_csv
from tests.reports.pdfcheck import assert_contains, page_texts, squash


def test_documents_fall_back_to_the_first_card(client, world):
    north = world.submitter_ids[0]
    body = specimen_body(card(1), north, birth_weight_g=2450, gestational_age_weeks=36.5,
                         infant={"submitter_id": north, "birth_at": BIRTH.isoformat(),
                                 "sex": "F", "mother_name": "Li Na", "mother_id": "M-1"})
    made = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert made.status_code == 201, made.text
    upload(client, world, "P-BW.csv", plate_csv("P-BW", {card(1): {"Xle": 900}}))
    decided = client.post(f"{API}/specimens/{made.json()['id']}/decisions", json={
        "decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    report = client.post(f"{API}/documents/results", json={"specimen_id": made.json()["id"]},
                         headers=world.auth("reviewer"))
    assert report.status_code == 201, report.text
    assert_contains(report.content, "Birth weight 2,450 g", "Gestational age 36.5 weeks")
    text = squash("".join(page_texts(report.content)))
    assert squash("Birth weight not recorded") not in text
    assert squash("Gestational age not recorded") not in text
    [letter] = client.get(f"{API}/documents", params={"kind": "recall_letter"},
                          headers=world.auth("follow_up")).json()
    family = client.post(f"{API}/documents/letters", json={
        "case_id": letter["case_id"], "audience": "family", "language": "zh-CN"},
        headers=world.auth("follow_up"))
    assert family.status_code == 201, family.text
    assert_contains(family.content, "2,450克", "36.5周")


def test_the_demo_records_weight_and_age_on_the_baby(engine, world):
    cohort = simulate_cohort(20, seed=7, disorder_rate=0.0)
    with Session(engine) as session:
        accession_cohort(session, SYSTEM, cohort, world.submitter_ids, first_card=60_000_000,
                         born=utcnow() - timedelta(days=4))
        session.commit()
        rows = session.exec(select(Specimen, Infant).join(
            Infant, col(Infant.id) == Specimen.infant_id)).all()
    assert len(rows) == 20
    assert sum(s.birth_weight_g is not None for s, _ in rows) >= 15
    for specimen, infant in rows:
        assert (infant.birth_weight_g, infant.gestational_age_weeks) == (
            specimen.birth_weight_g, specimen.gestational_age_weeks)


def test_documents_name_the_mother_by_her_identifier_when_the_card_gives_no_name(client,
                                                                                 world):
    north = world.submitter_ids[0]
    body = specimen_body(card(2), north,
                         infant={"submitter_id": north, "birth_at": BIRTH.isoformat(),
                                 "sex": "F", "mother_id": "M50000888"})
    made = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert made.status_code == 201, made.text
    upload(client, world, "P-MID.csv", plate_csv("P-MID", {card(2): {}}))
    decided = client.post(f"{API}/specimens/{made.json()['id']}/decisions", json={
        "decision": "release_normal", "reason": "", "password": PASSWORD},
        headers=world.auth("reviewer"))
    assert decided.status_code == 201, decided.text
    report = client.post(f"{API}/documents/results", json={"specimen_id": made.json()["id"]},
                         headers=world.auth("reviewer"))
    assert report.status_code == 201, report.text
    assert_contains(report.content, "Baby girl of M50000888", "Mother M50000888")
    text = squash("".join(page_texts(report.content)))
    assert squash("unnamed mother") not in text and squash("Mother not recorded") not in text
