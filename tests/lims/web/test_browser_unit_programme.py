"""The submitting unit's and the programme's pages in a real browser (Debian's Chromium driven
by Playwright, the app served by uvicorn on a SQLite file), in English and Simplified Chinese:
a submitter sees its baby's results and its report card and is refused another unit's baby by
a direct URL; the admin opens the month's bulletin with its charts and drills down to the
specimens. Every request goes to the app's own host. Screenshots go to
``test-artefacts/browser/{en,zh-CN}/``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.db import make_engine
from lims.settings import Settings
from tests.lims.conftest import make_world
from tests.lims.documents.test_documents import _referred
from tests.lims.helpers import API, card, specimen_body
from tests.lims.plates import CsvPipeline
from tests.lims.web.test_browser import (  # noqa: F401
    _shot,
    _sign_in,
    browser,
    offline_page,
    serving,
)

pytest.importorskip("playwright.sync_api")


@pytest.fixture
def served_with_results(sqlite_template: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The app on a fresh SQLite copy with a referred (released) card of NORTH and a card of
    SOUTH, served by uvicorn in a thread."""
    path = tmp_path / "nbs.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", environment="test")
    engine = make_engine(settings)
    world = make_world(engine)
    app = create_app(settings, engine, pipeline=CsvPipeline())
    with TestClient(app) as client:
        ours = _referred(client, world)
        theirs = client.post(f"{API}/specimens", json=specimen_body(
            card(40), world.submitter_ids[1]), headers=world.auth("technician")).json()
    try:
        with serving(app) as base:
            yield {"base": base, "ours": ours, "theirs": theirs}
    finally:
        engine.dispose()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_submitter_and_the_programme_in_the_browser(served_with_results, browser,  # noqa: F811
                                                      lang):
    base = served_with_results["base"]
    ours, theirs = served_with_results["ours"], served_with_results["theirs"]
    page, foreign = offline_page(browser, base, lang)

    _sign_in(page, base, "submitter")
    page.goto(f"{base}/unit")
    assert page.locator(f"#results tr[data-specimen='{ours['id']}']").count() == 1
    assert card(40) not in page.content()
    assert ("待确认的危急结果通知" in page.content()) == (lang == "zh-CN")
    _shot(page, lang, "10-unit-home")
    page.click(f"#results tr[data-specimen='{ours['id']}'] a")
    page.wait_for_selector("#baby-name")
    assert page.locator("table.results tbody tr").count() >= 1
    _shot(page, lang, "11-unit-baby")
    with page.expect_download() as download:
        page.click(f"#result-pdf-{ours['id']}")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    refused = page.goto(f"{base}/unit/babies/{theirs['infant_id']}")
    assert refused is not None and refused.status == 404
    assert card(40) not in page.content()
    _shot(page, lang, "12-unit-refused")
    page.goto(f"{base}/unit/report-card?month=2026-03")
    page.wait_for_selector("#card-measures")
    _shot(page, lang, "13-unit-report-card")
    page.click("#sign-out")
    page.wait_for_url(f"{base}/login")

    _sign_in(page, base, "admin")
    page.goto(f"{base}/programme/bulletin?month=2026-03")
    page.wait_for_selector("#programme-measures")
    assert page.locator("#ranking tbody tr").count() == 2
    assert page.locator("section.charts svg").count() >= 3
    assert page.locator("section.charts svg rect.bar").count() >= 1
    page.wait_for_selector("#trend svg.trend")
    assert page.locator("#trend svg.trend").count() == 4
    _shot(page, lang, "14-programme-bulletin")
    page.click("#programme-measures tr[data-code='unsatisfactory_rate'] a")
    page.wait_for_selector("#drill")
    assert page.locator("#drill tbody tr").count() >= 2
    _shot(page, lang, "15-programme-drill-down")
    page.context.close()
    assert foreign == [], f"requests to other hosts: {foreign}"
