"""What a release decided for the card, as the action the documents and the HL7 result message
tell the submitter (docs/reports.md, docs/hl7.md): the reviewer's decision, whatever the calls'
own first-tier actions.

Public names: ``release_action``.
"""

from __future__ import annotations

from lims.vocabulary import Action, ReleaseOutcome

__all__ = ["release_action"]

#: A release's outcome -> the card's action; a release as normal asks for none.
_ACTIONS: dict[str, Action] = {
    ReleaseOutcome.repeat_specimen_requested: Action.request_repeat_specimen,
    ReleaseOutcome.referred: Action.immediate_referral,
}


def release_action(outcome: str) -> Action:
    """The action the release with ``outcome`` decided for its card."""
    return _ACTIONS.get(outcome, Action.none)
