"""The words the pages translate that are not literal in a template: the vocabularies' values
shown as labels, the navigation's labels, the kinds of well, the phrases stored texts are read
back as (``lims.web.phrases``: reasons, alert messages, decision reasons, the refusals a
page shows as its errors, and how a message joins a list), the reflex rules'
words for their reason codes (the specimen page's second tier), the audit trail's actions
(``audit <action>``, ``AUDIT_ACTIONS``) and kinds of record (``record <entity>``,
``AUDIT_RECORDS``), the disorders' names (the catalogue's) and the
unsatisfactory codes' descriptions (``lims/data/unsatisfactory_codes.csv``). ``message_ids``
lists them, so that the catalogue test (``tests/lims/web/test_i18n.py``) asks each language
for all of them.

Public names: ``AUDIT_ACTIONS``, ``AUDIT_RECORDS``, ``DYNAMIC_VOCABULARIES``, ``WELL_KINDS``,
``disorder_names``, ``unsatisfactory_descriptions``, ``message_ids``,
``plural_message_ids``.
"""

from __future__ import annotations

from enum import StrEnum

from babel.messages.extract import extract_from_dir

from cutoffs.reflex.rules import default_reflex_rules
from lims.vocabulary import (
    Action,
    AlertStatus,
    CaseTransition,
    Decision,
    Feeding,
    Final,
    FirstTier,
    HeldWellStatus,
    OutboxStatus,
    QcDecision,
    Recommendation,
    ReflexDecision,
    ReleaseOutcome,
    Role,
    Sex,
    SpecimenKind,
    SpecimenState,
    Transition,
)
from lims.web.case_labels import case_message_ids
from lims.web.navigation import NAVIGATION
from lims.web.phrases import (
    PHRASEBOOKS,
    REASON_MESSAGE,
    SEPARATORS,
    STEP_MESSAGES,
    VALUE_MESSAGES,
)

__all__ = ["AUDIT_ACTIONS", "AUDIT_RECORDS", "DYNAMIC_VOCABULARIES", "WELL_KINDS", "disorder_names",
           "message_ids", "plural_message_ids", "unsatisfactory_descriptions"]

#: Enums whose values the templates pass through ``_()``.
DYNAMIC_VOCABULARIES: tuple[type[StrEnum], ...] = (
    Action, AlertStatus, Decision, Feeding, Final, FirstTier, HeldWellStatus, OutboxStatus,
    QcDecision, Recommendation, ReflexDecision, ReleaseOutcome, Role, SpecimenKind,
    SpecimenState)
#: The kinds of well the plate view counts (``lims.runs.plate``).
WELL_KINDS = ("patient", "control", "blank", "held", "empty")
#: The actions the audit trail records (``lims.audit``), shown on the audit page as
#: ``audit <action>``; a card's workflow moves (``Transition``) and a case's moves
#: (``CaseTransition``) are recorded under their own names too.
AUDIT_ACTIONS: tuple[str, ...] = tuple(sorted({
    "accession", "acknowledge", "activate_model", "assign_clinic", "attach", "close_by_override",
    "contact_attempt", "create", "deactivate", "deliver", "discard", "enqueue", "escalate",
    "fulfil", "grant_director", "import_cards", "ingest", "issue", "letter_not_issued", "login",
    "login_failed", "login_refused_locked", "logout", "open", "park", "password_change",
    "password_change_failed", "password_change_refused_locked", "qc_accept", "qc_reject",
    "qc_withdraw", "read", "read_audit", "read_bulletin", "read_list", "receive",
    "record_live_births", "reflex_decision", "register_model", "release", "reprint",
    "request_repeat", "resend", "reset_password", "second_tier", "second_tier_attach",
    "second_tier_decision", "second_tier_import", "second_tier_skipped", "set_document_language",
    "signature_failed", "signature_refused_locked", "supersede", "unlock", "update", "visit",
    "withdraw", "withhold",
    *Transition, *CaseTransition}))


#: The kinds of record the audit trail names (an event's ``entity``), shown as ``record
#: <entity>``; a kind not listed shows as its name.
AUDIT_RECORDS: tuple[str, ...] = (
    "alert",
    "app_user",
    "audit_event",
    "bulletin",
    "card_file",
    "clinic",
    "followup_case",
    "held_well",
    "hl7_endpoint",
    "inbound_message",
    "infant",
    "issued_document",
    "live_births",
    "login",
    "model_registry",
    "outbound_message",
    "release",
    "repeat_request",
    "run",
    "second_tier_run",
    "specimen",
    "submitter",
    "user",
)


def disorder_names() -> set[str]:
    """The disorders' names as the catalogue gives them (the pages show them)."""
    from lims.followup.service import catalogue

    return {d.name for d in catalogue().values()}


def unsatisfactory_descriptions() -> set[str]:
    """The descriptions of the unsatisfactory codes (the accession form and a unit's home)."""
    from lims.reference import unsatisfactory_codes

    return {c.description for c in unsatisfactory_codes().values()}


def message_ids() -> set[str]:
    """Every message the pages may ask a catalogue for (the count sentences:
    ``plural_message_ids``)."""
    ids = {str(v) for enum in DYNAMIC_VOCABULARIES for v in enum}
    ids |= {f"sex {s}" for s in Sex}
    ids |= {item.label for item in NAVIGATION}
    ids |= set(WELL_KINDS)
    ids |= case_message_ids()
    ids |= {phrase.msgid for book in PHRASEBOOKS for phrase in book}
    ids |= {*STEP_MESSAGES.values(), *VALUE_MESSAGES.values(), REASON_MESSAGE}
    ids |= set(SEPARATORS.values())
    ids |= set(default_reflex_rules().reason_codes.values())
    ids |= {f"audit {a}" for a in AUDIT_ACTIONS}
    ids |= {f"record {r}" for r in AUDIT_RECORDS}
    ids |= disorder_names() | unsatisfactory_descriptions()
    ids |= {m for m in _template_messages() if isinstance(m, str)}
    return ids


def plural_message_ids() -> set[tuple[str, str]]:
    """The count sentences of the templates (``ngettext``): (singular, plural) pairs."""
    return {(m[0], m[1]) for m in _template_messages() if isinstance(m, tuple)}


def _template_messages() -> list[str | tuple[str, ...]]:
    from pathlib import Path

    templates = Path(__file__).parent / "templates"
    return [message for _name, _line, message, _comments, _context in extract_from_dir(
        str(templates), method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}})]
