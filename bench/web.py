"""Web pages: the review queue, a specimen and a plate, p95 over repeated requests with 100,000
specimens in a SQLite database.

The database holds 12 real plates (89 cards each, simulated MassLynx exports ingested through
``ingest_bytes`` with the screening pipeline: results, controls, calls, alerts) and 100,000
more specimens with their babies, written in bulk (98 % released, 2 % awaiting review with no
flag), so the queue's and the search's queries run over a full specimen table. The result table
holds the real plates' rows only (about 17,000), not 48 values for every specimen. A reviewer
and a technician sign in through the form; each page is requested 60 times in the app's own
process (the first 10 not counted), sequentially, with the session cookie, as the browser
would. Every read is audited, as in service. The plate page is the last plate's, with its
Levey-Jennings charts (the 11 plates before it their history; the benchmark stops when the page
draws none) and the Westgard flags stored at its ingest. The machine's load average (1 minute)
is printed before and after, as the figures depend on it; and the plate's Westgard flags read
as stored against judged again from the history, as the page did before.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session

from bench.pages import PASSWORD, page_times, percentile, sign_in
from lims.app import create_app, settle
from lims.audit import SYSTEM
from lims.auth.service import create_user
from lims.db import init_db, make_engine
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import Infant, Specimen, Submitter
from lims.pipeline import ScreeningPipeline
from lims.reference import barcode_rule
from lims.runs.service import ingest_bytes
from lims.runs.westgard_verdicts import judge, run_verdicts
from lims.settings import Settings
from msms.population import simulate_cohort

SPECIMENS = 100_000
PLATES = 12
REQUESTS = 60
WARM = 10
TARGET_MS = 200.0



def _filler(engine, submitter_id: int) -> None:  # type: ignore[no-untyped-def]
    """``SPECIMENS`` cards and babies written in bulk."""
    rule = barcode_rule()
    born = datetime(2026, 1, 1, tzinfo=UTC)
    infants, specimens = [], []
    for i in range(SPECIMENS):
        birth = born + timedelta(minutes=i)
        infants.append({"id": 1_000_000 + i, "submitter_id": submitter_id, "birth_at": birth,
                        "sex": "F" if i % 2 else "M", "mother_name": f"Mother {i}",
                        "mother_id": f"BM{i}", "medical_record_number": f"BMRN{i}",
                        "plurality": 1, "birth_order": 1, "created_at": birth})
        specimens.append({"barcode": rule.make(f"{70_000_000 + i:08d}"),
                          "infant_id": 1_000_000 + i, "submitter_id": submitter_id,
                          "kind": "initial", "collected_at": birth + timedelta(hours=36),
                          "received_at": birth + timedelta(days=3), "feeding": "unknown",
                          "tpn": False, "transfused": False, "nicu": False,
                          "state": "awaiting_review" if i % 50 == 0 else "released",
                          "flagged": False, "version": 1, "created_at": birth,
                          "updated_at": birth})
    with engine.begin() as connection:
        connection.execute(insert(Infant.__table__), infants)  # type: ignore[attr-defined]
        connection.execute(insert(Specimen.__table__), specimens)  # type: ignore[attr-defined]




def _charts(client: TestClient, path: str) -> int:
    """The Levey-Jennings charts the page draws (at least one, or the benchmark stops)."""
    page = client.get(path).text
    charts = page.count('<figure class="lj"')
    assert charts and page.count("<circle") > PLATES, (path, "no Levey-Jennings chart")
    return charts


def _p95(client: TestClient, path: str) -> float:
    return percentile(page_times(client, path, REQUESTS, WARM), 95)


def _flags_p95(engine, run_id: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """p95 of the run's Westgard flags read as stored at ingest, and judged again from the
    history (what the plate page did on every request before they were stored)."""
    times: dict[str, list[float]] = {"stored": [], "judged": []}
    with Session(engine) as session:
        for k in range(REQUESTS // 2):
            for name, work in (("stored", run_verdicts), ("judged", judge)):
                start = time.perf_counter()
                assert work(session, run_id)
                if k >= WARM:
                    times[name].append((time.perf_counter() - start) * 1000)
    return percentile(times["stored"], 95), percentile(times["judged"], 95)


def run() -> list[tuple[str, float, str, str]]:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(database_url=f"sqlite:///{folder / 'web.db'}", environment="test")
        engine = make_engine(settings)
        init_db(engine)
        pipeline = ScreeningPipeline.from_settings(settings)
        with Session(engine) as session:
            submitter = Submitter(code="BENCH", name="Bench hospital")
            session.add(submitter)
            session.flush()
            assert submitter.id is not None
            submitter_id = submitter.id
            for username, role in (("bench-reviewer", "reviewer"), ("bench-tech", "technician")):
                create_user(session, SYSTEM, username=username, password=PASSWORD, role=role,
                            full_name=username)
            session.commit()
        _filler(engine, submitter_id)
        run_ids = []
        for k in range(PLATES):
            cohort = simulate_cohort(89, seed=900 + k, disorder_rate=0.05)
            with Session(engine) as session:
                cohort = accession_cohort(session, SYSTEM, cohort, [submitter_id],
                                          first_card=80_000_000 + k * 1000,
                                          born=datetime(2026, 3, 1, tzinfo=UTC))
                session.commit()
            path = simulated_plate_file(cohort, seed=900 + k, fmt="masslynx",
                                        plate_id=f"WEB-{k}", folder=folder)
            run_ids.append(ingest_bytes(engine, SYSTEM, path.read_bytes(), path.name,
                                        pipeline).run.id)
        settle(pipeline)
        app = create_app(settings, engine, pipeline=pipeline)
        rows = []
        with TestClient(app, base_url="https://testserver") as client:
            sign_in(client, "bench-reviewer")
            queue = client.get("/lab/review").text
            specimen = re.search(r'href="/lab/specimens/(\d+)"', queue)
            assert specimen, "the queue is empty"
            for name, path in (("web review queue p95", "/lab/review"),
                               ("web specimen page p95", f"/lab/specimens/{specimen.group(1)}"),
                               ("web search by mother's name p95", "/lab/search?q=Mother%2099999")):
                rows.append((name, _p95(client, path), "ms", f"< {TARGET_MS:.0f}"))
            client.cookies.clear()
            sign_in(client, "bench-tech")
            plate_page = f"/lab/runs/{run_ids[-1]}"
            charts = _charts(client, plate_page)
            rows.append((f"web plate page with {charts} Levey-Jennings charts p95",
                         _p95(client, plate_page), "ms", f"< {TARGET_MS:.0f}"))
        stored, judged = _flags_p95(engine, run_ids[-1])
        rows.append(("web plate's Westgard flags read as stored p95", stored, "ms", ""))
        rows.append(("web plate's Westgard flags judged from history p95", judged, "ms", ""))
        engine.dispose()
    rows.append(("web: load average (1 min) before", load, "", ""))
    rows.append(("web: load average (1 min) after", os.getloadavg()[0], "", ""))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
