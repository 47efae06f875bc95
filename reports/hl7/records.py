"""Inbound card data as a plain record: what a hospital's OML^O21 or a submitter's CSV says about
one card, before the LIMS checks and stores it.

The record only holds values whose format was checked (dates, numbers, codes, units); the range
and consistency checks of the accession form (birth weight 200-7000 g, collection after birth,
known submitter, ...) are the LIMS's. ``locations`` (OML) and ``line`` (CSV) say where each value
came from, so a check the LIMS fails can still be answered naming the segment and field, or the
line and column.

Public names: ``AccessionRecord``, ``Feeding``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from reports.hl7.errors import Location
from reports.hl7.model import Feeding, PersonName

__all__ = ["AccessionRecord", "Feeding"]


@dataclass(frozen=True, slots=True)
class AccessionRecord:
    """One card: the baby, the mother, the specimen and the card's clinical data.

    ``submitter`` is the sender's facility name (MSH-4) or the CSV's ``submitter`` column, to be
    matched to a submitter by the LIMS. ``kind`` is "initial", "repeat" or None (not stated).
    """

    barcode: str
    submitter: str
    collected_at: datetime
    birth_at: datetime
    sex: Literal["M", "F", "U"] = "U"
    baby_name: PersonName | None = None
    medical_record_number: str = ""
    mother_name: PersonName | None = None
    mother_id: str = ""
    birth_weight_g: int | None = None
    gestational_age_weeks: float | None = None
    feeding: Feeding = "unknown"
    tpn: bool = False
    transfused: bool = False
    transfused_at: datetime | None = None
    nicu: bool = False
    #: The context the reflex second tier reads (docs/second_tier.md "In the LIMS").
    tpn_started_at: datetime | None = None
    tpn_stopped_at: datetime | None = None
    pivalate_exposure: bool = False
    maternal_b12_low: bool = False
    maternal_diet: str = ""
    maternal_disorder: str = ""
    kind: Literal["initial", "repeat"] | None = None
    multiple_birth: bool | None = None
    birth_order: int | None = None
    placer_order_number: str = ""
    message_control_id: str = ""
    locations: Mapping[str, Location] = field(default_factory=lambda: MappingProxyType({}))
    line: int | None = None

    def where(self, name: str) -> str:
        """Where field ``name`` came from: ``PID-7``, ``OBX[3]-5`` or ``line 4``."""
        if name in self.locations:
            return str(self.locations[name])
        return f"line {self.line}" if self.line is not None else name
