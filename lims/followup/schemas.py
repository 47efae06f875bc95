"""Request and response models of follow-up: cases, contact attempts, transitions, visits,
clinics, the recall letter's data, the model registry and the programme measures.

Public names: ``CaseCreate``, ``CasePublic``, ``CaseDetail``, ``ContactIn``, ``ContactPublic``,
``TransitionIn``, ``VisitIn``, ``VisitPublic``, ``DiagnosisPublic``, ``TreatmentPublic``,
``ClinicCreate``, ``ClinicPublic``, ``ClinicUserIn``, ``DirectorIn``, ``SecondTierUpdate``,
``CaseLetterView``, ``ModelPublic``, ``ActivateIn``, ``MeasurePublic``, ``MeasuresPublic``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lims.models import DbId, FromAttributes, RequestBody
from lims.vocabulary import (
    CaseReason,
    CaseState,
    CaseTransition,
    ContactMethod,
    ContactResult,
    ModelStatus,
    OutcomeClass,
    Severity,
    VisitKind,
)

__all__ = ["ActivateIn", "CaseCreate", "CaseDetail", "CaseLetterView", "CasePublic",
           "ClinicCreate", "ClinicPublic", "ClinicUserIn", "ContactIn", "ContactPublic",
           "DiagnosisPublic", "DirectorIn", "MeasurePublic", "MeasuresPublic", "ModelPublic",
           "SecondTierUpdate", "TransitionIn", "TreatmentPublic", "VisitIn", "VisitPublic"]

_Code = Field(min_length=1, max_length=32)


class CaseCreate(RequestBody):
    """A case opened by hand: the card that prompted it and the suspected disorders."""

    specimen_id: DbId
    suspected: list[str] = Field(min_length=1, max_length=20)
    note: str = Field(default="", max_length=1000)


class CasePublic(FromAttributes):
    """A case's status (what a submitter sees of its own babies' cases)."""

    id: int
    infant_id: int
    submitter_id: int
    specimen_id: int
    referral_group: str
    reason: CaseReason
    suspected: list[str] | None
    #: the case suspects a time-critical disorder, which sets its deadlines (not the alert
    #: rule of a call or a card: docs/lims.md "What time-critical means")
    time_critical: bool
    state: CaseState
    opened_at: datetime
    due_action: str
    due_at: datetime | None
    clinic_id: int | None
    appointment_at: datetime | None
    outcome: OutcomeClass | None
    diagnosed_disorder: str | None
    closed_at: datetime | None


class ContactIn(RequestBody):
    at: datetime | None = None
    method: ContactMethod
    contacted: str = Field(min_length=1, max_length=200)
    result: ContactResult
    note: str = Field(default="", max_length=1000)


class ContactPublic(FromAttributes):
    id: int
    at: datetime
    method: ContactMethod
    contacted: str
    result: ContactResult
    note: str
    recorded_by_name: str


class DiagnosisPublic(FromAttributes):
    outcome: OutcomeClass
    disorder: str | None
    #: the confirmed case's severity; "" for other outcomes and diagnoses recorded before
    #: severities were
    severity: Severity | Literal[""]
    confirmatory_tests: str
    diagnosed_at: datetime
    note: str
    recorded_by_name: str


class TreatmentPublic(FromAttributes):
    started_at: datetime
    description: str
    recorded_by_name: str


class VisitIn(RequestBody):
    kind: VisitKind
    visit_at: datetime | None = None
    findings: str = Field(default="", max_length=2000)


class VisitPublic(FromAttributes):
    kind: VisitKind
    visit_at: datetime
    findings: str
    next_due_at: datetime | None
    recorded_by_name: str


class TransitionIn(RequestBody):
    """A transition and what it records: ``receive_repeat`` the repeat card's ``barcode``
    (linked to the case, received at the card's receipt time), ``refer`` a clinic (and
    appointment), ``diagnose`` an outcome (and the disorder found, the confirmed case's
    ``severity``, the confirmatory tests),
    ``start_treatment`` a description, ``contact`` who was reached (``contacted``, and how:
    ``method``, default ``other``; logged as a reached contact attempt, ``reason`` its note);
    ``at`` when it happened (default now; not before the baby's birth nor the case's opening).
    """

    transition: CaseTransition
    barcode: str | None = Field(default=None, max_length=32)
    contacted: str | None = Field(default=None, max_length=200)
    method: ContactMethod | None = None
    at: datetime | None = None
    reason: str = Field(default="", max_length=1000)
    clinic_id: DbId | None = None
    appointment_at: datetime | None = None
    outcome: OutcomeClass | None = None
    disorder: str | None = Field(default=None, max_length=32)
    severity: Severity | None = None
    confirmatory_tests: str = Field(default="", max_length=1000)
    description: str = Field(default="", max_length=1000)


class CaseDetail(CasePublic):
    """A case with its log, for follow-up staff and the clinic it is referred to."""

    first_contact_at: datetime | None
    repeat_specimen_id: int | None
    repeat_received_at: datetime | None
    referred_at: datetime | None
    diagnosed_at: datetime | None
    treatment_started_at: datetime | None
    second_tier: dict[str, Any] | None
    note: str
    contacts: list[ContactPublic]
    diagnoses: list[DiagnosisPublic]
    treatments: list[TreatmentPublic]
    visits: list[VisitPublic]
    #: the transitions the caller can apply now: its role and the case's state allow them
    #: and the case's records meet their conditions (as the case page offers them)
    allowed_transitions: list[CaseTransition]


class ClinicCreate(RequestBody):
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=200)
    district: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=64)


class ClinicPublic(ClinicCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int


class ClinicUserIn(RequestBody):
    user_id: DbId


class DirectorIn(RequestBody):
    user_id: DbId


class SecondTierUpdate(BaseModel):
    """A second-tier result for one of a card's disorders (docs/architecture.md "Calls")."""

    disorder: str = _Code
    probability: float | None = Field(default=None, ge=0, le=1)
    decision: str = Field(min_length=1, max_length=32)
    reason_code: str = Field(default="", max_length=64)
    model_version: str = Field(default="", max_length=64)


class CaseLetterView(BaseModel):
    """What a recall letter about a case says: the baby, the card, the suspected disorders with
    the values against the cutoffs (only of a released result, as the letter), what to do and
    by when, who to contact."""

    case_id: int
    state: CaseState
    reason: CaseReason
    referral_group: str
    time_critical: bool
    baby: dict[str, Any]
    submitter: dict[str, Any]
    specimen: dict[str, Any]
    suspected: list[dict[str, str]]
    #: The reviewer's calls the letter quotes (none for a card released as normal or not
    #: yet released).
    calls: list[dict[str, Any]]
    #: The card's values on its latest run, only once the card is released.
    values_umol_l: dict[str, float]
    #: The card awaits the laboratory's review: no value and no call is quoted.
    result_pending: bool
    due_action: str
    due_at: datetime | None
    clinic: dict[str, Any] | None
    appointment_at: datetime | None


class ModelPublic(FromAttributes):
    id: int
    version: str
    file_path: str
    file_sha256: str
    status: ModelStatus
    trained_at: datetime | None
    registered_at: datetime
    registered_by_name: str
    training_rows: int
    holdout_rows: int
    holdout_metrics: dict[str, Any] | None
    check_passed: bool
    check_note: str
    activated_at: datetime | None


class ActivateIn(RequestBody):
    """A director's signature: the password again."""

    password: str = Field(min_length=1, max_length=200)


class MeasurePublic(BaseModel):
    value: float | None
    n: int
    numerator: int | None = None


class MeasuresPublic(BaseModel):
    """The programme measures of a month: the programme's, and per submitter, district and
    suspected disorder (docs/followup.md "Measures")."""

    month: date
    rules_version: str
    #: The indicator definitions' version (``reports/data/indicators.toml``) they follow.
    indicators_version: str
    programme: dict[str, MeasurePublic]
    by_submitter: dict[str, dict[str, MeasurePublic]]
    by_district: dict[str, dict[str, MeasurePublic]]
    by_disorder: dict[str, dict[str, MeasurePublic]]
