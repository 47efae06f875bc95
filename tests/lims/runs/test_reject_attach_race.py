"""A technician rejects (or withdraws) a plate while another attaches its held wells to the
cards that arrived since (``attach_arrived``), at the same moment, in two transactions on
PostgreSQL: whichever goes first, no card keeps results from a rejected plate.

Two orders: the attach has written but not committed when the rejection starts (the rejection
must wait for it and then see its card), and the rejection has read the plate when the attach
runs (the attach must wait for the rejection and then be refused). ``sign-off`` rejects a plate
with no patient result stored (only held wells); ``withdrawal`` a plate with one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from lims.audit import Actor
from lims.errors import ConflictError
from lims.models import Evaluation, HeldWell, Run, Specimen
from lims.runs.held import attach_arrived
from lims.runs.plate import sign_off
from lims.runs.withdrawal import withdraw_run
from tests.lims.helpers import accession, card, upload
from tests.lims.plates import CsvPipeline, plate_csv

POSTGRES_ONLY = pytest.mark.parametrize(
    "settings", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
#: how long one side waits for the other before going on (the other is then blocked on a lock)
PAUSE_S = 1.5


def _plate(client, world, *, with_results: bool) -> int:  # type: ignore[no-untyped-def]
    """A plate holding the well of card 50 (not accessioned yet), and card 1's results when
    ``with_results``; then card 50 arrives. Returns the run id."""
    patients = {card(50): {"Phe": 160.0}}
    if with_results:
        accession(client, world, 1)
        patients = {card(1): {}, **patients}
    response = upload(client, world, "p.csv", plate_csv("P-RACE", patients))
    assert response.status_code == 201 and response.json()["n_held"] == 1, response.text
    accession(client, world, 50)
    return int(response.json()["id"])


def _reject(kind: str, run_id: int, actor: Actor) -> Callable[[Session], Any]:
    if kind == "sign-off":
        return lambda s: sign_off(s, actor, run_id, accept=False, reason="controls drifted")
    return lambda s: withdraw_run(s, actor, run_id, reason="controls drifted",
                                  pipeline=CsvPipeline())


def _attach(actor: Actor) -> Callable[[Session], Any]:
    return lambda s: attach_arrived(s, actor, note="cards arrived", pipeline=CsvPipeline())


class _Side(threading.Thread):
    """One technician's transaction in a thread of its own: ``work`` then commit, unless
    ``before_commit`` (called after ``work``) says otherwise; a refusal is kept."""

    def __init__(self, engine: Engine, work: Callable[[Session], Any], *,
                 on_connect: Callable[[Any], None] | None = None,
                 before_commit: Callable[[], None] | None = None) -> None:
        super().__init__(daemon=True)
        self.engine, self.work = engine, work
        self.on_connect, self.before_commit = on_connect, before_commit
        self.refused: Exception | None = None
        self.failed: BaseException | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            with Session(self.engine) as session:
                if self.on_connect is not None:
                    self.on_connect(session.connection())
                try:
                    self.work(session)
                except ConflictError as exc:
                    self.refused = exc
                    session.rollback()
                    return
                if self.before_commit is not None:
                    self.before_commit()
                session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failed = exc
        finally:
            self.done.set()


def _outcome(engine: Engine, run_id: int) -> tuple[str, str, int, list[str]]:
    """The plate's QC decision, card 50's state, its current calls from the plate, and the
    status of the plate's held well."""
    with Session(engine) as session:
        run = session.get(Run, run_id)
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(50))).one()
        calls = session.exec(select(Evaluation).where(
            Evaluation.specimen_id == specimen.id, Evaluation.run_id == run_id,
            col(Evaluation.current).is_(True))).all()
        wells = session.exec(select(HeldWell.status).where(HeldWell.run_id == run_id)).all()
        assert run is not None
        return str(run.qc_decision), str(specimen.state), len(calls), [str(w) for w in wells]


def _no_rejected_results(outcome: tuple[str, str, int, list[str]]) -> None:
    decision, state, calls, _wells = outcome
    if decision == "reject":
        assert (state, calls) == ("accessioned", 0), outcome


@POSTGRES_ONLY
@pytest.mark.parametrize("kind", ["sign-off", "withdrawal"])
def test_a_rejection_waits_for_an_attach_under_way(client, world, engine, kind):
    run_id = _plate(client, world, with_results=kind == "withdrawal")
    tech = Actor.of(world.users["technician"])
    admin = Actor.of(world.users["admin"])
    written, go = threading.Event(), threading.Event()

    def hold() -> None:
        written.set()
        go.wait(10)

    attaching = _Side(engine, _attach(tech), before_commit=hold)
    attaching.start()
    assert written.wait(10), attaching.failed
    rejecting = _Side(engine, _reject(kind, run_id, admin))
    rejecting.start()
    time.sleep(PAUSE_S)  # the rejection runs into the attach's locks
    go.set()
    for side in (attaching, rejecting):
        side.join(20)
        assert side.done.is_set() and side.failed is None, side.failed
    assert attaching.refused is None
    outcome = _outcome(engine, run_id)
    _no_rejected_results(outcome)
    if kind == "withdrawal":  # the withdrawal sees the attached card and withdraws it
        assert rejecting.refused is None and outcome[:3] == ("reject", "accessioned", 0)
    else:  # a plate with results is withdrawn, not rejected at sign-off
        assert rejecting.refused is not None and outcome[0] != "reject"


@POSTGRES_ONLY
@pytest.mark.parametrize("kind", ["sign-off", "withdrawal"])
def test_an_attach_waits_for_a_rejection_under_way(client, world, engine, kind):
    run_id = _plate(client, world, with_results=kind == "withdrawal")
    tech = Actor.of(world.users["technician"])
    admin = Actor.of(world.users["admin"])
    read = threading.Event()
    attaching: list[_Side] = []

    def pause_after_reading_the_plate(connection: Any) -> None:
        def after(_conn, _cursor, statement: str, *_args: Any) -> None:  # type: ignore[no-untyped-def]
            if not read.is_set() and "FROM run" in statement:
                read.set()
                attaching[0].done.wait(PAUSE_S)  # the attach runs now, or waits for us

        event.listen(connection, "after_cursor_execute", after)

    rejecting = _Side(engine, _reject(kind, run_id, admin),
                      on_connect=pause_after_reading_the_plate)
    attaching.append(_Side(engine, _attach(tech)))
    rejecting.start()
    assert read.wait(10), rejecting.failed
    attaching[0].start()
    for side in (rejecting, attaching[0]):
        side.join(20)
        assert side.done.is_set() and side.failed is None, side.failed
    outcome = _outcome(engine, run_id)
    _no_rejected_results(outcome)
    assert rejecting.refused is None and outcome[0] == "reject"
    assert outcome[3] == ["discarded"] or outcome[1:3] == ("accessioned", 0), outcome
