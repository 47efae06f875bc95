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

A month's measures are stored once computed (``lims.followup.stored_measures``), until its
data change. Timed first: the bulletin page of each of the ten months as first viewed after
its data changed, the measures computed from the data (the month, and the one before it for
the comparison where it is not stored yet). Then the 30 requests per page above, as the pages
are seen in service (the measures stored: bulletin, trend, report card); then one card of the
month marked unsatisfactory (through the ORM, as the laboratory would) before each request of
the bulletin page, so each view computes its month again (the page after a change); last, the
trend after every month's count was raised (as after a bulk load), its six months computed.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench.followup_year import YEAR, load_year, simulate_year
from bench.pages import PASSWORD, percentile, sign_in
from lims.app import create_app
from lims.audit import SYSTEM
from lims.auth.service import create_user
from lims.db import init_db, make_engine
from lims.followup.births import record_births
from lims.followup.repository import every_month_changed
from lims.models import FollowUpCase, Specimen
from lims.settings import Settings
from lims.vocabulary import CaseState
from tests.lims.plates import CsvPipeline

CARDS = 400_000
CASE_RATE = 0.09
REQUESTS = 30
WARM = 5
TARGET_MS = 300.0




def _get(client: TestClient, path: str, month: str) -> float:
    start = time.perf_counter()
    response = client.get(path, params={"month": month})
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return elapsed


def _month(k: int) -> str:
    return f"{YEAR}-{2 + k % 10:02d}"


def _timed(client: TestClient, path: str) -> list[float]:
    times = [_get(client, path, _month(k)) for k in range(REQUESTS)]
    return times[WARM:]


def _mark_a_card(engine: Engine, k: int) -> None:
    """Mark one satisfactory card of the ``k``-th month unsatisfactory (a change to the
    month's data)."""
    start = datetime.strptime(_month(k), "%Y-%m").replace(tzinfo=UTC)
    with Session(engine) as session:
        card = session.exec(select(Specimen).where(
            col(Specimen.received_at) >= start + timedelta(days=k // 10),
            col(Specimen.unsatisfactory_code).is_(None)).limit(1)).one()
        card.unsatisfactory_code = "BENCH"
        session.add(card)
        session.commit()


def _after_a_change(client: TestClient, engine: Engine, path: str) -> list[float]:
    times = []
    for k in range(REQUESTS):
        _mark_a_card(engine, k)
        times.append(_get(client, path, _month(k)))
    return times[WARM:]


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
            first = [_get(client, "/programme/bulletin", _month(k)) for k in range(10)]
            bulletin = _timed(client, "/programme/bulletin")
            trend = _timed(client, "/programme/bulletin/trend")
            client.cookies.clear()
            sign_in(client, "bench-unit")
            card = _timed(client, "/unit/report-card")
            client.cookies.clear()
            sign_in(client, "bench-admin")
            changed = _after_a_change(client, engine, "/programme/bulletin")
            with engine.begin() as connection:
                every_month_changed(connection)
            first_trend = _get(client, "/programme/bulletin/trend", f"{YEAR}-12")
        engine.dispose()
    return [
        ("programme pages: cards / open cases in the database", float(n_cards), "cards",
         f"{open_cases:,} open of {n_cases:,} cases"),
        ("programme pages: bulletin page first viewed (computed), p50",
         statistics.median(first), "ms", ""),
        ("programme pages: bulletin page first viewed (computed), max", max(first), "ms", ""),
        ("programme pages: bulletin trend after every month changed (6 months computed)",
         first_trend, "ms", ""),
        ("programme pages: bulletin page, p50", statistics.median(bulletin), "ms", ""),
        ("programme pages: bulletin page, p95", percentile(bulletin, 95), "ms",
         f"< {TARGET_MS:.0f}"),
        ("programme pages: bulletin page after a change to its month, p50",
         statistics.median(changed), "ms", ""),
        ("programme pages: bulletin page after a change to its month, p95",
         percentile(changed, 95), "ms", ""),
        ("programme pages: bulletin trend (6 months), p50", statistics.median(trend), "ms", ""),
        ("programme pages: bulletin trend (6 months), p95", percentile(trend, 95), "ms", ""),
        ("programme pages: unit report card page, p50", statistics.median(card), "ms", ""),
        ("programme pages: unit report card page, p95", percentile(card, 95), "ms",
         f"< {TARGET_MS:.0f}"),
    ]
