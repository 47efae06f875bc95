"""HL7: building ORU^R01 result messages, reading OML^O21 orders, MLLP round trips on loopback,
and the LIMS's outbox delivered to a local listener.

Building takes the best of two passes (other jobs on the shared machine only add time). The
outbox figure is the delivery worker's whole loop on a SQLite file (claim, send, wait for the
AA, record it with its audit event and claim the next, each message committed), 1,000 full
messages to an MLLP listener on 127.0.0.1 in the same process.

A full result message here carries every catalogue analyte (48) and ratio (39), an
interpretation for every disorder (46, two of them positive) and the 42 conditions tested:
about 190 segments, 30 KB. The target: 10,000 messages in under 10 s.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from msms.catalogue import default_catalogue
from msms.ratios import ratio_catalogue
from reports.hl7 import (
    Baby,
    Card,
    HierarchicDesignator,
    Interpretation,
    Measurement,
    Mother,
    PersonName,
    ResultMessage,
    Submitter,
    ack_for,
    build_oru,
    parse_oml,
)

N_MESSAGES = 10_000
N_ROUND_TRIPS = 1_000
N_OUTBOX = 1_000
_BIRTH = datetime(2024, 3, 1, 6, 30, tzinfo=UTC)


def _template() -> ResultMessage:
    catalogue = default_catalogue()
    analytes = tuple(Measurement(a.code, round(a.pop_median_umol_l * 1.07, 3), "N",
                                 a.pop_p1_umol_l, a.pop_p99_umol_l) for a in catalogue.analytes)
    ratios = tuple(Measurement(r.name, 0.731, "N", None, 2.5) for r in ratio_catalogue())
    calls = tuple(Interpretation(d.code, "positive" if d.code in ("MCAD", "PKU") else "normal",
                                 immediate=d.code == "MCAD") for d in catalogue.disorders)
    collected = _BIRTH + timedelta(hours=40)
    return ResultMessage(
        message_control_id="", message_time=collected + timedelta(days=4),
        sending_application=HierarchicDesignator("NBSLAB", "2.16.840.1.113883.3.9999.1", "ISO"),
        sending_facility=HierarchicDesignator("NBS Lab", "2.16.840.1.113883.3.9999.2", "ISO"),
        receiving_application=HierarchicDesignator("HIS"),
        receiving_facility=HierarchicDesignator("CITYHOSP"),
        baby=Baby("INF-1", PersonName("Wang", "Baby Girl"), _BIRTH, "F", "MRN-1"),
        mother=Mother(PersonName("Wang", "Li"), "M-1"),
        submitter=Submitter("CITYHOSP", "City Maternity Hospital"),
        card=Card("0000000000", collected, collected + timedelta(days=1), birth_weight_g=3120,
                  gestational_age_weeks=39, age_at_collection_hours=40, feeding="breast"),
        filler_order_number="", released_at=collected + timedelta(days=3),
        analytes=analytes, ratios=ratios, interpretations=calls,
        recommendation="Refer to a metabolic clinic today.\nRepeat card in 48 hours.")


def _build(template: ResultMessage) -> tuple[float, int]:
    views = [replace(template, message_control_id=f"NBS-{i:06d}-1",
                     filler_order_number=f"SPC-{i:06d}",
                     card=replace(template.card, barcode=f"{i:010d}"))
             for i in range(N_MESSAGES)]
    start = time.perf_counter()
    size = sum(len(build_oru(view)) for view in views)
    return time.perf_counter() - start, size // N_MESSAGES


async def _round_trips(messages: list[str]) -> float:
    from lims.interfaces.mllp import MllpClient, MllpServer

    def handler(message: str) -> str:
        return ack_for(message, control_id="ACK", message_time=datetime.now(UTC))

    async with MllpServer(handler) as server, MllpClient("127.0.0.1", server.port) as client:
        start = time.perf_counter()
        for message in messages:
            if not (await client.send(message)).accepted:
                raise RuntimeError("a message was not accepted")
        return time.perf_counter() - start


def _queue(engine: Any, template: ResultMessage) -> int:
    """``N_OUTBOX`` specimens of one infant, each with its message queued; the submitter."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from lims.models import Infant, OutboundMessage, Specimen, Submitter

    with Session(engine) as session:
        submitter = Submitter(code="CITYHOSP", name="City Maternity Hospital")
        session.add(submitter)
        session.flush()
        infant = Infant(submitter_id=submitter.id, birth_at=_BIRTH)
        session.add(infant)
        session.flush()
        specimens = [Specimen(barcode=f"{i:09d}", infant_id=infant.id,
                              submitter_id=submitter.id, collected_at=_BIRTH,
                              received_at=_BIRTH) for i in range(N_OUTBOX)]
        session.add_all(specimens)
        session.flush()
        session.execute(insert(OutboundMessage), [
            {"specimen_id": s.id, "version": 1, "release_id": 0, "submitter_id": submitter.id,
             "infant_id": infant.id, "control_id": f"NBS{s.id}-1",
             "body": build_oru(replace(template, message_control_id=f"NBS{s.id}-1",
                                       filler_order_number=f"SPC-{s.id}"))}
            for s in specimens])
        session.commit()
        assert submitter.id is not None
        return submitter.id


def _outbox(template: ResultMessage) -> float:
    """Messages per second from the outbox to a listener, through the delivery worker."""
    from sqlmodel import Session

    from lims.audit import SYSTEM
    from lims.db import init_db, make_engine
    from lims.interfaces.delivery import DeliveryPolicy, deliver_pass
    from lims.interfaces.mllp import MllpServer
    from lims.interfaces.schemas import EndpointCreate
    from lims.interfaces.service import create_endpoint
    from lims.settings import Settings

    def handler(message: str) -> str:
        return ack_for(message, control_id="ACK", message_time=datetime.now(UTC))

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(Settings(database_url=f"sqlite:///{folder}/outbox.db"))
        init_db(engine)
        submitter_id = _queue(engine, template)

        async def deliver() -> float:
            async with MllpServer(handler) as server:
                with Session(engine) as session:
                    create_endpoint(session, SYSTEM, EndpointCreate(
                        submitter_id=submitter_id, host="127.0.0.1", port=server.port,
                        receiving_facility="CITYHOSP"))
                    session.commit()
                start = time.perf_counter()
                report = await deliver_pass(engine, DeliveryPolicy())
                if report.delivered != N_OUTBOX:
                    raise RuntimeError(f"delivered {report.delivered} of {N_OUTBOX}")
                return time.perf_counter() - start

        seconds = asyncio.run(deliver())
        engine.dispose()
    return N_OUTBOX / seconds


def run() -> list[tuple[str, float, str, str]]:
    template = _template()
    builds = [_build(template) for _ in range(2)]
    seconds, size = min(builds)
    order = (Path(__file__).resolve().parents[1] / "tests" / "data" / "hl7"
             / "002_MN_OML_O21_NBS.hl7").read_text(encoding="utf-8")
    start = time.perf_counter()
    for _ in range(1000):
        parse_oml(order)
    parse_us = (time.perf_counter() - start) / 1000 * 1e6
    messages = [build_oru(replace(template, message_control_id=f"RT-{i}", filler_order_number="S"))
                for i in range(N_ROUND_TRIPS)]
    trip = asyncio.run(_round_trips(messages))
    return [
        (f"hl7: build {N_MESSAGES:,} ORU^R01 (full panel, {size:,} bytes each)", seconds, "s",
         "< 10 s"),
        ("hl7: build one ORU^R01", seconds / N_MESSAGES * 1e3, "ms", "-"),
        ("hl7: read one OML^O21 order", parse_us, "us", "-"),
        (f"hl7: MLLP send + ACK on loopback ({N_ROUND_TRIPS:,} messages, one connection)",
         N_ROUND_TRIPS / trip, "msg/s", "-"),
        (f"hl7: outbox delivered to a local listener ({N_OUTBOX:,} messages, SQLite, each "
         "claimed and recorded)", _outbox(template), "msg/s", "-"),
    ]
