"""The reflex worklist ranks and marks a card time-critical by the alert rule the plate map,
the review queue and the specimen page share (``lims.alerts.rule``: a time-critical disorder
called positive), not by a rule of its own: a card flagged borderline for MCAD deficiency
waits for its genotypes like any FAO card but opens no alert, so it is not time-critical on
the worklist (API and page) and takes its place by age; a card called positive for it is,
and comes first. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from tests.lims.helpers import API, accession, card, upload
from tests.lims.reflex.plates import GenotypingReflexCsvPipeline, first_tier_plate
from tests.lims.web.conftest import sign_in_page

#: card number -> first-tier values, in plate order (so in the order of their requests)
CARDS = {
    41: {"Tyr": 420.0},  # TYR1 positive: waits for succinylacetone, not time-critical
    42: {"C8": 0.35},  # MCAD borderline: waits for ACADM and ACADVL, opens no alert
    43: {"C8": 0.6},  # MCAD positive: waits for ACADM and ACADVL, opens an alert
}


@pytest.fixture
def genotype_web(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=GenotypingReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_the_worklist_follows_the_alert_rule(genotype_web, world):
    cards = accession(genotype_web, world, *CARDS)
    plate = first_tier_plate("P-TC", {card(n): v for n, v in CARDS.items()})
    assert upload(genotype_web, world, "p-tc.csv", plate).status_code == 201
    tech = world.auth("technician")

    alerts = genotype_web.get(f"{API}/alerts", headers=tech).json()
    assert {a["specimen_id"] for a in alerts} == {cards[43]["id"]}  # the positive call alone
    rows = genotype_web.get(f"{API}/worklists/reflex", headers=tech).json()
    assert [(r["barcode"], r["time_critical"]) for r in rows] == [
        (card(43), True), (card(41), False), (card(42), False)]
    assert rows[2]["assays"] == "ACADM, ACADVL"

    sign_in_page(genotype_web, "technician")
    page = genotype_web.get("/lab/reflex").text
    table = page.split('id="reflex-worklist"')[1].split("</table>")[0]
    assert table.index(card(43)) < table.index(card(41)) < table.index(card(42))
    critical = [row for row in table.split("<tr")[1:] if 'class="critical"' in row]
    assert len(critical) == 1 and card(43) in critical[0]


def test_the_api_s_time_critical_is_the_alert_rule(reflex_client, world):
    """The review queue's calls: ``time_critical`` says the call opens a time-critical alert
    (what the pages mark red), ``time_critical_disorder`` that its disorder is a time-critical
    one; a borderline MCAD call is the latter only. Without genotypes both cards go to
    review (``NO_SECOND_TIER``)."""
    cards = accession(reflex_client, world, 42, 43)
    plate = first_tier_plate("P-TQ", {card(n): CARDS[n] for n in (42, 43)})
    assert upload(reflex_client, world, "p-tq.csv", plate).status_code == 201
    queue = reflex_client.get(f"{API}/review/queue", headers=world.auth("reviewer")).json()
    calls = {(item["specimen_id"], c["disorder"]): c for item in queue for c in item["calls"]}
    borderline, positive = calls[cards[42]["id"], "MCAD"], calls[cards[43]["id"], "MCAD"]
    assert (borderline["final"], borderline["time_critical"],
            borderline["time_critical_disorder"]) == ("borderline", False, True)
    assert (positive["final"], positive["time_critical"],
            positive["time_critical_disorder"]) == ("positive", True, True)
    assert [item["specimen_id"] for item in queue][0] == cards[43]["id"]
