"""The words the case pages translate that are not literal in a template: the follow-up
vocabularies' values, what is due (the actions of the follow-up rules and the visits of the
long-term schedule) and the referral groups (the disorder catalogue's categories).
``lims.web.messages.message_ids`` includes them, so that the catalogue test asks each language
for all of them.

Public names: ``CASE_VOCABULARIES``, ``due_actions``, ``referral_groups``, ``board_labels``,
``case_message_ids``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

from lims.followup.rules import followup_rules
from lims.followup.service import UNSATISFACTORY_GROUP, UNSPECIFIED_GROUP, catalogue
from lims.vocabulary import (
    CaseReason,
    CaseState,
    CaseTransition,
    ContactMethod,
    ContactResult,
    LetterAudience,
    OutcomeClass,
    VisitKind,
)

__all__ = ["CASE_VOCABULARIES", "board_labels", "case_message_ids", "due_actions",
           "referral_groups"]

#: Enums whose values the case pages pass through ``_()``.
CASE_VOCABULARIES: tuple[type[StrEnum], ...] = (
    CaseReason, CaseState, CaseTransition, ContactMethod, ContactResult, LetterAudience,
    OutcomeClass, VisitKind)


def due_actions() -> set[str]:
    """Every value a case's ``due_action`` may take: the rules' actions and ``visit:KIND``."""
    return {row.action for row in followup_rules().due} | {f"visit:{k}" for k in VisitKind}


def referral_groups() -> set[str]:
    """Every referral group: the catalogue's categories, unsatisfactory cards, unspecified."""
    return {d.category for d in catalogue().values()} | {UNSATISFACTORY_GROUP, UNSPECIFIED_GROUP}


@cache
def board_labels() -> tuple[str, ...]:
    """The values a case board's rows show through a translation: reasons, states, outcomes,
    what is due, referral groups."""
    values = {str(v) for enum in (CaseReason, CaseState, OutcomeClass) for v in enum}
    return tuple(sorted(values | due_actions() | referral_groups()))


def case_message_ids() -> set[str]:
    """Every message of the case pages that is not literal in a template."""
    ids = {str(v) for enum in CASE_VOCABULARIES for v in enum}
    return ids | due_actions() | referral_groups()
