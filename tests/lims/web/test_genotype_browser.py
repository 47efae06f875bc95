"""Genotype results through the reflex page in a real browser: Debian's Chromium driven by
Playwright against the app served by uvicorn (``test_browser``'s fixtures), on SQLite, with
the reflex tests' pipeline in a laboratory that imports genotypes.

Three cards flagged for MCAD deficiency alone wait on the reflex worklist for ACADM and
ACADVL; the technician uploads the molecular laboratory's CSV file on the page's form, the
cards leave the worklist, and each card's page shows its decision and its genotype (the count
and the HGVS text); in English and in Simplified Chinese (the browser's language). Every
request goes to the app's own host; screenshots go to ``test-artefacts/browser/<lang>/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.db import make_engine
from lims.settings import Settings
from tests.conftest import ROOT
from tests.lims.conftest import make_world
from tests.lims.helpers import accession, card, upload
from tests.lims.reflex.plates import GenotypingReflexCsvPipeline, first_tier_plate
from tests.lims.web.test_browser import (  # noqa: F401
    _shot,
    _sign_in,
    browser,
    offline_page,
    serving,
)

playwright_api = pytest.importorskip("playwright.sync_api")
EXAMPLE = ROOT / "tests" / "data" / "genotypes" / "genotype_results_example.csv"
WORDS = {
    "en": (
        "2 pathogenic variants detected",
        "0 pathogenic variants detected",
        "Upload genotype results",
    ),
    "zh-CN": ("检出 2 个致病变异", "检出 0 个致病变异", "上传基因型结果"),
}


@pytest.fixture
def genotype_served(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, dict[int, int]]]:
    """The app with genotypes imported, on a fresh SQLite copy, served by uvicorn, with the
    first tier of cards 21-25 (the example file's) read; (base URL, card number -> id)."""
    path = tmp_path / "nbs.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", environment="test")
    engine = make_engine(settings)
    world = make_world(engine)
    try:
        with TestClient(
            create_app(settings, engine, pipeline=GenotypingReflexCsvPipeline())
        ) as api:
            cards = accession(api, world, 21, 22, 23, 24, 25)
            plate = first_tier_plate(
                "P-GB",
                {
                    card(21): {"C8": 0.6},
                    card(22): {"C8": 0.6},
                    card(23): {"C8": 0.6},
                    card(24): {"Tyr": 420.0},
                    card(25): {},
                },
            )
            assert upload(api, world, "p-gb.csv", plate).status_code == 201
        app = create_app(settings, engine, pipeline=GenotypingReflexCsvPipeline())
        with serving(app) as base:
            yield base, {n: int(c["id"]) for n, c in cards.items()}
    finally:
        engine.dispose()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_genotypes_uploaded_on_the_page_decide_and_show(
    genotype_served,
    browser,  # noqa: F811
    lang,
):
    base, ids = genotype_served
    two, none, heading = WORDS[lang]
    page, foreign = offline_page(browser, base, lang)
    _sign_in(page, base, "technician")
    page.goto(f"{base}/lab/reflex")
    worklist = page.locator("#reflex-worklist").inner_text()
    assert all(card(n) in worklist for n in (21, 22, 23, 24))
    assert heading in page.content()

    page.set_input_files("#genotype-upload input[name=file]", str(EXAMPLE))
    page.click("#genotype-submit")
    page.wait_for_url(f"{base}/lab/reflex?run=*")
    _shot(page, lang, "genotype-upload")
    worklist = page.locator("#reflex-worklist").inner_text()
    assert card(24) in worklist and all(card(n) not in worklist for n in (21, 22, 23))
    runs = page.locator("#second-tier-runs tr.selected").inner_text()
    assert EXAMPLE.name in runs and "000009999" in runs

    page.goto(f"{base}/lab/specimens/{ids[21]}")
    decision = page.locator('#second-tier-decisions tr[data-group="FAO"]')
    assert decision.get_attribute("data-decision") == "referral"
    assert "FAO_ACADM_TWO" in decision.inner_text()
    acadm = page.locator('#second-tier-assays tr[data-assay="ACADM"]').inner_text()
    assert two in acadm and "NM_000016.6:c.985A>G; NM_000016.6:c.985A>G" in acadm
    assert "MOL-2026-0311" in acadm
    acadvl = page.locator('#second-tier-assays tr[data-assay="ACADVL"]').inner_text()
    assert none in acadvl
    _shot(page, lang, "genotype-specimen")

    page.goto(f"{base}/lab/specimens/{ids[22]}")
    cleared = page.locator('#second-tier-decisions tr[data-group="FAO"]')
    assert cleared.get_attribute("data-decision") == "clear"
    assert "FAO_NO_VARIANT" in cleared.inner_text()
    assert foreign == []
    page.context.close()
