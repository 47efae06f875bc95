"""The demo shows the reflex second tier: its plates, screened with the reflex second tier on
(the literature levels with genotypes when the settings leave it off), put flagged cards on
the reflex worklist; a second-tier run and a genotype file imported through the real imports
decide them again. One card still waits where the service runs the reflex second tier; where
it is off (the settings' default) no card is left waiting for it. A card whose calls open a
time-critical alert never waits: it is in review at once. Seen on the pages a technician
opens."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.app import create_app
from lims.demo import seed_demo
from lims.demo.reflex import with_reflex
from lims.models import ReflexDecisionRecord, SecondTierRun, Specimen
from lims.pipeline import ScreeningPipeline
from lims.reflex.service import worklist
from lims.vocabulary import SpecimenState
from tests.lims.web.conftest import sign_in_page


@pytest.mark.slow
def test_with_the_reflex_tier_off_the_demo_leaves_no_card_waiting(settings, engine, world):
    pipeline = ScreeningPipeline.from_settings(settings)
    assert pipeline.reflex is None  # the settings leave the reflex second tier off
    summary = seed_demo(engine, pipeline=pipeline)
    assert pipeline.reflex is None  # the served pipeline is not changed
    assert "reflex worklist: 0 card(s) waiting" in summary
    with Session(engine) as session:
        assert worklist(session) == []
        held = session.exec(select(Specimen).where(
            Specimen.state == SpecimenState.awaiting_second_tier)).all()
        # the PA and MUT positive card (two time-critical alerts) that used to be stranded
        critical = session.exec(select(Specimen).where(Specimen.barcode == "101020477")).one()
        runs = {r.format: r for r in session.exec(select(SecondTierRun))}
    assert held == []
    assert critical.state == SpecimenState.awaiting_review
    assert runs["masslynx"].n_specimens == 2 and not runs["masslynx"].unmatched

    app = create_app(settings, engine, pipeline=pipeline)
    with TestClient(app, base_url="https://testserver") as web:
        sign_in_page(web, "reviewer")
        queue = web.get("/lab/review").text
        assert critical.barcode in queue.split('id="queue"')[1].split("</table>")[0]
        page = web.get(f"/lab/specimens/{critical.id}").text
        assert 'action="/lab/specimens/' + str(critical.id) + '/decide"' in page


@pytest.mark.slow
def test_the_demo_fills_and_partly_completes_the_reflex_worklist(settings, engine, world):
    pipeline = with_reflex(ScreeningPipeline.from_settings(settings))  # the service runs it
    summary = seed_demo(engine, pipeline=pipeline)
    assert "reflex worklist: 1 card(s) waiting" in summary
    with Session(engine) as session:
        waiting = worklist(session)
        runs = {r.format: r for r in session.exec(select(SecondTierRun))}
        decided = session.exec(select(ReflexDecisionRecord).where(
            ReflexDecisionRecord.current,
            ReflexDecisionRecord.second_tier_run_id.isnot(None))).all()  # type: ignore[union-attr]
        again = {d.specimen_id: d for d in decided}
        states = {i: session.get(Specimen, i).state for i in again}  # type: ignore[union-attr]
    assert len(waiting) == 1 and waiting[0]["assays"] == "MCA, MMA, tHcy"
    assert set(runs) == {"masslynx", "genotype_csv"}
    assert runs["masslynx"].n_specimens == 1 and runs["genotype_csv"].n_specimens == 1
    assert not runs["masslynx"].unmatched and not runs["genotype_csv"].unmatched
    assert sorted(d.reason_code for d in again.values()) == ["C3_SECOND_TIER_NORMAL",
                                                             "FAO_ACADM_ONE"]
    assert set(states.values()) == {SpecimenState.awaiting_review}

    app = create_app(settings, engine, pipeline=pipeline)
    with TestClient(app, base_url="https://testserver") as web:
        sign_in_page(web, "technician")
        page = web.get("/lab/reflex").text
        rows = page.split('id="reflex-worklist"')[1].split("</table>")[0]
        assert waiting[0]["barcode"] in rows
        listed = page.split('id="second-tier-runs"')[1].split("</table>")[0]
        assert "DEMO-ST" in listed and "DEMO-GENOTYPES.csv" in listed
        for specimen_id, decision in again.items():
            card = web.get(f"/lab/specimens/{specimen_id}").text
            row = re.search(r'<tr[^>]*data-group="' + decision.group_code + r'".*?</tr>', card,
                            re.S)
            assert row and decision.reason_code in row.group(0)
