"""Withdrawing a plate whose results are stored: the plate is rejected after the fact (a
technician or an admin, with a reason, audited) and its unreleased results stop counting.

- The cards whose latest results the plate holds (in review, waiting for duplicates or
  waiting for the second tier) go back to waiting for a new run: a card tested first on this
  plate to ``accessioned`` (its duplicates request from this plate, if any, is withdrawn); a
  card whose duplicates were on this plate to ``awaiting_duplicate``, its request open again
  and the calls of its first plate current again. Their flags are cleared and this plate's
  calls are no longer current.
- The reflex second tier these results asked for stops: the reflex requests from this plate
  still open are ``withdrawn`` (off the reflex worklist) and the cards' current reflex
  decisions are retired; a new first-tier result decides again. Second-tier results already
  stored stay with their run. A card that asked for a repeat specimen no longer does: each of
  its repeats with a first-tier result has the decisions it received as that repeat retired
  and is decided again on its own, audited, and the open alerts those decisions opened are
  withdrawn (``lims.reflex.late``; with the pipeline's reflex second tier): they are listed
  with the plate's own in ``alerts_withdrawn`` and the ``qc_withdraw`` audit event.
- The time-critical alerts this plate's calls raised on those cards and nobody acknowledged
  are ``withdrawn`` (who, when, the plate and the reason; ``lims.alerts.service
  .withdraw_for_run``), each audited. An alert a person acknowledged stays as it is.
- Nothing is withdrawn when any of those cards has been decided by a reviewer (released,
  repeat specimen requested, referred): a released result is never silently withdrawn; it is
  corrected (``POST /specimens/{id}/corrections``, or "Correct the released result" on the
  card's page), which keeps the release and makes a new version. The refusal names the cards
  and says what to do on the pages (``WITHDRAWAL_REFUSALS``, in the page's language).
- The plate's result rows stay stored with the run, as a QC-rejected run's do; the run is
  ``reject`` with the reason among its QC reasons, so its plate id takes a new file
  (``lims.runs.service``) and its controls are no longer Westgard history. Wells still held
  are discarded.
- Cards whose latest results come from a later plate are not touched.

Public names: ``WITHDRAW_ROLES``, ``WITHDRAWAL_REFUSALS``, ``Withdrawal``, ``withdraw_run``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from lims.alerts.service import withdraw_for_run
from lims.audit import Actor, record, snapshot
from lims.errors import ConflictError, InvalidInputError, PermissionDeniedError
from lims.models import utcnow
from lims.pipeline import Screening
from lims.reflex import repository as reflex_repository
from lims.reflex.late import decide_late_repeats, requests_changed
from lims.runs import repository
from lims.runs.notes import RUN_NOTES
from lims.runs.service import get_run
from lims.vocabulary import (
    DuplicateRequestStatus,
    HeldWellStatus,
    QcDecision,
    Role,
    SpecimenState,
    Transition,
)
from lims.workflow import apply_transitions
from msms.phrases import Phrasebook

__all__ = ["WITHDRAWAL_REFUSALS", "WITHDRAW_ROLES", "Withdrawal", "withdraw_run"]

#: Why a plate whose results a reviewer decided is not withdrawn, and what to do on the pages
#: (read back as phrases by the pages: the plate page shows it in its language).
_WHAT_TO_DO = ("A released result is never withdrawn: a reviewer opens each of these cards "
               "(Search), corrects its released result on the card's page (\"Correct the "
               "released result\", with a reason and the password), then the plate can be "
               "withdrawn")
WITHDRAWAL_REFUSALS = Phrasebook((
    ("decided_more", "plate {plate} cannot be withdrawn: a reviewer has decided on the "
                     "results from it of cards {cards} and {more} more. " + _WHAT_TO_DO),
    ("decided", "plate {plate} cannot be withdrawn: a reviewer has decided on the results "
                "from it of cards {cards}. " + _WHAT_TO_DO),
), fields={"more": r"\d+"})  # the more specific first: "decided" reads "X and 3 more" too

#: Who may withdraw a plate: those who sign off its QC.
WITHDRAW_ROLES = (Role.technician, Role.admin)
_UNDECIDED = (SpecimenState.awaiting_review, SpecimenState.awaiting_duplicate,
              SpecimenState.awaiting_second_tier)
#: A card whose duplicates a plate completed is past its duplicates: in review or waiting for
#: the second tier.
_PAST_DUPLICATES = (SpecimenState.awaiting_review, SpecimenState.awaiting_second_tier)


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal did: the run, the cards back to ``accessioned`` and those back to
    ``awaiting_duplicate`` (by barcode), the held wells discarded, the cards taken off the
    reflex worklist (by barcode) and the alerts withdrawn (by id: those the plate's results
    raised, then those of the repeats of its cards decided again on their own)."""

    run_id: int
    to_new_run: list[str] = field(default_factory=list)
    to_duplicates: list[str] = field(default_factory=list)
    held_discarded: int = 0
    off_reflex_worklist: list[str] = field(default_factory=list)
    alerts_withdrawn: list[int] = field(default_factory=list)


def withdraw_run(session: Session, actor: Actor, run_id: int, *, reason: str,
                 pipeline: Screening | None = None) -> Withdrawal:
    """Reject a stored plate and withdraw its unreleased results (the caller commits); with
    the ``pipeline``'s reflex second tier, the repeats of its cards that asked for one are
    decided again."""
    if actor.role not in WITHDRAW_ROLES:
        raise PermissionDeniedError(f"role {actor.role} may not withdraw a plate")
    run = get_run(session, run_id, for_update=True)  # a held well attached meanwhile: waited for
    reason = reason.strip()
    if not reason:
        raise InvalidInputError("give a reason for withdrawing the plate", field="reason")
    if len(reason) > 900:
        raise InvalidInputError("at most 900 characters", field="reason")
    if run.qc_decision == QcDecision.reject:
        raise ConflictError(f"plate {run.plate_id} is already rejected; nothing to withdraw")
    cards = repository.latest_on_run(session, run_id)
    decided = [c for c in cards if c.state not in _UNDECIDED]
    if decided:
        names = ", ".join(c.barcode for c in decided[:20])
        raise ConflictError(
            WITHDRAWAL_REFUSALS.text("decided", plate=run.plate_id, cards=names)
            if len(decided) <= 20 else WITHDRAWAL_REFUSALS.text(
                "decided_more", plate=run.plate_id, cards=names, more=len(decided) - 20))
    before = snapshot(run)
    # on the reflex worklist: waiting, or in review while their assays run (time-critical)
    listed = reflex_repository.open_requests_for(session, [c.id for c in cards if c.id])
    off_reflex = [c.barcode for c in cards if c.id in listed]
    completed = repository.requests_completed_on(session, run_id)
    moves, to_new, to_duplicates, sources = [], [], [], []
    note = f"plate {run.plate_id} withdrawn: {reason}"
    for card in cards:
        assert card.id is not None
        request = completed.get(card.id)
        if request is not None and card.state in _PAST_DUPLICATES:
            moves.append((card, Transition.withdraw_duplicates, note))
            to_duplicates.append(card.barcode)
            request.status = DuplicateRequestStatus.open
            request.completed_run_id = None
            request.completed_at = None
            session.add(request)
            sources.append((card.id, request.source_run_id))
        else:
            moves.append((card, Transition.withdraw_results, note))
            to_new.append(card.barcode)
    apply_transitions(session, actor, moves,
                      also={c.id: {"flagged": False} for c in cards if c.id is not None})
    ids = [c.id for c in cards if c.id is not None]
    repository.set_calls_current(session, run_id, ids, False)
    repository.withdraw_open_requests(session, run_id, ids)
    for specimen_id, source_run in sources:
        repository.set_calls_current(session, source_run, [specimen_id], True)
    reflex_repository.withdraw_open_requests(session, run_id, ids)
    retired = reflex_repository.current_decisions(session, ids)
    reflex_repository.retire_decisions(session, ids)
    reflex = None if pipeline is None else pipeline.reflex
    of_repeats: list[int] = []
    if reflex is not None and pipeline is not None:
        of_repeats = decide_late_repeats(
            session, actor, pipeline, reflex, requests_changed(retired, []), reason=note,
            plate_run_id=run_id, exclude=ids).alerts_withdrawn
    alerts = withdraw_for_run(session, actor, run_id, ids, note=note)
    alerts += [a for a in of_repeats if a not in alerts]
    held = repository.held_wells_of_run(session, run_id)
    if held:
        repository.claim_held_wells(session, held, HeldWellStatus.discarded, actor.user_id,
                                    utcnow())
    reasons = [*(run.qc_reasons or []),
               RUN_NOTES.text("withdrawn", user=actor.username, reason=reason)]
    # guarded: of two withdrawals at once, one rejects the run and the other is refused
    if not repository.reject_run(session, run, reasons):
        raise ConflictError(f"plate {run.plate_id} was rejected meanwhile")
    session.refresh(run)
    record(session, actor, "qc_withdraw", "run", run.id, before=before,
           after={**(snapshot(run) or {}), "to_new_run": to_new,
                  "to_duplicates": to_duplicates, "held_discarded": len(held),
                  "off_reflex_worklist": off_reflex, "alerts_withdrawn": alerts},
           reason=reason)
    return Withdrawal(run_id, to_new, to_duplicates, len(held), off_reflex, alerts)
