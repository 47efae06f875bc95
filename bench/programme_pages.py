"""Programme and submitting-unit pages: the monthly bulletin page (measures against last
month, ranking, SVG charts), its six-month trend and a unit's report card page, p95 over
repeated requests with about 10,000 open follow-up cases, on a SQLite file.

The bulletin page and its trend charts (loaded by the page just after it is shown) are timed
apart. The database holds a simulated year (``bench.followup_year``: 400,000 cards over six
units and three districts, about 39,000 follow-up cases of which about 12,000 open), written in
bulk and not timed; live births are recorded for every unit and month (so coverage is
computed). An admin and a submitter user sign in through the form; each page is requested 30
times in the app's own process (the first 5 not counted), sequentially, with the session
cookie, as the browser would, cycling over the year's months. Every read is audited, as in
service. Target: p95 < 300 ms.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from bench.followup_year import YEAR, load_year, simulate_year
from bench.pages import PASSWORD, percentile, sign_in
from lims.app import create_app
from lims.audit import SYSTEM
from lims.auth.service import create_user
from lims.db import init_db, make_engine
from lims.followup.births import record_births
from lims.models import FollowUpCase
from lims.settings import Settings
from lims.vocabulary import CaseState
from tests.lims.plates import CsvPipeline

CARDS = 400_000
CASE_RATE = 0.09
REQUESTS = 30
WARM = 5
TARGET_MS = 300.0




def _timed(client: TestClient, path: str) -> list[float]:
    times = []
    for k in range(REQUESTS):
        month = f"{YEAR}-{2 + k % 10:02d}"
        start = time.perf_counter()
        response = client.get(path, params={"month": month})
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        if k >= WARM:
            times.append(elapsed)
    return times


def run() -> list[tuple[str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'programme.db'}",
                            environment="test")
        engine = make_engine(settings)
        init_db(engine)
        start = time.perf_counter()
        year = simulate_year(CARDS, seed=3, case_rate=CASE_RATE)
        load_year(engine, year)
        units = [s["id"] for s in year.submitters]
        n_cards, n_cases = len(year.specimens), len(year.cases)
        del year
        gc.collect()
        with Session(engine) as session:
            for unit in units:
                for month in range(1, 13):
                    record_births(session, SYSTEM, unit, date(YEAR, month, 1), 5_600)
            create_user(session, SYSTEM, username="bench-admin", password=PASSWORD,
                        role="admin", full_name="Bench Admin")
            create_user(session, SYSTEM, username="bench-unit", password=PASSWORD,
                        role="submitter", full_name="Bench Unit", submitter_id=units[0])
            open_cases = int(session.execute(select(func.count()).select_from(
                FollowUpCase).where(col(FollowUpCase.state) != CaseState.closed)).scalar_one())
            session.commit()
        print(f"  built {n_cards:,} cards, {n_cases:,} cases ({open_cases:,} open) in "
              f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
        app = create_app(settings, engine, pipeline=CsvPipeline())
        with TestClient(app, base_url="https://testserver") as client:
            sign_in(client, "bench-admin")
            bulletin = _timed(client, "/programme/bulletin")
            trend = _timed(client, "/programme/bulletin/trend")
            client.cookies.clear()
            sign_in(client, "bench-unit")
            card = _timed(client, "/unit/report-card")
        engine.dispose()
    return [
        ("programme pages: cards / open cases in the database", float(n_cards), "cards",
         f"{open_cases:,} open of {n_cases:,} cases"),
        ("programme pages: bulletin page, p50", statistics.median(bulletin), "ms", ""),
        ("programme pages: bulletin page, p95", percentile(bulletin, 95), "ms",
         f"< {TARGET_MS:.0f}"),
        ("programme pages: bulletin trend (6 months), p50", statistics.median(trend), "ms", ""),
        ("programme pages: bulletin trend (6 months), p95", percentile(trend, 95), "ms", ""),
        ("programme pages: unit report card page, p50", statistics.median(card), "ms", ""),
        ("programme pages: unit report card page, p95", percentile(card, 95), "ms",
         f"< {TARGET_MS:.0f}"),
    ]
