"""Fixtures of the HL7 interface tests: a receiving hospital (a real MLLP listener on
127.0.0.1, port 0, in a thread of its own, that can be stopped and started again on the same
port), released specimens, a quick delivery policy."""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from lims.audit import SYSTEM
from lims.interfaces.delivery import DeliveryPolicy
from lims.interfaces.mllp import MllpServer
from lims.interfaces.schemas import EndpointCreate
from lims.interfaces.service import create_endpoint
from lims.settings import Settings
from reports.hl7 import MessageError, ack_for, build_ack, read_header
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, sign_off_plates, upload
from tests.lims.plates import plate_csv

#: Retries within a test's patience.
QUICK = DeliveryPolicy(retry_initial_s=0.05, retry_max_s=0.2, max_application_errors=3,
                       connect_timeout_s=1.0, ack_timeout_s=2.0)


def sqlite_file(sqlite_template: Path, tmp_path: Path) -> Settings:
    """Settings for a migrated SQLite file of the test's own: for the tests that run ``nbs``
    processes (slow to start) on one database only."""
    path = tmp_path / "nbs.db"
    shutil.copy(sqlite_template, path)
    return Settings(database_url=f"sqlite:///{path}", environment="test")


def answer(text: str, code: str = "AA", *, control_id: str | None = None) -> str:
    """An acknowledgment of ``text``: AA, AE or AR (with an error), or naming another
    ``control_id`` in MSA-2."""
    now = datetime.now(UTC)
    if code == "AA" and control_id is None:
        return ack_for(text, control_id="ACK1", message_time=now)
    header = read_header(text)
    assert header is not None
    if control_id is not None:
        header = replace(header, control_id=control_id)
    errors = [] if code == "AA" else [MessageError("refused here", None, code=207,
                                                   acknowledgment=code)]
    return build_ack(header, code, control_id="ACK1", message_time=now,  # type: ignore[arg-type]
                     errors=errors)


class Receiver:
    """A receiving hospital: records every message it is sent and answers with ``reply``."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.reply: Callable[[str], str] = answer
        self.port = 0
        self._lock = threading.Lock()
        self._server: MllpServer | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _handle(self, text: str) -> str:
        with self._lock:
            self.received.append(text)
        return self.reply(text)

    def _run(self, coroutine):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def start(self) -> Receiver:
        """Listen (on the same port as before, once it has one)."""
        self._server = self._run(MllpServer(self._handle, port=self.port).start())
        self.port = self._server.port
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._run(self._server.close())
            self._server = None

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def count(self) -> int:
        with self._lock:
            return len(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hospital = Receiver().start()
    yield hospital
    hospital.close()


@pytest.fixture
def endpoint(engine, world, receiver):  # type: ignore[no-untyped-def]
    """The first submitter's endpoint: the receiver."""
    with Session(engine, expire_on_commit=False) as session:
        made = create_endpoint(session, SYSTEM, EndpointCreate(
            submitter_id=world.submitter_ids[0], host="127.0.0.1", port=receiver.port,
            receiving_application="HIS", receiving_facility="NORTHGEN"))
        session.commit()
    return made


def release(client, world, plate: str, cards: dict[int, dict[str, float]]) -> dict[int, dict]:
    """Accession ``cards`` (number -> analyte overrides), run them on a plate and release the
    normal ones; the specimens by number."""
    specimens = accession(client, world, *cards)
    response = upload(client, world, f"{plate}.csv",
                      plate_csv(plate, {card(n): values for n, values in cards.items()}))
    assert response.status_code == 201, response.text
    sign_off_plates(client, world.auth("technician"))
    released = client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                           headers=world.auth("reviewer"))
    assert released.status_code == 200, released.text
    return specimens
