"""HL7: building ORU^R01 result messages, reading OML^O21 orders, MLLP round trips on loopback.

Building takes the best of two passes (other jobs on the shared machine only add time).

A full result message here carries every catalogue analyte (48) and ratio (39), an
interpretation for every disorder (46, two of them positive) and the 42 conditions tested:
about 190 segments, 30 KB. The target is DESIGN §9's: 10,000 messages in under 10 s.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
    ]
