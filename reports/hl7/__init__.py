"""HL7 v2.5.1 for newborn screening: result messages out (ORU^R01), card data in (OML^O21 or a
submitter's CSV), acknowledgments. Pure: no database, no web, no network (the MLLP transport is
``lims.interfaces.mllp``). docs/hl7.md describes the messages and their codes.

Public names: the view model (``ResultMessage``, ``Baby``, ``Mother``, ``Card``, ``Measurement``,
``Interpretation``, ...), ``build_oru``, ``Hl7Error``, ``MessageError``, ``Location``.
"""

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
from reports.hl7.oru import build_oru

__all__ = [
    "Address",
    "Baby",
    "Card",
    "HierarchicDesignator",
    "Hl7Error",
    "Interpretation",
    "Location",
    "Measurement",
    "MessageError",
    "Mother",
    "PersonName",
    "Provider",
    "ResultMessage",
    "SpecimenQuality",
    "Submitter",
    "build_oru",
]
