"""The follow-up case state machine: a typed transition table, guards, and one entry point,
``apply_case_transition``, that checks, moves, stamps the step's date, sets what is due next and
writes the audit event.

States (``lims.vocabulary.CaseState``): ``opened -> contacted -> repeat_received | referred
-> diagnosed -> treatment -> long_term_follow_up -> closed``; a normal repeat closes a case from
``repeat_received`` (outcome ``normal_repeat``, only once a later card of the baby was released
normal: else 409); a case whose family cannot be found, has moved,
declined or whose baby died is diagnosed with that outcome from any earlier state; a case
diagnosed as not confirmed is closed without treatment. An illegal transition raises
``CaseTransitionError`` (HTTP 409) naming the transitions allowed from the case's state; a role
that may not apply it, ``PermissionDeniedError`` (403); a guard's refusal,
``InvalidInputError`` (422) naming the field. Each refusal is written with a phrase of
``CASE_REFUSALS`` (``msms.phrases``), so that the pages show it in their language.

A move's ``ready`` check reads only the case and what the service finds in its records (a
later card released normal); ``ready_case_transitions`` gives the moves whose check holds, so
that the pages offer only the forms that can succeed.

Public names: ``CaseMove``, ``CASE_REFUSALS``, ``CASE_TRANSITIONS``,
``CASE_TRANSITIONS_BY_NAME``, ``CaseTransitionError``, ``NO_DIAGNOSIS``,
``allowed_case_transitions``, ``ready_case_transitions``, ``check_case_transition``,
``apply_case_transition``, ``due_for``, ``case_facts``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from lims.audit import Actor, store
from lims.errors import (
    ConflictError,
    IllegalTransitionError,
    InvalidInputError,
    PermissionDeniedError,
)
from lims.followup.rules import CaseFacts, FollowUpRules, followup_rules
from lims.models import FollowUpCase, utcnow
from lims.vocabulary import CaseState, CaseTransition, OutcomeClass, Role, Severity
from msms.phrases import Phrasebook

__all__ = ["CASE_REFUSALS", "CASE_TRANSITIONS", "CASE_TRANSITIONS_BY_NAME", "NO_DIAGNOSIS",
           "CaseMove", "CaseTransitionError", "allowed_case_transitions", "apply_case_transition",
           "case_facts", "check_case_transition", "due_for", "ready_case_transitions"]

Details = Mapping[str, Any]
CaseGuard = Callable[[FollowUpCase, Details], tuple[str, str] | None]

#: Outcomes that end a case without a diagnosis: allowed from any state before a diagnosis.
NO_DIAGNOSIS: tuple[OutcomeClass, ...] = (
    OutcomeClass.lost_to_follow_up, OutcomeClass.deceased, OutcomeClass.moved,
    OutcomeClass.declined)

#: Why a case's transition or a case form was refused: ``states`` are joined with `` or ``,
#: ``transitions``, ``outcomes`` and ``severities`` with ``, ``.
CASE_REFUSALS = Phrasebook((
    ("not_from_closed", "case {case} is {state}; {transition} needs {states}. Allowed from "
                        "{source}: none (the case is closed)"),
    ("not_from", "case {case} is {state}; {transition} needs {states}. Allowed from {source}: "
                 "{transitions}"),
    ("needs_clinic", "name the clinic"),
    ("outcome_required", "an outcome class is required (normal_repeat is recorded by closing "
                         "the case on a normal repeat)"),
    ("disorder_required", "a confirmed diagnosis names the disorder found"),
    ("not_referred", "a case not referred for evaluation can only end as {outcomes}; refer it "
                     "to a clinic first"),
    ("severity_required", "a confirmed diagnosis gives the case's severity: {severities}"),
    ("severity_not_confirmed", "a severity is given only with a confirmed disorder, not with "
                               "{outcome}"),
    #: closing as not confirmed before a later card of the baby was released normal
    ("repeat_not_normal_yet",
     "case {case} cannot be closed as not confirmed yet: that needs a released normal result "
     "on a later card of the baby, and none is released yet (the repeat card is still to be "
     "tested and released)"),
    ("treatment_needs_confirmed", "treatment follows a confirmed diagnosis, not {outcome}"),
    ("confirmed_not_closed", "a confirmed case is closed after treatment and follow-up"),
    ("reason_to_end", "say why long-term follow-up ends"),
    ("case_closed", "case {case} is closed"),
    ("describe_treatment", "describe the treatment"),
    ("who_was_reached", "say who was reached (contacted): the contact is logged"),
    ("name_repeat_card", "name the repeat card: give its barcode"),
    ("no_such_card", "no card with barcode {barcode} is accessioned"),
    ("card_of_another_baby", "card {barcode} belongs to another baby's record; a repeat card is "
                             "accessioned naming the earlier card's barcode"),
    ("card_of_the_case", "card {barcode} is the card this case was opened on"),
), fields={"case": r"\d+", "state": r"\w+", "source": r"\w+", "transition": r"\w+",
           "outcome": r"\w+", "states": r"\w+(?: or \w+)*", "transitions": r"\w+(?:, \w+)*",
           "outcomes": r"\w+(?:, \w+)*", "severities": r"\w+(?:, \w+)*"})


class CaseTransitionError(IllegalTransitionError):
    """A case transition not allowed from the case's state; ``allowed`` names those that are."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        self.allowed = allowed
        super().__init__(message)


def _needs_clinic(_case: FollowUpCase, details: Details) -> tuple[str, str] | None:
    return None if details.get("clinic_id") else (CASE_REFUSALS.text("needs_clinic"),
                                                  "clinic_id")


def _diagnosis(case: FollowUpCase, details: Details) -> tuple[str, str] | None:
    outcome = details.get("outcome")
    if outcome not in tuple(OutcomeClass) or outcome == OutcomeClass.normal_repeat:
        return CASE_REFUSALS.text("outcome_required"), "outcome"
    if outcome == OutcomeClass.confirmed and not details.get("disorder"):
        return CASE_REFUSALS.text("disorder_required"), "disorder"
    if case.state != CaseState.referred and outcome not in NO_DIAGNOSIS:
        return CASE_REFUSALS.text("not_referred", outcomes=", ".join(NO_DIAGNOSIS)), "outcome"
    severity = details.get("severity")
    if outcome == OutcomeClass.confirmed and severity not in tuple(Severity):
        return (CASE_REFUSALS.text("severity_required", severities=", ".join(Severity)),
                "severity")
    if outcome != OutcomeClass.confirmed and severity:
        return CASE_REFUSALS.text("severity_not_confirmed", outcome=outcome), "severity"
    return None


def _normal_repeat(case: FollowUpCase, details: Details) -> tuple[str, str] | None:
    """Not confirmed on a normal repeat: a later card of the baby was released normal
    (``normal_card``, its barcode, found by the caller)."""
    if details.get("normal_card"):
        return None
    return CASE_REFUSALS.text("repeat_not_normal_yet", case=case.id), "normal_card"


def _confirmed(case: FollowUpCase, _details: Details) -> tuple[str, str] | None:
    if case.outcome == OutcomeClass.confirmed:
        return None
    return CASE_REFUSALS.text("treatment_needs_confirmed", outcome=case.outcome), "outcome"


def _not_confirmed_yet_untreated(case: FollowUpCase,
                                 _details: Details) -> tuple[str, str] | None:
    if case.state == CaseState.diagnosed and case.outcome == OutcomeClass.confirmed:
        return CASE_REFUSALS.text("confirmed_not_closed"), "state"
    return None


def _why_follow_up_ends(case: FollowUpCase, details: Details) -> tuple[str, str] | None:
    if case.state == CaseState.long_term_follow_up and not str(
            details.get("reason", "")).strip():
        return CASE_REFUSALS.text("reason_to_end"), "reason"
    return None


@dataclass(frozen=True, slots=True)
class CaseMove:
    """One allowed move: from any of ``sources`` to ``target`` by one of ``roles``; ``stamp``
    is the case's date column the move sets (first time only)."""

    name: CaseTransition
    sources: tuple[CaseState, ...]
    target: CaseState
    roles: tuple[Role, ...]
    #: checks what the request gives (a clinic, an outcome, a reason)
    guard: CaseGuard | None = None
    stamp: str | None = None
    #: the guard's or ``ready``'s refusal is a conflict with what is stored (409), not a bad
    #: input (422)
    guard_conflicts: bool = False
    #: checks the case and the facts the service reads from its records (``normal_card``),
    #: whatever the request gives: before the guard, and when the pages choose which forms
    #: to offer (``ready_case_transitions``)
    ready: CaseGuard | None = None


_S, _T, _R = CaseState, CaseTransition, Role
_FU = (_R.follow_up, _R.admin)
_CLINIC = (_R.clinic, _R.follow_up, _R.admin)
_BEFORE_DIAGNOSIS = (_S.opened, _S.contacted, _S.repeat_received, _S.referred)

CASE_TRANSITIONS: tuple[CaseMove, ...] = (
    CaseMove(_T.contact, (_S.opened,), _S.contacted, _FU, stamp="first_contact_at"),
    CaseMove(_T.receive_repeat, (_S.opened, _S.contacted), _S.repeat_received,
             (_R.technician, *_FU), stamp="repeat_received_at"),
    CaseMove(_T.refer, (_S.contacted, _S.repeat_received), _S.referred, _FU, _needs_clinic,
             stamp="referred_at"),
    CaseMove(_T.diagnose, _BEFORE_DIAGNOSIS, _S.diagnosed, _CLINIC, _diagnosis,
             stamp="diagnosed_at"),
    CaseMove(_T.close_not_confirmed, (_S.repeat_received,), _S.closed,
             (_R.reviewer, *_FU), stamp="closed_at", guard_conflicts=True,
             ready=_normal_repeat),
    CaseMove(_T.start_treatment, (_S.diagnosed,), _S.treatment, _CLINIC,
             stamp="treatment_started_at", ready=_confirmed),
    CaseMove(_T.start_long_term_follow_up, (_S.treatment,), _S.long_term_follow_up, _CLINIC),
    CaseMove(_T.close, (_S.diagnosed, _S.long_term_follow_up), _S.closed, _FU,
             _why_follow_up_ends, stamp="closed_at", ready=_not_confirmed_yet_untreated),
)
CASE_TRANSITIONS_BY_NAME: dict[str, CaseMove] = {t.name: t for t in CASE_TRANSITIONS}


def allowed_case_transitions(state: str, role: str | None = None) -> list[CaseTransition]:
    """The transitions from ``state`` (that ``role`` may apply, when given)."""
    return [t.name for t in CASE_TRANSITIONS
            if state in t.sources and (role is None or role in t.roles)]


def ready_case_transitions(case: FollowUpCase, role: str,
                           facts: Details) -> list[CaseTransition]:
    """The transitions ``role`` may apply to ``case`` now: allowed from its state and ready
    on the case and ``facts`` (what the service reads from the records, as it gives them to
    ``check_case_transition``); the request's own input is checked when one is applied."""
    return [t.name for t in CASE_TRANSITIONS
            if case.state in t.sources and role in t.roles
            and (t.ready is None or t.ready(case, facts) is None)]


def case_facts(case: FollowUpCase) -> CaseFacts:
    """What the due-date rules look at."""
    disorders = tuple(case.suspected or ()) + (
        (case.diagnosed_disorder,) if case.diagnosed_disorder else ())
    return CaseFacts(state=case.state, reason=case.reason, time_critical=case.time_critical,
                     disorders=disorders, group=case.referral_group, outcome=case.outcome)


def due_for(case: FollowUpCase, entered_at: datetime, *,
            last_visits: Mapping[str, datetime] | None = None,
            rules: FollowUpRules | None = None) -> tuple[str, datetime | None]:
    """What is due next on ``case`` (in the state it entered at ``entered_at``) and by when:
    the first due row that applies, or in long-term follow-up the earliest next visit of the
    disorder's schedule (each kind counted from its last visit, else from ``entered_at``)."""
    rules = rules or followup_rules()
    if case.state == CaseState.long_term_follow_up:
        schedule = rules.visit_schedule(case.diagnosed_disorder, case.referral_group)
        visits = last_visits or {}
        if not schedule:
            return "", None
        kind, due = min(((k, visits.get(k, entered_at) + timedelta(days=d))
                         for k, d in schedule.items()), key=lambda item: item[1])
        return f"visit:{kind}", due
    rule = rules.due_rule(case_facts(case))
    if rule is None:
        return "", None
    return rule.action, entered_at + timedelta(hours=rule.hours)


def check_case_transition(actor: Actor, case: FollowUpCase, name: str,
                          details: Details) -> CaseMove:
    """The move ``name`` if ``actor`` may apply it to ``case`` now (else the typed error)."""
    move = CASE_TRANSITIONS_BY_NAME.get(name)
    if move is None:
        raise InvalidInputError(f"unknown case transition {name!r}; one of "
                                f"{', '.join(CaseTransition)}", field="transition")
    if actor.role not in move.roles:
        raise PermissionDeniedError(f"role {actor.role} may not {name} a case; needs "
                                    f"{' or '.join(move.roles)}")
    if case.state not in move.sources:
        allowed = [str(t) for t in allowed_case_transitions(case.state)]
        raise CaseTransitionError(CASE_REFUSALS.text(
            "not_from" if allowed else "not_from_closed", case=case.id, state=case.state,
            transition=name, states=" or ".join(move.sources), source=case.state,
            transitions=", ".join(allowed)), allowed)
    for check in (move.ready, move.guard):
        problem = None if check is None else check(case, details)
        if problem and move.guard_conflicts:
            raise ConflictError(problem[0])
        if problem:
            raise InvalidInputError(problem[0], field=problem[1])
    return move


def apply_case_transition(session: Session, actor: Actor, case: FollowUpCase, name: str, *,
                          details: Details | None = None, at: datetime | None = None,
                          reason: str = "",
                          last_visits: Mapping[str, datetime] | None = None) -> FollowUpCase:
    """Move ``case`` along transition ``name`` at ``at`` (default now), set what is due next,
    and audit it with the state and due date before and after (the caller commits)."""
    details = {**(details or {}), "reason": reason}
    move = check_case_transition(actor, case, name, details)
    at = at or utcnow()
    before = {"state": case.state, "due_action": case.due_action,
              "due_at": case.due_at.isoformat() if case.due_at else None}
    case.state = move.target
    if move.stamp is not None and getattr(case, move.stamp) is None:
        setattr(case, move.stamp, at)
    case.due_action, case.due_at = due_for(case, at, last_visits=last_visits)
    case.updated_at = utcnow()
    return store(session, actor, name, "followup_case", case, infant_id=case.infant_id,
                 before=before,
                 after={"state": case.state, "due_action": case.due_action,
                        "due_at": case.due_at.isoformat() if case.due_at else None,
                        **{k: _plain(v) for k, v in details.items()
                           if k != "reason" and v is not None}},
                 reason=reason)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
