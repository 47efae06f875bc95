"""Readable builders of result view models and helpers to read messages back in tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message
from hl7apy.parser import parse_message

from reports.hl7 import (
    Address,
    Baby,
    Card,
    HierarchicDesignator,
    Interpretation,
    Measurement,
    Mother,
    PersonName,
    Provider,
    ResultMessage,
    Submitter,
)
from reports.hl7.er7 import RawSegment, components, split_message

REFERENCE = Path(__file__).resolve().parents[2] / "data" / "hl7"
BIRTH = datetime(2024, 3, 1, 6, 30, tzinfo=UTC)


def reference_messages() -> list[Path]:
    return sorted(REFERENCE.glob("*.hl7"))


def result(**changes: object) -> ResultMessage:
    """A released initial screen with two analytes, a ratio and a normal MCAD call."""
    collected = BIRTH + timedelta(hours=36)
    base = ResultMessage(
        message_control_id="NBS-000123-1",
        message_time=collected + timedelta(days=4),
        sending_application=HierarchicDesignator("NBSLAB", "2.16.840.1.113883.3.9999.1", "ISO"),
        sending_facility=HierarchicDesignator("NBS Lab", "2.16.840.1.113883.3.9999.2", "ISO"),
        receiving_application=HierarchicDesignator("HIS"),
        receiving_facility=HierarchicDesignator("CITYHOSP"),
        baby=Baby(lab_id="INF-000042", name=PersonName("Wang", "Baby Girl"), birth_at=BIRTH,
                  sex="F", medical_record_number="MRN778", multiple_birth=False, birth_order=1,
                  address=Address("1 Long Road", "Nanjing", "JS", "210000", "CHN")),
        mother=Mother(PersonName("Wang", "Li"), id="M-5531", phone="+86 25 5555 0101"),
        submitter=Submitter("CITYHOSP", "City Maternity Hospital"),
        card=Card(barcode="1234567890", collected_at=collected,
                  received_at=collected + timedelta(days=1), birth_weight_g=3120,
                  gestational_age_weeks=39.0, age_at_collection_hours=36.0, feeding="breast"),
        filler_order_number="SPC-000777",
        placer_order_number="ORD-55",
        ordering_provider=Provider("1234567", PersonName("Chen", "Ming")),
        released_at=collected + timedelta(days=3, hours=2),
        analytes=(Measurement("C8", 0.12, "N", None, 0.3),
                  Measurement("Phe", 77.5, "N", 20.0, 150.0)),
        ratios=(Measurement("C8/C10", 0.9, "N", None, 1.6),),
        interpretations=(Interpretation("MCAD", "normal"),),
        recommendation="No further action.",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def strict(message: str) -> Message:
    """hl7apy's strict v2.5.1 parse with group detection, then validation against the message
    structure; raises if anything is wrong."""
    parsed = parse_message(message, validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    parsed.validate()
    return parsed


def tolerant(message: str) -> Message:
    return parse_message(message.replace("\r\n", "\r").replace("\n", "\r").strip("\r"),
                         validation_level=VALIDATION_LEVEL.TOLERANT, find_groups=True)


def segments(message: str) -> list[RawSegment]:
    return split_message(message)[1]


def obx_rows(message: str) -> list[tuple[str, str, list[str], list[str], str, str, str]]:
    """(panel code, value type, OBX-3 components, OBX-5 components, units code, range, flag) of
    every OBX, read with the package's own splitter and unescaping."""
    rows = []
    panel = ""
    for segment in segments(message):
        if segment.name == "OBR":
            panel = components(segment.field(4))[0]
        elif segment.name == "OBX":
            rows.append((panel, segment.field(2), components(segment.field(3)),
                         components(segment.field(5)), components(segment.field(6))[0],
                         segment.field(7), segment.field(8)))
    return rows


def hl7apy_segments(element: object) -> list[object]:
    """The segments of an hl7apy message in message order, whatever groups hold them."""
    found = []
    for child in getattr(element, "children", []):
        if child.classname == "Segment":
            found.append(child)
        else:
            found.extend(hl7apy_segments(child))
    return found


def field_text(segment: object, number: int) -> str:
    """Field ``number`` of an hl7apy segment as ER7 text (all repetitions joined by ~)."""
    name = f"{segment.name}_{number}"  # type: ignore[attr-defined]
    reps = [c for c in segment.children if c.name == name]  # type: ignore[attr-defined]
    return "~".join(c.to_er7() for c in reps)
