"""What the reviewer sees of the reflex second tier: a time-critical card is in review at once
(its assays still on the reflex worklist), the review queue says how many cards wait for the
second tier and shows each card's reflex decision, a reviewer sends a waiting card to review
without the second tier (signed, with a reason, audited), and the specimen page shows the
decision in force, every flagged disorder of a group and the version the decisions were made
under (docs/second_tier.md "In the LIMS"). On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.app import create_app
from lims.models import AuditEvent, ReflexRequest, Specimen
from lims.pipeline import EvaluatedCalls, Reflex
from lims.vocabulary import Stage
from tests.conftest import ROOT
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, upload
from tests.lims.plates import CsvPipeline
from tests.lims.reflex.plates import GenotypingReflexCsvPipeline, first_tier_plate
from tests.lims.web.conftest import sign_in_page

FIXTURE = ROOT / "tests" / "data" / "instruments" / "synthetic" / "second_tier_panel_masslynx.txt"
#: card number -> first-tier values: card 2 MSUD positive (time-critical), cards 6 and 8 PA
#: and MUT positive (not time-critical here); the fixture run clears card 6, card 8 is not on it
CARDS = {2: {"Xle": 300.0}, 6: {"C3": 8.0}, 8: {"C3": 8.0}}


class _MutToo(GenotypingReflexCsvPipeline):
    """A raised C3 is flagged for MUT as well as PA, as the packaged rules flag it."""

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        out = super().evaluate(profiles, stage=stage, include_normal=include_normal)
        calls = out.calls
        mut = calls[calls["disorder"] == "PA"].assign(disorder="MUT")
        return EvaluatedCalls(pd.concat([calls, mut], ignore_index=True), out.cutoff_version)


@pytest.fixture
def client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=_MutToo())
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def _first_tier(client: TestClient, world) -> dict[str, int]:  # type: ignore[no-untyped-def]
    made = accession(client, world, *CARDS)
    plate = first_tier_plate("P-WAIT", {card(n): v for n, v in CARDS.items()})
    assert upload(client, world, "p-wait.csv", plate).status_code == 201
    return {card(n): made[n]["id"] for n in CARDS}


def _state(engine, specimen_id: int) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        specimen = session.get(Specimen, specimen_id)
        assert specimen is not None
        return specimen.state


def _row(page: str, barcode: str) -> str:
    table = page.split('id="queue"')[1].split("</table>")[0]
    rows = [r for r in table.split("<tr")[1:] if barcode in r]
    assert len(rows) == 1, barcode
    return rows[0]


def test_a_reviewer_sends_a_waiting_card_to_review_without_the_second_tier(client, world,
                                                                             engine):
    ids = _first_tier(client, world)
    assert _state(engine, ids[card(2)]) == "awaiting_review"  # time-critical: never waits
    assert {_state(engine, ids[card(n)]) for n in (6, 8)} == {"awaiting_second_tier"}

    csrf = sign_in_page(client, "reviewer")
    queue = client.get("/lab/review").text
    held = re.search(r'<p id="second-tier-held" data-count="(\d+)">(.*?)</p>', queue, re.S)
    assert held and held.group(1) == "2" and card(6) in held.group(2) and card(8) in held.group(2)
    assert card(2) in _row(queue, card(2))
    page = client.get(f"/lab/specimens/{ids[card(6)]}").text
    assert 'id="skip-second-tier-form"' in page and 'id="decision-form"' not in page

    url = f"/lab/specimens/{ids[card(6)]}/skip-second-tier"
    refused = [client.post(url, data={"csrf_token": csrf, "reason": " ", "password": PASSWORD}),
               client.post(url, data={"csrf_token": csrf, "reason": "assay down",
                                      "password": "not-my-password"})]
    assert all(r.status_code in (400, 401, 403, 422) for r in refused), refused
    assert _state(engine, ids[card(6)]) == "awaiting_second_tier"

    sent = client.post(url, data={"csrf_token": csrf, "reason": "MCA assay out of service",
                                  "password": PASSWORD}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    assert _state(engine, ids[card(6)]) == "awaiting_review"
    with Session(engine) as session:
        request = session.exec(select(ReflexRequest).where(
            ReflexRequest.specimen_id == ids[card(6)])).one()
        events = {e.action: e for e in session.exec(select(AuditEvent).where(
            AuditEvent.entity_id == str(ids[card(6)])))}
    assert request.status == "withdrawn"
    assert events["skip_second_tier"].reason == "MCA assay out of service"
    assert events["skip_second_tier"].username == "reviewer"
    assert events["second_tier_skipped"].after["status"] == "withdrawn"

    queue = client.get("/lab/review").text
    assert 'data-count="1"' in queue.split('id="second-tier-held"')[1].split("</p>")[0]
    assert card(6) in _row(queue, card(6))
    page = client.get(f"/lab/specimens/{ids[card(6)]}").text
    assert 'id="decision-form"' in page and 'id="skip-second-tier-form"' not in page
    # a card not waiting cannot be sent again
    again = client.post(url, data={"csrf_token": csrf, "reason": "again", "password": PASSWORD})
    assert again.status_code == 409

    client.cookies.clear()
    csrf = sign_in_page(client, "technician")
    technician = client.post(f"/lab/specimens/{ids[card(8)]}/skip-second-tier",
                             data={"csrf_token": csrf, "reason": "x", "password": PASSWORD},
                             follow_redirects=False)
    assert technician.status_code == 403
    assert _state(engine, ids[card(8)]) == "awaiting_second_tier"


def test_the_queue_and_the_specimen_page_show_the_decision_in_force(client, world, engine,
                                                                    settings):
    ids = _first_tier(client, world)
    run = client.post(f"{API}/second-tier-runs",
                      files={"file": ("ST-1.txt", FIXTURE.read_bytes(), "text/plain")},
                      headers=world.auth("technician"))
    assert run.status_code == 201, run.text
    assert _state(engine, ids[card(6)]) == "awaiting_review"

    sign_in_page(client, "reviewer")
    queue = client.get("/lab/review").text
    cleared = _row(queue, card(6))
    assert 'data-group="C3" data-decision="clear"' in cleared
    assert "C3_SECOND_TIER_NORMAL" in cleared
    referred = _row(queue, card(2))
    assert 'data-group="BCAA" data-decision="referral"' in referred
    assert "BCAA_AILE_HIGH" in referred

    page = client.get(f"/lab/specimens/{ids[card(6)]}").text
    for disorder in ("PA", "MUT"):
        call = page.split(f'<section class="call" data-disorder="{disorder}">')[1].split(
            "</section>")[0]
        assert 'class="in-force" data-group="C3" data-decision="clear"' in call
        assert "<s>" in call  # the first tier's action, replaced
    decisions = page.split('id="second-tier-decisions"')[1].split("</table>")[0]
    assert re.search(r'<td class="disorders">PA, MUT</td>', decisions)
    waiting = client.get(f"/lab/specimens/{ids[card(8)]}").text
    row = waiting.split('id="second-tier-decisions"')[1].split("</table>")[0]
    assert "waiting for the reflex assays on this card" in row and "repeat specimen" not in row
    assert "stands until" in waiting.split('data-disorder="PA"')[1].split("</section>")[0]

    # the service with the reflex second tier off: the levels are those the decisions were
    # made under (genotyped), named once, and the page says the tier is off now
    off = create_app(settings, engine, pipeline=CsvPipeline())
    with TestClient(off, base_url="https://testserver") as web:
        sign_in_page(web, "reviewer")
        footer = web.get(f"/lab/specimens/{ids[card(6)]}").text.split(
            'id="second-tier-version"')[1].split("</p>")[0]
    genotyped = Reflex.literature().with_genotypes().version
    assert f"Levels of {genotyped}." in footer
    assert "Decided under" not in footer
    assert "off in this service" in footer
