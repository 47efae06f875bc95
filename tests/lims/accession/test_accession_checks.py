"""Accessioning refuses times in the future and a card that names another submitter's baby;
the demo seed makes no future times."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from lims.audit import SYSTEM
from lims.demo import accession_cohort
from lims.models import Infant, Specimen, utcnow
from msms.population import simulate_cohort
from tests.lims.helpers import API, accession, card, count, specimen_body


def _post(client, world, body):
    return client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))


def _refused(response, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field, response.json()


def _births_now(**body):
    now = utcnow()
    infant = {"submitter_id": body["submitter_id"], "sex": "M",
              "birth_at": (now - timedelta(days=2)).isoformat()}
    return {**body, "infant": infant}


def test_collection_and_receipt_in_the_future_are_refused(client, world, engine):
    north, now = world.submitter_ids[0], utcnow()
    later = (now + timedelta(hours=1)).isoformat()
    yesterday = (now - timedelta(days=1)).isoformat()
    _refused(_post(client, world, _births_now(
        barcode=card(1), submitter_id=north, collected_at=later, received_at=later)),
        "collected_at")
    _refused(_post(client, world, _births_now(
        barcode=card(1), submitter_id=north, collected_at=yesterday, received_at=later)),
        "received_at")
    _refused(_post(client, world, _births_now(
        barcode=card(1), submitter_id=north, collected_at=yesterday, received_at=yesterday,
        transfused=True, transfused_at=later)), "transfused_at")
    born_later = _births_now(barcode=card(1), submitter_id=north, collected_at=yesterday,
                             received_at=yesterday)
    born_later["infant"]["birth_at"] = (now + timedelta(days=1)).isoformat()
    _refused(_post(client, world, born_later), "infant.birth_at")
    assert count(engine, Specimen) == 0 and count(engine, Infant) == 0
    skewed = (now + timedelta(minutes=2)).isoformat()  # within the clock-skew allowance
    ok = _post(client, world, _births_now(barcode=card(1), submitter_id=north,
                                          collected_at=yesterday, received_at=skewed))
    assert ok.status_code == 201, ok.text


def test_a_future_birth_is_refused(client, world):
    answer = client.post(f"{API}/infants", json={
        "submitter_id": world.submitter_ids[0],
        "birth_at": (utcnow() + timedelta(hours=3)).isoformat()},
        headers=world.auth("technician"))
    _refused(answer, "birth_at")


def test_a_card_may_not_name_another_submitter_s_baby(client, world, engine):
    north, south = world.submitter_ids
    first = accession(client, world, 1)[1]
    by_id = _post(client, world, specimen_body(card(2), south, infant_id=first["infant_id"]))
    _refused(by_id, "infant_id")
    assert f"infant {first['infant_id']} belongs to submitter {north}" in by_id.json()["detail"]
    by_card = _post(client, world, specimen_body(card(3), south, previous_barcode=card(1)))
    _refused(by_card, "previous_barcode")
    assert count(engine, Specimen) == 1
    own = _post(client, world, specimen_body(card(4), north, infant_id=first["infant_id"]))
    assert own.status_code == 201 and own.json()["kind"] == "repeat"
    repeat = _post(client, world, specimen_body(card(5), north, previous_barcode=card(1)))
    assert repeat.status_code == 201 and repeat.json()["infant_id"] == first["infant_id"]


def test_the_demo_cohort_has_no_future_times(engine, world):
    cohort = simulate_cohort(89, seed=101, disorder_rate=0.06)  # ages up to ~650 h
    now = utcnow()
    with Session(engine) as session:
        accession_cohort(session, SYSTEM, cohort, world.submitter_ids, first_card=50_000_000,
                         born=now - timedelta(days=4))
        session.commit()
        rows = session.exec(select(Specimen, Infant).join(
            Infant, Infant.id == Specimen.infant_id).order_by(Specimen.id)).all()
    assert len(rows) == 89
    for (specimen, infant), age_h in zip(rows, cohort["age_at_collection_hours"], strict=True):
        assert infant.birth_at <= specimen.collected_at <= specimen.received_at <= now
        hours = (specimen.collected_at - infant.birth_at).total_seconds() / 3600
        assert abs(hours - age_h) < 1e-3  # the simulated age at collection is kept
