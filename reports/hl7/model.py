"""The view model of one newborn-screening result message (ORU^R01): plain frozen dataclasses.

The LIMS fills these from a released specimen; :func:`reports.hl7.build_oru` turns them into
HL7. Codes are the catalogues' own (analyte codes such as ``C8``, ratio names such as
``C8/C10``, disorder codes such as ``MCAD``); the HL7 codes they map to are data
(``reports/hl7/data``). Datetimes must carry a time zone.

Public names: ``HierarchicDesignator``, ``PersonName``, ``Address``, ``Provider``, ``Baby``,
``Mother``, ``Submitter``, ``Card``, ``SpecimenQuality``, ``Measurement``, ``Interpretation``,
``ResultMessage``, ``FEEDINGS``, ``KINDS``, ``CALLS``, ``FLAGS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

__all__ = [
    "CALLS",
    "FEEDINGS",
    "FLAGS",
    "KINDS",
    "Address",
    "Baby",
    "Card",
    "HierarchicDesignator",
    "Interpretation",
    "Measurement",
    "Mother",
    "PersonName",
    "Provider",
    "ResultMessage",
    "SpecimenQuality",
    "Submitter",
]

Sex = Literal["M", "F", "U"]
Feeding = Literal["breast", "formula", "mixed", "tpn", "none", "unknown"]
Kind = Literal["initial", "repeat", "preterm-serial", "post-transfusion"]
Call = Literal["normal", "borderline", "positive"]

#: Feeding values of a card (the LIMS accession form's).
FEEDINGS: tuple[str, ...] = ("breast", "formula", "mixed", "tpn", "none", "unknown")
#: Specimen kinds (the LIMS's).
KINDS: tuple[str, ...] = ("initial", "repeat", "preterm-serial", "post-transfusion")
#: Final calls of a disorder (the evaluation's ``final`` column, docs/architecture.md "Calls").
CALLS: tuple[str, ...] = ("normal", "borderline", "positive")
#: Abnormal flags a measurement may carry (HL7 table 0078); "" for none.
FLAGS: tuple[str, ...] = ("", "N", "L", "H", "LL", "HH", "A", "AA")


@dataclass(frozen=True, slots=True)
class HierarchicDesignator:
    """An application or facility (HL7 HD): a local name, optionally an OID (``type`` "ISO")."""

    namespace: str
    universal_id: str = ""
    universal_id_type: str = ""


@dataclass(frozen=True, slots=True)
class PersonName:
    family: str
    given: str = ""
    middle: str = ""


@dataclass(frozen=True, slots=True)
class Address:
    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True, slots=True)
class Provider:
    """The ordering clinician (ORC-12/OBR-16)."""

    id: str
    name: PersonName


@dataclass(frozen=True, slots=True)
class Baby:
    """The newborn (PID). ``lab_id`` is the laboratory's infant id; ``medical_record_number`` the
    birth hospital's, if known."""

    lab_id: str
    name: PersonName
    birth_at: datetime
    sex: Sex = "U"
    medical_record_number: str = ""
    multiple_birth: bool | None = None
    birth_order: int | None = None
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Mother:
    """The mother (NK1 with relationship MTH)."""

    name: PersonName
    id: str = ""
    address: Address | None = None
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Submitter:
    """The submitting hospital or unit (ORC-21), by the laboratory's code for it."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class SpecimenQuality:
    """Acceptable, or unsatisfactory with the laboratory's own code and its description."""

    acceptable: bool = True
    code: str = ""
    description: str = ""


@dataclass(frozen=True, slots=True)
class Card:
    """The specimen and what the card says about the baby (the card-data panel and SPM)."""

    barcode: str
    collected_at: datetime
    received_at: datetime
    kind: Kind = "initial"
    birth_weight_g: int | None = None
    gestational_age_weeks: float | None = None
    age_at_collection_hours: float | None = None
    feeding: Feeding = "unknown"
    tpn: bool = False
    transfused: bool = False
    transfused_at: datetime | None = None
    nicu: bool = False
    quality: SpecimenQuality = field(default_factory=SpecimenQuality)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One analyte (catalogue code) or ratio (catalogue name) with its value, the reference range
    it was judged against and its abnormal flag. Concentrations are µmol/L blood."""

    code: str
    value: float
    flag: str = ""
    reference_low: float | None = None
    reference_high: float | None = None


@dataclass(frozen=True, slots=True)
class Interpretation:
    """The final call for one disorder (catalogue code); ``immediate`` marks a time-critical
    referral."""

    disorder: str
    call: Call
    immediate: bool = False


@dataclass(frozen=True, slots=True)
class ResultMessage:
    """Everything one ORU^R01 carries for one released version of a specimen's result.

    ``version`` 1 is the original; a later version is a correction (OBR-25 and OBX-11 ``C``) and
    goes in a new message with its own ``message_control_id``. ``conditions_tested`` lists the
    disorder codes screened (default: every catalogue disorder with a LOINC answer code).
    """

    message_control_id: str
    message_time: datetime
    sending_application: HierarchicDesignator
    sending_facility: HierarchicDesignator
    receiving_application: HierarchicDesignator
    receiving_facility: HierarchicDesignator
    baby: Baby
    mother: Mother | None
    submitter: Submitter
    card: Card
    filler_order_number: str
    released_at: datetime
    analytes: tuple[Measurement, ...] = ()
    ratios: tuple[Measurement, ...] = ()
    interpretations: tuple[Interpretation, ...] = ()
    recommendation: str = ""
    placer_order_number: str = ""
    ordering_provider: Provider | None = None
    conditions_tested: tuple[str, ...] | None = None
    version: int = 1
    processing_id: Literal["P", "D", "T"] = "P"

    @property
    def corrected(self) -> bool:
        return self.version > 1
