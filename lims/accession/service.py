"""Accessioning: submitters, infants and specimens (cards), unsatisfactory codes, linkage.

Linkage is deterministic: a repeat card names its baby by ``previous_barcode`` or ``infant_id``;
otherwise a new infant is created. Likely matches (same mother or record number, born within a
day) are only *suggested* by ``link_suggestions``; nothing is merged automatically, and a
suggestion between babies of a multiple birth is marked as a twin so it is never merged.

A card opens or updates the baby's follow-up case (``lims.followup.service``): an
unsatisfactory card opens one, the baby's next card is the repeat its open cases wait for.

Services flush, never commit; every change and every read of a baby's record is audited.
A submitter user sees only its own infants and specimens (others are "not found").

Public names: ``create_submitter``, ``list_submitters``, ``accession``, ``mark_unsatisfactory``,
``request_repeat``, ``get_infant``, ``get_specimen``, ``read_specimen_row``,
``list_specimen_rows``, ``list_infants``, ``list_repeat_requests``, ``create_infant``,
``link_suggestions``, ``check_scope``, ``as_utc``, ``update_card``, ``search_specimens``,
``CARD_REFUSALS``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from lims.accession import repository
from lims.accession.schemas import (
    InfantCreate,
    LinkSuggestion,
    SpecimenCreate,
    SubmitterCreate,
)
from lims.audit import Actor, record, record_list_read, snapshot, store
from lims.errors import ConflictError, InvalidInputError, NotFoundError, found
from lims.followup.service import clinic_sees_card, on_card_accessioned, on_unsatisfactory
from lims.models import Infant, RepeatRequest, Specimen, Submitter, utcnow
from lims.reference import (
    BarcodeRule,
    WorkflowConfig,
    barcode_rule,
    unsatisfactory_codes,
    workflow_config,
)
from lims.settings import lab_day
from lims.vocabulary import (
    Feeding,
    RepeatRequestStatus,
    Role,
    SpecimenKind,
    SpecimenState,
    Transition,
)
from lims.workflow import apply_transition
from msms.phrases import Phrasebook

__all__ = [
    "CARD_REFUSALS",
    "accession",
    "as_utc",
    "check_scope",
    "create_infant",
    "create_submitter",
    "get_infant",
    "get_specimen",
    "link_suggestions",
    "list_infants",
    "find_card",
    "list_repeat_requests",
    "list_specimen_rows",
    "list_submitters",
    "search_specimens",
    "mark_unsatisfactory",
    "read_specimen_row",
    "request_repeat",
    "update_card",
]

_LINK_WINDOW = timedelta(days=1)

#: Why card data are refused: once the card is tested, or without a submitter (English, read
#: back as phrases by the pages, ``state`` as the vocabulary's label).
CARD_REFUSALS = Phrasebook((
    ("tested", "card {barcode} is {state}: its card data can no longer change"),
    #: the accession form's submitter left unchosen (the form never chooses one for the
    #: technician: results, messages and letters go to the submitter stored with the card)
    ("no_submitter", "choose the submitter (the hospital or unit that sent the card)"),
), fields={"barcode": r"\S+", "state": r"\w+"})


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The submitter id nothing belongs to: a clinic user reaches babies only through the
#: follow-up cases referred to its clinic (``lims.followup``), not through these records.
_NO_SUBMITTER = 0


def _scope(actor: Actor) -> int | None:
    """The submitter a submitter user is limited to (None: every submitter)."""
    if actor.role == Role.clinic:
        return _NO_SUBMITTER
    return actor.submitter_id if actor.role == Role.submitter else None


def check_scope(actor: Actor, submitter_id: int, what: str) -> None:
    """A submitter user may only touch its own submitter's records (a clinic user none)."""
    if actor.role in (Role.submitter, Role.clinic) and _scope(actor) != submitter_id:
        raise NotFoundError(f"{what} not found")


def list_submitters(session: Session, actor: Actor) -> list[Submitter]:
    """Submitting hospitals (a submitter user sees its own)."""
    return repository.list_submitters(session, submitter_id=_scope(actor))


def create_submitter(session: Session, actor: Actor, data: SubmitterCreate) -> Submitter:
    if repository.submitter_by_code(session, data.code) is not None:
        raise ConflictError(f"submitter code {data.code!r} already exists")
    return store(session, actor, "create", "submitter", Submitter(**data.model_dump()))


def _submitter(session: Session, submitter_id: int) -> Submitter:
    return found(session.get(Submitter, submitter_id), f"submitter {submitter_id}")


def _not_in_future(value: datetime, field: str) -> datetime:
    """``value`` as UTC, refused if later than now plus the clock-skew allowance
    (``workflow.toml``'s ``max_clock_skew_minutes``)."""
    value = as_utc(value)
    skew = timedelta(minutes=workflow_config().max_clock_skew_minutes)
    if value > utcnow() + skew:
        raise InvalidInputError(
            f"{value.isoformat(timespec='minutes')} is in the future (more than "
            f"{skew.total_seconds() / 60:g} minutes ahead of the laboratory's clock)",
            field=field)
    return value


def create_infant(session: Session, actor: Actor, data: InfantCreate, *,
                  field: str = "birth_at") -> Infant:
    _submitter(session, data.submitter_id)
    _not_in_future(data.birth_at, field)
    check_scope(actor, data.submitter_id, f"submitter {data.submitter_id}")
    if data.birth_order > data.plurality:
        raise InvalidInputError("birth_order is larger than plurality", field="birth_order")
    values = data.model_dump()
    values["birth_at"] = as_utc(data.birth_at)
    infant = Infant(**values)
    session.add(infant)
    session.flush()
    record(session, actor, "create", "infant", infant.id, infant_id=infant.id,
           after=snapshot(infant))
    return infant


def get_infant(session: Session, actor: Actor, infant_id: int, *, audit: bool = True) -> Infant:
    """An infant's record (the read is audited)."""
    infant = found(session.get(Infant, infant_id), f"infant {infant_id}")
    check_scope(actor, infant.submitter_id, f"infant {infant_id}")
    if audit:
        record(session, actor, "read", "infant", infant_id, infant_id=infant_id)
    return infant


def read_specimen_row(session: Session, actor: Actor, specimen_id: int) -> dict[str, Any]:
    """A specimen as a plain row (``repository.SPECIMEN_PUBLIC_COLUMNS``); the read is audited
    like ``get_specimen``'s. A clinic user reads the cards of the cases referred to its clinic
    (a case's own card and its repeat card), no other."""
    rows = repository.specimen_rows(session, specimen_id=specimen_id, limit=1)
    if not rows:
        raise NotFoundError(f"specimen {specimen_id} not found")
    row = rows[0]
    if actor.role == Role.clinic:  # the cards of the cases referred to its clinic only
        if not clinic_sees_card(session, actor, specimen_id):
            raise NotFoundError(f"specimen {specimen_id} not found")
    else:
        check_scope(actor, row["submitter_id"], f"specimen {specimen_id}")
    record(session, actor, "read", "specimen", specimen_id, infant_id=row["infant_id"])
    return row


def list_specimen_rows(session: Session, actor: Actor, *, state: str | None = None,
                       infant_id: int | None = None, barcode: str | None = None,
                       limit: int = 100, offset: int = 0,
                       newest_first: bool = False) -> list[dict[str, Any]]:
    """Specimens in the actor's scope as plain rows (``barcode``: that card only, exactly);
    the read is one audit event."""
    rows = repository.specimen_rows(session, submitter_id=_scope(actor), state=state,
                                    infant_id=infant_id, barcode=barcode, limit=limit,
                                    offset=offset, newest_first=newest_first)
    record_list_read(session, actor, "specimen", [r["id"] for r in rows],
                     (r["infant_id"] for r in rows),
                     filters={"state": state, "infant_id": infant_id, "barcode": barcode,
                              "limit": limit, "offset": offset})
    return rows


def search_specimens(session: Session, actor: Actor, text: str, *,
                     limit: int = 50) -> list[dict[str, Any]]:
    """Cards found by barcode (its start), the baby's record number, the mother's id or name,
    in the actor's scope; the read is one audit event naming what was searched."""
    if not text.strip():
        return []
    rows = repository.search_specimen_rows(session, text, submitter_id=_scope(actor),
                                           limit=limit)
    record_list_read(session, actor, "specimen", [r["id"] for r in rows],
                     (r["infant_id"] for r in rows), filters={"search": text.strip()})
    return rows


def list_infants(session: Session, actor: Actor, *, limit: int = 100,
                 offset: int = 0) -> list[Infant]:
    """Infants in the actor's scope; the read is one audit event."""
    infants = repository.list_infants(session, submitter_id=_scope(actor), limit=limit,
                                      offset=offset)
    ids = [i.id for i in infants if i.id is not None]
    record_list_read(session, actor, "infant", ids, ids,
                     filters={"limit": limit, "offset": offset})
    return infants


def list_repeat_requests(session: Session, actor: Actor, *,
                         status: str | None = None) -> list[RepeatRequest]:
    """Requests for a new card in the actor's scope; the read is one audit event."""
    requests = repository.list_repeat_requests(session, submitter_id=_scope(actor),
                                               status=status)
    record_list_read(session, actor, "repeat_request",
                     [r.id for r in requests if r.id is not None],
                     (r.infant_id for r in requests), filters={"status": status})
    return requests


def find_card(session: Session, reference: str) -> Specimen:
    """A card by its barcode, else by its specimen id (how the command line names cards)."""
    text = reference.strip()
    specimen = repository.specimen_by_barcode(session, text)
    if specimen is None and text.isdigit():
        specimen = session.get(Specimen, int(text))
    if specimen is None:
        raise NotFoundError(f"no card with barcode {reference!r} and no specimen with that id")
    return specimen


def get_specimen(session: Session, actor: Actor, specimen_id: int, *,
                 audit: bool = True) -> Specimen:
    """A specimen (the read is audited as a read of the baby's record)."""
    specimen = found(session.get(Specimen, specimen_id), f"specimen {specimen_id}")
    check_scope(actor, specimen.submitter_id, f"specimen {specimen_id}")
    if audit:
        record(session, actor, "read", "specimen", specimen_id, infant_id=specimen.infant_id)
    return specimen


def _link_infant(session: Session, actor: Actor, data: SpecimenCreate) -> tuple[
        Infant, Specimen | None]:
    """The infant this card belongs to (deterministic), and the previous card if named."""
    named = [n for n in ("infant_id", "previous_barcode", "infant")
             if getattr(data, n) is not None]
    if len(named) != 1:
        raise InvalidInputError(
            "name the baby by exactly one of infant_id, previous_barcode or infant",
            field="infant")
    if data.previous_barcode is not None:
        previous = found(repository.specimen_by_barcode(session, data.previous_barcode.strip()),
                         f"previous card {data.previous_barcode!r}")
        if previous.submitter_id != data.submitter_id:
            raise InvalidInputError(
                f"the previous card {previous.barcode} was sent by submitter "
                f"{previous.submitter_id}, this card by submitter {data.submitter_id}; a card "
                "may only name its own submitter's baby", field="previous_barcode")
        infant = session.get(Infant, previous.infant_id)
        assert infant is not None
        return infant, previous
    if data.infant_id is not None:
        infant = found(session.get(Infant, data.infant_id), f"infant {data.infant_id}")
        if infant.submitter_id != data.submitter_id:
            raise InvalidInputError(
                f"infant {data.infant_id} belongs to submitter {infant.submitter_id}, this "
                f"card is from submitter {data.submitter_id}; a card may only name its own "
                "submitter's baby", field="infant_id")
        return infant, None
    assert data.infant is not None
    if data.infant.submitter_id != data.submitter_id:
        raise InvalidInputError("the infant's submitter differs from the card's",
                                field="infant.submitter_id")
    return create_infant(session, actor, data.infant, field="infant.birth_at"), None


def _context(data: SpecimenCreate) -> dict[str, Any]:
    """The card's reflex context (docs/second_tier.md "In the LIMS"), checked."""
    started = (_not_in_future(data.tpn_started_at, "tpn_started_at")
               if data.tpn_started_at else None)
    stopped = (_not_in_future(data.tpn_stopped_at, "tpn_stopped_at")
               if data.tpn_stopped_at else None)
    if started and stopped and stopped < started:
        raise InvalidInputError("parenteral nutrition stopped before it started",
                                field="tpn_stopped_at")
    return {"tpn_started_at": started, "tpn_stopped_at": stopped,
            "pivalate_exposure": data.pivalate_exposure,
            "maternal_b12_low": data.maternal_b12_low,
            "maternal_diet": data.maternal_diet.strip(),
            "maternal_disorder": data.maternal_disorder.strip()}


def accession(session: Session, actor: Actor, data: SpecimenCreate, *,
              rule: BarcodeRule | None = None) -> Specimen:
    """Register a card: validate the barcode, link the baby, record an unsatisfactory code."""
    rule = rule or barcode_rule()
    barcode = rule.validate(data.barcode)
    _submitter(session, data.submitter_id)
    collected_at = _not_in_future(data.collected_at, "collected_at")
    received_at = _not_in_future(data.received_at, "received_at")
    transfused_at = (_not_in_future(data.transfused_at, "transfused_at")
                     if data.transfused_at else None)
    if received_at < collected_at:
        raise InvalidInputError("received before it was collected", field="received_at")
    if repository.specimen_by_barcode(session, barcode) is not None:
        raise ConflictError(f"card {barcode} is already accessioned")
    if data.previous_barcode is not None:
        rule.validate(data.previous_barcode, field="previous_barcode")
    infant, previous = _link_infant(session, actor, data)
    if collected_at < infant.birth_at:
        raise InvalidInputError("collected before the baby's birth", field="collected_at")
    kind = data.kind or (SpecimenKind.repeat if previous is not None or data.infant_id is not None
                         else SpecimenKind.initial)
    code = data.unsatisfactory_code
    workflow = workflow_config()
    if code is None and received_at - collected_at > timedelta(days=workflow.max_transit_days):
        code = workflow.late_arrival_code
    assert infant.id is not None
    specimen = Specimen(
        barcode=barcode, infant_id=infant.id, submitter_id=data.submitter_id, kind=kind,
        previous_specimen_id=previous.id if previous else None,
        collected_at=collected_at, received_at=received_at,
        birth_weight_g=data.birth_weight_g or infant.birth_weight_g,
        gestational_age_weeks=data.gestational_age_weeks or infant.gestational_age_weeks,
        feeding=data.feeding, tpn=data.tpn or data.feeding == Feeding.tpn,
        transfused=data.transfused,
        transfused_at=transfused_at,
        nicu=data.nicu,
        **_context(data),
    )
    session.add(specimen)
    try:
        session.flush()
    except IntegrityError:
        raise ConflictError(f"card {barcode} is already accessioned") from None
    record(session, actor, "accession", "specimen", specimen.id, infant_id=infant.id,
           after=snapshot(specimen))
    for request in repository.open_repeat_requests(session, infant.id or 0):
        request.status = RepeatRequestStatus.fulfilled
        request.fulfilled_by_specimen_id = specimen.id
        session.add(request)
        record(session, actor, "fulfil", "repeat_request", request.id, infant_id=infant.id,
               after={"specimen_id": specimen.id})
    if code is not None:
        mark_unsatisfactory(session, actor, specimen, code)
    else:
        on_card_accessioned(session, actor, specimen)
        _ask_serial_card(session, actor, specimen, infant, workflow)
    return specimen


def _ask_serial_card(session: Session, actor: Actor, specimen: Specimen, infant: Infant,
                     workflow: WorkflowConfig) -> RepeatRequest | None:
    """A small or preterm baby's card asks for the next card of the serial-screening protocol
    (``lims.serial_screening``); an unsatisfactory card asks for its replacement instead,
    which asks for the next one in turn."""
    protocol = workflow.serial_screening
    if protocol is None:
        return None
    card = protocol.next_card(specimen.birth_weight_g, specimen.gestational_age_weeks,
                              infant.birth_at, specimen.collected_at, day_of=lab_day)
    if card is None:
        return None
    return request_repeat(session, actor, specimen, card.reason_of_workflow(workflow.version))


def mark_unsatisfactory(session: Session, actor: Actor, specimen: Specimen, code: str,
                        note: str = "") -> RepeatRequest:
    """Record why a card cannot be tested and request a repeat specimen."""
    known = unsatisfactory_codes()
    if code not in known:
        raise InvalidInputError(f"unknown unsatisfactory code {code!r}; one of "
                                f"{', '.join(known)}", field="code")
    reason = f"{code}: {known[code].description}" + (f" ({note})" if note else "")
    apply_transition(session, actor, specimen, Transition.mark_unsatisfactory, reason=reason)
    specimen.unsatisfactory_code = code
    session.add(specimen)
    on_unsatisfactory(session, actor, specimen, reason)
    return request_repeat(session, actor, specimen, reason)


def request_repeat(session: Session, actor: Actor, specimen: Specimen,
                   reason: str) -> RepeatRequest:
    """Ask the submitter for a new card from the same baby."""
    assert specimen.id is not None
    request = RepeatRequest(infant_id=specimen.infant_id, specimen_id=specimen.id,
                            reason=reason, requested_at=utcnow())
    return store(session, actor, "request_repeat", "repeat_request", request,
                 infant_id=specimen.infant_id, reason=reason)


def link_suggestions(session: Session, actor: Actor, infant_id: int) -> list[LinkSuggestion]:
    """Other infants that may be the same baby, for a person to look at (never merged)."""
    infant = get_infant(session, actor, infant_id)
    suggestions = []
    for other in repository.candidate_infants(session, infant, window=_LINK_WINDOW):
        if actor.role == Role.submitter and other.submitter_id != actor.submitter_id:
            continue
        reasons, score = [], 0.0
        if infant.mother_id and other.mother_id == infant.mother_id:
            reasons.append("same mother id")
            score += 0.4
        if infant.mother_name and other.mother_name == infant.mother_name:
            reasons.append("same mother name")
            score += 0.2
        if infant.medical_record_number and (
                other.medical_record_number == infant.medical_record_number):
            reasons.append("same medical record number")
            score += 0.3
        if other.sex == infant.sex:
            reasons.append("same sex")
            score += 0.05
        if other.birth_at == infant.birth_at:
            reasons.append("same birth time")
            score += 0.05
        twin = infant.plurality > 1 or other.plurality > 1
        if twin:
            reasons.append("multiple birth: twins are separate babies and are never merged")
        assert other.id is not None
        suggestions.append(LinkSuggestion(infant_id=other.id, score=round(min(score, 1.0), 2),
                                          reasons=reasons, twin=twin))
    shown = [s.infant_id for s in suggestions]
    record_list_read(session, actor, "infant", shown, shown,
                     filters={"link_suggestions_for": infant_id})
    return sorted(suggestions, key=lambda s: -s.score)


_CARD_FIELDS = ("collected_at", "birth_weight_g", "gestational_age_weeks", "feeding", "tpn",
                "transfused", "transfused_at", "nicu")
_BABY_FIELDS = ("birth_at", "sex", "medical_record_number", "mother_name", "mother_id",
                "birth_weight_g", "gestational_age_weeks", "plurality", "birth_order")


def update_card(session: Session, actor: Actor, specimen: Specimen,
                data: SpecimenCreate) -> bool:
    """Change a card's data (and its baby's, from ``data.infant``) before it is tested, with
    the form's checks; the receipt time stays. Returns whether anything changed (audited with
    before and after). Once tested, the same data sent again change nothing (False); a value
    that differs is refused (``ConflictError`` naming its field)."""
    if specimen.submitter_id != data.submitter_id:
        raise InvalidInputError(f"card {specimen.barcode} was sent by submitter "
                                f"{specimen.submitter_id}, not {data.submitter_id}",
                                field="submitter_id")
    infant = session.get(Infant, specimen.infant_id)
    assert infant is not None
    card = {"collected_at": _not_in_future(data.collected_at, "collected_at"),
            "transfused_at": (_not_in_future(data.transfused_at, "transfused_at")
                              if data.transfused_at else None),
            **{k: getattr(data, k) for k in _CARD_FIELDS
               if k not in ("collected_at", "transfused_at")}}
    card["tpn"] = data.tpn or data.feeding == Feeding.tpn
    card |= _context(data)
    if data.kind is not None:
        card["kind"] = data.kind
    baby = {}
    if data.infant is not None:
        baby = {k: getattr(data.infant, k) for k in _BABY_FIELDS}
        baby["birth_at"] = _not_in_future(data.infant.birth_at, "infant.birth_at")
        if data.infant.birth_order > data.infant.plurality:
            raise InvalidInputError("birth_order is larger than plurality", field="birth_order")
    if card["collected_at"] < baby.get("birth_at", as_utc(infant.birth_at)):
        raise InvalidInputError("collected before the baby's birth", field="collected_at")
    before = {"specimen": snapshot(specimen), "infant": snapshot(infant)}
    changes = []
    for row, values, prefix in ((specimen, card, ""), (infant, baby, "infant.")):
        for key, value in values.items():
            old = getattr(row, key)
            if isinstance(old, datetime) and isinstance(value, datetime):
                old = as_utc(old)
            if old != value:
                changes.append((row, key, value, prefix + key))
    if changes and specimen.state != SpecimenState.accessioned:
        raise ConflictError(CARD_REFUSALS.text("tested", barcode=specimen.barcode,
                                               state=specimen.state), field=changes[0][3])
    for row, key, value, _name in changes:
        setattr(row, key, value)
    changed = bool(changes)
    if changed:
        specimen.updated_at = utcnow()
        session.add_all([specimen, infant])
        session.flush()
        record(session, actor, "update", "specimen", specimen.id, infant_id=infant.id,
               before=before, after={"specimen": snapshot(specimen),
                                     "infant": snapshot(infant)})
    return changed
