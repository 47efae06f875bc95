"""The reflex page: the worklist in order, the upload of a second-tier run (CSRF, errors
shown on the page), English and Simplified Chinese, technicians only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lims.app import create_app
from tests.lims.helpers import accession, card, upload
from tests.lims.reflex.plates import ReflexCsvPipeline, first_tier_plate, second_tier_export
from tests.lims.web.conftest import csrf_of, sign_in_page


@pytest.fixture
def reflex_web(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_the_reflex_page_lists_uploads_and_decides(reflex_web, world, tmp_path):
    accession(reflex_web, world, 1, 2)
    plate = first_tier_plate("P-W", {card(1): {"Tyr": 420.0}, card(2): {"Xle": 300.0}})
    assert upload(reflex_web, world, "p-w.csv", plate).status_code == 201
    sign_in_page(reflex_web, "technician")
    page = reflex_web.get("/lab/reflex")
    assert page.status_code == 200
    assert 'href="/lab/reflex"' in page.text  # in the navigation
    rows = page.text.split('id="reflex-worklist"')[1].split("</table>")[0]
    assert rows.index(card(2)) < rows.index(card(1))  # time-critical first
    assert "SUAC-2T" in rows and "aIle" in rows
    chinese = reflex_web.get("/lab/reflex", headers={"Accept-Language": "zh-CN"})
    assert "二级检测工作单" in chinese.text and "时间紧急" in chinese.text

    export = second_tier_export(tmp_path, {card(1): {"SUAC-2T": 5.0}, card(2): {"aIle": 0.5}})
    refused = reflex_web.post("/lab/reflex/runs", files={"file": ("st.txt", export)},
                              data={"csrf_token": "forged"})
    assert refused.status_code == 403
    bad = reflex_web.post("/lab/reflex/runs", files={"file": ("bad.txt", b"no run here")},
                          data={"csrf_token": csrf_of(page.text)})
    assert bad.status_code == 422 and 'id="reflex-error"' in bad.text and "bad.txt" in bad.text
    done = reflex_web.post("/lab/reflex/runs", files={"file": ("st.txt", export)},
                           data={"csrf_token": csrf_of(page.text)})
    assert done.status_code == 200 and done.url.path == "/lab/reflex", done.text
    assert card(1) not in done.text.split('id="reflex-worklist"')[1].split("</table>")[0]
    assert "st.txt" in done.text


def test_only_the_laboratory_sees_the_reflex_page(reflex_web, world):
    sign_in_page(reflex_web, "reviewer")
    assert reflex_web.get("/lab/reflex").status_code == 403
    assert 'href="/lab/reflex"' not in reflex_web.get("/lab").text
