"""Documents from the LIMS: 1,000 result reports issued from the database, and one monthly
bulletin over about 100,000 specimens, on a SQLite file.

- Result reports: 1,000 released specimens (``bench.followup_year``'s cards; 3 % of them
  referred with a stored call, the others released as normal) are written in bulk, not timed.
  Timed: ``lims.documents.service.issue_result`` for each, one transaction each as the API does
  (view model from the database, PDF, SHA-256, the stored row and its audit event), in English
  and in Chinese. Target: 1,000 in < 30 s. Then the same 1,000 through ``issue_results`` (the
  day's reports in one transaction, rendered by 2 worker processes, as ``nbs report results
  --workers 2`` does), on a fresh database.
- Bulletin: a month of about 100,000 cards with their releases and follow-up cases
  (``simulate_year(..., days=30)``) written in bulk, not timed. Timed: ``issue_bulletin`` (the
  programme measures of the month from the database for the programme, each submitter and
  district, the view model, the PDF, the stored row). Target: < 10 s.

The process's CPU time is printed beside the wall time: the machine is shared.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.followup_year import YEAR, load_year, simulate_year
from lims.audit import Actor
from lims.db import init_db, make_engine
from lims.documents.service import issue_bulletin, issue_result, issue_results
from lims.models import Evaluation, IssuedDocument, Run
from lims.settings import Settings

REPORTS = 1_000
MONTH_CARDS = 104_000
REFERRED = 0.03
ACTOR = Actor(None, "bench", "admin")


def _released_year(n: int) -> tuple[Any, list[int], list[int]]:
    """A year of cards: the ids of ``n`` released ones, and of the referred among them."""
    year = simulate_year(int(n * 1.02) + 10, seed=5, case_rate=0.0)
    released = [r["specimen_id"] for r in year.releases][:n]
    rng = np.random.default_rng(5)
    referred = sorted(int(i) for i in rng.choice(released, int(n * REFERRED), replace=False))
    chosen = set(referred)
    for r in year.releases:
        if r["specimen_id"] in chosen:
            r["outcome"] = "referred"
    return year, released, referred


def _calls(engine: Engine, referred: list[int]) -> None:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        run_id = connection.execute(insert(Run.__table__).values(  # type: ignore[attr-defined]
            file_sha256="0" * 64, plate_id="BENCH-1", instrument_run_id="", file_name="b.txt",
            format="csv", uploaded_at=now, qc_decision="accept", n_wells=0, n_results=0,
            n_held=0, cutoff_version="bench-cutoffs", model_version="")).inserted_primary_key[0]
        connection.execute(insert(Evaluation.__table__), [  # type: ignore[attr-defined]
            {"specimen_id": s, "run_id": run_id, "stage": "initial", "disorder": "MCAD",
             "first_tier": "positive", "reasons": "C8=0.61>0.3; C8/C10=4.2>2",
             "score": None, "second_tier_probability": None, "final": "positive",
             "time_critical": True, "action": "immediate_referral",
             "cutoff_version": "bench-cutoffs", "model_version": "", "current": True,
             "created_at": now} for s in referred])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _reports(tmp: Path, lang: str, workers: int = 0) -> tuple[float, float, int, int]:
    """``workers`` 0: one ``issue_result`` and commit per report; else ``issue_results``."""
    name = f"reports-{lang}-{workers}.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp / name}"))
    init_db(engine)
    year, released, referred = _released_year(REPORTS)
    load_year(engine, year)
    _calls(engine, referred)
    wall, cpu = time.perf_counter(), time.process_time() + _children_cpu()
    size = 0
    with Session(engine) as session:
        if workers:
            size = sum(i.document.size_bytes for i in issue_results(
                session, ACTOR, released, language=lang, workers=workers))
            session.commit()
        for specimen_id in [] if workers else released:
            issued = issue_result(session, ACTOR, specimen_id, language=lang)
            session.commit()
            size += issued.document.size_bytes
    wall = time.perf_counter() - wall
    cpu = time.process_time() + _children_cpu() - cpu
    with Session(engine) as session:
        stored = session.query(IssuedDocument).count()
    engine.dispose()
    assert stored == len(released) == REPORTS
    return wall, cpu, size // REPORTS, len(referred)


def _bulletin(tmp: Path) -> tuple[float, float, int, int]:
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp / 'month.db'}"))
    init_db(engine)
    start = time.perf_counter()
    year = simulate_year(MONTH_CARDS, seed=9, case_rate=0.003, days=30)
    load_year(engine, year)
    print(f"  built {len(year.specimens):,} cards and {len(year.cases):,} cases in "
          f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
    wall, cpu = time.perf_counter(), time.process_time()
    with Session(engine) as session:
        issued = issue_bulletin(session, ACTOR, date(YEAR, 1, 1), language="en")
        session.commit()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    received = sum(1 for s in year.specimens if s["received_at"].month == 1)
    return wall, cpu, received, issued.document.size_bytes


def run() -> list[tuple[str, float, str, str]]:
    rows: list[tuple[str, float, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ("en", "zh-CN"):
            wall, cpu, size, referred = _reports(Path(tmp), lang)
            rows += [(f"documents: 1,000 result reports issued from the database, {lang}",
                      wall, "s", "< 30"),
                     (f"documents: of which CPU of the process, {lang}", cpu, "s", ""),
                     (f"documents: one result report's PDF, {lang} ({referred} referred)",
                      size / 1024, "KiB", "")]
        wall, cpu, _, _ = _reports(Path(tmp), "en", workers=2)
        rows += [("documents: 1,000 result reports, en, one transaction, 2 rendering processes",
                  wall, "s", "< 30"),
                 ("documents: of which CPU of the process and its workers", cpu, "s", "")]
        wall, cpu, received, size = _bulletin(Path(tmp))
        rows += [("documents: specimens received in the bulletin's month", float(received),
                  "cards", ""),
                 ("documents: one bulletin issued from the database (measures, PDF, stored)",
                  wall, "s", "< 10"),
                 ("documents: of which CPU of the process", cpu, "s", ""),
                 ("documents: the bulletin's PDF", size / 1024, "KiB", "")]
    return rows
