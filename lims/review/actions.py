"""What a release decided for the card, as the action the documents and the HL7 result message
tell the submitter (docs/reports.md, docs/hl7.md): the reviewer's decision, whatever the calls'
own first-tier actions.

Public names: ``AS_NORMAL``, ``release_action``.
"""

from __future__ import annotations

from lims.vocabulary import Action, ReleaseOutcome

__all__ = ["AS_NORMAL", "release_action"]

#: The outcomes that release the card as normal (by the decision or an override): every
#: disorder is reported in range.
AS_NORMAL: tuple[str, ...] = (ReleaseOutcome.normal, ReleaseOutcome.normal_by_override)

#: A release's outcome -> the card's action; a release as normal asks for none.
_ACTIONS: dict[str, Action] = {
    ReleaseOutcome.repeat_specimen_requested: Action.request_repeat_specimen,
    ReleaseOutcome.referred: Action.immediate_referral,
}


def release_action(outcome: str) -> Action:
    """The action the release with ``outcome`` decided for its card."""
    return _ACTIONS.get(outcome, Action.none)
