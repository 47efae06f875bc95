"""The LIMS data model (SQLModel tables; docs/lims.md "Layout").

Every time is timezone-aware UTC (``utcnow()``); SQLite stores it without an offset and it is
read back as UTC.
Result rows (``Result``) are written in bulk by the ingest pipeline, never one ORM object at a
time; the audit table and the release table are append-only (enforced by database triggers that
the migrations create: UPDATE and DELETE refused on both databases, TRUNCATE on PostgreSQL).
Columns that hold a vocabulary are text; their values come from ``lims.vocabulary``.

Public names: ``SystemInfo``, ``User``, ``ApiToken``, ``LoginThrottle``, ``AuditEvent``,
``AuditChain``,
``Submitter``, ``Infant``,
``Specimen``, ``RepeatRequest``, ``Run``, ``Result``, ``HeldWell``, ``WellSignal``,
``Evaluation``, ``DuplicateRequest``, ``Review``, ``Release``, ``Alert``, ``ControlResult``,
``ROLES``, ``MAX_ID``, ``DbId``, ``RequestBody``, ``FromAttributes``, ``utcnow``;
follow-up (docs/followup.md): ``Clinic``,
``ClinicUser``, ``Director``, ``FollowUpCase``, ``ContactAttempt``, ``Diagnosis``, ``Treatment``,
``FollowUpVisit``, ``ModelRecord``; HL7 interfaces (docs/hl7.md): ``Hl7Endpoint``,
``OutboundMessage``, ``InboundMessage``; documents (docs/reports.md "In the LIMS"):
``IssuedDocument``; programme measures: ``CardMeasure``, ``CardHourCount``, ``LiveBirths``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, get_args

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from lims.vocabulary import (
    AlertStatus,
    DuplicateRequestStatus,
    EvaluationStage,
    Feeding,
    HeldWellStatus,
    OutboxStatus,
    ReflexRequestStatus,
    RepeatRequestStatus,
    Role,
    Sex,
    SpecimenKind,
    SpecimenState,
)

__all__ = [
    "MAX_ID",
    "ROLES",
    "Alert",
    "ApiToken",
    "CardHourCount",
    "CardMeasure",
    "LiveBirths",
    "DbId",
    "FromAttributes",
    "RequestBody",
    "AuditChain",
    "LoginThrottle",
    "AuditEvent",
    "ControlResult",
    "DuplicateRequest",
    "Evaluation",
    "HeldWell",
    "Hl7Endpoint",
    "InboundMessage",
    "IssuedDocument",
    "Infant",
    "OutboundMessage",
    "ReflexDecisionRecord",
    "ReflexRequest",
    "Release",
    "RepeatRequest",
    "Result",
    "Review",
    "Run",
    "SecondTierResult",
    "SecondTierRun",
    "Specimen",
    "Submitter",
    "SystemInfo",
    "User",
    "utcnow",
    "Clinic",
    "ClinicUser",
    "ContactAttempt",
    "Diagnosis",
    "Director",
    "FollowUpCase",
    "FollowUpVisit",
    "ModelRecord",
    "Treatment",
]

#: The roles a user can hold (``lims.vocabulary.Role``).
ROLES: tuple[str, ...] = tuple(Role)


#: The largest id the API accepts (32-bit signed, the smallest integer column of both databases).
MAX_ID = 2_147_483_647
#: An id in a request body.
DbId = Annotated[int, PydanticField(ge=1, le=MAX_ID)]


#: Why a request body's time without its offset is refused: the API takes ISO times with their
#: offset (a page's form knows the laboratory's zone and sends its times with it).
NAIVE_TIME = "needs a UTC offset, e.g. 2026-12-04T10:00:00+08:00"


def _is_time(annotation: Any) -> bool:
    return annotation is datetime or any(_is_time(a) for a in get_args(annotation))


@cache
def _time_fields(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(name for name, f in model.model_fields.items() if _is_time(f.annotation))


class RequestBody(BaseModel):
    """The base of a request body: a field it does not declare is refused (422), and so is a
    time given as text without its UTC offset (``NAIVE_TIME``), whatever the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _time_with_offset(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.field_name in _time_fields(cls):
            try:
                typed = datetime.fromisoformat(value)
            except ValueError:
                return value  # not a time: the field's own check names it
            if typed.tzinfo is None:
                raise ValueError(NAIVE_TIME)
        return value


class FromAttributes(BaseModel):
    """The base of a response read from a stored row's attributes."""

    model_config = ConfigDict(from_attributes=True)


def utcnow() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def _json() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


class SystemInfo(SQLModel, table=True):
    """Key/value facts about this database (schema version, when demo data was loaded)."""

    __tablename__ = "system_info"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=512)


class Submitter(SQLModel, table=True):
    """A submitting hospital or unit."""

    __tablename__ = "submitter"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    district: str = Field(default="", max_length=100)
    #: The language of the documents issued to it (``lims.vocabulary.DocumentLanguage``).
    document_language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """A person who signs in; ``submitter_id`` scopes a submitter user to its own babies."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    password_hash: str = Field(max_length=255)
    submitter_id: int | None = Field(default=None, foreign_key="submitter.id")
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ApiToken(SQLModel, table=True):
    """A bearer token issued at sign-in; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins counted per client address (``scope`` ``client``) and per username
    that is no active user (``account``; a user's own count is on ``app_user``)."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=16)
    key: str = Field(max_length=255)
    failures: int = 0
    window_started: datetime
    locked_until: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """One change or one read of a baby's record: who, when, what, before/after, why.

    Append-only: database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None)
    username: str = Field(default="system", max_length=64)
    action: str = Field(max_length=64)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    infant_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = _json()
    after: dict[str, Any] | None = _json()
    reason: str = Field(default="", max_length=1000)
    #: The event's place in the hash chain and its hash (``lims.audit_chain``).
    seq: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    chain_hash: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """The head of the audit trail's hash chain: one row (id 1), the last event's place and
    hash, claimed (row-locked) by every transaction that writes audit events."""

    __tablename__ = "audit_chain"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(default=0, sa_type=BigInteger)
    chain_hash: str = Field(max_length=64)


class Infant(SQLModel, table=True):
    """A baby, with its mother and birth data. Twins are separate infants, never merged."""

    __tablename__ = "infant"

    id: int | None = Field(default=None, primary_key=True)
    submitter_id: int = Field(foreign_key="submitter.id", index=True)
    medical_record_number: str = Field(default="", max_length=64)
    mother_name: str = Field(default="", max_length=200)
    mother_id: str = Field(default="", max_length=64, index=True)
    birth_at: datetime
    sex: str = Field(default=Sex.U, max_length=1)
    birth_weight_g: int | None = None
    gestational_age_weeks: float | None = None
    plurality: int = 1
    birth_order: int = 1
    created_at: datetime = Field(default_factory=utcnow)


class Specimen(SQLModel, table=True):
    """A dried-blood-spot card and the state of its workflow (lims.workflow)."""

    __tablename__ = "specimen"

    id: int | None = Field(default=None, primary_key=True)
    barcode: str = Field(max_length=32, unique=True)
    infant_id: int = Field(foreign_key="infant.id", index=True)
    submitter_id: int = Field(foreign_key="submitter.id", index=True)
    kind: str = Field(default=SpecimenKind.initial, max_length=24)
    previous_specimen_id: int | None = Field(default=None, foreign_key="specimen.id")
    collected_at: datetime
    received_at: datetime
    birth_weight_g: int | None = None
    gestational_age_weeks: float | None = None
    feeding: str = Field(default=Feeding.unknown, max_length=16)
    tpn: bool = False
    transfused: bool = False
    transfused_at: datetime | None = None
    #: Context the reflex second tier reads (docs/second_tier.md "In the LIMS"): parenteral
    #: nutrition's start and stop, a pivalate antibiotic or nipple balm, the mother's vitamin
    #: B12 status and diet, a known maternal disorder.
    tpn_started_at: datetime | None = None
    tpn_stopped_at: datetime | None = None
    pivalate_exposure: bool = False
    maternal_b12_low: bool = False
    maternal_diet: str = Field(default="", max_length=32)
    maternal_disorder: str = Field(default="", max_length=200)
    nicu: bool = False
    unsatisfactory_code: str | None = Field(default=None, max_length=16)
    state: str = Field(default=SpecimenState.accessioned, max_length=24, index=True)
    flagged: bool = False
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RepeatRequest(SQLModel, table=True):
    """A request to the submitter for a new specimen from the same baby."""

    __tablename__ = "repeat_request"

    id: int | None = Field(default=None, primary_key=True)
    infant_id: int = Field(foreign_key="infant.id", index=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    reason: str = Field(max_length=500)
    status: str = Field(default=RepeatRequestStatus.open, max_length=16)
    fulfilled_by_specimen_id: int | None = Field(default=None, foreign_key="specimen.id")
    requested_at: datetime = Field(default_factory=utcnow)


class Run(SQLModel, table=True):
    """One uploaded instrument file: a plate, its hash, format and QC decision."""

    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    file_sha256: str = Field(max_length=64, unique=True)
    #: One run per plate: a unique index (``ix_run_plate_id``, as migration 0001 made it).
    plate_id: str = Field(max_length=64, unique=True, index=True)
    instrument_run_id: str = Field(default="", max_length=128)
    file_name: str = Field(max_length=255)
    format: str = Field(max_length=32)
    uploaded_by: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
    qc_decision: str = Field(max_length=24)
    qc_reasons: list[str] | None = _json()
    n_wells: int = 0
    n_results: int = 0
    n_held: int = 0
    cutoff_version: str = Field(default="", max_length=64)
    model_version: str = Field(default="", max_length=64)


class Result(SQLModel, table=True):
    """Concentration of one analyte in one well: specimen x run x analyte x replicate."""

    __tablename__ = "result"
    __table_args__ = (Index("ix_result_specimen", "specimen_id", "analyte"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    specimen_id: int = Field(foreign_key="specimen.id")
    well: str = Field(max_length=4)
    replicate: int = 1
    analyte: str = Field(max_length=32)
    conc_umol_l: float | None = None


class ControlResult(SQLModel, table=True):
    """A control well's concentration: the history Westgard rules are evaluated over."""

    __tablename__ = "control_result"
    __table_args__ = (Index("ix_control_level_analyte", "sample_id", "analyte"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    well: str = Field(max_length=4)
    sample_id: str = Field(max_length=64)
    sample_type: str = Field(max_length=16)
    analyte: str = Field(max_length=32)
    conc_umol_l: float | None = None


class WellSignal(SQLModel, table=True):
    """A well's internal-standard signal on its run (``msms.qc.internal_standard.well_signal``):
    what the well holds, the lowest fraction of the plate median over its standards, which
    standard, the status. Kept for every well, also of a plate QC rejected."""

    __tablename__ = "well_signal"
    __table_args__ = (UniqueConstraint("run_id", "well"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    well: str = Field(max_length=4)
    sample_id: str = Field(default="", max_length=64)
    sample_type: str = Field(default="", max_length=16)
    internal_standard: str = Field(max_length=64)
    fraction: float | None = None
    status: str = Field(max_length=16)


class WestgardVerdict(SQLModel, table=True):
    """The Westgard verdict on one control lot x analyte of a run, judged at ingest over the
    accepted runs before it (``lims.runs.westgard_verdicts``): a rule the run broke with its
    action (``decision`` warning | reject) and the values involved, or ``rule`` empty and
    ``decision`` accept when it broke none; ``z`` is the run's value furthest from target."""

    __tablename__ = "westgard_verdict"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    lot: str = Field(max_length=64)
    level: str = Field(default="", max_length=16)
    analyte: str = Field(max_length=32)
    rule: str = Field(default="", max_length=8)
    decision: str = Field(max_length=8)
    z: float
    across_materials: bool = False
    observations: str = Field(default="", max_length=1000)


class HeldWell(SQLModel, table=True):
    """A patient well whose barcode is not an accessioned card: held for a technician."""

    __tablename__ = "held_well"
    __table_args__ = (UniqueConstraint("run_id", "well"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    well: str = Field(max_length=4)
    sample_id: str = Field(max_length=64)
    reason: str = Field(max_length=200)
    values: dict[str, Any] | None = _json()
    status: str = Field(default=HeldWellStatus.held, max_length=16)
    resolved_by: int | None = Field(default=None, foreign_key="app_user.id")
    resolved_at: datetime | None = None


class Evaluation(SQLModel, table=True):
    """One call (docs/architecture.md "Calls"): a specimen x disorder that is not normal, with
    versions."""

    __tablename__ = "evaluation"

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    run_id: int = Field(foreign_key="run.id", index=True)
    stage: str = Field(default=EvaluationStage.initial, max_length=16)
    disorder: str = Field(max_length=32)
    first_tier: str = Field(max_length=16)
    reasons: str = Field(default="", max_length=2000)
    score: float | None = None
    second_tier_probability: float | None = None
    final: str = Field(max_length=16)
    time_critical: bool = False
    action: str = Field(max_length=32)
    cutoff_version: str = Field(default="", max_length=64)
    model_version: str = Field(default="", max_length=64)
    current: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class DuplicateRequest(SQLModel, table=True):
    """A worklist entry: re-punch this card twice on a later plate."""

    __tablename__ = "duplicate_request"

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    source_run_id: int = Field(foreign_key="run.id")
    disorders: str = Field(max_length=500)
    status: str = Field(default=DuplicateRequestStatus.open, max_length=16, index=True)
    requested_at: datetime = Field(default_factory=utcnow)
    completed_run_id: int | None = Field(default=None, foreign_key="run.id")
    completed_at: datetime | None = None


class SecondTierRun(SQLModel, table=True):
    """One uploaded second-tier run (the panel of ``msms.second_tier_panel``): its hash,
    plate, format and what was done with its wells."""

    __tablename__ = "second_tier_run"

    id: int | None = Field(default=None, primary_key=True)
    file_sha256: str = Field(max_length=64, unique=True)
    plate_id: str = Field(max_length=64)
    instrument_run_id: str = Field(default="", max_length=128)
    file_name: str = Field(max_length=255)
    format: str = Field(max_length=32)
    method_version: str = Field(default="", max_length=64)
    reflex_version: str = Field(default="", max_length=64)
    uploaded_by: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_at: datetime = Field(default_factory=utcnow)
    n_specimens: int = 0
    n_results: int = 0
    #: barcode -> why its wells were not stored (not on the reflex worklist, unknown card)
    unmatched: dict[str, Any] | None = _json()


class SecondTierResult(SQLModel, table=True):
    """One second-tier assay's concentration in one well of a second-tier run, or a genotype
    from a molecular laboratory's file (``well`` empty, ``conc_umol_l`` the count of
    pathogenic variants detected, with the HGVS text, reference and report time it sent)."""

    __tablename__ = "second_tier_result"
    __table_args__ = (Index("ix_second_tier_result_specimen", "specimen_id", "assay"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="second_tier_run.id", index=True)
    specimen_id: int = Field(foreign_key="specimen.id")
    well: str = Field(max_length=4)
    assay: str = Field(max_length=32)
    conc_umol_l: float | None = None
    variants: str | None = Field(default=None, max_length=500)
    lab_reference: str | None = Field(default=None, max_length=64)
    reported_at: datetime | None = None


class ReflexRequest(SQLModel, table=True):
    """A reflex worklist entry: run these second-tier assays on this card."""

    __tablename__ = "reflex_request"

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    source_run_id: int = Field(foreign_key="run.id")
    groups: str = Field(max_length=200)
    assays: str = Field(max_length=500)
    #: when requested, the card's calls opened a time-critical alert (``lims.alerts.rule``);
    #: the worklist reads the card's current calls instead
    time_critical: bool = False
    status: str = Field(default=ReflexRequestStatus.open, max_length=16, index=True)
    requested_at: datetime = Field(default_factory=utcnow)
    completed_run_id: int | None = Field(default=None, foreign_key="second_tier_run.id")
    completed_at: datetime | None = None


class ReflexDecisionRecord(SQLModel, table=True):
    """The reflex decision on one card's referral group (``cutoffs.reflex``): made at the
    first tier (bypass, no assay, waiting) or on the second-tier run; a newer one retires it
    (``current``)."""

    __tablename__ = "reflex_decision"

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    second_tier_run_id: int | None = Field(default=None, foreign_key="second_tier_run.id")
    group_code: str = Field(max_length=16)
    disorder: str = Field(max_length=32)
    decision: str = Field(max_length=24)
    reason_code: str = Field(max_length=32)
    reason: str = Field(default="", max_length=500)
    version: str = Field(default="", max_length=64)
    current: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Review(SQLModel, table=True):
    """A reviewer's decision on a specimen (one row per decision, never edited)."""

    __tablename__ = "review"

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    version: int = 1
    decision: str = Field(max_length=32)
    reason: str = Field(default="", max_length=1000)
    reviewer_id: int = Field(foreign_key="app_user.id")
    decided_at: datetime = Field(default_factory=utcnow)


class Release(SQLModel, table=True):
    """A released result (immutable; a correction is a new version that supersedes it)."""

    __tablename__ = "release"
    __table_args__ = (UniqueConstraint("specimen_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    version: int = 1
    outcome: str = Field(max_length=32)
    summary: dict[str, Any] | None = _json()
    reason: str = Field(default="", max_length=1000)
    released_by: int = Field(foreign_key="app_user.id")
    released_at: datetime = Field(default_factory=utcnow)
    supersedes_id: int | None = Field(default=None, foreign_key="release.id")


class Alert(SQLModel, table=True):
    """A time-critical result: open until a named person acknowledges it, or withdrawn with the
    plate whose result raised it (``withdrawn_*``: who, when and why; never an
    acknowledgement)."""

    __tablename__ = "alert"

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    evaluation_id: int | None = Field(default=None, foreign_key="evaluation.id")
    #: the plate run whose result raised it (withdrawing the plate withdraws it)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    #: the repeat card's reflex decision that opened it (its referral group), if one did
    #: (``lims.reflex.repeat_alerts``): withdrawn when the earlier card no longer asks for a
    #: repeat in that group (``lims.reflex.late``)
    reflex_decision_id: int | None = Field(default=None, foreign_key="reflex_decision.id")
    disorder: str = Field(max_length=32)
    message: str = Field(max_length=1000)
    opened_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default=AlertStatus.open, max_length=16, index=True)
    escalation_level: int = 0
    escalated_at: datetime | None = None
    acknowledged_by: int | None = Field(default=None, foreign_key="app_user.id")
    acknowledged_by_name: str = Field(default="", max_length=200)
    acknowledged_at: datetime | None = None
    acknowledgement_note: str = Field(default="", max_length=1000)
    withdrawn_by: int | None = Field(default=None, foreign_key="app_user.id")
    withdrawn_by_name: str = Field(default="", max_length=200)
    withdrawn_at: datetime | None = None
    withdrawal_reason: str = Field(default="", max_length=1000)


# ---- follow-up: cases from a released result to an outcome (docs/followup.md) ------------

#: Indexes the programme measures read by (specimens received in a month, releases in time).
Index("ix_specimen_received_at", Specimen.__table__.c.received_at)  # type: ignore[attr-defined]


class CardMeasure(SQLModel, table=True):
    """A card's figures for the programme measures, one row per specimen, kept up to date from
    the specimen, its baby and its first release (``lims.followup.card_measures``): the month
    it was received (``yyyymm``, UTC), hours from birth to collection, from collection to
    receipt, from birth to the first release (None before release), and each figure's whole
    hour (``*_bin``: the indexes count the cards per hour, so a median reads only the cards of
    the hour that holds it)."""

    __tablename__ = "card_measure"
    __table_args__ = (
        Index("ix_card_measure_age", "month", "initial", "submitter_id", "age_bin",
              "age_at_collection_h"),
        Index("ix_card_measure_transit", "month", "submitter_id", "transit_bin", "transit_h",
              "unsatisfactory"),
        Index("ix_card_measure_result", "month", "initial", "submitter_id", "result_bin",
              "age_at_result_h"),
    )

    specimen_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    month: int
    submitter_id: int
    initial: bool
    unsatisfactory: bool
    age_at_collection_h: float
    age_bin: int
    transit_h: float
    transit_bin: int
    age_at_result_h: float | None = None
    result_bin: int | None = None


class CardHourCount(SQLModel, table=True):
    """Per month, figure (``age_at_collection``, ``transit``, ``age_at_result``), submitter and
    whole hour of the figure: the cards of ``card_measure`` in that hour and the extra count
    the measures need (early collections, unsatisfactory cards), kept up to date with it."""

    __tablename__ = "card_hour_count"

    month: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    figure: str = Field(primary_key=True, max_length=24)
    submitter_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    hour: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    cards: int
    extra: int


class Clinic(SQLModel, table=True):
    """A clinic that receives babies referred for diagnostic evaluation."""

    __tablename__ = "clinic"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    district: str = Field(default="", max_length=100)
    phone: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class ClinicUser(SQLModel, table=True):
    """Ties a user of role ``clinic`` to the clinic whose referred cases it sees."""

    __tablename__ = "clinic_user"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    assigned_at: datetime = Field(default_factory=utcnow)


class Director(SQLModel, table=True):
    """A reviewer with the laboratory director's authority (activates second-tier models)."""

    __tablename__ = "director"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    granted_by_name: str = Field(max_length=64)
    granted_at: datetime = Field(default_factory=utcnow)


class FollowUpCase(SQLModel, table=True):
    """A baby's follow-up for one referral group: suspected disorders, state, what is due by
    when, and the dates of each step (the programme measures read them)."""

    __tablename__ = "followup_case"
    __table_args__ = (Index("ix_case_state_due", "state", "due_at"),
                      Index("ix_case_infant_group", "infant_id", "referral_group"))

    id: int | None = Field(default=None, primary_key=True)
    infant_id: int = Field(foreign_key="infant.id")
    submitter_id: int = Field(foreign_key="submitter.id", index=True)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    referral_group: str = Field(max_length=32)
    reason: str = Field(max_length=16)
    suspected: list[str] | None = _json()
    time_critical: bool = False
    state: str = Field(max_length=24)
    opened_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    due_action: str = Field(default="", max_length=32)
    due_at: datetime | None = None
    reminded_due_at: datetime | None = None
    first_contact_at: datetime | None = None
    repeat_specimen_id: int | None = Field(default=None, foreign_key="specimen.id")
    repeat_received_at: datetime | None = None
    referred_at: datetime | None = None
    clinic_id: int | None = Field(default=None, foreign_key="clinic.id", index=True)
    appointment_at: datetime | None = None
    outcome: str | None = Field(default=None, max_length=24)
    diagnosed_disorder: str | None = Field(default=None, max_length=32)
    diagnosed_at: datetime | None = None
    treatment_started_at: datetime | None = None
    closed_at: datetime | None = None
    second_tier: dict[str, Any] | None = _json()
    note: str = Field(default="", max_length=1000)


class ContactAttempt(SQLModel, table=True):
    """One attempt to reach the family or clinician: who, how, when, with what result."""

    __tablename__ = "contact_attempt"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    at: datetime
    method: str = Field(max_length=16)
    contacted: str = Field(max_length=200)
    result: str = Field(max_length=16)
    note: str = Field(default="", max_length=1000)
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_by_name: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


class Diagnosis(SQLModel, table=True):
    """A case's outcome as recorded: the class, the disorder found, the confirmatory tests."""

    __tablename__ = "diagnosis"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    outcome: str = Field(max_length=24)
    disorder: str | None = Field(default=None, max_length=32)
    #: ``Severity`` of a confirmed case; empty for other outcomes and for diagnoses recorded
    #: before severities were (migration 0015).
    severity: str = Field(default="", max_length=16)
    confirmatory_tests: str = Field(default="", max_length=1000)
    diagnosed_at: datetime
    note: str = Field(default="", max_length=1000)
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_by_name: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


class Treatment(SQLModel, table=True):
    """Treatment started for a confirmed case."""

    __tablename__ = "treatment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    started_at: datetime
    description: str = Field(max_length=1000)
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_by_name: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


class FollowUpVisit(SQLModel, table=True):
    """A long-term follow-up visit (growth, development, metabolic control)."""

    __tablename__ = "followup_visit"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="followup_case.id", index=True)
    kind: str = Field(max_length=24)
    visit_at: datetime
    findings: str = Field(default="", max_length=2000)
    next_due_at: datetime | None = None
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_by_name: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


class ModelRecord(SQLModel, table=True):
    """A registered second-tier model file: checked on held-back outcomes, activated only by a
    director; one is active at a time."""

    __tablename__ = "model_registry"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=64, unique=True)
    file_path: str = Field(max_length=500)
    file_sha256: str = Field(max_length=64)
    status: str = Field(max_length=16, index=True)
    trained_at: datetime | None = None
    registered_at: datetime = Field(default_factory=utcnow)
    registered_by_name: str = Field(max_length=64)
    training_rows: int = 0
    holdout_rows: int = 0
    holdout_metrics: dict[str, Any] | None = _json()
    check_passed: bool = False
    check_note: str = Field(default="", max_length=1000)
    activated_at: datetime | None = None
    activated_by: int | None = Field(default=None, foreign_key="app_user.id")
    retired_at: datetime | None = None


# ---- HL7 interfaces (lims.interfaces; docs/hl7.md "In the LIMS") --------------------------------


class Hl7Endpoint(SQLModel, table=True):
    """A submitter's HL7 endpoint: where its result messages go over MLLP, the names its
    messages use (``receiving_facility`` is also how its own orders name it in MSH-4), the time
    zone of its times written without an offset; and the state of delivery to it (consecutive
    connection failures, when to connect again, the last problem)."""

    __tablename__ = "hl7_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    submitter_id: int = Field(foreign_key="submitter.id", unique=True)
    host: str = Field(max_length=255)
    port: int
    receiving_application: str = Field(default="", max_length=20)
    receiving_facility: str = Field(max_length=20, unique=True)
    time_zone: str = Field(default="UTC", max_length=64)
    enabled: bool = True
    failures: int = 0
    retry_at: datetime | None = None
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OutboundMessage(SQLModel, table=True):
    """The outbox: one HL7 message per released version of a specimen's result (unique), its
    text as built at release, and its delivery (``lims.vocabulary.OutboxStatus``): attempts,
    the claim of the worker sending it, the acknowledgment received."""

    __tablename__ = "outbound_message"
    __table_args__ = (UniqueConstraint("specimen_id", "version"),
                      Index("ix_outbound_queue", "submitter_id", "status", "next_attempt_at"))

    id: int | None = Field(default=None, primary_key=True)
    specimen_id: int = Field(foreign_key="specimen.id")
    version: int
    #: The release it reports (no foreign key: a release row is never removed, and a key
    #: would make ``TRUNCATE release`` fail on the key before the append-only trigger).
    release_id: int
    submitter_id: int = Field(foreign_key="submitter.id")
    infant_id: int = Field(foreign_key="infant.id")
    message_type: str = Field(default="ORU^R01", max_length=16)
    control_id: str = Field(max_length=20, unique=True)
    body: str = ""
    status: str = Field(default=OutboxStatus.pending, max_length=16, index=True)
    attempts: int = 0
    application_errors: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str = Field(default="", max_length=1000)
    ack_code: str = Field(default="", max_length=2)
    ack_control_id: str = Field(default="", max_length=64)
    ack_text: str = ""
    delivered_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class InboundMessage(SQLModel, table=True):
    """An accepted card-data message (OML^O21): the sender's control id (unique per
    submitter, so a message sent again changes nothing), its SHA-256, the card it created or
    updated."""

    __tablename__ = "inbound_message"
    __table_args__ = (UniqueConstraint("submitter_id", "control_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submitter_id: int = Field(foreign_key="submitter.id")
    control_id: str = Field(max_length=64)
    message_type: str = Field(default="OML^O21", max_length=16)
    sha256: str = Field(max_length=64)
    specimen_id: int = Field(foreign_key="specimen.id", index=True)
    action: str = Field(max_length=16)
    received_at: datetime = Field(default_factory=utcnow)


# ---- documents (lims.documents; docs/reports.md "In the LIMS") ---------------------------------


class IssuedDocument(SQLModel, table=True):
    """One issued version of a document: what it is about (kind, subject ids, language), its
    bytes and their SHA-256, who issued it and when. A correction is a new row with the next
    ``version`` naming the one it replaces; rows are never changed (append-only: database
    triggers refuse UPDATE and DELETE)."""

    __tablename__ = "issued_document"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    version: int = 1
    replaces_id: int | None = Field(default=None, foreign_key="issued_document.id")
    language: str = Field(max_length=8)
    audience: str = Field(default="", max_length=8)
    specimen_id: int | None = Field(default=None, foreign_key="specimen.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="followup_case.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id")
    submitter_id: int | None = Field(default=None, foreign_key="submitter.id", index=True)
    infant_id: int | None = Field(default=None, foreign_key="infant.id")
    period: str = Field(default="", max_length=10)
    sha256: str = Field(max_length=64)
    size_bytes: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    correction_reason: str = Field(default="", max_length=1000)
    issued_by: int | None = Field(default=None, foreign_key="app_user.id")
    issued_by_name: str = Field(max_length=64)
    issued_at: datetime = Field(default_factory=utcnow)


class LiveBirths(SQLModel, table=True):
    """The live births a submitting unit reported for a month (``yyyymm``): the denominator of
    the coverage measure (docs/followup.md "Measures"). Recording a month again replaces the
    figure (audited with the one it replaces)."""

    __tablename__ = "live_births"

    submitter_id: int = Field(foreign_key="submitter.id", primary_key=True,
                              sa_column_kwargs={"autoincrement": False})
    month: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    births: int = Field(ge=0)
    recorded_by_name: str = Field(max_length=64)
    recorded_at: datetime = Field(default_factory=utcnow)


class ProgrammeMonth(SQLModel, table=True):
    """A month's programme measures (``yyyymm``), computed once and kept until the data behind
    them change (``lims.followup.stored_measures``): ``version`` counts the changes to the
    month's cards, cases and live births; the measures stored were computed at
    ``computed_version`` with the follow-up rules of ``rules_version``, so they stand for the
    month while the two versions are equal and the rules are the same."""

    __tablename__ = "programme_month"

    month: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int = 0
    computed_version: int | None = None
    rules_version: str = Field(default="", max_length=64)
    measures: dict[str, Any] | None = _json()
    computed_at: datetime | None = None
