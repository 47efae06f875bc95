"""HL7 v2.5.1 for newborn screening: result messages out (ORU^R01), card data in (OML^O21 or a
submitter's CSV), acknowledgments. Pure: no database, no web, no network (the MLLP transport is
``lims.interfaces.mllp``). docs/hl7.md describes the messages and their codes.

Public names: the result view model (``ResultMessage``, ``Baby``, ``Mother``, ``Card``,
``Measurement``, ``Interpretation``, ...) and ``build_oru``; inbound ``parse_oml``,
``read_cards_csv``, ``AccessionRecord``, ``MessageHeader``, ``read_header``; ``build_ack``,
``ack_for``; errors ``Hl7Error``, ``MessageError`` (with its ``Location``), ``CardFileError``.
"""

from reports.hl7.ack import ack_for, build_ack
from reports.hl7.cards_csv import CardFileError, read_cards_csv
from reports.hl7.errors import Hl7Error, Location, MessageError
from reports.hl7.model import (
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
    SpecimenQuality,
    Submitter,
)
from reports.hl7.oml import MessageHeader, parse_oml, read_header
from reports.hl7.oru import build_oru
from reports.hl7.records import AccessionRecord

__all__ = [
    "AccessionRecord",
    "Address",
    "Baby",
    "Card",
    "CardFileError",
    "HierarchicDesignator",
    "Hl7Error",
    "Interpretation",
    "Location",
    "Measurement",
    "MessageError",
    "MessageHeader",
    "Mother",
    "PersonName",
    "Provider",
    "ResultMessage",
    "SpecimenQuality",
    "Submitter",
    "ack_for",
    "build_ack",
    "build_oru",
    "parse_oml",
    "read_cards_csv",
    "read_header",
]
