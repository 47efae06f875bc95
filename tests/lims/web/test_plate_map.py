"""The plate map marks a well time-critical exactly when its card's calls opened a
time-critical alert: a borderline call for a time-critical disorder (a repeat, no alert) is
flagged, not time-critical, on the map, the review queue and the specimen page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.app import create_app
from lims.models import Alert
from lims.pipeline import EvaluatedCalls
from lims.vocabulary import Stage
from tests.lims.helpers import card
from tests.lims.plates import CsvPipeline, plate_csv
from tests.lims.web.conftest import sign_in_page
from tests.lims.web.test_lab_pages import _accession


class BorderlinePipeline(CsvPipeline):
    """The test rules, and Xle 300-400 µmol/L: MSUD borderline (time-critical disorder),
    repeat in duplicate."""

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        done = super().evaluate(profiles, stage=stage, include_normal=include_normal)
        rows: list[dict[str, Any]] = [
            {"specimen_id": p["specimen_id"], "disorder": "MSUD", "first_tier": "borderline",
             "reasons": f"Xle={p['Xle']:.0f}>300", "score": None,
             "second_tier_probability": None, "final": "borderline", "time_critical": True,
             "action": "repeat_in_duplicate", "cutoff_version": done.cutoff_version,
             "model_version": ""}
            for p in profiles.to_dict("records") if 300 < p["Xle"] <= 400]
        calls = pd.concat([done.calls, pd.DataFrame(rows, columns=done.calls.columns)],
                          ignore_index=True) if rows else done.calls
        return EvaluatedCalls(calls=calls, cutoff_version=done.cutoff_version)


@pytest.fixture
def web(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=BorderlinePipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def test_a_borderline_call_of_a_time_critical_disorder_is_not_shown_time_critical(
        web, world, engine):  # type: ignore[no-untyped-def]
    csrf = sign_in_page(web, "technician")
    for n in (1, 2, 3):
        assert _accession(web, csrf, card(n)).status_code == 201
    upload = web.post("/lab/runs", data={"csrf_token": csrf}, follow_redirects=False, files={
        "file": ("plate.csv", plate_csv("TC-1", {card(1): {}, card(2): {"Xle": 350},
                                                 card(3): {"Xle": 950}}), "text/csv")})
    assert upload.status_code == 303
    page = web.get(upload.headers["location"]).text
    wells = {well: (kind.strip(), title) for kind, title, well in re.findall(
        r'class="well ([a-z ]+?)\s*" href="[^"]+" title="([^"]*)" data-well="([A-H]\d\d)"',
        page)}
    assert wells["A03"][0] == "patient"
    assert wells["A04"][0] == "patient flagged" and "flagged" in wells["A04"][1]
    assert wells["A05"][0] == "patient critical" and "time-critical" in wells["A05"][1]
    with Session(engine) as session:
        alerted = {a.disorder for a in session.exec(select(Alert))}
    assert alerted == {"MSUD"}  # card 3's positive call only
    specimens = dict(re.findall(r'href="/lab/specimens/(\d+)"[^>]*data-well="(A0[45])"', page))
    borderline = {w: s for s, w in specimens.items()}
    sign_in_page(web, "reviewer")
    one = web.get(f"/lab/specimens/{borderline['A04']}").text
    other = web.get(f"/lab/specimens/{borderline['A05']}").text
    assert "borderline" in one and 'class="badge critical"' not in one
    assert 'class="badge critical"' in other
    queue = web.get("/lab/review").text
    rows = re.findall(r'<tr class="(critical|)">\s*<td><a href="/lab/specimens/(\d+)"', queue)
    assert rows == [("critical", borderline["A05"])]  # card 2 waits for its duplicates
