"""The demo shows the reflex second tier: its plates, screened with the reflex second tier on
(the literature levels with genotypes when the settings leave it off), put flagged cards on
the reflex worklist; a second-tier run and a genotype file imported through the real imports
decide some of them again, and one card still waits. Seen on the pages a technician opens."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.app import create_app
from lims.demo import seed_demo
from lims.models import ReflexDecisionRecord, SecondTierRun, Specimen
from lims.pipeline import ScreeningPipeline
from lims.reflex.service import worklist
from lims.vocabulary import SpecimenState
from tests.lims.web.conftest import sign_in_page


@pytest.mark.slow
def test_the_demo_fills_and_partly_completes_the_reflex_worklist(settings, engine, world):
    pipeline = ScreeningPipeline.from_settings(settings)
    assert pipeline.reflex is None  # the settings leave the reflex second tier off
    summary = seed_demo(engine, pipeline=pipeline)
    assert pipeline.reflex is None  # the served pipeline is not changed
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
