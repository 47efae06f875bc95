"""The per-card figures of the programme measures (``card_measure``) on SQLite and PostgreSQL:
kept up to date through the service (accession, an unsatisfactory card, release, a correction
of the card and its baby) they are the rows computed afresh from the cards; and a month's
medians read hour by hour are the medians of every card."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlmodel import Session

from lims.accession.schemas import SpecimenCreate
from lims.accession.service import update_card
from lims.audit import SYSTEM
from lims.followup.card_measures import month_card_measures
from lims.followup.measures import month_of
from lims.followup.repository import card_rows, rebuild_card_measures
from lims.models import Specimen
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import (
    API,
    BIRTH,
    accession,
    card,
    sign_off_plates,
    specimen_body,
    upload,
)
from tests.lims.plates import plate_csv


def _kept(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(
            "SELECT * FROM card_measure ORDER BY specimen_id"))]


def _afresh(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return sorted(tuple(r) for r in connection.execute(card_rows(engine.dialect.name)))


def _hour_counts(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(
            "SELECT month, figure, submitter_id, hour, cards, extra FROM card_hour_count "
            "WHERE cards > 0 ORDER BY month, figure, submitter_id, hour"))]


def test_the_figures_follow_the_cards_through_the_service(client, world, engine):
    cards = accession(client, world, 1, 2, 3, 4)
    assert len(_kept(engine)) == 4
    marked = client.post(f"{API}/specimens/{cards[4]['id']}/unsatisfactory",
                         json={"code": "U01"}, headers=world.auth("technician"))
    assert marked.status_code == 200, marked.text
    plate = plate_csv("P-CM", {card(1): {}, card(2): {}})
    assert upload(client, world, "p.csv", plate).status_code == 201
    sign_off_plates(client, world.auth("technician"))
    released = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                           headers=world.auth("reviewer"))
    assert sorted(released.json()["released_specimen_ids"]) == [cards[1]["id"], cards[2]["id"]]
    with Session(engine) as session:
        specimen = session.get(Specimen, cards[3]["id"])
        assert specimen is not None
        body = specimen_body(card(3), world.submitter_ids[0])
        body["collected_at"] = (BIRTH + timedelta(hours=30)).isoformat()
        body["infant"]["birth_at"] = (BIRTH - timedelta(hours=5)).isoformat()
        assert update_card(session, SYSTEM, specimen, SpecimenCreate.model_validate(body))
        session.commit()
    kept, counts = _kept(engine), _hour_counts(engine)
    assert kept == _afresh(engine)
    assert sum(c[4] for c in counts if c[1] == "transit") == 4
    assert sum(c[5] for c in counts if c[1] == "transit") == 1  # one unsatisfactory card
    with engine.begin() as connection:
        rebuild_card_measures(connection)
    assert (_kept(engine), _hour_counts(engine)) == (kept, counts)
    by_id = {row[0]: row for row in kept}
    assert by_id[cards[4]["id"]][4] and not by_id[cards[1]["id"]][4]  # unsatisfactory
    assert by_id[cards[1]["id"]][9] is not None and by_id[cards[3]["id"]][9] is None  # released
    assert abs(by_id[cards[3]["id"]][5] - 35.0) < 1e-6  # the corrected age at collection


def _insert_cards(engine, submitters, figures):  # type: ignore[no-untyped-def]
    """Cards received in March 2026 with the given transit hours, split over two submitters,
    written in bulk, then ``rebuild_card_measures``."""
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO infant (id, submitter_id, medical_record_number, mother_name, "
            "mother_id, birth_at, sex, plurality, birth_order, created_at) VALUES "
            "(9001, :s, '', '', '', :born, 'U', 1, 1, :born)"),
            {"s": submitters[0], "born": start - timedelta(days=20)})
        for i, hours in enumerate(figures):
            received = start + timedelta(days=1 + i % 20)
            connection.execute(text(
                "INSERT INTO specimen (id, barcode, infant_id, submitter_id, kind, collected_at,"
                " received_at, feeding, tpn, transfused, nicu, state, flagged, version, "
                "created_at, updated_at) VALUES (:id, :bc, 9001, :s, 'initial', :c, :r, "
                "'unknown', false, false, false, 'accessioned', false, 1, :r, :r)"),
                {"id": 9100 + i, "bc": f"CM{i:05d}", "s": submitters[i % 2],
                 "c": received - timedelta(hours=hours), "r": received})
        rebuild_card_measures(connection)


def test_medians_read_hour_by_hour_are_the_medians_of_every_card(world, engine):
    figures = [0.25, 3.5, 3.75, 3.5, 48.0, 12.2, 12.9, 12.1, 47.99, 100.0, 3.6, 12.5, 12.5]
    ids = world.submitter_ids[:2]
    _insert_cards(engine, ids, figures)
    with Session(engine) as session:
        got = month_card_measures(session, month_of(datetime(2026, 3, 5)),
                                  {"all": None, "first": {ids[0]}, "second": {ids[1]},
                                   "none": set()})
    for group, chosen in (("all", figures), ("first", figures[0::2]),
                          ("second", figures[1::2])):
        transit = got[group].measures["transit_time"]
        assert transit.n == len(chosen)
        assert transit.value is not None
        assert abs(transit.value - statistics.median(chosen)) < 1e-6, group
    assert got["none"].measures["transit_time"].value is None
    assert got["all"].screened == len(figures)
    with engine.connect() as connection:
        assert connection.execute(select(text("count(*)")).select_from(
            text("card_measure"))).scalar_one() == len(figures)
