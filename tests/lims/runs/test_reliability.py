"""Reliability (docs/lims.md "Rules"): ten parallel identical uploads store one run; ``kill -9``
during an ingest leaves no partial plate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import Session, select

from lims.audit import SYSTEM
from lims.models import ControlResult, Result, Run
from lims.runs.service import ingest_bytes
from tests.conftest import ROOT
from tests.lims.helpers import API, accession, card, count, upload
from tests.lims.plates import CsvPipeline, plate_csv


def test_ten_parallel_identical_uploads_store_one_run(client, world, engine):
    accession(client, world, *range(1, 11))
    data = plate_csv("P-PAR", {card(n): {"Phe": 60 + n} for n in range(1, 11)})
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: upload(client, world, "p.csv", data), range(10)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(200) == 9, codes
    assert len({r.json()["id"] for r in responses}) == 1
    assert count(engine, Run) == 1 and count(engine, Result) == 30


_KILLED_INGEST = """
import sys, time
from lims.audit import SYSTEM
from lims.db import make_engine
from lims.runs.service import ingest_bytes
from lims.settings import Settings
from tests.lims.plates import CsvPipeline

class Stalls(CsvPipeline):
    def evaluate(self, profiles, *, stage="initial"):
        print("results written, evaluating", flush=True)
        time.sleep(60)
        return super().evaluate(profiles, stage=stage)

engine = make_engine(Settings(database_url=sys.argv[1]))
ingest_bytes(engine, SYSTEM, open(sys.argv[2], "rb").read(), "p.csv", Stalls())
"""


def test_kill_9_during_ingest_leaves_no_partial_plate(client, world, engine, settings,
                                                      tmp_path):
    accession(client, world, 1, 2)
    data = plate_csv("P-KILL", {card(1): {}, card(2): {"Xle": 900}})
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    child = subprocess.Popen([sys.executable, "-c", _KILLED_INGEST, settings.database_url,
                              str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "results written, evaluating"
        with Session(engine) as session:  # the child holds uncommitted rows now
            assert session.exec(select(Run)).all() == []
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    engine.dispose()
    assert count(engine, Run) == 0 and count(engine, Result) == 0
    assert count(engine, ControlResult) == 0
    specimens = client.get(f"{API}/specimens", headers=world.auth("admin")).json()
    assert {s["state"] for s in specimens} == {"accessioned"}
    outcome = ingest_bytes(engine, SYSTEM, data, "p.csv", CsvPipeline())
    assert outcome.created and outcome.run.n_results == 6
