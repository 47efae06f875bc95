"""LIMS: plate ingest end to end, and API reads under load, on a SQLite file.

- Ingest: a simulated 96-well plate (89 accessioned cards, MassLynx export) goes through
  ``ingest_bytes`` (read -> quantify -> QC with the stored control history -> store in bulk ->
  evaluate -> workflow transitions, alerts and audit), one transaction per plate. Simulating the
  plate and accessioning its cards are not timed.
- API reads: ``nbs``'s app under uvicorn in its own process (one worker); a steady open-loop
  load of 200 requests/s for a few seconds over a mix of reads (a specimen (an audited read), a
  page of specimens, the open alerts, the duplicates worklist). Latency is measured from each
  request's scheduled start, so queueing counts. The server is warmed first by a few requests of
  each kind one after another (its first requests compile queries and response schemas, and
  queued behind them the first ~30 requests of a cold start wait 100-200 ms); the cold start
  is reported on its own row. The load generator keeps its own objects out of the garbage
  collector while it runs, so its pauses are not counted as the server's.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlmodel import Session

from bench.pages import percentile
from instruments import Source
from lims.app import settle
from lims.audit import SYSTEM
from lims.auth.service import create_user, issue_token
from lims.db import init_db, make_engine
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import Submitter
from lims.pipeline import ScreenedPlate, ScreeningPipeline
from lims.runs.service import ingest_bytes
from lims.settings import Settings
from msms.population import simulate_cohort

PLATES = 30
RATE_PER_S = 200
DURATION_S = 5.0
#: uvicorn's protocol and loop: "auto" picks httptools and uvloop (uvicorn[standard]).
HTTP = os.environ.get("NBS_BENCH_HTTP", "auto")
LOOP = os.environ.get("NBS_BENCH_LOOP", "auto")


def _prepare(folder: Path) -> tuple[Settings, list[int]]:
    settings = Settings(database_url=f"sqlite:///{folder / 'bench.db'}", environment="test")
    engine = make_engine(settings)
    init_db(engine)
    with Session(engine) as session:
        submitters = [Submitter(code=f"B{i}", name=f"Bench hospital {i}") for i in range(3)]
        session.add_all(submitters)
        session.commit()
        ids = [s.id for s in submitters if s.id is not None]
    engine.dispose()
    return settings, ids


class _TimedPipeline(ScreeningPipeline):
    """The screening pipeline, noting how long reading + quantifying + QC took."""

    last_quantify_s = 0.0

    def screen(self, data: bytes, name: str, *, control_history: pd.DataFrame,
               plate_map: Source | None = None) -> ScreenedPlate:
        start = time.perf_counter()
        try:
            return super().screen(data, name, control_history=control_history,
                                  plate_map=plate_map)
        finally:
            self.last_quantify_s = time.perf_counter() - start


def _ingest(settings: Settings, submitter_ids: list[int], folder: Path) -> tuple[
        list[float], list[float]]:
    engine = make_engine(settings)
    pipeline = _TimedPipeline.from_settings(settings)
    files = []
    for k in range(PLATES + 1):
        cohort = simulate_cohort(89, seed=500 + k, disorder_rate=0.05)
        with Session(engine) as session:
            cohort = accession_cohort(session, SYSTEM, cohort, submitter_ids,
                                      first_card=30_000_000 + k * 1000,
                                      born=datetime(2026, 3, 1, tzinfo=UTC))
            session.commit()
        files.append(simulated_plate_file(cohort, seed=500 + k, fmt="masslynx",
                                          plate_id=f"BENCH-{k}", folder=folder))
    settle(pipeline)  # as nbs serve does before it serves
    times, lims_side = [], []
    for k, path in enumerate(files):
        data = path.read_bytes()
        start = time.perf_counter()
        outcome = ingest_bytes(engine, SYSTEM, data, path.name, pipeline)
        elapsed = time.perf_counter() - start
        assert outcome.created
        if k:  # the first plate warms imports and caches
            times.append(elapsed * 1000)
            lims_side.append((elapsed - pipeline.last_quantify_s) * 1000)
    engine.dispose()
    return times, lims_side


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    code = ("import uvicorn; from lims.app import create_app, settle;"
            " from lims.settings import Settings;"
            f"app = create_app(Settings(database_url={settings.database_url!r}));"
            " settle(app.state.pipeline);"
            "uvicorn.run(app,"
            f" host='127.0.0.1', port={port}, log_level='warning', access_log=False,"
            f" workers=1, http={HTTP!r}, loop={LOOP!r})")
    server = subprocess.Popen([sys.executable, "-c", code], env={**os.environ})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the API server did not start")


_PATHS = ["/api/v1/specimens/{id}", "/api/v1/specimens?limit=50",
          "/api/v1/alerts?status=open", "/api/v1/worklists/duplicates"]
WARM_UP_REQUESTS = 40


def _warm_up(port: int, token: str, specimen_ids: list[int]) -> float:
    """Send a few requests of each kind one after another; the slowest (ms)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    slowest = 0.0
    for i in range(WARM_UP_REQUESTS):
        start = time.perf_counter()
        connection.request("GET", _PATHS[i % len(_PATHS)].format(
            id=specimen_ids[-1 - i % len(specimen_ids)]),
            headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        slowest = max(slowest, (time.perf_counter() - start) * 1000)
    connection.close()
    return slowest


def _load(port: int, token: str, specimen_ids: list[int]) -> tuple[list[float], int]:
    local = threading.local()
    headers = {"Authorization": f"Bearer {token}"}
    paths = _PATHS
    errors = 0
    lock = threading.Lock()

    def one(i: int, scheduled: float) -> float:
        nonlocal errors
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection("127.0.0.1", port,
                                                                       timeout=10)
        path = paths[i % len(paths)].format(id=specimen_ids[i % len(specimen_ids)])
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            with lock:
                errors += 1
        return (time.perf_counter() - scheduled) * 1000

    n = int(RATE_PER_S * DURATION_S)
    interval = 1 / RATE_PER_S
    futures = []
    # The load generator's own full garbage collections (this process holds the ingest's
    # frames) would stall the schedule by ~100 ms and be counted as server latency.
    gc.collect()
    gc.freeze()
    with ThreadPoolExecutor(max_workers=32) as pool:
        start = time.perf_counter()
        for i in range(n):
            scheduled = start + i * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(one, i, scheduled))
        latencies = [f.result() for f in futures]
    gc.unfreeze()
    return latencies, errors


def run() -> list[tuple[str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings, submitter_ids = _prepare(folder)
        ingest_ms, lims_ms = _ingest(settings, submitter_ids, folder)
        engine = make_engine(settings)
        with Session(engine) as session:
            user = create_user(session, SYSTEM, username="bench", password="bench-password-1",
                               role="admin", full_name="Bench")
            token = issue_token(session, user)
            session.commit()
        engine.dispose()
        port = _free_port()
        server = _serve(settings, port)
        try:
            first_ms = _warm_up(port, token, list(range(1, 89 * PLATES)))
            latencies, errors = _load(port, token, list(range(1, 89 * PLATES)))
        finally:
            server.terminate()
            server.wait(timeout=10)
    rows = [
        ("lims: plate ingest end to end, p50 (SQLite)", statistics.median(ingest_ms), "ms",
         "-"),
        ("lims: plate ingest end to end, p95 (SQLite)", percentile(ingest_ms, 95), "ms",
         "< 250 ms"),
        ("lims: of which store + evaluate + workflow, p95", percentile(lims_ms, 95), "ms",
         "-"),
        ("lims: of which read + quantify + QC (the core), p95",
         percentile([t - x for t, x in zip(ingest_ms, lims_ms, strict=True)], 95), "ms", "-"),
        (f"lims: API reads at {RATE_PER_S}/s, p50 (1 worker)", statistics.median(latencies),
         "ms", "-"),
        (f"lims: API reads at {RATE_PER_S}/s, p99 (1 worker)", percentile(latencies, 99),
         "ms", "< 100 ms"),
        ("lims: API reads answered other than 200", float(errors), "count", "0"),
        ("lims: API cold start, slowest of the first requests (one at a time)", first_ms, "ms",
         "-"),
    ]
    return rows


if __name__ == "__main__":
    for row in run():
        print(json.dumps(row))
