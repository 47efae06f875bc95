"""What a fresh user meets on the pages, in a real browser (Debian's Chromium driven by Playwright
against the app served by uvicorn on SQLite with the real pipeline, as ``test_browser.py``):

- the language menu changes the language when a language is chosen (its script obeys the
  Content-Security-Policy), and the status page ``/`` is styled by the app's stylesheet;
- a contact attempt cannot be logged without choosing its result;
- a card accessioned without choosing sex or feeding is stored as sex U and feeding unknown,
  and the sex menu says its choices in words; the submitter is never chosen for the
  technician (the browser asks for it, nothing is stored before it is chosen);
- a refused htmx request shows why: a bad instrument file uploaded on the runs page, an alert
  acknowledged in the banner after someone else acknowledged it, a request that does not reach
  the server;
- at phone width (390 x 844) the pages fit the screen: wide tables scroll in their own box.

Every page visited reports no Content-Security-Policy violation in the browser's console, and
every request stays on the app's host. Screenshots go to ``test-artefacts/browser/forms/``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from lims.alerts.service import acknowledge, open_alert
from lims.audit import SYSTEM, Actor
from lims.db import make_engine
from lims.demo import accession_cohort
from lims.followup.schemas import CaseCreate, ContactIn, TransitionIn
from lims.followup.service import open_case, record_contact, transition
from lims.models import ContactAttempt, Evaluation, Infant, Specimen, User, utcnow
from lims.settings import Settings
from msms.population import simulate_cohort
from tests.lims.helpers import card
from tests.lims.web.test_browser import (  # noqa: F401
    ARTEFACTS,
    _sign_in,
    browser,
    served,
)
from tests.lims.web.test_case_browser import _plate_and_clinic

playwright_api = pytest.importorskip("playwright.sync_api")

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


class Watched:
    """A page whose requests to any host but the app's are refused and listed, and whose
    console's Content-Security-Policy violations are listed."""

    def __init__(self, chromium, base: str, lang: str,  # type: ignore[no-untyped-def]
                 viewport: dict[str, int]) -> None:
        self.context = chromium.new_context(locale=lang, viewport=viewport)
        self.foreign: list[str] = []
        self.violations: list[str] = []

        def only_the_app(route) -> None:  # type: ignore[no-untyped-def]
            if route.request.url.startswith(base):
                route.continue_()
            else:
                self.foreign.append(route.request.url)
                route.abort()

        self.context.route("**/*", only_the_app)
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.violations.append(f"{self.page.url}: {m.text}")
                     if "Content Security Policy" in m.text else None)

    def close(self) -> None:
        self.context.close()
        assert self.foreign == [], f"requests to other hosts: {self.foreign}"
        assert self.violations == [], self.violations


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = ARTEFACTS / "forms"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _engine(database: Path):  # type: ignore[no-untyped-def]
    return make_engine(Settings(database_url=f"sqlite:///{database}", environment="test"))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_language_menu_and_the_status_page(served, browser, lang):  # noqa: F811
    base, _ = served
    watched = Watched(browser, base, lang, DESKTOP)
    page = watched.page
    page.goto(f"{base}/")
    body = page.evaluate("""() => { const s = getComputedStyle(document.body);
        return {maxWidth: s.maxWidth, font: s.fontFamily}; }""")
    assert body["maxWidth"] == "832px" and "system-ui" in body["font"], body
    assert page.evaluate("getComputedStyle(document.querySelector('th')).fontWeight") == "600"
    _sign_in(page, base, "technician")
    page.goto(f"{base}/lab/accession")
    other = "en" if lang == "zh-CN" else "zh_CN"
    page.select_option("select[name=lang]", other)  # no button: the menu sends itself
    page.wait_for_selector(f"html[lang={other.replace('_', '-')}]", state="attached")
    assert page.url == f"{base}/lab/accession"
    assert ("新生儿筛查实验室" in page.inner_text("header")) == (other == "zh_CN")
    page.select_option("select[name=lang]", lang.replace("-", "_"))
    page.wait_for_selector(f"html[lang={lang}]", state="attached")
    watched.close()


def test_the_forms_choose_nothing_for_the_user(served, browser, tmp_path):  # noqa: F811
    base, submitters = served
    database = tmp_path / "nbs.db"  # the served app's file (test_browser.served)
    engine = _engine(database)
    try:
        with Session(engine) as session:
            cohort = accession_cohort(session, SYSTEM, simulate_cohort(2, seed=11),
                                      [submitters[0]], first_card=7000,
                                      born=datetime(2026, 3, 1, tzinfo=UTC))
            specimen = session.exec(select(Specimen).where(
                Specimen.barcode == cohort["specimen_id"].iloc[0])).one()
            assert specimen.id is not None
            case = open_case(session, SYSTEM, CaseCreate(specimen_id=specimen.id,
                                                         suspected=["MSUD"]))
            session.commit()
            case_id = case.id
        watched = Watched(browser, base, "en", DESKTOP)
        page = watched.page

        # the accession form: nothing chosen for sex and feeding
        _sign_in(page, base, "technician")
        page.goto(f"{base}/lab/accession")
        sexes = page.locator("select[name=sex] option").all_inner_texts()
        assert [s.strip() for s in sexes] == ["not stated (unknown)", "male", "female",
                                              "unknown"], sexes
        assert page.input_value("select[name=sex]") == ""
        assert page.input_value("select[name=feeding]") == ""
        page.fill("input[name=barcode]", card(7100))
        page.wait_for_selector("#barcode-check .badge.accept")
        now = utcnow()
        page.fill("input[name=collected_at]", (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("input[name=received_at]", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("input[name=birth_at]", (now - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("input[name=birth_weight_g]", "3300")
        # the submitter is never chosen for the technician: the browser asks for it
        assert page.input_value("select[name=submitter_id]") == ""
        page.click("#accession-submit")
        assert page.eval_on_selector("select[name=submitter_id]",
                                     "s => s.validity.valueMissing")
        assert page.url == f"{base}/lab/accession"
        with Session(engine) as session:
            assert session.exec(select(Specimen).where(
                Specimen.barcode == card(7100))).all() == []
        page.select_option("select[name=submitter_id]", str(submitters[1]))
        page.click("#accession-submit")
        page.wait_for_selector("#accessioned, p.error")
        assert page.locator("p.error").count() == 0, page.inner_text("p.error")
        with Session(engine) as session:
            stored = session.exec(select(Specimen).where(Specimen.barcode == card(7100))).one()
            assert stored.feeding == "unknown" and stored.submitter_id == submitters[1]
            assert session.get(Infant, stored.infant_id).sex == "U"  # type: ignore[union-attr]
        page.click("#sign-out")

        # the contact form: the result must be chosen
        _sign_in(page, base, "follow_up")
        page.goto(f"{base}/followup/cases/{case_id}")
        assert page.input_value("#contact-form select[name=result]") == ""
        page.fill("#contact-form input[name=contacted]", "mother")
        page.click("#contact-submit")
        assert page.eval_on_selector("#contact-form select[name=result]",
                                     "s => s.validity.valueMissing")
        assert page.url == f"{base}/followup/cases/{case_id}"
        with Session(engine) as session:
            assert session.exec(select(ContactAttempt)).all() == []
        page.select_option("#contact-form select[name=result]", "no_answer")
        page.click("#contact-submit")
        page.wait_for_selector("#timeline [data-kind=contact]")
        with Session(engine) as session:
            assert [a.result for a in session.exec(select(ContactAttempt)).all()] == [
                "no_answer"]
        assert page.get_attribute("#case-state", "data-state") == "opened"
        watched.close()
    finally:
        engine.dispose()


def test_a_refused_htmx_request_shows_why(served, browser, tmp_path):  # noqa: F811
    base, submitters = served
    database = tmp_path / "nbs.db"
    engine = _engine(database)
    try:
        with Session(engine) as session:
            cohort = accession_cohort(session, SYSTEM, simulate_cohort(1, seed=12),
                                      [submitters[0]], first_card=7200,
                                      born=datetime(2026, 3, 1, tzinfo=UTC))
            specimen = session.exec(select(Specimen).where(
                Specimen.barcode == cohort["specimen_id"].iloc[0])).one()
            alert = open_alert(session, SYSTEM, specimen, disorder="MSUD",
                               message="Xle 900 above the cutoff", evaluation_id=None)
            session.commit()
            alert_id = alert.id
        watched = Watched(browser, base, "en", DESKTOP)
        page = watched.page

        # a bad instrument file: the runs page says why
        _sign_in(page, base, "technician")
        page.goto(f"{base}/lab/runs")
        bad = tmp_path / "not-a-plate.txt"
        bad.write_text("this is not an instrument export\n")
        page.set_input_files("#upload-form input[name=file]", str(bad))
        page.click("#upload-submit")
        page.wait_for_selector("#upload-error")
        assert "not-a-plate.txt" in page.inner_text("#upload-error")
        assert page.is_enabled("#upload-submit")
        _shot(page, "upload-refused")

        # the barcode check sent while the server cannot be reached: the page says so
        page.goto(f"{base}/lab/accession")
        page.route("**/lab/accession/barcode*", lambda route: route.abort())
        page.fill("input[name=barcode]", card(7300))
        page.wait_for_selector("#request-error:not([hidden])")
        assert "could not be reached" in page.inner_text("#request-error")
        page.unroute("**/lab/accession/barcode*")
        page.click("#sign-out")

        # an alert acknowledged elsewhere meanwhile: the banner's acknowledgement says so
        _sign_in(page, base, "reviewer")
        page.goto(f"{base}/lab")
        row = f"#alerts-banner li[data-alert='{alert_id}']"
        page.wait_for_selector(row)
        with Session(engine) as session:
            admin = session.exec(select(User).where(User.username == "admin")).one()
            acknowledge(session, Actor.of(admin), alert_id, full_name="Dr Admin",  # type: ignore[arg-type]
                        note="ward called")
            session.commit()
        page.fill(f"{row} input[name=note]", "calling the ward")
        page.click(f"{row} button.ack")
        page.wait_for_selector("#request-error:not([hidden])")
        assert "already acknowledged by Dr Admin" in page.inner_text("#request-error")
        page.wait_for_selector(row, state="detached")  # the banner shows the alert's state
        _shot(page, "acknowledge-refused")
        watched.close()
    finally:
        engine.dispose()


def _fits(page, base: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}{path}")
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], (path, width)


def test_the_pages_fit_a_phone(served, browser, tmp_path):  # noqa: F811
    base, submitters = served
    database = tmp_path / "nbs.db"
    clinic_id = _plate_and_clinic(database, tmp_path, submitters[0], "phone")
    engine = _engine(database)
    try:
        with Session(engine) as session:
            flagged = session.exec(select(Evaluation).order_by(col(Evaluation.id))).all()
            assert len(flagged) >= 2
            first, second = flagged[0], flagged[-1]
            opened = open_case(session, SYSTEM, CaseCreate(specimen_id=first.specimen_id,
                                                           suspected=[first.disorder]))
            referred = open_case(session, SYSTEM, CaseCreate(specimen_id=second.specimen_id,
                                                             suspected=[second.disorder]))
            coordinator = Actor.of(session.exec(select(User).where(
                User.username == "follow_up")).one())
            assert referred.id is not None
            record_contact(session, coordinator, referred.id, ContactIn(
                method="phone", contacted="mother", result="reached"))
            transition(session, coordinator, referred.id, TransitionIn(
                transition="refer", clinic_id=clinic_id))
            session.commit()
            specimen_id, case_id = first.specimen_id, opened.id
        watched = Watched(browser, base, "en", PHONE)
        page = watched.page
        _sign_in(page, base, "follow_up")
        for path in ("/followup", f"/followup/cases/{case_id}", "/lab/search?q=M",
                     f"/lab/specimens/{specimen_id}"):
            _fits(page, base, path)
        chart = page.locator("svg.population").first.bounding_box()
        assert chart is not None and 200 < chart["width"] <= PHONE["width"], chart
        _shot(page, "phone-specimen")
        page.click("#sign-out")
        _sign_in(page, base, "clinic")
        _fits(page, base, "/clinic")
        assert page.locator("table.cases tbody tr").count() >= 1
        _shot(page, "phone-clinic")
        page.click("#sign-out")
        _sign_in(page, base, "technician")
        for path in ("/lab/messages", "/lab/runs", "/lab/accession", "/lab/worklists",
                     "/lab/runs/1"):
            _fits(page, base, path)
        page.click("#sign-out")
        _sign_in(page, base, "reviewer")
        _fits(page, base, "/lab/review")
        assert page.locator("#queue tbody tr a[href^='/lab/specimens/']").count() >= 1
        _shot(page, "phone-review-queue")
        watched.close()
    finally:
        engine.dispose()
