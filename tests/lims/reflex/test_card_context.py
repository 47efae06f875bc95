"""The card's context the reflex decision reads: accepted at accessioning, checked, and turned
into the profile's columns (parenteral nutrition running at collection)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from lims.models import Specimen
from lims.reflex.service import context_of
from tests.lims.helpers import API, BIRTH, card, specimen_body


def test_context_at_accession_and_as_profile_columns(client, world, engine):
    tech, north = world.auth("technician"), world.submitter_ids[0]
    body = specimen_body(card(1), north, pivalate_exposure=True, maternal_b12_low=True,
                         maternal_diet="vegan", maternal_disorder="pernicious anaemia",
                         tpn_started_at=(BIRTH + timedelta(hours=2)).isoformat(),
                         tpn_stopped_at=(BIRTH + timedelta(hours=60)).isoformat())
    assert client.post(f"{API}/specimens", json=body, headers=tech).status_code == 201
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(1))).one()
    assert specimen.maternal_diet == "vegan"
    # collected at 36 h, between the start and the stop of parenteral nutrition
    assert context_of(specimen) == {"tpn": 1, "pivalate_exposure": 1, "maternal_b12_low": 1}
    specimen.tpn_stopped_at = BIRTH + timedelta(hours=20)
    assert context_of(specimen)["tpn"] == 0

    wrong = specimen_body(card(2), north,
                          tpn_started_at=(BIRTH + timedelta(hours=30)).isoformat(),
                          tpn_stopped_at=(BIRTH + timedelta(hours=10)).isoformat())
    refused = client.post(f"{API}/specimens", json=wrong, headers=tech)
    assert refused.status_code == 422 and refused.json()["field"] == "tpn_stopped_at"
