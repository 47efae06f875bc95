"""The bulk release of normals: a reviewer releases the normal cards of two signed-off plates
(about 160 cards) in one signed transaction, on a SQLite file.

Two simulated 96-well plates (89 cards each, no disorder; MassLynx exports) are accessioned,
ingested through the real screening pipeline and signed off by a technician (not timed). Then
``review.service.release_normals`` runs once, with its commit: each card's transition,
review, release and HL7 message, audited, in one transaction. The password check of the
signature (a deliberately slow hash) is not timed. Reported: the cards released, the time,
and the SQL statements the release ran (on SQLite the review, release and outbox rows are
inserted one statement a row, as the ORM does where a multi-row insert cannot return the
rows' ids in order; the other statements do not grow with the cards).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session, select

import lims.review.service as review
from lims.app import settle
from lims.audit import SYSTEM, Actor
from lims.auth.service import create_user
from lims.db import init_db, make_engine
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import Run, Submitter, User
from lims.pipeline import ScreeningPipeline
from lims.runs.plate import sign_off
from lims.runs.service import ingest_bytes
from lims.settings import Settings
from msms.population import simulate_cohort

PLATES = 2
#: The inserts SQLite runs one statement a row (the module's docstring).
_ROW_INSERTS = ("INSERT INTO review ", "INSERT INTO release ", "INSERT INTO outbound_message ")


def _cards_waiting(folder: Path) -> Settings:
    """A SQLite file with ``PLATES`` signed-off plates of normal cards awaiting review."""
    settings = Settings(database_url=f"sqlite:///{folder / 'release.db'}", environment="test")
    engine = make_engine(settings)
    init_db(engine)
    pipeline = ScreeningPipeline.from_settings(settings)
    settle(pipeline)
    with Session(engine) as session:
        submitters = [Submitter(code=f"R{i}", name=f"Release hospital {i}") for i in range(3)]
        session.add_all(submitters)
        technician = create_user(session, SYSTEM, username="bench-tech",
                                 password="bench-password-1", role="technician",
                                 full_name="Bench Technician")
        create_user(session, SYSTEM, username="bench-reviewer", password="bench-password-1",
                    role="reviewer", full_name="Bench Reviewer")
        session.commit()
        ids = [s.id for s in submitters if s.id is not None]
        tech = Actor.of(technician)
    for k in range(PLATES):
        cohort = simulate_cohort(89, seed=700 + k, disorder_rate=0.0)
        with Session(engine) as session:
            cohort = accession_cohort(session, SYSTEM, cohort, ids,
                                      first_card=40_000_000 + k * 1000,
                                      born=datetime(2026, 3, 1, tzinfo=UTC))
            session.commit()
        path = simulated_plate_file(cohort, seed=700 + k, fmt="masslynx",
                                    plate_id=f"REL-{k}", folder=folder)
        ingest_bytes(engine, SYSTEM, path.read_bytes(), path.name, pipeline)
    with Session(engine) as session:
        for run_id in session.exec(select(Run.id)):
            assert run_id is not None
            sign_off(session, tech, run_id, accept=True, reason="controls in range")
        session.commit()
    engine.dispose()
    return settings


def run() -> list[tuple[str, float, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = _cards_waiting(Path(tmp))
        engine = make_engine(settings)
        statements: list[str] = []
        event.listen(engine, "before_cursor_execute",
                     lambda *args: statements.append(args[2]))
        signed = review.confirm_password
        review.confirm_password = lambda *_args, **_kwargs: None  # the signature, not timed
        try:
            with Session(engine) as session:
                user = session.exec(select(User).where(
                    User.username == "bench-reviewer")).one()
                statements.clear()
                start = time.perf_counter()
                released = review.release_normals(session, user, password="", limit=5000)
                session.commit()
                elapsed = time.perf_counter() - start
        finally:
            review.confirm_password = signed
            engine.dispose()
    per_row = sum(1 for s in statements if s.startswith(_ROW_INSERTS))
    return [
        ("release normals: cards released", float(len(released)), "cards", "-"),
        ("release normals: one signed bulk release (SQLite)", elapsed * 1000, "ms",
         "< 2000 ms"),
        ("release normals: SQL statements", float(len(statements)), "statements", "-"),
        ("release normals: of which row inserts (review, release, outbox)", float(per_row),
         "statements", "3 per card on SQLite"),
    ]
