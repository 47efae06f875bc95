"""``nbs hl7 listen`` as its own process: a real MLLP listener (port 0) that takes the
Minnesota order. On a SQLite file only (the process is slow to start; the same path is tested
on both databases in ``test_card_data.py``)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lims.interfaces.mllp import MllpClient
from lims.models import Specimen, Submitter
from lims.settings import Settings
from tests.lims.helpers import NBS
from tests.lims.interfaces.conftest import sqlite_file
from tests.reports.hl7.builders import REFERENCE


@pytest.fixture
def settings(sqlite_template: Path, tmp_path: Path) -> Settings:
    return sqlite_file(sqlite_template, tmp_path)


def test_nbs_hl7_listen_takes_orders_over_mllp(settings, engine, world, tmp_path):
    with Session(engine) as session:  # Minnesota's sender, known by its code
        session.add(Submitter(code="Centracare", name="CentraCare St. Cloud Hospital"))
        session.commit()
    rule = tmp_path / "barcode.toml"
    rule.write_text('version = "mn-10"\ndescription = "ten digits"\n'
                    'pattern = "^[0-9]{10}$"\ncheck_digit = "none"\n', encoding="utf-8")
    env = {**os.environ, "NBS_DATABASE_URL": settings.database_url,
           "NBS_BARCODE_RULE": str(rule)}
    process = subprocess.Popen([*NBS, "hl7", "listen", "--port", "0"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        found = None
        for _ in range(10):  # after the line naming the database, the listening address
            found = re.search(r"127\.0\.0\.1:(\d+)", process.stderr.readline())
            if found:
                break
        assert found, "nbs hl7 listen did not say where it listens"
        port = int(found.group(1))
        order = (REFERENCE / "002_MN_OML_O21_NBS.hl7").read_text(encoding="utf-8")

        reused = order.replace("|1769.859285|", "|1800|")  # its control id, another content
        assert reused != order

        async def send() -> list[str]:
            async with MllpClient("127.0.0.1", port) as client:
                return [(await client.send(m.replace("\n", "\r"))).code
                        for m in (order, reused)]

        assert asyncio.run(asyncio.wait_for(send(), 60)) == ["AA", "AE"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, log = process.communicate(timeout=30)
    assert process.returncode == 0
    # one line per order answered, for the interface engineer
    assert re.search(r"UTC order 31808297 from \S+: AA\n", log), log
    assert re.search(r"UTC order 31808297 from \S+: AE \(MSH\^1\^10\^1 control id 31808297 "
                     r"was used by another message", log), log
    with Session(engine) as session:
        taken = session.exec(select(Specimen).where(Specimen.barcode == "0516199364")).one()
    assert taken.birth_weight_g == 1770
