"""A referral's follow-up in a real browser: Debian's Chromium driven by Playwright against the
app served by uvicorn (``test_browser``'s fixtures), on SQLite, with the real screening
pipeline; in English and in Simplified Chinese (the browser's language).

A simulated plate is ingested before the browser starts. The reviewer refers a flagged baby
(the release that opens the case and its letter); the follow-up coordinator finds the case on
the board, logs a missed call and the call that reaches the mother, issues the recall letter
to the family and downloads its PDF, refers the baby to the clinic and issues the clinic's
letter again naming the clinic; the clinic's user finds the case among its referred cases,
records the diagnostic evaluation and the diagnosis and downloads the baby's result report;
the coordinator closes the case. Every request goes to the app's own host (any other is
refused and fails the test); screenshots go to ``test-artefacts/browser/{en,zh-CN}/``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lims.audit import SYSTEM
from lims.db import make_engine
from lims.demo import accession_cohort, simulated_plate_file
from lims.followup.schemas import ClinicCreate
from lims.followup.service import assign_clinic_user, create_clinic
from lims.models import FollowUpCase, IssuedDocument, User, utcnow
from lims.pipeline import ScreeningPipeline
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


def _plate_and_clinic(path: Path, folder: Path, submitter_id: int, lang: str) -> int:
    """89 cards accessioned and their simulated plate ingested; the clinic with its user tied to
    it. Returns the clinic's id."""
    engine = make_engine(Settings(database_url=f"sqlite:///{path}", environment="test"))
    try:
        with Session(engine) as session:
            cohort = accession_cohort(session, SYSTEM, simulate_cohort(89, seed=5,
                                                                       disorder_rate=0.08),
                                      [submitter_id], first_card=6000,
                                      born=datetime(2026, 3, 1, tzinfo=UTC))
            clinic = create_clinic(session, SYSTEM, ClinicCreate(
                code="METAB", name="Metabolic Clinic", phone="+86 10 8888 0000"))
            user = session.exec(select(User).where(User.username == "clinic")).one()
            assert clinic.id is not None and user.id is not None
            assign_clinic_user(session, SYSTEM, clinic.id, user.id)
            session.commit()
            clinic_id = clinic.id
        plate = simulated_plate_file(cohort, seed=5, fmt="masslynx", plate_id=f"FU-{lang}",
                                     folder=folder)
        outcome = ingest_bytes(engine, SYSTEM, plate.read_bytes(), plate.name,
                               ScreeningPipeline())
        assert outcome.run.id is not None
        return clinic_id
    finally:
        engine.dispose()


def _state(page) -> str:  # type: ignore[no-untyped-def]
    return page.get_attribute("#case-state", "data-state") or ""


def _download(page, selector: str) -> bytes:  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        page.click(selector)
    return Path(info.value.path()).read_bytes()


def _sign_out(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.click("#sign-out")
    page.wait_for_url(f"{base}/login")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_referral_from_release_to_a_closed_case_in_the_browser(served, browser,  # noqa: F811
                                                                  tmp_path, lang):
    base, submitters = served
    database = tmp_path / "nbs.db"  # the served app's file (test_browser.served)
    clinic_id = _plate_and_clinic(database, tmp_path, submitters[0], lang)
    page, foreign = offline_page(browser, base, lang)  # downloads accepted (the default)
    shot = lang

    # the reviewer refers a flagged baby: the release opens the case and its letter
    _sign_in(page, base, "reviewer")
    page.goto(f"{base}/lab/review")
    page.locator("#queue a").first.click()
    page.wait_for_selector("#decision-form")
    page.check("input[name=decision][value=refer]")
    page.fill("textarea[name=reason]", "confirmatory testing")
    page.fill("#decision-form input[name=password]", PASSWORD)
    page.click("#decision-submit")
    page.wait_for_selector("#decided")
    _sign_out(page, base)

    # the coordinator: the board, the case, two contact attempts
    _sign_in(page, base, "follow_up")
    page.goto(f"{base}/followup")
    assert ("病例看板" in page.content()) == (lang == "zh-CN")
    _shot(page, shot, "11-case-board")
    page.locator("#cases-opened a").first.click()
    page.wait_for_selector("#timeline")
    case_url = page.url
    assert _state(page) == "opened"
    assert page.locator("#timeline li[data-kind=release]").count() == 1
    assert page.locator("#letters tr[data-document]").count() == 1  # issued at release
    for result in ("no_answer", "reached"):
        page.select_option("#contact-form select[name=method]", "phone")
        page.fill("#contact-form input[name=contacted]", "mother")
        page.select_option("#contact-form select[name=result]", result)
        page.click("#contact-submit")
        page.wait_for_selector("#done")
    assert _state(page) == "contacted"
    assert page.locator("#timeline li[data-kind=contact]").count() == 2

    # the recall letter to the family, downloaded as the stored PDF
    page.select_option("#letter-form select[name=audience]", "family")
    page.click("#letter-submit")
    page.wait_for_selector("#done")
    assert page.locator("#letters tr[data-document]").count() == 2
    family = _download(page, "#letters tr[data-document] .letter-download")
    assert family.startswith(b"%PDF")

    # the referral to the clinic, then the clinic's letter again, naming it
    page.select_option("#form-refer select[name=clinic_id]", str(clinic_id))
    page.fill("#form-refer input[name=appointment_at]",
              (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
    page.click("#refer-submit")
    page.wait_for_selector("#done")
    assert _state(page) == "referred"
    assert "Metabolic Clinic" in page.inner_text("#case-clinic")
    clinic_letter = page.locator("#letters tr[data-document]").last
    clinic_letter.locator("summary").click()
    clinic_letter.locator("input[name=reason]").fill("the clinic is assigned")
    clinic_letter.locator("form.letter-correct button").click()
    page.wait_for_selector("#done")
    assert page.locator("#letters tr[data-document]").count() == 3
    _shot(page, shot, "12-case-referred")
    _sign_out(page, base)

    # the clinic: its referred cases, the diagnosis, the documents
    _sign_in(page, base, "clinic")
    page.goto(f"{base}/clinic")
    _shot(page, shot, "13-clinic-cases")
    page.locator("#cases-referred a").first.click()
    page.wait_for_selector("#form-diagnose")
    assert page.locator("#contact-form").count() == 0
    page.select_option("#form-diagnose select[name=outcome]", "false_positive")
    page.fill("#form-diagnose textarea[name=confirmatory_tests]",
              "plasma amino acids and acylcarnitines within reference ranges")
    page.fill("#form-diagnose textarea[name=reason]", "seen with both parents, well")
    page.click("#diagnose-submit")
    page.wait_for_selector("#done")
    assert _state(page) == "diagnosed"
    assert page.locator("#form-start_treatment").count() == 0  # not confirmed: no treatment
    report = _download(page, "#cards .result-report")
    assert report.startswith(b"%PDF")
    letter = _download(page, "#letters tr[data-document] .letter-download")
    assert letter.startswith(b"%PDF")
    _shot(page, shot, "14-clinic-diagnosed")
    _sign_out(page, base)

    # the coordinator closes the case
    _sign_in(page, base, "follow_up")
    page.goto(case_url)
    page.fill("#form-close textarea[name=reason]", "not confirmed at the clinic")
    page.click("#close-submit")
    page.wait_for_selector("#done")
    assert _state(page) == "closed"
    kinds = page.eval_on_selector_all("#timeline li", "items => items.map(i => i.dataset.kind)")
    for kind in ("card", "release", "opened", "letter", "contact", "referred", "diagnosis",
                 "closed"):
        assert kind in kinds, kind
    _shot(page, shot, "15-case-closed")
    page.context.close()
    assert foreign == [], f"requests to other hosts: {foreign}"
    engine = make_engine(Settings(database_url=f"sqlite:///{database}", environment="test"))
    with Session(engine) as session:
        case = session.get(FollowUpCase, int(case_url.rsplit("/", 1)[1]))
        documents = session.exec(select(IssuedDocument)).all()
    engine.dispose()
    assert case is not None
    assert (case.state, case.outcome, case.clinic_id) == ("closed", "false_positive", clinic_id)
    assert {d.kind for d in documents} == {"recall_letter", "result_report"}
