"""A correction and the bulk release in a real browser: Debian's Chromium driven by Playwright
against the app served by uvicorn (``test_browser``'s fixtures), on SQLite, with the real
screening pipeline.

A simulated plate of 89 cards is ingested before the browser starts. The reviewer reads how
many normals the bulk release will release and releases exactly that many; corrects a released
normal card, first with a wrong signature (the reason typed stays in the form, the password
does not), then signed; finds it in the queue marked as a correction with its version and
reason, while the bulk release counts none and cannot be sent; and releases it by deciding on
it, after a refused decision kept its reason and choice. Every request goes to the app's own
host; screenshots go to ``test-artefacts/browser/en/``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lims.audit import SYSTEM
from lims.db import make_engine
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import Specimen
from lims.pipeline import ScreeningPipeline
from lims.runs.plate import sign_off
from lims.runs.service import ingest_bytes
from lims.settings import Settings
from msms.population import simulate_cohort
from tests.lims.conftest import PASSWORD
from tests.lims.web.test_browser import (  # noqa: F401
    _shot,
    _sign_in,
    browser,
    offline_page,
    served,
)

playwright_api = pytest.importorskip("playwright.sync_api")


def _plate(path: Path, folder: Path, submitter_id: int) -> None:
    engine = make_engine(Settings(database_url=f"sqlite:///{path}", environment="test"))
    try:
        with Session(engine) as session:
            cohort = accession_cohort(session, SYSTEM, simulate_cohort(89, seed=5,
                                                                       disorder_rate=0.08),
                                      [submitter_id], first_card=7000,
                                      born=datetime(2026, 3, 1, tzinfo=UTC))
            session.commit()
        plate = simulated_plate_file(cohort, seed=5, fmt="masslynx", plate_id="RV-1",
                                     folder=folder)
        run = ingest_bytes(engine, SYSTEM, plate.read_bytes(), plate.name,
                           ScreeningPipeline()).run
        assert run.id is not None
        with Session(engine) as session:  # the technician's sign-off the bulk release awaits
            sign_off(session, SYSTEM, run.id, accept=True, reason="controls in range")
            session.commit()
    finally:
        engine.dispose()


def _released_normal(path: Path) -> tuple[int, str]:
    engine = make_engine(Settings(database_url=f"sqlite:///{path}", environment="test"))
    try:
        with Session(engine) as session:
            s = session.exec(select(Specimen).where(Specimen.state == "released")
                             .order_by(Specimen.id)).first()
            assert s is not None and s.id is not None
            return s.id, s.barcode
    finally:
        engine.dispose()


def test_a_correction_waits_for_a_reviewer_and_the_bulk_release_counts(served,  # noqa: F811
                                                                      browser,  # noqa: F811
                                                                      tmp_path):
    base, submitters = served
    database = tmp_path / "nbs.db"  # the served app's file (test_browser.served)
    _plate(database, tmp_path, submitters[0])
    page, foreign = offline_page(browser, base, "en")
    _sign_in(page, base, "reviewer")

    # the bulk release says how many it releases, and releases that many
    page.goto(f"{base}/lab/review")
    waiting = int(page.get_attribute("#normals-waiting", "data-count") or "0")
    assert waiting > 50
    assert page.inner_text("#release-normals-submit") == f"Release {waiting} as normal"
    _shot(page, "en", "20-review-normals-counted")
    page.fill("#release-normals input[name=password]", PASSWORD)
    page.click("#release-normals-submit")
    page.wait_for_selector("#released-normals")
    assert page.inner_text("#released-normals") == f"{waiting} normal results released."

    # a wrong signature on the correction keeps the reason typed, never the password
    specimen, barcode = _released_normal(database)
    page.goto(f"{base}/lab/specimens/{specimen}")
    page.fill("#correction-form textarea[name=reason]", "card belonged to the twin")
    page.fill("#correction-form input[name=password]", "not-my-password")
    page.click("#correction-submit")
    page.wait_for_selector("#correction-form-error")
    assert page.input_value("#correction-form textarea[name=reason]") == \
        "card belonged to the twin"
    assert page.input_value("#correction-form input[name=password]") == ""
    _shot(page, "en", "21-correction-refused-keeps-reason")
    page.fill("#correction-form input[name=password]", PASSWORD)
    page.click("#correction-submit")
    page.wait_for_selector("#corrected")
    assert page.get_attribute("#correction-note", "data-version") == "2"

    # the queue shows the correction; the bulk release counts none and cannot be sent
    page.goto(f"{base}/lab/review")
    row = page.locator("#queue tr", has=page.locator(f"a:text-is('{barcode}')"))
    assert row.locator("[data-correction='2']").count() == 1
    assert "card belonged to the twin" in row.inner_text()
    assert page.get_attribute("#normals-waiting", "data-count") == "0"
    assert page.is_disabled("#release-normals-submit")
    _shot(page, "en", "22-queue-with-correction")

    # a person decides on it: a refused decision keeps its choice and reason
    row.locator(f"a:text-is('{barcode}')").click()
    page.wait_for_selector("#decision-form")
    page.check("#decision-form input[name=decision][value=request_repeat_specimen]")
    page.fill("#decision-form textarea[name=reason]", "identity in doubt")
    page.fill("#decision-form input[name=password]", "not-my-password")
    page.click("#decision-submit")
    page.wait_for_selector("#decision-form-error")
    assert page.input_value("#decision-form textarea[name=reason]") == "identity in doubt"
    assert page.is_checked(
        "#decision-form input[name=decision][value=request_repeat_specimen]")
    assert page.input_value("#decision-form input[name=password]") == ""
    page.fill("#decision-form input[name=password]", PASSWORD)
    page.click("#decision-submit")
    page.wait_for_selector("#decided")
    page.goto(f"{base}/lab/review")
    assert page.locator(f"#queue a:text-is('{barcode}')").count() == 0
    assert foreign == []
