"""The parts every document's view model shares: plain, frozen pydantic models that the LIMS
fills from its records (no ORM object ever reaches a renderer).

A document is identified by ``DocumentInfo``: its id, version and language, when it was issued,
and, for a correction, the version it replaces and why. Reprinting the same view model gives the
same bytes; a correction is a new view model with ``version`` one higher and ``replaces``
naming the earlier version (its hash too, when the LIMS stored one). Both are printed on every
page.

The vocabulary is the calls table's (docs/architecture.md "Calls"): first-tier ``normal |
borderline | positive | critical`` (plus ``not_evaluable``), final ``negative | borderline |
positive``, actions ``none | repeat_in_duplicate | reflex_second_tier | request_repeat_specimen |
immediate_referral``; analyte codes and ratios as the catalogue writes them (``Phe``, ``C8``,
``C5DC+C6OH``, ``Phe/Tyr``).

Public names: ``Lang``, ``LANGUAGES``, ``FirstTier``, ``Final``, ``Action``, ``Sex``,
``SpecimenKind``, ``SpecimenNote``, ``ViewModel``, ``DisorderRow``, ``DocumentRef``,
``DocumentInfo``, ``Laboratory``, ``Contact``, ``Submitter``, ``Baby``, ``Specimen``,
``MarkerValue``, ``check_disorder_code``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from msms.catalogue import default_catalogue

__all__ = [
    "LANGUAGES",
    "Action",
    "Baby",
    "Contact",
    "DisorderRow",
    "DocumentInfo",
    "DocumentRef",
    "Final",
    "FirstTier",
    "Laboratory",
    "Lang",
    "MarkerValue",
    "Sex",
    "Specimen",
    "SpecimenKind",
    "SpecimenNote",
    "Submitter",
    "ViewModel",
    "check_disorder_code",
]

Lang = Literal["en", "zh-CN"]
LANGUAGES: tuple[Lang, ...] = ("en", "zh-CN")
FirstTier = Literal["normal", "borderline", "positive", "critical", "not_evaluable"]
Final = Literal["negative", "borderline", "positive"]
Action = Literal["none", "repeat_in_duplicate", "reflex_second_tier", "request_repeat_specimen",
                 "immediate_referral"]
Sex = Literal["M", "F", "U"]
SpecimenKind = Literal["initial", "repeat", "preterm_serial", "post_transfusion"]
#: Conditions of a specimen the result report explains (the wording data says what each means).
SpecimenNote = Literal["early_collection", "preterm", "low_birth_weight", "tpn", "transfused",
                       "unsatisfactory"]

_Text = Field(min_length=1)


class ViewModel(BaseModel):
    """Base of every view model: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DocumentRef(ViewModel):
    """An issued version of a document: ``document_id`` and ``version`` (and its SHA-256)."""

    document_id: str = _Text
    version: int = Field(ge=1)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class DocumentInfo(ViewModel):
    """Who issued which version of a document, when, and in which language."""

    document_id: str = _Text
    version: int = Field(default=1, ge=1)
    replaces: DocumentRef | None = None
    correction_reason: str | None = None
    issued_at: dt.datetime
    lang: Lang
    #: The wording version the document was first issued with; rendering refuses another one,
    #: so a reprint cannot silently change its text (reprint the stored PDF instead).
    wording_version: str | None = None

    @model_validator(mode="after")
    def _correction(self) -> Self:
        if self.version == 1 and self.replaces is not None:
            raise ValueError("version 1 replaces nothing: a correction has version 2 or more")
        if self.version > 1 and self.replaces is None:
            raise ValueError(f"version {self.version} must name the version it replaces")
        if self.replaces is not None:
            if self.replaces.document_id != self.document_id:
                raise ValueError(
                    f"replaces names document {self.replaces.document_id!r}, not this one "
                    f"({self.document_id!r}): a correction keeps the document id")
            if self.replaces.version >= self.version:
                raise ValueError(f"version {self.version} cannot replace version "
                                 f"{self.replaces.version}")
            if not (self.correction_reason or "").strip():
                raise ValueError("a correction must say why (correction_reason)")
        return self


class Laboratory(ViewModel):
    """The screening laboratory that issues the document."""

    name: str = _Text
    address: str = ""
    phone: str = ""
    accreditation: str = ""


class Contact(ViewModel):
    """A person or service to call about the document."""

    name: str = _Text
    role: str = ""
    phone: str = _Text
    email: str = ""
    hours: str = ""


class Submitter(ViewModel):
    """A submitting unit (hospital, ward, birthing centre) and its district."""

    code: str = _Text
    name: str = _Text
    district: str = ""
    address: str = ""


class Baby(ViewModel):
    """The baby as the card and the LIMS record them."""

    name: str = _Text
    sex: Sex = "U"
    birth_at: dt.datetime
    birth_weight_g: int | None = Field(default=None, gt=0, lt=10_000)
    gestational_age_weeks: float | None = Field(default=None, gt=15, lt=50)
    mother_name: str = ""
    #: The mother's identifier on the card (a hospital or ID number), printed with her name,
    #: or alone when the card gives no name.
    mother_id: str = ""
    infant_id: str = ""
    medical_record_number: str = ""


class Specimen(ViewModel):
    """One dried blood spot card."""

    specimen_id: str = _Text
    card_barcode: str = _Text
    kind: SpecimenKind = "initial"
    collected_at: dt.datetime
    received_at: dt.datetime
    submitter: Submitter
    notes: tuple[SpecimenNote, ...] = ()

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.received_at < self.collected_at:
            raise ValueError(f"received_at {self.received_at:%Y-%m-%d %H:%M} is before "
                             f"collected_at {self.collected_at:%Y-%m-%d %H:%M}")
        return self

    def age_at_collection_hours(self, baby: Baby) -> float:
        """Hours from birth to collection."""
        return (self.collected_at - baby.birth_at).total_seconds() / 3600


class MarkerValue(ViewModel):
    """One marker (analyte code or ratio ``A/B``) against the cutoff it was called on."""

    marker: str = _Text
    value: float
    cutoff: float
    direction: Literal["high", "low"]
    unit: str = "µmol/L"
    tier: FirstTier | None = None

    @property
    def is_ratio(self) -> bool:
        return "/" in self.marker


def check_disorder_code(code: str) -> str:
    """``code`` if the disorder catalogue has it; ValueError with close matches otherwise."""
    try:
        default_catalogue().disorder(code)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    return code


class DisorderRow(ViewModel):
    """Base of view-model rows that name a catalogue disorder by its ``code``."""

    code: str

    @field_validator("code")
    @classmethod
    def _known(cls, value: str) -> str:
        return check_disorder_code(value)
