"""Follow-up: the overdue worklist and a month's programme measures over a simulated year of
1,000,000 cards and about 10,000 follow-up cases, on a SQLite file.

The year (``bench.followup_year``: cards born over the year with their collection, receipt and
release, cases driven through their states by a seeded random process) is written in bulk and
not timed; the simulation's records are released before timing. Timed, each repeated:
``overdue_cases`` (the worklist of 200 most overdue open cases, with its audit insert and
commit) and ``computed_measures`` of one month (every measure for the programme, each
submitter, district and suspected disorder, computed from the data, not the stored ones),
cycling over the months. Target: p95 < 200 ms each.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlmodel import Session

from bench.followup_year import YEAR, load_year, simulate_year
from bench.pages import percentile
from lims.audit import SYSTEM
from lims.db import init_db, make_engine
from lims.followup.programme import computed_measures
from lims.followup.service import overdue_cases
from lims.settings import Settings

CARDS = 1_000_000
CASE_RATE = 0.0022
REPEATS = 24


def run() -> list[tuple[str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(database_url=f"sqlite:///{Path(tmp) / 'year.db'}"))
        init_db(engine)
        start = time.perf_counter()
        year = simulate_year(CARDS, seed=1, case_rate=CASE_RATE)
        load_year(engine, year)
        n_cards, n_cases = len(year.specimens), len(year.cases)
        print(f"  built {n_cards:,} cards and {n_cases:,} cases in "
              f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
        # The simulation's own records (millions of Python objects) are not part of the
        # service: released before timing, so the collector's passes over them are not timed.
        del year
        gc.collect()
        worklist, measures = [], []
        with Session(engine) as session:
            for k in range(REPEATS):
                t0 = time.perf_counter()
                rows = overdue_cases(session, SYSTEM)
                session.commit()
                worklist.append(1000 * (time.perf_counter() - t0))
                t0 = time.perf_counter()
                result = computed_measures(session, date(YEAR, 1 + k % 12, 1))
                measures.append(1000 * (time.perf_counter() - t0))
        engine.dispose()
    assert rows and result.programme["transit_time"].n > 0
    return [
        ("followup: cards / cases in the database", float(n_cards), "cards",
         f"{n_cases:,} cases"),
        ("followup: overdue worklist (200 rows), p50", statistics.median(worklist), "ms", ""),
        ("followup: overdue worklist (200 rows), p95", percentile(worklist, 95), "ms", "< 200"),
        ("followup: programme measures of a month, p50", statistics.median(measures), "ms", ""),
        ("followup: programme measures of a month, p95", percentile(measures, 95), "ms", "< 200"),
    ]
