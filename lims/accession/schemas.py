"""Request and response models of accessioning (the XCreate / XPublic families).

Public names: ``SubmitterCreate``, ``SubmitterPublic``, ``InfantCreate``, ``InfantPublic``,
``SpecimenCreate``, ``SpecimenPublic``, ``UnsatisfactoryIn``, ``LinkSuggestion``,
``RepeatRequestPublic``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from lims.models import DbId, FromAttributes, RequestBody
from lims.serial_screening import SerialCard
from lims.vocabulary import Feeding, RepeatRequestStatus, Sex, SpecimenKind, SpecimenState

__all__ = [
    "InfantCreate",
    "InfantPublic",
    "LinkSuggestion",
    "RepeatRequestPublic",
    "SpecimenCreate",
    "SpecimenPublic",
    "SubmitterCreate",
    "SubmitterPublic",
    "UnsatisfactoryIn",
]

class SubmitterCreate(RequestBody):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    district: str = Field(default="", max_length=100)


class SubmitterPublic(SubmitterCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int


class InfantCreate(RequestBody):
    submitter_id: DbId
    birth_at: datetime
    sex: Sex = Sex.U
    medical_record_number: str = Field(default="", max_length=64)
    mother_name: str = Field(default="", max_length=200)
    mother_id: str = Field(default="", max_length=64)
    birth_weight_g: int | None = Field(default=None, ge=200, le=7000)
    gestational_age_weeks: float | None = Field(default=None, ge=20, le=45)
    plurality: int = Field(default=1, ge=1, le=8)
    birth_order: int = Field(default=1, ge=1, le=8)


class InfantPublic(InfantCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
    id: int


class SpecimenCreate(RequestBody):
    """A card at accessioning. Name the baby by ``infant_id``, by ``previous_barcode`` (a
    repeat card), or describe a new baby in ``infant``."""

    barcode: str = Field(min_length=1, max_length=32)
    submitter_id: DbId
    collected_at: datetime
    received_at: datetime
    kind: SpecimenKind | None = None
    infant_id: DbId | None = None
    previous_barcode: str | None = Field(default=None, max_length=32)
    infant: InfantCreate | None = None
    birth_weight_g: int | None = Field(default=None, ge=200, le=7000)
    gestational_age_weeks: float | None = Field(default=None, ge=20, le=45)
    feeding: Feeding = Feeding.unknown
    tpn: bool = False
    transfused: bool = False
    transfused_at: datetime | None = None
    #: Context the reflex second tier reads (docs/second_tier.md "In the LIMS").
    tpn_started_at: datetime | None = None
    tpn_stopped_at: datetime | None = None
    pivalate_exposure: bool = False
    maternal_b12_low: bool = False
    maternal_diet: str = Field(default="", max_length=32)
    maternal_disorder: str = Field(default="", max_length=200)
    nicu: bool = False
    unsatisfactory_code: str | None = Field(default=None, max_length=16)


class SpecimenPublic(FromAttributes):
    id: int
    barcode: str
    infant_id: DbId
    submitter_id: DbId
    kind: SpecimenKind
    previous_specimen_id: int | None
    collected_at: datetime
    received_at: datetime
    birth_weight_g: int | None
    gestational_age_weeks: float | None
    feeding: Feeding
    tpn: bool
    transfused: bool
    nicu: bool
    unsatisfactory_code: str | None
    state: SpecimenState
    flagged: bool
    version: int


class UnsatisfactoryIn(RequestBody):
    code: str = Field(min_length=1, max_length=16)
    note: str = Field(default="", max_length=500)


class LinkSuggestion(BaseModel):
    """A possible match for a person to confirm; never merged automatically."""

    infant_id: DbId
    score: float
    reasons: list[str]
    twin: bool


class RepeatRequestPublic(FromAttributes):
    id: int
    infant_id: DbId
    specimen_id: int
    reason: str
    status: RepeatRequestStatus
    fulfilled_by_specimen_id: int | None
    requested_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def due(self) -> date | None:
        """The laboratory's day a serial-screening card is due from, as the pages show it
        (``SerialCard.due_of``: read from the request's wording); null for other requests."""
        return SerialCard.due_of(self.reason)
