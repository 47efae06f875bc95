"""The words the pages translate that are not literal in a template: the vocabularies' values
shown as labels, the navigation's labels, the kinds of well, the phrases stored texts are read
back as (``lims.web.phrases``: reasons, alert messages, decision reasons), the reflex rules'
words for their reason codes (the specimen page's second tier). ``message_ids``
lists them, so that the catalogue test (``tests/lims/web/test_i18n.py``) asks each language
for all of them.

Public names: ``DYNAMIC_VOCABULARIES``, ``WELL_KINDS``, ``message_ids``.
"""

from __future__ import annotations

from enum import StrEnum

from babel.messages.extract import extract_from_dir

from cutoffs.reflex.rules import default_reflex_rules
from lims.vocabulary import (
    Action,
    AlertStatus,
    Decision,
    Feeding,
    Final,
    FirstTier,
    OutboxStatus,
    QcDecision,
    Recommendation,
    ReflexDecision,
    ReleaseOutcome,
    Role,
    Sex,
    SpecimenKind,
    SpecimenState,
)
from lims.web.case_labels import case_message_ids
from lims.web.navigation import NAVIGATION
from lims.web.phrases import PHRASEBOOKS

__all__ = ["DYNAMIC_VOCABULARIES", "WELL_KINDS", "message_ids"]

#: Enums whose values the templates pass through ``_()``.
DYNAMIC_VOCABULARIES: tuple[type[StrEnum], ...] = (
    Action, AlertStatus, Decision, Feeding, Final, FirstTier, OutboxStatus, QcDecision,
    Recommendation, ReflexDecision, ReleaseOutcome, Role, SpecimenKind, SpecimenState)
#: The kinds of well the plate view counts (``lims.runs.plate``).
WELL_KINDS = ("patient", "control", "blank", "held", "empty")


def message_ids() -> set[str]:
    """Every message the pages may ask a catalogue for."""
    from pathlib import Path

    ids = {str(v) for enum in DYNAMIC_VOCABULARIES for v in enum}
    ids |= {f"sex {s}" for s in Sex}
    ids |= {item.label for item in NAVIGATION}
    ids |= set(WELL_KINDS)
    ids |= case_message_ids()
    ids |= {phrase.msgid for book in PHRASEBOOKS for phrase in book}
    ids |= set(default_reflex_rules().reason_codes.values())
    templates = Path(__file__).parent / "templates"
    for _name, _line, message, _comments, _context in extract_from_dir(
            str(templates), method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}}):
        if isinstance(message, str):
            ids.add(message)
    return ids
