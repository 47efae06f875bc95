"""The plate page's QC in a real browser (Debian's Chromium, Playwright, the app served by
uvicorn on SQLite with the real pipeline, as ``test_browser.py``): a simulated plate with one
well's internal standard failing and a shifted control is uploaded; the page shows the ringed
well, the Levey-Jennings charts drawn as inline SVG with a Westgard flag, in English and
Chinese. Screenshots go to
``test-artefacts/browser/qc/``. Every request stays on the app's host."""

from __future__ import annotations

import pytest

from instruments.virtual import simulate_plate, write_plate
from tests.lims.web.test_browser import (  # noqa: F401
    ARTEFACTS,
    _sign_in,
    browser,
    offline_page,
    served,
)

pytest.importorskip("playwright.sync_api")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_plate_qc_in_the_browser(served, browser, tmp_path, lang):  # noqa: F811
    base, _ = served
    plate = simulate_plate(seed=3, plate_id=f"QCB-{lang}", is_failures={"D05": 0.05},
                           control_shifts={"A02": {"C8": 3.6}})
    path = tmp_path / f"QCB-{lang}.txt"
    write_plate(plate, path, format="masslynx")
    page, foreign = offline_page(browser, base, lang)
    _sign_in(page, base, "technician")
    page.goto(f"{base}/lab/runs")
    page.set_input_files("#upload-form input[name=file]", str(path))
    page.click("#upload-submit")
    page.wait_for_url(f"{base}/lab/runs/*", timeout=120_000)
    assert page.locator(".plate .well.is-low").count() == 1
    assert page.get_attribute(".plate .well.is-low", "data-well") == "D05"
    charts = page.locator("#levey-jennings figure.lj svg")
    assert charts.count() >= 6
    c8 = page.locator("#lj-VQC-L-2501-C8 svg")
    assert c8.count() == 1 and c8.bounding_box()["width"] > 200  # type: ignore[index]
    assert page.locator("#lj-VQC-L-2501-C8 .lj-point.current.flagged").count() == 1
    assert "1-3s" in page.inner_text("#westgard-flags")
    folder = ARTEFACTS / "qc" / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "plate-qc.png"), full_page=True)
    page.context.close()
    assert foreign == []
