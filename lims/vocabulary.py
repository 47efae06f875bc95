"""The LIMS's closed vocabularies, declared once: the models' defaults, the services' rules,
the request and response schemas (and so the OpenAPI document) and docs/lims.md take their
values from these enums (docs/architecture.md "Extension points"). Each is a ``StrEnum``: a
member is stored in its text column, and compared, as its string.

The call vocabulary (``FirstTier``, ``Final``, ``Action``, ``Stage``) and the plate decision
(``QcDecision``) are the screening core's (``cutoffs.evaluate``, ``msms.qc.decision``), typed
here for the LIMS; a test checks that they match.

Public names: ``Role``, ``SpecimenState``, ``SpecimenKind``, ``Sex``, ``Feeding``,
``Transition``, ``Decision``, ``ReleaseOutcome``, ``Recommendation``, ``EvaluationStage``,
``RepeatRequestStatus``, ``DuplicateRequestStatus``, ``ReflexRequestStatus``,
``ReflexDecision``, ``HeldWellStatus``, ``HeldWellAction``,
``AlertStatus``, ``QcDecision``, ``Stage``, ``FirstTier``, ``Final``, ``Action``,
``CaseState``, ``CaseTransition``, ``CaseReason``, ``OutcomeClass``, ``Severity``,
``ContactMethod``,
``ContactResult``, ``VisitKind``, ``ModelStatus``, ``OutboxStatus``, ``InboundAction``,
``DocumentKind``, ``LetterAudience``, ``DocumentLanguage``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Action",
    "AlertStatus",
    "Decision",
    "DocumentKind",
    "DocumentLanguage",
    "DuplicateRequestStatus",
    "EvaluationStage",
    "Feeding",
    "Final",
    "FirstTier",
    "HeldWellAction",
    "HeldWellStatus",
    "InboundAction",
    "LetterAudience",
    "OutboxStatus",
    "QcDecision",
    "Recommendation",
    "ReflexDecision",
    "ReflexRequestStatus",
    "ReleaseOutcome",
    "RepeatRequestStatus",
    "Role",
    "Severity",
    "Sex",
    "SpecimenKind",
    "SpecimenState",
    "Stage",
    "Transition",
    "CaseState",
    "CaseTransition",
    "CaseReason",
    "OutcomeClass",
    "ContactMethod",
    "ContactResult",
    "VisitKind",
    "ModelStatus",
]


class Role(StrEnum):
    """What a user may do (docs/lims.md "Rules", "Users")."""

    technician = "technician"
    reviewer = "reviewer"
    follow_up = "follow_up"
    submitter = "submitter"
    admin = "admin"
    #: A user tied to a clinic: sees the follow-up cases referred to it (docs/followup.md).
    clinic = "clinic"


class SpecimenState(StrEnum):
    """Where a card is in its workflow (``lims.workflow``)."""

    accessioned = "accessioned"
    unsatisfactory = "unsatisfactory"
    awaiting_duplicate = "awaiting_duplicate"
    #: flagged in a referral group with reflex assays: waits for the second-tier run
    awaiting_second_tier = "awaiting_second_tier"
    awaiting_review = "awaiting_review"
    released = "released"
    repeat_requested = "repeat_requested"
    referred = "referred"


class SpecimenKind(StrEnum):
    """Why a card was taken."""

    initial = "initial"
    repeat = "repeat"
    preterm_serial = "preterm-serial"
    post_transfusion = "post-transfusion"


class Sex(StrEnum):
    M = "M"
    F = "F"
    U = "U"


class Feeding(StrEnum):
    breast = "breast"
    formula = "formula"
    mixed = "mixed"
    tpn = "tpn"
    none = "none"
    unknown = "unknown"


class Transition(StrEnum):
    """The moves of a card's workflow (``lims.workflow.SPECIMEN_TRANSITIONS``)."""

    mark_unsatisfactory = "mark_unsatisfactory"
    record_results = "record_results"
    request_duplicate = "request_duplicate"
    record_duplicates = "record_duplicates"
    request_second_tier = "request_second_tier"
    record_second_tier = "record_second_tier"
    skip_second_tier = "skip_second_tier"
    release_normal = "release_normal"
    override = "override"
    request_repeat_specimen = "request_repeat_specimen"
    refer = "refer"
    correct = "correct"
    withdraw_results = "withdraw_results"
    withdraw_duplicates = "withdraw_duplicates"


class Decision(StrEnum):
    """A reviewer's decision on a card: the transitions a review applies."""

    release_normal = Transition.release_normal.value
    override = Transition.override.value
    request_repeat_specimen = Transition.request_repeat_specimen.value
    refer = Transition.refer.value


class ReleaseOutcome(StrEnum):
    """What a release reports (one per ``Decision``)."""

    normal = "normal"
    normal_by_override = "normal_by_override"
    repeat_specimen_requested = "repeat_specimen_requested"
    referred = "referred"


class Recommendation(StrEnum):
    """The second tier's recommendation on a card flagged by the first tier."""

    recall = "recall"
    no_recall = "no_recall"


class EvaluationStage(StrEnum):
    """What a stored evaluation evaluated: the first test, or the mean of the duplicates."""

    initial = "initial"
    duplicate = "duplicate"


class RepeatRequestStatus(StrEnum):
    """A request for a new card: open until a card of the baby is accessioned."""

    open = "open"
    fulfilled = "fulfilled"


class DuplicateRequestStatus(StrEnum):
    """A card on the duplicates worklist: open until its duplicates are stored; withdrawn
    with the plate whose results asked for them (``lims.runs.withdrawal``)."""

    open = "open"
    completed = "completed"
    withdrawn = "withdrawn"


class HeldWellStatus(StrEnum):
    held = "held"
    discarded = "discarded"
    attached = "attached"


class HeldWellAction(StrEnum):
    """How a technician resolves a held well."""

    discard = "discard"
    attach = "attach"


class AlertStatus(StrEnum):
    """A time-critical alert: open until a named person acknowledges it; withdrawn with the
    plate whose result raised it (``lims.runs.withdrawal``)."""

    open = "open"
    acknowledged = "acknowledged"
    withdrawn = "withdrawn"


class QcDecision(StrEnum):
    """A plate's QC decision (``msms.qc.decision.DECISIONS``)."""

    accept = "accept"
    accept_with_warnings = "accept_with_warnings"
    reject = "reject"


class Stage(StrEnum):
    """What a profile is, for evaluation (``cutoffs.evaluate.STAGES``): a first test, or the
    mean of an in-duplicate repeat, which decides."""

    initial = "initial"
    duplicate_mean = "duplicate_mean"


class FirstTier(StrEnum):
    """A call's first tier (``cutoffs.evaluate.FIRST_TIERS``)."""

    normal = "normal"
    borderline = "borderline"
    positive = "positive"
    critical = "critical"
    not_evaluable = "not_evaluable"


class Final(StrEnum):
    """A call's final result after the second tier (``cutoffs.evaluate.FINALS``)."""

    negative = "negative"
    borderline = "borderline"
    positive = "positive"


class Action(StrEnum):
    """What a call asks for (``cutoffs.evaluate.ACTIONS``)."""

    none = "none"
    repeat_in_duplicate = "repeat_in_duplicate"
    request_repeat_specimen = "request_repeat_specimen"
    immediate_referral = "immediate_referral"


class ReflexRequestStatus(StrEnum):
    """A card on the reflex worklist: open until its second-tier results are stored;
    withdrawn with the plate whose results asked for them (``lims.runs.withdrawal``)."""

    open = "open"
    completed = "completed"
    withdrawn = "withdrawn"


class ReflexDecision(StrEnum):
    """The reflex second tier's decision on a card's referral group (``cutoffs.reflex.rules
    .DECISIONS``, and ``awaiting_second_tier`` while an assay is not run): ``maternal_b12`` is
    a maternal work-up, never a normal."""

    clear = "clear"
    repeat_specimen = "repeat_specimen"
    referral = "referral"
    maternal_b12 = "maternal_b12"
    awaiting_second_tier = "awaiting_second_tier"


# ---- follow-up (docs/followup.md) ---------------------------------------------------------


class CaseState(StrEnum):
    """Where a follow-up case is (``lims.followup.machine.CASE_TRANSITIONS``)."""

    opened = "opened"
    contacted = "contacted"
    repeat_received = "repeat_received"
    referred = "referred"
    diagnosed = "diagnosed"
    treatment = "treatment"
    long_term_follow_up = "long_term_follow_up"
    closed = "closed"


class CaseTransition(StrEnum):
    """The moves of a follow-up case."""

    contact = "contact"
    receive_repeat = "receive_repeat"
    refer = "refer"
    diagnose = "diagnose"
    close_not_confirmed = "close_not_confirmed"
    start_treatment = "start_treatment"
    start_long_term_follow_up = "start_long_term_follow_up"
    close = "close"


class CaseReason(StrEnum):
    """Why a case was opened: a released result's referral or repeat request, an
    unsatisfactory card, or by hand."""

    referral = "referral"
    repeat_specimen = "repeat_specimen"
    unsatisfactory = "unsatisfactory"
    manual = "manual"


class OutcomeClass(StrEnum):
    """A case's outcome (the diagnosis, or why there is none)."""

    confirmed = "confirmed"
    carrier = "carrier"
    false_positive = "false_positive"
    transient_maternal = "transient_maternal"
    prematurity_tpn = "prematurity_tpn"
    normal_repeat = "normal_repeat"
    lost_to_follow_up = "lost_to_follow_up"
    deceased = "deceased"
    moved = "moved"
    declined = "declined"


class Severity(StrEnum):
    """How severe a confirmed case is, as the clinic judges it (the reflex second tier's
    calibration protects moderate and severe cases fully, mild ones up to a bound)."""

    mild = "mild"
    moderate = "moderate"
    severe = "severe"


class ContactMethod(StrEnum):
    """How a contact was attempted."""

    phone = "phone"
    sms = "sms"
    letter = "letter"
    home_visit = "home_visit"
    in_person = "in_person"
    other = "other"


class ContactResult(StrEnum):
    """What a contact attempt achieved (``reached`` moves an opened case to contacted)."""

    reached = "reached"
    no_answer = "no_answer"
    message_left = "message_left"
    wrong_number = "wrong_number"
    refused = "refused"


class VisitKind(StrEnum):
    """What a long-term follow-up visit checks."""

    growth = "growth"
    development = "development"
    metabolic_control = "metabolic_control"


class ModelStatus(StrEnum):
    """A registered second-tier model: a candidate until a director activates it."""

    candidate = "candidate"
    active = "active"
    retired = "retired"


class OutboxStatus(StrEnum):
    """Where an outbound HL7 message is (``lims.interfaces``, docs/hl7.md "Statuses")."""

    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    parked = "parked"
    #: Never sent: the result it reports was reopened for correction before it was delivered.
    withheld = "withheld"


class InboundAction(StrEnum):
    """What an accepted card-data message or CSV row did to the card it names."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"


class DocumentKind(StrEnum):
    """A document the LIMS issues (``lims.documents``, docs/reports.md "In the LIMS")."""

    recall_letter = "recall_letter"
    result_report = "result_report"
    batch_report = "batch_report"
    qc_report = "qc_report"
    bulletin = "bulletin"
    report_card = "report_card"


class LetterAudience(StrEnum):
    """Whom a recall letter is written to."""

    clinic = "clinic"
    family = "family"


class DocumentLanguage(StrEnum):
    """The languages documents are written in (``reports.models.LANGUAGES``)."""

    en = "en"
    zh_CN = "zh-CN"
