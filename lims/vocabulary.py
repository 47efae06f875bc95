"""The LIMS's closed vocabularies, declared once: the models' defaults, the services' rules,
the request and response schemas (and so the OpenAPI document) and docs/lims.md take their
values from these enums (docs/architecture.md "Extension points"). Each is a ``StrEnum``: a
member is stored in its text column, and compared, as its string.

The call vocabulary (``FirstTier``, ``Final``, ``Action``, ``Stage``) and the plate decision
(``QcDecision``) are the screening core's (``cutoffs.evaluate``, ``msms.qc.decision``), typed
here for the LIMS; a test checks that they match.

Public names: ``Role``, ``SpecimenState``, ``SpecimenKind``, ``Sex``, ``Feeding``,
``Transition``, ``Decision``, ``ReleaseOutcome``, ``Recommendation``, ``EvaluationStage``,
``RepeatRequestStatus``, ``DuplicateRequestStatus``, ``HeldWellStatus``, ``HeldWellAction``,
``AlertStatus``, ``QcDecision``, ``Stage``, ``FirstTier``, ``Final``, ``Action``,
``OutboxStatus``, ``InboundAction``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "Action",
    "AlertStatus",
    "Decision",
    "DuplicateRequestStatus",
    "EvaluationStage",
    "Feeding",
    "Final",
    "FirstTier",
    "HeldWellAction",
    "HeldWellStatus",
    "InboundAction",
    "OutboxStatus",
    "QcDecision",
    "Recommendation",
    "ReleaseOutcome",
    "RepeatRequestStatus",
    "Role",
    "Sex",
    "SpecimenKind",
    "SpecimenState",
    "Stage",
    "Transition",
]


class Role(StrEnum):
    """What a user may do (docs/lims.md "Rules", "Users")."""

    technician = "technician"
    reviewer = "reviewer"
    follow_up = "follow_up"
    submitter = "submitter"
    admin = "admin"


class SpecimenState(StrEnum):
    """Where a card is in its workflow (``lims.workflow``)."""

    accessioned = "accessioned"
    unsatisfactory = "unsatisfactory"
    awaiting_duplicate = "awaiting_duplicate"
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
    release_normal = "release_normal"
    override = "override"
    request_repeat_specimen = "request_repeat_specimen"
    refer = "refer"
    correct = "correct"


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
    """A card on the duplicates worklist: open until its duplicates are stored."""

    open = "open"
    completed = "completed"


class HeldWellStatus(StrEnum):
    held = "held"
    discarded = "discarded"
    attached = "attached"


class HeldWellAction(StrEnum):
    """How a technician resolves a held well."""

    discard = "discard"
    attach = "attach"


class AlertStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"


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


class OutboxStatus(StrEnum):
    """Where an outbound HL7 message is (``lims.interfaces``, docs/hl7.md "Statuses")."""

    pending = "pending"
    sending = "sending"
    delivered = "delivered"
    parked = "parked"


class InboundAction(StrEnum):
    """What an accepted card-data message or CSV row did to the card it names."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
