"""The pages in a real browser: Debian's Chromium driven by Playwright against the app served by
uvicorn on a free port, on SQLite, with the real screening pipeline.

A technician accessions a card on the form and the rest of a simulated cohort from a card CSV,
uploads the simulated plate (MassLynx export), reads the plate and accepts its QC; a reviewer
reads the queue and a specimen, refers it with the password signature, and releases the
normals; in English and in Simplified Chinese (the browser's language). Every request the
browser makes goes to the app's own host: any other is refused and fails the test. Screenshots
go to ``test-artefacts/browser/`` (not kept in git).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
import uvicorn
from fastapi import FastAPI

from lims.app import create_app
from lims.db import make_engine
from lims.demo import simulated_plate_file
from lims.models import utcnow
from lims.pipeline import ScreeningPipeline
from lims.settings import Settings
from msms.population import simulate_cohort
from tests.conftest import ROOT
from tests.lims.conftest import PASSWORD, make_world
from tests.lims.helpers import card

CHROMIUM = Path("/usr/bin/chromium")
ARTEFACTS = ROOT / "test-artefacts" / "browser"
playwright_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free port, until the block ends; its base
    URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, list[int]]]:
    """The app on a fresh SQLite copy, served by uvicorn in a thread; (base URL, submitters)."""
    path = tmp_path / "nbs.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", environment="test")
    engine = make_engine(settings)
    world = make_world(engine)
    try:
        with serving(create_app(settings, engine, pipeline=ScreeningPipeline())) as base:
            yield base, world.submitter_ids
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert CHROMIUM.exists(), "Debian's Chromium is missing: make test installs it"
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()


def _cohort(folder: Path) -> tuple[pd.DataFrame, Path]:
    """89 babies whose cards were collected two days ago, their cards (barcodes) and the card
    CSV of all but the first."""
    cohort = simulate_cohort(89, seed=5, disorder_rate=0.08)
    sent = (utcnow() - timedelta(days=2)).replace(second=0, microsecond=0)
    rows = []
    for i, row in enumerate(cohort.itertuples(index=False)):
        collected = sent - timedelta(minutes=7 * i)
        birth = collected - timedelta(hours=float(row.age_at_collection_hours))
        weight = int(row.birth_weight_g) if 200 <= row.birth_weight_g <= 7000 else ""
        ga = round(float(row.gestational_age_weeks), 1) \
            if 20 <= row.gestational_age_weeks <= 45 else ""
        rows.append({"barcode": card(5000 + i), "submitter": "NORTH",
                     "collected_at": collected.strftime("%Y-%m-%dT%H:%MZ"),
                     "birth_at": birth.strftime("%Y-%m-%dT%H:%MZ"),
                     "sex": row.sex if row.sex in ("M", "F") else "U",
                     "birth_weight_g": weight, "gestational_age_weeks": ga,
                     "mother_id": f"M{5000 + i}", "medical_record_number": f"MRN{5000 + i}"})
    cards = pd.DataFrame(rows)
    cohort = cohort.copy()
    cohort["specimen_id"] = cards["barcode"]
    csv = folder / "cards.csv"
    cards.iloc[1:].to_csv(csv, index=False)
    return cohort.assign(**{c: cards[c] for c in ("collected_at", "birth_at")}), csv


def _shot(page, lang: str, name: str) -> None:  # type: ignore[no-untyped-def]
    folder = ARTEFACTS / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/lab")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/lab")


def offline_page(browser, base: str, lang: str):  # type: ignore[no-untyped-def]
    """A 1280 px page in ``lang`` whose requests to any host but ``base`` are refused and
    listed in the returned list (the offline check)."""
    context = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
    foreign: list[str] = []

    def only_the_app(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(base):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_app)
    context.set_default_timeout(20_000)
    return context.new_page(), foreign


def _local(value: str) -> str:
    return value.rstrip("Z")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_technicians_and_a_reviewers_day_in_the_browser(served, browser, tmp_path, lang):
    base, _submitters = served
    cohort, csv = _cohort(tmp_path)
    plate = simulated_plate_file(cohort, seed=5, fmt="masslynx", plate_id=f"WEB-{lang}",
                                 folder=tmp_path)
    page, foreign = offline_page(browser, base, lang)

    # the technician: one card on the form, the others from the card CSV
    _sign_in(page, base, "technician")
    assert ("新生儿筛查实验室" in page.content()) == (lang == "zh-CN")
    page.goto(f"{base}/lab/accession")
    first = cohort.iloc[0]
    page.fill("input[name=barcode]", first["specimen_id"])
    page.wait_for_selector("#barcode-check .badge.accept")
    page.fill("input[name=collected_at]", _local(first["collected_at"]))
    page.fill("input[name=received_at]", (utcnow() - timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M"))
    page.fill("input[name=birth_at]", _local(first["birth_at"]))
    page.fill("input[name=mother_name]", "Li Na")
    page.select_option("select[name=submitter_id]", str(_submitters[0]))
    page.click("#accession-submit")
    page.wait_for_selector("#accessioned, p.error")
    assert page.locator("p.error").count() == 0, page.inner_text("p.error")
    _shot(page, lang, "01-accessioned")
    page.set_input_files("input[name=file]", str(csv))
    page.click("#import-submit")
    page.wait_for_selector("#imported, #import-error")
    assert page.locator("#import-error").count() == 0, page.inner_text("#import-error")
    assert "88" in page.inner_text("#imported")

    # the run: upload, the plate and its QC, the sign-off
    page.goto(f"{base}/lab/runs")
    page.set_input_files("#upload-form input[name=file]", str(plate))
    page.click("#upload-submit")
    page.wait_for_url(f"{base}/lab/runs/*", timeout=120_000)
    decision = page.get_attribute("#qc-decision", "class") or ""
    assert "accept" in decision and "reject" not in decision
    assert page.locator(".plate .well.patient").count() == 89
    assert page.locator(".plate .well.control").count() >= 3
    _shot(page, lang, "02-plate")
    page.fill("#qc-form input[name=reason]", "controls within limits")
    page.click("#qc-accept")
    page.wait_for_selector(".sign-off")
    _shot(page, lang, "03-plate-accepted")
    page.click("#sign-out")
    page.wait_for_url(f"{base}/login")

    # the reviewer: the queue, a specimen, a signed referral, the normals released
    _sign_in(page, base, "reviewer")
    page.goto(f"{base}/lab/review")
    links = page.locator("#queue a")
    assert links.count() >= 1
    _shot(page, lang, "04-queue")
    links.first.click()
    page.wait_for_selector("#decision-form")
    assert page.locator("section.call").count() >= 1
    assert page.locator("table.markers tbody tr").count() >= 1
    _shot(page, lang, "05-specimen")
    radios = page.locator("#decision-form input[name=decision]")
    codes = [radios.nth(i).get_attribute("value") for i in range(radios.count())]
    labels = [page.inner_text(f"#decision-form label:has(input[value={c}])").strip()
              for c in codes]
    assert labels and not set(labels) & set(codes), labels  # the decisions in words
    assert {"en": "Refer", "zh-CN": "转诊"}[lang] in labels
    page.check("input[name=decision][value=refer]")
    page.fill("textarea[name=reason]", "confirmatory testing")
    page.fill("#decision-form input[name=password]", PASSWORD)
    page.click("#decision-submit")
    page.wait_for_selector("#decided")
    assert "referred" in (page.get_attribute("#specimen-state", "class") or "") \
        or page.locator("#releases td").count() >= 4
    _shot(page, lang, "06-referred")
    page.goto(f"{base}/lab/review")
    page.fill("#release-normals input[name=password]", PASSWORD)
    page.click("#release-normals-submit")
    page.wait_for_selector("#released-normals")
    assert int("".join(ch for ch in page.inner_text("#released-normals") if ch.isdigit())) > 0
    _shot(page, lang, "07-normals-released")
    if lang == "en":  # the API documentation renders from the app's own files
        page.goto(f"{base}/docs")
        page.wait_for_selector(".swagger-ui .info")
        page.goto(f"{base}/redoc")
        page.wait_for_selector("redoc .api-info, [role=navigation]", timeout=30_000)
        _shot(page, lang, "08-redoc")
    page.context.close()
    assert foreign == [], f"requests to other hosts: {foreign}"
