"""Card data in: a hospital's OML^O21 order, or a submitter's CSV of cards, creates or updates
cards through the accession service, with the accession form's checks (docs/hl7.md "Card data
in the LIMS").

- The sender is the submitter whose endpoint's ``receiving_facility`` is the message's MSH-4
  (or the CSV's ``submitter`` column), else the submitter with that code. Times written
  without an offset are in the endpoint's time zone (UTC without an endpoint).
- A card not yet known is accessioned as the form would (``accession.service.accession``:
  barcode rule, times not in the future, collection after birth, ranges, the late-arrival rule;
  the baby is a new infant, as on the form without a link); it is received when the message
  (or file) arrives. A known card of the same submitter is updated while it waits for testing
  (``accession.service.update_card``); once tested its data no longer change: the same data
  sent again are taken as unchanged, a value that differs is refused naming its field.
- A check that fails is answered naming where the value came from: the segment and field of
  the order (``MessageError``, answered AE), the file, line and column of the CSV
  (``InvalidInputError``). The caller rolls the transaction back: nothing of the message or
  file is kept.
- An order is recorded (``inbound_message``) with its control id: the same order sent again
  (same submitter, control id and text) is acknowledged again and changes nothing; another
  text under a used control id is refused. Each accepted order, and each file, is audited.

Services flush, never commit.

Public names: ``accept_order``, ``Accepted``, ``import_cards``, ``sender_of``.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel import Session

from lims.accession import repository as accession_repository
from lims.accession.schemas import InfantCreate, SpecimenCreate
from lims.accession.service import accession, check_scope, update_card
from lims.audit import Actor, record, store
from lims.errors import ConflictError, InvalidInputError, NotFoundError
from lims.interfaces import repository
from lims.interfaces.schemas import CardImport, CardOutcome
from lims.models import Hl7Endpoint, InboundMessage, Specimen, Submitter, utcnow
from lims.reference import barcode_rule
from lims.vocabulary import Feeding, InboundAction, Role, Sex, SpecimenKind
from reports.hl7 import (
    AccessionRecord,
    CardFileError,
    Location,
    MessageError,
    parse_oml,
    read_cards_csv,
)

__all__ = ["Accepted", "accept_order", "import_cards", "sender_of"]

#: The record field a form field's value came from, where the names differ.
_RECORD_KEY = {"submitter_id": "submitter", "plurality": "multiple_birth"}
#: The CSV column a record field came from, where the names differ.
_COLUMN = {"mother_name": "mother_family_name"}
#: HL7 table 0357 codes (ERR-3) of the refusals that are not a data type error (102).
MISSING, UNKNOWN_KEY, DUPLICATE_KEY, APPLICATION_ERROR = 101, 204, 205, 207
#: What a card field means to the sender, and its unit, where its name does not say it.
_DESCRIBED = {"birth_weight_g": ("birth weight", " g"),
              "gestational_age_weeks": ("gestational age", " weeks"),
              "collected_at": ("collection time", ""), "received_at": ("receipt time", ""),
              "birth_at": ("birth time", ""), "plurality": ("number of babies born", ""),
              "birth_order": ("birth order", "")}


class _RecordError(Exception):
    """A card's check failed; ``key`` is the record field whose value it concerns."""

    def __init__(self, message: str, key: str | None, code: int = 102) -> None:
        super().__init__(message)
        self.key, self.code = key, code


@dataclass(frozen=True, slots=True)
class Accepted:
    """An order taken: the card, what happened to it, and whether it was a repeat of an order
    taken before (nothing changed then)."""

    specimen_id: int
    action: InboundAction
    control_id: str
    repeated: bool = False


def sender_of(session: Session, name: str) -> tuple[Submitter | None, Hl7Endpoint | None]:
    """The submitter a message or file names (by its endpoint's receiving facility, else by
    its code) and its endpoint."""
    endpoint = repository.endpoint_by_facility(session, name)
    if endpoint is not None:
        return session.get(Submitter, endpoint.submitter_id), endpoint
    submitter = accession_repository.submitter_by_code(session, name)
    if submitter is None or submitter.id is None:
        return None, None
    return submitter, repository.endpoint_for_submitter(session, submitter.id)


def _zone(endpoint: Hl7Endpoint | None) -> tzinfo:
    return ZoneInfo(endpoint.time_zone) if endpoint is not None else UTC


def _name(parts: object) -> str:
    names = [getattr(parts, k, "") for k in ("family", "given", "middle")] if parts else []
    return " ".join(n for n in names if n)


def _form(card: AccessionRecord, submitter_id: int, barcode: str,
          received_at: datetime) -> SpecimenCreate:
    """The accession form's data for a card (its checks run here: ranges, lengths)."""
    order = card.birth_order or 1
    # a multiple birth has at least two babies; not stated: as many as the birth order says
    plurality = (max(2, order) if card.multiple_birth
                 else 1 if card.multiple_birth is False else order)
    infant = InfantCreate(
        submitter_id=submitter_id, birth_at=card.birth_at, sex=Sex(card.sex),
        medical_record_number=card.medical_record_number, mother_name=_name(card.mother_name),
        mother_id=card.mother_id, birth_weight_g=card.birth_weight_g,
        gestational_age_weeks=card.gestational_age_weeks,
        plurality=plurality, birth_order=order)
    return SpecimenCreate(
        barcode=barcode, submitter_id=submitter_id, collected_at=card.collected_at,
        received_at=received_at, kind=SpecimenKind(card.kind) if card.kind else None,
        infant=infant,
        birth_weight_g=card.birth_weight_g, gestational_age_weeks=card.gestational_age_weeks,
        feeding=Feeding(card.feeding), tpn=card.tpn, transfused=card.transfused,
        transfused_at=card.transfused_at, nicu=card.nicu,
        tpn_started_at=card.tpn_started_at, tpn_stopped_at=card.tpn_stopped_at,
        pivalate_exposure=card.pivalate_exposure, maternal_b12_low=card.maternal_b12_low,
        maternal_diet=card.maternal_diet, maternal_disorder=card.maternal_disorder)


def _key(field: str | None) -> str | None:
    if not field:
        return None
    last = field.split(".")[-1]
    return _RECORD_KEY.get(last, last)


def _apply(session: Session, actor: Actor, submitter: Submitter, card: AccessionRecord,
           received_at: datetime) -> tuple[Specimen, InboundAction]:
    """Create or update the card; raises ``_RecordError`` naming the field that failed."""
    assert submitter.id is not None
    try:
        barcode = barcode_rule().validate(card.barcode)
    except InvalidInputError as exc:  # not the laboratory's card format: a data type error
        raise _RecordError(exc.detail, "barcode") from None
    try:
        data = _form(card, submitter.id, barcode, received_at)
        existing = accession_repository.specimen_by_barcode(session, barcode, for_update=True)
        if existing is None:
            return accession(session, actor, data), InboundAction.created
        changed = update_card(session, actor, existing, data)
        return existing, InboundAction.updated if changed else InboundAction.unchanged
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][-1])
        raise _RecordError(f"{_described(name, error.get('input'))}: {error['msg']}",
                           _key(name), _validation_code(str(error["type"]))) from None
    except InvalidInputError as exc:  # a rule of the card (collected before birth, ...)
        raise _RecordError(exc.detail, _key(exc.field), APPLICATION_ERROR) from None
    except NotFoundError as exc:
        raise _RecordError(str(exc), "barcode", UNKNOWN_KEY) from None
    except ConflictError as exc:  # tested: a value that differs can no longer change
        raise _RecordError(str(exc), _key(exc.field) or "barcode", APPLICATION_ERROR) from None


def _described(name: str, value: object) -> str:
    """``birth weight 9000 g`` for the form field ``birth_weight_g`` and its value."""
    label, unit = _DESCRIBED.get(name, (name.replace("_", " "), ""))
    shown = "" if value is None or isinstance(value, dict) else f" {value}{unit}"
    return label + shown


def _validation_code(kind: str) -> int:
    """ERR-3 of a form check that failed: a value missing, of the wrong type, or refused by a
    rule of the form (a range, a length)."""
    if kind == "missing":
        return MISSING
    if kind.endswith(("_parsing", "_type")):
        return 102
    return APPLICATION_ERROR


def _located(card: AccessionRecord, error: _RecordError) -> MessageError:
    where = card.locations.get(error.key) if error.key else None
    return MessageError(str(error), where, code=error.code)


def accept_order(session: Session, text: str, *, actor: Actor | None = None,
                 received_at: datetime | None = None) -> Accepted:
    """Take one OML^O21 order; raises ``MessageError`` (naming segment and field) when it is
    refused. ``actor`` None: the sending hospital (audited as ``hl7 <code>``)."""
    now = received_at or utcnow()
    card = parse_oml(text)
    submitter, endpoint = sender_of(session, card.submitter)
    if endpoint is not None and endpoint.time_zone != "UTC":  # times without an offset
        card = parse_oml(text, default_tz=_zone(endpoint))
    sender_at = card.locations.get("submitter", Location("MSH", 1, 4))
    if submitter is None or submitter.id is None:
        raise MessageError(f"sending facility {card.submitter!r} is not a submitter of this "
                           "laboratory", sender_at, code=103)
    if actor is None:
        actor = Actor(None, f"hl7 {submitter.code}"[:64], Role.technician)
    elif actor.role == Role.submitter and actor.submitter_id != submitter.id:
        raise MessageError(f"a submitter sends only its own cards, not {submitter.code}'s",
                           sender_at)
    control = card.message_control_id
    if len(control) > 64:
        raise MessageError("the message control id is longer than 64 characters",
                           Location("MSH", 1, 10))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    seen = repository.inbound_by_control_id(session, submitter.id, control)
    if seen is not None:
        if seen.sha256 != digest:
            raise MessageError(f"control id {control} was used by another message taken at "
                               f"{seen.received_at:%Y-%m-%d %H:%M} UTC", Location("MSH", 1, 10),
                               code=DUPLICATE_KEY)
        return Accepted(seen.specimen_id, InboundAction(seen.action), control, repeated=True)
    try:
        specimen, action = _apply(session, actor, submitter, card, now)
    except _RecordError as error:
        raise _located(card, error) from None
    assert specimen.id is not None
    row = InboundMessage(submitter_id=submitter.id, control_id=control, sha256=digest,
                         specimen_id=specimen.id, action=action, received_at=now)
    store(session, actor, "receive", "inbound_message", row, infant_id=specimen.infant_id,
          after={"message_type": row.message_type, "control_id": control,
                 "submitter": submitter.code, "barcode": specimen.barcode,
                 "specimen_id": specimen.id, "action": action, "sha256": digest})
    return Accepted(specimen.id, action, control)


def _read(data: bytes, name: str, zone: tzinfo) -> list[AccessionRecord]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"not UTF-8 ({exc.reason})", file=name, line=1) from None
    stream = io.StringIO(text)
    stream.name = name  # type: ignore[misc]
    try:
        return read_cards_csv(stream, default_tz=zone)
    except CardFileError as exc:
        raise InvalidInputError(str(exc).split(": ", 1)[-1], file=name, line=exc.line,
                                field=exc.column) from None


def _file_sender(session: Session, actor: Actor, cards: list[AccessionRecord],
                 name: str) -> tuple[Submitter, Hl7Endpoint | None]:
    first = cards[0]
    for card in cards[1:]:
        if card.submitter != first.submitter:
            raise InvalidInputError(f"a card file holds one submitter's cards: {card.submitter!r}"
                                    f" after {first.submitter!r}", file=name, line=card.line,
                                    field="submitter")
    submitter, endpoint = sender_of(session, first.submitter)
    if submitter is None or submitter.id is None:
        raise InvalidInputError(f"{first.submitter!r} is not a submitter of this laboratory",
                                file=name, line=first.line, field="submitter")
    check_scope(actor, submitter.id, f"submitter {first.submitter!r}")
    return submitter, endpoint


def import_cards(session: Session, actor: Actor, data: bytes, name: str) -> CardImport:
    """Take a submitter's card-data CSV, every card or none; raises ``InvalidInputError``
    naming the file, line and column of the first problem."""
    cards = _read(data, name, UTC)
    outcomes: list[CardOutcome] = []
    if cards:
        submitter, endpoint = _file_sender(session, actor, cards, name)
        if endpoint is not None and endpoint.time_zone != "UTC":
            cards = _read(data, name, _zone(endpoint))
        now = utcnow()
        for card in cards:
            try:
                specimen, action = _apply(session, actor, submitter, card, now)
            except _RecordError as error:
                column = _COLUMN.get(error.key or "", error.key)
                raise InvalidInputError(str(error), file=name, line=card.line,
                                        field=column) from None
            assert specimen.id is not None
            outcomes.append(CardOutcome(line=card.line or 0, barcode=specimen.barcode,
                                        specimen_id=specimen.id, action=action))
    counts = {a: sum(o.action == a for o in outcomes) for a in InboundAction}
    digest = hashlib.sha256(data).hexdigest()
    record(session, actor, "import_cards", "card_file", digest[:16],
           after={"file": name, "sha256": digest, **{str(a): n for a, n in counts.items()},
                  "specimen_ids": [o.specimen_id for o in outcomes]})
    return CardImport(file=name, created=counts[InboundAction.created],
                      updated=counts[InboundAction.updated],
                      unchanged=counts[InboundAction.unchanged], cards=outcomes)
