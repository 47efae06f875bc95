"""A bulletin issued through the LIMS from a simulated programme (cards and follow-up cases
written to the database, ``bench.followup_year``) prints, for the programme and each
submitting unit, the measures computed here directly from the simulation's own records."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session

from bench.followup_year import YEAR, load_year, simulate_year
from lims.audit import Actor
from lims.documents.bulletins import bulletin_view
from lims.documents.laboratory import laboratory
from lims.documents.service import issue_bulletin, issue_card
from reports.bulletin import fmt_measure
from reports.indicators import indicators
from reports.models import DocumentInfo
from reports.wording import wording
from tests.lims.followup.test_simulated_year import expected
from tests.reports.pdfcheck import assert_contains, assert_pages_sound

MONTH = 6


@pytest.fixture
def year(engine):  # type: ignore[no-untyped-def]
    simulated = simulate_year(6_000, seed=11, case_rate=0.04)
    load_year(engine, simulated)
    return simulated


def _compare(measures, wanted):  # type: ignore[no-untyped-def]
    compared = 0
    for code, measure in measures.items():
        value = wanted[code]
        assert (measure.value is None) == (value is None), code
        if value is not None:
            assert measure.value == pytest.approx(value, abs=1e-6), code
        compared += 1
    return compared


def test_the_bulletin_of_a_simulated_month_prints_the_measures_computed_directly(engine, year):
    actor = Actor(None, "bulletin-test", "admin")
    with Session(engine) as session:
        issued = issue_bulletin(session, actor, date(YEAR, MONTH, 17), language="en")
        card = issue_card(session, actor, year.submitters[0]["id"], date(YEAR, MONTH, 1))
        session.commit()
        view = bulletin_view(session, date(YEAR, MONTH, 1), lab=laboratory(), document=(
            DocumentInfo(document_id="check", issued_at=datetime.now(UTC), lang="en")))
    assert issued.created and issued.document.period == f"{YEAR}-{MONTH:02d}"
    compared = _compare(view.programme_measures, expected(year, MONTH, None))
    for submitter in year.submitters:
        [unit] = [u for u in view.units if u.code == submitter["code"]]
        compared += _compare(unit.measures, expected(year, MONTH, submitter["id"]))
    assert compared >= 7 * 11
    assert view.programme_measures["recall_rate"].n > 300
    pdf = issued.document.content
    words, definitions = wording("en"), indicators()
    printed = [fmt_measure(definitions.get(code), m.value, words)
               for code, m in view.programme_measures.items() if m.value is not None]
    assert_contains(pdf, "Newborn screening programme bulletin", *printed,
                    *(s["code"] for s in year.submitters))
    assert_pages_sound(pdf)
    assert_contains(card.document.content, "Submitting unit report card",
                    year.submitters[0]["code"])
