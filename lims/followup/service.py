"""Follow-up cases: opened when a result is released with a referral or a repeat request or a
card is unsatisfactory (in the same transaction), or by hand; updated when the baby's next card
arrives, when that card's result is released and when a second-tier result comes; moved through
the case state machine (``lims.followup.machine``) by follow-up staff and clinics; reminded when
overdue (an alert, escalated as alerts are, ``lims.alerts``).

Scope: ``follow_up``, ``reviewer``, ``technician`` and ``admin`` see every case; a ``clinic``
user only the cases referred to its clinic; a ``submitter`` user only its own babies' cases,
as status (``CasePublic``). Anything else is "not found". Every read of a case is audited.

Public names: ``on_release``, ``on_released_normal``, ``on_unsatisfactory``,
``on_card_accessioned``, ``record_second_tier``, ``open_case``, ``record_contact``,
``link_repeat_specimen``, ``transition``, ``ready_transitions``, ``record_visit``,
``get_case``, ``case_detail``,
``list_cases``, ``overdue_cases``, ``remind_overdue``, ``create_clinic``,
``list_clinics``, ``assign_clinic_user``, ``grant_director``, ``referral_group``, ``catalogue``,
``clinic_scope``, ``clinic_sees_infant``, ``clinic_sees_card``, ``submitter_scope``,
``is_director``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from lims.accession.repository import specimen_by_barcode
from lims.alerts.messages import ALERT_MESSAGES
from lims.alerts.service import open_alert
from lims.audit import Actor, record, record_list_read, snapshot, store
from lims.errors import ConflictError, InvalidInputError, NotFoundError, found
from lims.followup import repository
from lims.followup.machine import (
    CASE_REFUSALS,
    apply_case_transition,
    check_case_transition,
    due_for,
    ready_case_transitions,
)
from lims.followup.schemas import (
    CaseCreate,
    CaseDetail,
    CasePublic,
    ClinicCreate,
    ContactIn,
    ContactPublic,
    DiagnosisPublic,
    SecondTierUpdate,
    TransitionIn,
    TreatmentPublic,
    VisitIn,
    VisitPublic,
)
from lims.models import (
    Clinic,
    ClinicUser,
    ContactAttempt,
    Diagnosis,
    Director,
    Evaluation,
    FollowUpCase,
    FollowUpVisit,
    Infant,
    Specimen,
    Treatment,
    User,
    utcnow,
)
from lims.vocabulary import (
    CaseReason,
    CaseState,
    CaseTransition,
    ContactMethod,
    ContactResult,
    Decision,
    Final,
    FirstTier,
    OutcomeClass,
    ReleaseOutcome,
    Role,
)
from msms.catalogue import Disorder, disorders

__all__ = ["UNSATISFACTORY_GROUP", "UNSPECIFIED_GROUP", "assign_clinic_user", "case_detail",
           "catalogue", "clinic_scope", "clinic_sees_card", "clinic_sees_infant",
           "create_clinic", "get_case",
           "grant_director", "is_director", "link_repeat_specimen", "list_cases",
           "list_clinics",
           "on_card_accessioned", "on_release", "on_released_normal", "on_unsatisfactory",
           "open_case", "overdue_cases", "ready_transitions", "record_contact",
           "record_second_tier",
           "record_visit", "referral_group", "remind_overdue", "submitter_scope",
           "transition"]

#: The referral group of an unsatisfactory card (no disorder is suspected).
UNSATISFACTORY_GROUP = "unsatisfactory"
#: The referral group of a case whose calls name no disorder of the catalogue.
UNSPECIFIED_GROUP = "unspecified"
#: How far ahead of the clock a recorded time may be (clocks differ a little).
_SKEW = timedelta(minutes=5)
_REASON_RANK = {CaseReason.referral: 3, CaseReason.repeat_specimen: 2,
                CaseReason.unsatisfactory: 1, CaseReason.manual: 0}


def catalogue() -> dict[str, Disorder]:
    return {d.code: d for d in disorders()}


def referral_group(disorder: str) -> str:
    """A disorder's referral group: its category in the disorder catalogue."""
    found = catalogue().get(disorder)
    return found.category if found is not None else UNSPECIFIED_GROUP


def clinic_scope(session: Session, actor: Actor) -> int | None:
    """The clinic a clinic user is limited to (-1: none assigned, so it sees nothing)."""
    if actor.role != Role.clinic:
        return None
    return repository.clinic_of_user(session, actor.user_id) or -1


def clinic_sees_infant(session: Session, actor: Actor, infant_id: int) -> bool:
    """Whether a clinic user's clinic has one of the baby's cases (other roles: True)."""
    clinic = clinic_scope(session, actor)
    return clinic is None or repository.clinic_has_infant(session, clinic, infant_id)


def clinic_sees_card(session: Session, actor: Actor, specimen_id: int) -> bool:
    """Whether a clinic user's clinic has a case on this card (its own or its repeat card);
    other roles: True."""
    clinic = clinic_scope(session, actor)
    return clinic is None or repository.clinic_has_card(session, clinic, specimen_id)


def submitter_scope(actor: Actor) -> int | None:
    """The submitter a submitter user is limited to (None: not a submitter user)."""
    return actor.submitter_id if actor.role == Role.submitter else None


# ---- opening and updating cases (hooks of release, accessioning and the second tier) --------


def _open(session: Session, actor: Actor, specimen: Specimen, group: str, reason: CaseReason,
          suspected: list[str], time_critical: bool, note: str = "") -> FollowUpCase:
    """A new case, or the baby's open case of this group updated (suspected disorders added,
    the stronger reason kept), with what is due."""
    assert specimen.id is not None
    existing = next((c for c in repository.open_cases_of_infant(session, specimen.infant_id)
                     if c.referral_group == group), None)
    now = utcnow()
    if existing is not None:
        before = snapshot(existing)
        merged = list(dict.fromkeys([*(existing.suspected or []), *suspected]))
        existing.suspected = merged
        existing.time_critical = existing.time_critical or time_critical
        if _REASON_RANK[reason] > _REASON_RANK[CaseReason(existing.reason)]:
            existing.reason = reason
        existing.due_action, existing.due_at = due_for(existing, now)
        existing.updated_at = now
        return store(session, actor, "update", "followup_case", existing,
                     infant_id=existing.infant_id, before=before,
                     reason=f"card {specimen.barcode}: {reason}")
    case = FollowUpCase(infant_id=specimen.infant_id, submitter_id=specimen.submitter_id,
                        specimen_id=specimen.id, referral_group=group, reason=reason,
                        suspected=suspected, time_critical=time_critical,
                        state=CaseState.opened, opened_at=now, updated_at=now, note=note)
    case.due_action, case.due_at = due_for(case, now)
    return store(session, actor, "open", "followup_case", case, infant_id=case.infant_id,
                 reason=f"card {specimen.barcode}: {reason}")


def _groups(calls: Sequence[Evaluation]) -> dict[str, tuple[list[str], bool]]:
    """Suspected disorders and time-criticality per referral group: the calls that stand
    (final not negative), else those flagged by the first tier."""
    chosen = [c for c in calls if c.final != Final.negative] or [
        c for c in calls if c.first_tier not in (FirstTier.normal, FirstTier.not_evaluable)]
    groups: dict[str, tuple[list[str], bool]] = {}
    for call in chosen:
        codes, critical = groups.get(referral_group(call.disorder), ([], False))
        if call.disorder not in codes:
            codes.append(call.disorder)
        groups[referral_group(call.disorder)] = (codes, critical or bool(call.time_critical))
    return groups or {UNSPECIFIED_GROUP: ([], False)}


def on_release(session: Session, actor: Actor, specimen: Specimen, decision: Decision,
               calls: Sequence[Evaluation]) -> list[FollowUpCase]:
    """After a release: a referral or a repeat request opens (or updates) the baby's case of
    each referral group the calls suspect; a normal result closes the cases waiting on this
    card as a repeat (``on_released_normal``)."""
    if decision in (Decision.release_normal, Decision.override):
        return on_released_normal(session, actor, [specimen])
    reason = (CaseReason.referral if decision == Decision.refer
              else CaseReason.repeat_specimen)
    return [_open(session, actor, specimen, group, reason, codes, critical)
            for group, (codes, critical) in _groups(calls).items()]


def on_released_normal(session: Session, actor: Actor,
                       specimens: Sequence[Specimen]) -> list[FollowUpCase]:
    """A repeat card released as normal closes the cases waiting on it: not confirmed
    (outcome ``normal_repeat``)."""
    closed = []
    barcodes = {s.id: s.barcode for s in specimens if s.id is not None}
    for case in repository.cases_of_repeat_specimens(session, list(barcodes)):
        case.outcome = OutcomeClass.normal_repeat
        closed.append(apply_case_transition(
            session, actor, case, CaseTransition.close_not_confirmed,
            details={"outcome": OutcomeClass.normal_repeat,
                     "normal_card": barcodes[case.repeat_specimen_id or 0]},
            reason="the repeat specimen was normal: not confirmed"))
    return closed


def on_unsatisfactory(session: Session, actor: Actor, specimen: Specimen,
                      reason: str) -> FollowUpCase:
    """An unsatisfactory card opens (or updates) the baby's unsatisfactory-specimen case."""
    return _open(session, actor, specimen, UNSATISFACTORY_GROUP, CaseReason.unsatisfactory,
                 [], False, note=reason[:1000])


def on_card_accessioned(session: Session, actor: Actor, specimen: Specimen) -> list[
        FollowUpCase]:
    """The baby's next card: every case of the baby waiting for one receives it."""
    if specimen.id is None:
        return []
    moved = []
    for case in repository.cases_awaiting_repeat(session, specimen.infant_id):
        if case.specimen_id == specimen.id:
            continue
        case.repeat_specimen_id = specimen.id
        moved.append(apply_case_transition(
            session, actor, case, CaseTransition.receive_repeat,
            details={"repeat_specimen_id": specimen.id}, at=specimen.received_at,
            reason=f"card {specimen.barcode} received"))
    return moved


def record_second_tier(session: Session, actor: Actor, specimen_id: int,
                       results: Sequence[SecondTierUpdate]) -> list[FollowUpCase]:
    """Record a card's second-tier results on the baby's open cases of the disorders' groups
    (``second_tier`` per disorder: probability, decision, reason code, model version); a
    ``referral`` decision makes the case a referral. Audited per case."""
    specimen = found(session.get(Specimen, specimen_id), f"specimen {specimen_id}")
    by_group: dict[str, list[SecondTierUpdate]] = {}
    for result in results:
        by_group.setdefault(referral_group(result.disorder), []).append(result)
    updated = []
    for case in repository.open_cases_of_infant(session, specimen.infant_id):
        mine = by_group.get(case.referral_group)
        if not mine:
            continue
        before = {"second_tier": case.second_tier, "reason": case.reason}
        case.second_tier = {**(case.second_tier or {}),
                            **{r.disorder: r.model_dump(exclude={"disorder"}) for r in mine}}
        if any(r.decision == "referral" for r in mine):
            case.reason = CaseReason.referral
            case.due_action, case.due_at = due_for(case, utcnow())
        case.suspected = list(dict.fromkeys([*(case.suspected or []),
                                             *(r.disorder for r in mine)]))
        case.updated_at = utcnow()
        updated.append(store(session, actor, "second_tier", "followup_case", case,
                             infant_id=case.infant_id, before=before,
                             after={"second_tier": case.second_tier, "reason": case.reason}))
    return updated


def open_case(session: Session, actor: Actor, data: CaseCreate) -> FollowUpCase:
    """Open a case by hand for the baby of a card (suspected disorders of one group)."""
    specimen = found(session.get(Specimen, data.specimen_id), f"specimen {data.specimen_id}")
    known = catalogue()
    unknown = [d for d in data.suspected if d not in known]
    if unknown:
        raise InvalidInputError(f"{unknown[0]!r} is not a catalogue disorder code",
                                field="suspected")
    groups = {known[d].category for d in data.suspected}
    if len(groups) > 1:
        raise InvalidInputError(f"the disorders belong to several referral groups "
                                f"({', '.join(sorted(groups))}); open one case per group",
                                field="suspected")
    critical = any(known[d].time_critical for d in data.suspected)
    return _open(session, actor, specimen, groups.pop(), CaseReason.manual,
                 list(dict.fromkeys(data.suspected)), critical, note=data.note)


# ---- reading cases ---------------------------------------------------------------------------


def get_case(session: Session, actor: Actor, case_id: int, *, audit: bool = True) -> (
        FollowUpCase):
    """A case in the actor's scope (else "not found"); the read is audited."""
    case = session.get(FollowUpCase, case_id)
    submitter = submitter_scope(actor)
    clinic = clinic_scope(session, actor)
    if (case is None or (submitter is not None and case.submitter_id != submitter)
            or (clinic is not None and case.clinic_id != clinic)):
        raise NotFoundError(f"case {case_id} not found")
    if audit:
        record(session, actor, "read", "followup_case", case_id, infant_id=case.infant_id)
    return case


def case_detail(session: Session, actor: Actor, case_id: int) -> CaseDetail | CasePublic:
    """A case with its contacts, diagnoses, treatments, visits and the transitions the actor
    may apply; a submitter gets the status only."""
    case = get_case(session, actor, case_id)
    if actor.role == Role.submitter:
        return CasePublic.model_validate(case)
    return CaseDetail(
        **CasePublic.model_validate(case).model_dump(),
        first_contact_at=case.first_contact_at, repeat_specimen_id=case.repeat_specimen_id,
        repeat_received_at=case.repeat_received_at, referred_at=case.referred_at,
        diagnosed_at=case.diagnosed_at, treatment_started_at=case.treatment_started_at,
        second_tier=case.second_tier, note=case.note,
        contacts=[ContactPublic.model_validate(c) for c in repository.contacts(session,
                                                                               case_id)],
        diagnoses=[DiagnosisPublic.model_validate(d)
                   for d in repository.diagnoses(session, case_id)],
        treatments=[TreatmentPublic.model_validate(t)
                    for t in repository.treatments(session, case_id)],
        visits=[VisitPublic.model_validate(v) for v in repository.visits(session, case_id)],
        allowed_transitions=ready_case_transitions(case, actor.role,
                                                   _record_facts(session, case)))


def list_cases(session: Session, actor: Actor, *, state: str | None = None,
               infant_id: int | None = None, limit: int = 100,
               offset: int = 0) -> list[dict[str, Any]]:
    """Cases in the actor's scope, newest first; the read is one audit event."""
    rows = repository.case_rows(session, submitter_id=submitter_scope(actor),
                                clinic_id=clinic_scope(session, actor), state=state,
                                infant_id=infant_id, limit=limit, offset=offset)
    record_list_read(session, actor, "followup_case", [r["id"] for r in rows],
                     (r["infant_id"] for r in rows),
                     filters={"state": state, "infant_id": infant_id, "limit": limit,
                              "offset": offset})
    return rows


def overdue_cases(session: Session, actor: Actor, *, now: datetime | None = None,
                  limit: int = 200) -> list[dict[str, Any]]:
    """The overdue worklist: open cases in the actor's scope past their due date, most
    overdue first; the read is one audit event."""
    rows = repository.overdue_rows(session, now or utcnow(),
                                   submitter_id=submitter_scope(actor),
                                   clinic_id=clinic_scope(session, actor), limit=limit)
    record_list_read(session, actor, "followup_case", [r["id"] for r in rows],
                     (r["infant_id"] for r in rows), filters={"overdue": True})
    return rows


def remind_overdue(session: Session, actor: Actor, *, now: datetime | None = None,
                   limit: int = 1000) -> list[int]:
    """Raise a reminder for every case newly overdue: an alert on the case's card (open until a
    named person acknowledges it, escalated as every alert is), once per due date. Returns the
    alerts' ids."""
    now = now or utcnow()
    alerts = []
    for row in repository.overdue_rows(session, now, limit=limit):
        if not repository.mark_reminded(session, row["id"], row["due_at"]):
            continue
        specimen = session.get(Specimen, row["specimen_id"])
        assert specimen is not None
        label = ", ".join(row["suspected"] or []) or row["referral_group"]
        alert = open_alert(
            session, actor, specimen, disorder=(row["suspected"] or [row["referral_group"]])[0],
            message=ALERT_MESSAGES.text(
                "followup_overdue", case=row["id"], label=label, due_action=row["due_action"],
                due_at=row["due_at"].isoformat(timespec="minutes")),
            evaluation_id=None)
        alerts.append(alert.id)
    return [a for a in alerts if a is not None]


# ---- working a case --------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    """A time given without a zone is UTC (the API's and the command line's convention)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _checked_at(value: datetime | None, field: str) -> datetime:
    now = utcnow()
    if value is None:
        return now
    value = _as_utc(value)
    if value > now + _SKEW:
        raise InvalidInputError(f"{value:%Y-%m-%d %H:%M} UTC lies in the future: give the time "
                                "it happened", field=field)
    return value


def _within_case(session: Session, case: FollowUpCase, value: datetime | None,
                 field: str) -> None:
    """A step's time given by hand is not before the baby's birth nor before the case was
    opened (422 naming ``field`` and the bound)."""
    if value is None:
        return
    value = _as_utc(value)
    infant = session.get(Infant, case.infant_id)
    if infant is not None and value < _as_utc(infant.birth_at):
        raise InvalidInputError(
            f"{value:%Y-%m-%d %H:%M} UTC is before the baby's birth "
            f"({_as_utc(infant.birth_at):%Y-%m-%d %H:%M} UTC)", field=field)
    if value < _as_utc(case.opened_at):
        raise InvalidInputError(
            f"{value:%Y-%m-%d %H:%M} UTC is before case {case.id} was opened "
            f"({_as_utc(case.opened_at):%Y-%m-%d %H:%M} UTC)", field=field)


def _staff_name(actor: Actor) -> str:
    return actor.username


def record_contact(session: Session, actor: Actor, case_id: int,
                   data: ContactIn) -> ContactAttempt:
    """Log a contact attempt (who, how, when, result); the first that reaches the family moves
    an opened case to contacted."""
    case = get_case(session, actor, case_id, audit=False)
    if case.state == CaseState.closed:
        raise ConflictError(CASE_REFUSALS.text("case_closed", case=case_id))
    at = _checked_at(data.at, "at")
    _within_case(session, case, data.at, "at")
    attempt = ContactAttempt(case_id=case_id, at=at, method=data.method,
                             contacted=data.contacted, result=data.result, note=data.note,
                             recorded_by=actor.user_id, recorded_by_name=_staff_name(actor))
    store(session, actor, "contact_attempt", "followup_case", attempt, entity_id=case_id,
          infant_id=case.infant_id, reason=data.note)
    if data.result == ContactResult.reached and case.state == CaseState.opened:
        apply_case_transition(session, actor, case, CaseTransition.contact, at=at,
                              details={"contacted": data.contacted, "method": data.method})
    return attempt


def link_repeat_specimen(session: Session, actor: Actor, case_id: int,
                         barcode: str) -> FollowUpCase:
    """Record the baby's repeat card on a case waiting for one (by its barcode): the case
    receives it at the card's receipt time, as when the card is accessioned naming the earlier
    one. A card already released normal closes the case as not confirmed at once."""
    case = get_case(session, actor, case_id, audit=False)
    barcode = barcode.strip()
    specimen = specimen_by_barcode(session, barcode) if barcode else None
    if specimen is None or specimen.id is None:
        raise InvalidInputError(CASE_REFUSALS.text("no_such_card", barcode=repr(barcode)),
                                field="barcode")
    if specimen.infant_id != case.infant_id:
        raise InvalidInputError(CASE_REFUSALS.text("card_of_another_baby", barcode=barcode),
                                field="barcode")
    if specimen.id == case.specimen_id:
        raise InvalidInputError(CASE_REFUSALS.text("card_of_the_case", barcode=barcode),
                                field="barcode")
    check_case_transition(actor, case, CaseTransition.receive_repeat, {})
    case.repeat_specimen_id = specimen.id
    apply_case_transition(session, actor, case, CaseTransition.receive_repeat,
                          details={"repeat_specimen_id": specimen.id},
                          at=_checked_at(specimen.received_at, "barcode"),
                          reason=f"card {barcode} recorded as the repeat")
    latest = repository.releases_of(session, [specimen.id])
    if latest and latest[-1].outcome in (ReleaseOutcome.normal,
                                         ReleaseOutcome.normal_by_override):
        on_released_normal(session, actor, [specimen])
    return case


def _effects(session: Session, actor: Actor, case: FollowUpCase, body: TransitionIn,
             at: datetime, normal_card: str | None) -> dict[str, Any]:
    """What a transition records besides the move: the clinic and appointment of a referral,
    the diagnosis row, the treatment row, the normal card that closes a case as not
    confirmed. Returns the details the audit event shows."""
    name = body.transition
    if name == CaseTransition.refer:
        if body.clinic_id is None or session.get(Clinic, body.clinic_id) is None:
            raise InvalidInputError(f"clinic {body.clinic_id} not found", field="clinic_id")
        appointment = None if body.appointment_at is None else _as_utc(body.appointment_at)
        case.clinic_id, case.appointment_at = body.clinic_id, appointment
        return {"clinic_id": body.clinic_id, "appointment_at": appointment}
    if name == CaseTransition.diagnose:
        return {"outcome": body.outcome, "disorder": body.disorder,
                "severity": body.severity}
    if name == CaseTransition.start_treatment and not body.description.strip():
        raise InvalidInputError(CASE_REFUSALS.text("describe_treatment"), field="description")
    if name == CaseTransition.close_not_confirmed:
        case.outcome = OutcomeClass.normal_repeat
        return {"outcome": OutcomeClass.normal_repeat, "normal_card": normal_card}
    return {"description": body.description or None}


def _contact(session: Session, actor: Actor, case_id: int, body: TransitionIn) -> (
        FollowUpCase):
    """The ``contact`` transition by hand: logged as the contact attempt that reached
    ``contacted`` (``record_contact``), which moves the case."""
    case = get_case(session, actor, case_id, audit=False)
    check_case_transition(actor, case, CaseTransition.contact, {})
    _checked_at(body.at, "at")
    _within_case(session, case, body.at, "at")
    if not (body.contacted or "").strip():
        raise InvalidInputError(CASE_REFUSALS.text("who_was_reached"), field="contacted")
    record_contact(session, actor, case_id, ContactIn(
        at=body.at, method=body.method or ContactMethod.other,
        contacted=(body.contacted or "").strip(), result=ContactResult.reached,
        note=body.reason))
    return case


def _record_facts(session: Session, case: FollowUpCase) -> dict[str, Any]:
    """What the machine's ``ready`` checks read from the records besides the case: the
    barcode of a later card of the baby released normal (``normal_card``), if any."""
    normal = (repository.released_normal_card(session, case)
              if case.state == CaseState.repeat_received else None)
    return {"normal_card": normal.barcode if normal is not None else None}


def ready_transitions(session: Session, actor: Actor, case_id: int) -> list[CaseTransition]:
    """The transitions the actor can apply to a case in its scope now: those its state and
    role allow whose ``ready`` check holds on the case and its records, as ``transition``
    checks them (the forms a page offers)."""
    case = get_case(session, actor, case_id, audit=False)
    return ready_case_transitions(case, actor.role, _record_facts(session, case))


def transition(session: Session, actor: Actor, case_id: int, body: TransitionIn) -> (
        FollowUpCase):
    """Apply a transition to a case in the actor's scope, with what it records.
    ``receive_repeat`` names the repeat card (``barcode``) and links it
    (``link_repeat_specimen``: an unknown card, another baby's or the case's own is refused);
    it is received at the card's receipt time, so ``at`` is not taken with it."""
    if body.transition == CaseTransition.receive_repeat:
        if not (body.barcode or "").strip():
            raise InvalidInputError(CASE_REFUSALS.text("name_repeat_card"), field="barcode")
        if body.at is not None:
            raise InvalidInputError("the repeat is received at its card's receipt time; "
                                    "leave at out", field="at")
        return link_repeat_specimen(session, actor, case_id, body.barcode or "")
    if body.barcode is not None:
        raise InvalidInputError(f"a barcode is given only with receive_repeat, not with "
                                f"{body.transition}", field="barcode")
    for name in ("contacted", "method"):
        if getattr(body, name) is not None and body.transition != CaseTransition.contact:
            raise InvalidInputError(f"{name} is given only with contact, not with "
                                    f"{body.transition}", field=name)
    if body.transition == CaseTransition.contact:
        return _contact(session, actor, case_id, body)
    if body.severity is not None and body.transition != CaseTransition.diagnose:
        raise InvalidInputError(f"a severity is given only with diagnose, not with "
                                f"{body.transition}", field="severity")
    case = get_case(session, actor, case_id, audit=False)
    at = _checked_at(body.at, "at")
    _within_case(session, case, body.at, "at")
    if body.disorder is not None and body.disorder not in catalogue():
        raise InvalidInputError(f"{body.disorder!r} is not a catalogue disorder code",
                                field="disorder")
    normal_card = (_record_facts(session, case)["normal_card"]
                   if body.transition == CaseTransition.close_not_confirmed else None)
    check_case_transition(actor, case, body.transition, {
        **body.model_dump(exclude={"transition", "at", "barcode"}), "reason": body.reason,
        "normal_card": normal_card})
    details = _effects(session, actor, case, body, at, normal_card)
    if body.transition == CaseTransition.diagnose:
        # checked by the machine's guard first, recorded after it accepted
        apply_case_transition(session, actor, case, body.transition, details=details, at=at,
                              reason=body.reason)
        case.outcome, case.diagnosed_disorder = body.outcome, body.disorder
        case.due_action, case.due_at = due_for(case, at)
        session.add(Diagnosis(case_id=case_id, outcome=str(body.outcome),
                              disorder=body.disorder, severity=str(body.severity or ""),
                              confirmatory_tests=body.confirmatory_tests, diagnosed_at=at,
                              note=body.reason, recorded_by=actor.user_id,
                              recorded_by_name=_staff_name(actor)))
        session.add(case)
        session.flush()
        return case
    apply_case_transition(session, actor, case, body.transition, details=details, at=at,
                          reason=body.reason,
                          last_visits=repository.last_visits(session, case_id))
    if body.transition == CaseTransition.start_treatment:
        session.add(Treatment(case_id=case_id, started_at=at, description=body.description,
                              recorded_by=actor.user_id, recorded_by_name=_staff_name(actor)))
        session.flush()
    return case


def record_visit(session: Session, actor: Actor, case_id: int, data: VisitIn) -> FollowUpVisit:
    """Record a long-term follow-up visit; the first one starts long-term follow-up. The next
    visit of each kind is due by the disorder's schedule."""
    case = get_case(session, actor, case_id, audit=False)
    at = _checked_at(data.visit_at, "visit_at")
    _within_case(session, case, data.visit_at, "visit_at")
    if case.state == CaseState.treatment:
        apply_case_transition(session, actor, case, CaseTransition.start_long_term_follow_up,
                              at=at)
    if case.state != CaseState.long_term_follow_up:
        raise ConflictError(f"case {case_id} is {case.state}; visits are recorded during "
                            "treatment and long-term follow-up")
    visit = FollowUpVisit(case_id=case_id, kind=data.kind, visit_at=at, findings=data.findings,
                          recorded_by=actor.user_id, recorded_by_name=_staff_name(actor))
    session.add(visit)
    session.flush()
    last = repository.last_visits(session, case_id)
    before = {"due_action": case.due_action,
              "due_at": case.due_at.isoformat() if case.due_at else None}
    case.due_action, case.due_at = due_for(case, case.updated_at, last_visits=last)
    visit.next_due_at = case.due_at
    session.add_all([case, visit])
    session.flush()
    record(session, actor, "visit", "followup_case", case_id, infant_id=case.infant_id,
           before=before, after={**(snapshot(visit) or {}), "due_action": case.due_action})
    return visit


# ---- clinics and directors -------------------------------------------------------------------


def create_clinic(session: Session, actor: Actor, data: ClinicCreate) -> Clinic:
    if repository.clinic_by_code(session, data.code) is not None:
        raise ConflictError(f"clinic code {data.code!r} already exists")
    return store(session, actor, "create", "clinic", Clinic(**data.model_dump()))


def list_clinics(session: Session) -> list[Clinic]:
    return repository.list_clinics(session)


def _user(session: Session, user_id: int, role: Role) -> User:
    user = found(session.get(User, user_id), f"user {user_id}")
    if user.role != role:
        raise InvalidInputError(f"user {user.username} has role {user.role}, not {role}",
                                field="user_id")
    return user


def assign_clinic_user(session: Session, actor: Actor, clinic_id: int,
                       user_id: int) -> ClinicUser:
    """Tie a ``clinic`` user to a clinic (replacing an earlier tie)."""
    found(session.get(Clinic, clinic_id), f"clinic {clinic_id}")
    _user(session, user_id, Role.clinic)
    row = session.get(ClinicUser, user_id)
    before = snapshot(row)
    row = row or ClinicUser(user_id=user_id, clinic_id=clinic_id)
    row.clinic_id, row.assigned_at = clinic_id, utcnow()
    return store(session, actor, "assign_clinic", "app_user", row, entity_id=user_id,
                 before=before)


def is_director(session: Session, user_id: int | None) -> bool:
    """Whether the user is one of the programme's directors."""
    return repository.is_director(session, user_id)


def grant_director(session: Session, actor: Actor, user_id: int) -> Director:
    """Give a reviewer the laboratory director's authority."""
    _user(session, user_id, Role.reviewer)
    if session.get(Director, user_id) is not None:
        raise ConflictError(f"user {user_id} is already a director")
    row = Director(user_id=user_id, granted_by_name=actor.username, granted_at=utcnow())
    return store(session, actor, "grant_director", "app_user", row, entity_id=user_id)
