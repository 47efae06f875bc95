"""The specimen state machine: a typed transition table and one ``apply_transition``.

States (``lims.vocabulary.SpecimenState``): a card is ``accessioned`` (or ``unsatisfactory``);
results move it to ``awaiting_review``, or to ``awaiting_duplicate`` when the initial result is
out of range and the card must be re-punched twice (docs/lims.md "Rules"), or to
``awaiting_second_tier`` when a referral group with reflex assays is flagged and no result is
past a bypass level (the second-tier run then moves it to review, docs/second_tier.md "In the
LIMS"; a repeat in review decided again so that it waits goes there too); a reviewer then
releases it (``released``),
requests a repeat specimen (``repeat_requested``) or refers the baby (``referred``); an override,
a repeat request and a referral each need a reason. A correction
moves a released specimen back to review as a new version; the old release stays visible.
Withdrawing a plate (``lims.runs.withdrawal``) moves the cards whose latest results it holds
back, from review or from waiting for the second tier: to ``accessioned`` (awaiting a new
run), or to ``awaiting_duplicate`` when the plate held their duplicates.

Every transition is checked (from-state, role, guard) and writes an audit event; an illegal one
raises ``IllegalTransitionError`` (HTTP 409) or ``PermissionDeniedError`` (HTTP 403).

``apply_transitions`` moves many specimens at once (the ingest of a plate): the same checks,
one UPDATE statement (executemany) and one audit insert for all of them.

The transition names are ``lims.vocabulary.Transition``; each is declared once, in
``SPECIMEN_TRANSITIONS``.

A refusal a person meets (a card not in a state the transition starts from, a missing reason)
is written with a phrase of ``TRANSITION_REFUSALS`` (``msms.phrases``), so that the pages show
it in their language.

Public names: ``Move``, ``SPECIMEN_TRANSITIONS``, ``TRANSITIONS_BY_NAME``,
``TRANSITION_REFUSALS``, ``apply_transition``, ``apply_transitions``, ``allowed_transitions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from lims.audit import Actor, AuditEntry, record, record_many
from lims.errors import IllegalTransitionError, InvalidInputError, PermissionDeniedError
from lims.models import Specimen, utcnow
from lims.vocabulary import Role, SpecimenState, Transition
from msms.phrases import Phrasebook

__all__ = [
    "SPECIMEN_TRANSITIONS",
    "TRANSITIONS_BY_NAME",
    "TRANSITION_REFUSALS",
    "Move",
    "allowed_transitions",
    "apply_transition",
    "apply_transitions",
]

Guard = Callable[[Specimen, str], str | None]

#: Why a card's transition was refused: ``states`` are joined with `` or ``.
TRANSITION_REFUSALS = Phrasebook((
    ("not_from", "specimen {barcode} is {state}; {transition} needs {states}"),
    ("reason_required", "a reason is required"),
), fields={"barcode": r"\S+", "state": r"\w+", "transition": r"\w+",
           "states": r"\w+(?: or \w+)*"})


def _needs_reason(_specimen: Specimen, reason: str) -> str | None:
    return None if reason.strip() else TRANSITION_REFUSALS.text("reason_required")


@dataclass(frozen=True, slots=True)
class Move:
    """One allowed transition: from any of ``sources`` to ``target``, by one of ``roles``."""

    name: Transition
    sources: tuple[SpecimenState, ...]
    target: SpecimenState
    roles: tuple[Role, ...]
    guard: Guard | None = None
    new_version: bool = False


_LAB = (Role.technician, Role.admin)
_REVIEW = (Role.reviewer, Role.admin)
_S = SpecimenState
_T = Transition

SPECIMEN_TRANSITIONS: tuple[Move, ...] = (
    Move(_T.mark_unsatisfactory, (_S.accessioned,), _S.unsatisfactory, _LAB),
    Move(_T.record_results, (_S.accessioned,), _S.awaiting_review, _LAB),
    Move(_T.request_duplicate, (_S.accessioned,), _S.awaiting_duplicate, _LAB),
    Move(_T.record_duplicates, (_S.awaiting_duplicate,), _S.awaiting_review, _LAB),
    # from review: a repeat decided again that now waits for a reflex assay (lims.reflex.late)
    Move(_T.request_second_tier, (_S.accessioned, _S.awaiting_duplicate, _S.awaiting_review),
         _S.awaiting_second_tier, _LAB),
    Move(_T.record_second_tier, (_S.awaiting_second_tier,), _S.awaiting_review, _LAB),
    # a reviewer does not wait for the second tier (lims.reflex.skip): signed, with a reason
    Move(_T.skip_second_tier, (_S.awaiting_second_tier,), _S.awaiting_review, _REVIEW,
         _needs_reason),
    Move(_T.release_normal, (_S.awaiting_review,), _S.released, _REVIEW),
    Move(_T.override, (_S.awaiting_review,), _S.released, _REVIEW, _needs_reason),
    Move(_T.request_repeat_specimen, (_S.awaiting_review,), _S.repeat_requested, _REVIEW,
         _needs_reason),
    Move(_T.refer, (_S.awaiting_review,), _S.referred, _REVIEW, _needs_reason),
    Move(_T.correct, (_S.released, _S.repeat_requested, _S.referred), _S.awaiting_review,
         _REVIEW, _needs_reason, new_version=True),
    # a plate withdrawn (lims.runs.withdrawal): its unreleased results no longer count
    Move(_T.withdraw_results, (_S.awaiting_review, _S.awaiting_duplicate,
                               _S.awaiting_second_tier), _S.accessioned, _LAB, _needs_reason),
    Move(_T.withdraw_duplicates, (_S.awaiting_review, _S.awaiting_second_tier),
         _S.awaiting_duplicate, _LAB, _needs_reason),
)
TRANSITIONS_BY_NAME: dict[str, Move] = {t.name: t for t in SPECIMEN_TRANSITIONS}


def allowed_transitions(state: str, role: str) -> list[Transition]:
    """The transitions ``role`` may apply from ``state``."""
    return [t.name for t in SPECIMEN_TRANSITIONS if state in t.sources and role in t.roles]


def _checked(actor: Actor, specimen: Specimen, name: str, reason: str) -> Move:
    transition = TRANSITIONS_BY_NAME.get(name)
    if transition is None:
        raise InvalidInputError(f"unknown transition {name!r}", field="transition")
    if actor.role not in transition.roles:
        raise PermissionDeniedError(f"role {actor.role} may not {name}")
    if specimen.state not in transition.sources:
        raise IllegalTransitionError(TRANSITION_REFUSALS.text(
            "not_from", barcode=specimen.barcode, state=specimen.state, transition=name,
            states=" or ".join(transition.sources)))
    if transition.guard is not None:
        problem = transition.guard(specimen, reason)
        if problem:
            raise InvalidInputError(problem, field="reason")
    return transition


def apply_transition(session: Session, actor: Actor, specimen: Specimen, name: str, *,
                     reason: str = "") -> Specimen:
    """Move ``specimen`` along transition ``name`` and audit it (the caller commits)."""
    transition = _checked(actor, specimen, name, reason)
    before = {"state": specimen.state, "version": specimen.version}
    specimen.state = transition.target
    if transition.new_version:
        specimen.version += 1
    specimen.updated_at = utcnow()
    session.add(specimen)
    record(session, actor, name, "specimen", specimen.id, infant_id=specimen.infant_id,
           before=before, after={"state": specimen.state, "version": specimen.version},
           reason=reason)
    return specimen


def apply_transitions(session: Session, actor: Actor,
                      moves: Sequence[tuple[Specimen, str, str]], *,
                      also: Mapping[int, Mapping[str, Any]] | None = None) -> None:
    """Apply ``(specimen, transition name, reason)`` moves in bulk (the caller commits).

    Every move is checked first as ``apply_transition`` checks it (nothing is written if one is
    illegal); then one UPDATE per set of columns (executemany) and one audit insert. ``also``
    gives, per specimen id, other columns to set in the same UPDATE (e.g. ``flagged``). The
    specimen objects are updated to match, without a flush of their own.
    """
    checked = [(specimen, _checked(actor, specimen, name, reason), reason)
               for specimen, name, reason in moves]
    now = utcnow()
    table = Specimen.__table__  # type: ignore[attr-defined]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    entries = []
    for specimen, transition, reason in checked:
        assert specimen.id is not None
        version = specimen.version + (1 if transition.new_version else 0)
        values = {"state": transition.target, "version": version, "updated_at": now,
                  **(also or {}).get(specimen.id, {})}
        groups.setdefault(tuple(sorted(values)), []).append(
            {"b_id": specimen.id, **{f"v_{k}": v for k, v in values.items()}})
        entries.append(AuditEntry(
            transition.name, "specimen", specimen.id, infant_id=specimen.infant_id,
            before={"state": specimen.state, "version": specimen.version},
            after={"state": transition.target, "version": version}, reason=reason))
        for key, value in values.items():
            set_committed_value(specimen, key, value)
    for columns, params in groups.items():
        statement = (update(table).where(table.c.id == bindparam("b_id"))
                     .values({c: bindparam(f"v_{c}") for c in columns}))
        session.execute(statement, params)
    record_many(session, actor, entries)
