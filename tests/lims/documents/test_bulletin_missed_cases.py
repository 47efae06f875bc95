"""The bulletin counts the cases the screen missed (``missed_cases``: a case opened by hand on
a card the screen did not flag for it, confirmed) beside the confirmed cases, for the
programme and each unit, and defines it with its source, in English and in Chinese; the
missed case is not among the confirmed cases. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from lims.audit import Actor
from lims.documents.bulletins import bulletin_view
from lims.documents.laboratory import laboratory
from lims.documents.service import issue_bulletin
from reports.indicators import indicators
from reports.models import DocumentInfo
from tests.lims.followup.test_outcomes_missed import found_and_missed
from tests.reports.pdfcheck import assert_contains


def test_the_bulletin_counts_the_cases_the_screen_missed(client, world, engine):
    found_and_missed(client, world)  # MSUD screen positive, PKU missed
    today = datetime.now(UTC).date()
    with Session(engine) as session:
        view = bulletin_view(session, today, lab=laboratory(), document=DocumentInfo(
            document_id="check", issued_at=datetime.now(UTC), lang="en"))
        english = issue_bulletin(session, Actor(None, "t", "admin"), today, language="en")
        chinese = issue_bulletin(session, Actor(None, "t", "admin"), today, language="zh-CN")
        session.commit()
    missed, confirmed = (view.programme_measures[c] for c in ("missed_cases", "confirmed_cases"))
    assert (missed.value, confirmed.value) == (1.0, 1.0)
    [unit] = [u for u in view.units if u.measures["missed_cases"].value]
    assert unit.measures["missed_cases"].value == 1.0
    assert [c.code for c in view.confirmed_by_disorder] == ["MSUD"]
    definition = indicators().get("missed_cases")
    assert "newsteps_qi8" in definition.sources
    assert_contains(english.document.content, definition.text("name", "en"), "[newsteps_qi8]")
    assert_contains(chinese.document.content, definition.text("name", "zh-CN"),
                    "[newsteps_qi8]")
