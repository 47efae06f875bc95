"""Read a hospital's OML^O21 newborn-screening order (card data) into an :class:`AccessionRecord`.

What is read (docs/hl7.md, "Card data in"): MSH-4 (the submitter), MSH-10; PID-3 (the hospital's
record number: the repetition typed MR, else the first), PID-5, PID-7 (birth, required), PID-8,
PID-24, PID-25; the NK1 whose relationship is MTH (the mother: NK1-2, NK1-33); ORC-2 (the
placer order number); SPM-17 (collection, else OBR-7; required); and the card-data
observations by their LOINC codes: 57723-9 bar code (required), 57721-3 reason, 8339-4 birth
weight (g or kg), 57714-8 gestational age (weeks or days), 67704-7 feeding, 57713-0 NICU and
transfusion, 62317-3 transfusion date; and the context the reflex second tier reads, under the
laboratory's local codes (system ``L``; ``concepts.csv``): NBS-TPN-START and NBS-TPN-STOP
(times), NBS-PIVALATE and NBS-MAT-B12-LOW (Y or N), NBS-MAT-DIET and NBS-MAT-DISORDER (text).
Observations with other codes (a programme's own questions) are skipped.

Anything else is refused with a :class:`MessageError` naming the segment, its occurrence, the
field and repetition (``OBX[4]-5``), with the ACK code to answer: ``AR`` for a message we do not
take (not OML^O21, not v2.5.1, unreadable), ``AE`` for an error in its content.

Public names: ``parse_oml``, ``MessageHeader``, ``read_header``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType

from reports.hl7.codes import CodeTables, default_codes
from reports.hl7.er7 import (
    RawSegment,
    components,
    parse_dtm,
    repetitions,
    split_message,
    unescape,
)
from reports.hl7.errors import Location, MessageError
from reports.hl7.model import PersonName
from reports.hl7.records import AccessionRecord

__all__ = ["MessageHeader", "parse_oml", "read_header"]

_UNITS = {"8339-4": {"g": 1.0, "gram": 1.0, "grams": 1.0, "kg": 1000.0, "": 1.0},
          "57714-8": {"wk": 1.0, "week": 1.0, "weeks": 1.0, "d": 1 / 7, "day": 1 / 7, "": 1.0}}


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """The MSH fields an acknowledgment needs, as written (escaped)."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    control_id: str = ""
    processing_id: str = "P"
    version: str = ""
    message_type: str = ""
    trigger_event: str = ""


def read_header(text: str) -> MessageHeader | None:
    """The MSH of a received message, or None when it has no readable MSH."""
    start = text.lstrip("\r\n\x0b ")
    first = re.split(r"[\r\n]", start, maxsplit=1)[0]  # only the MSH is needed
    try:
        encoding, segments = split_message(first)
    except ValueError:
        return None
    msh = segments[0]
    kind = msh.field(9).split(encoding.component)
    return MessageHeader(msh.field(3), msh.field(4), msh.field(5), msh.field(6), msh.field(10),
                         msh.field(11).split(encoding.component)[0] or "P", msh.field(12),
                         kind[0], kind[1] if len(kind) > 1 else "")


class _Reader:
    """The segments of one message and what has been taken from where."""

    def __init__(self, text: str, default_tz: tzinfo) -> None:
        try:
            self.encoding, self.segments = split_message(text)
        except ValueError as exc:
            raise MessageError(str(exc), Location("MSH", 1, 2), code=102,
                               acknowledgment="AR") from None
        self.tz = default_tz
        self.values: dict[str, object] = {}
        self.locations: dict[str, Location] = {}

    def all(self, name: str) -> list[RawSegment]:
        return [s for s in self.segments if s.name == name]

    def first(self, name: str) -> RawSegment | None:
        return next((s for s in self.segments if s.name == name), None)

    def parts(self, segment: RawSegment, number: int) -> list[str]:
        """The components of the first repetition of a field."""
        reps = repetitions(segment.field(number), self.encoding)
        return components(reps[0], self.encoding) if reps else []

    def name(self, segment: RawSegment, number: int) -> PersonName | None:
        """An XPN field's first repetition as a name: the family name is FN's surname with its
        own prefix before it (``Beethoven&van`` is "van Beethoven"), each subcomponent
        unescaped; None when it holds neither a family nor a given name."""
        reps = repetitions(segment.field(number), self.encoding)
        if not reps:
            return None
        raw = reps[0].split(self.encoding.component)
        surname, prefix = ([unescape(p, self.encoding)
                            for p in raw[0].split(self.encoding.subcomponent)] + [""])[:2]
        given, middle = ([unescape(p, self.encoding) for p in raw[1:3]] + ["", ""])[:2]
        family = f"{prefix} {surname}".strip()
        return PersonName(family, given, middle) if family or given else None

    def take(self, key: str, value: object, where: Location) -> None:
        self.values[key] = value
        self.locations[key] = where

    def time(self, text: str, where: Location) -> datetime:
        try:
            return parse_dtm(text.split(self.encoding.subcomponent)[0], self.tz)
        except ValueError as exc:
            raise MessageError(str(exc), where) from None


def _where(segment: RawSegment, number: int, repetition: int = 1) -> Location:
    return Location(segment.name, segment.occurrence, number, repetition)


def _header(reader: _Reader) -> None:
    msh = reader.segments[0]
    kind = reader.parts(msh, 9)
    if kind[:2] != ["OML", "O21"]:
        raise MessageError(f"message type {'^'.join(kind[:2]) or '(none)'} is not OML^O21",
                           _where(msh, 9), code=200 if kind[:1] != ["OML"] else 201,
                           acknowledgment="AR")
    if msh.field(12).split(reader.encoding.component)[0] != "2.5.1":
        raise MessageError(f"version {msh.field(12)!r} is not 2.5.1", _where(msh, 12), code=203,
                           acknowledgment="AR")
    if not msh.field(10):
        raise MessageError("the message control id is empty", _where(msh, 10), code=101,
                           acknowledgment="AR")
    submitter = reader.parts(msh, 4)
    if not submitter or not submitter[0]:
        raise MessageError("the sending facility is empty", _where(msh, 4), code=101)
    reader.take("message_control_id", reader.parts(msh, 10)[0], _where(msh, 10))
    reader.take("submitter", submitter[0], _where(msh, 4))


def _patient(reader: _Reader) -> None:
    pid = reader.first("PID")
    if pid is None:
        raise MessageError("the message has no PID segment", Location("PID"), code=100)
    if not pid.field(7):
        raise MessageError("the date of birth is empty", _where(pid, 7), code=101)
    reader.take("birth_at", reader.time(pid.field(7), _where(pid, 7)), _where(pid, 7))
    ids = [components(r, reader.encoding) for r in repetitions(pid.field(3), reader.encoding)]
    typed = [i for i, parts in enumerate(ids) if len(parts) > 4 and parts[4] == "MR"]
    index = typed[0] if typed else 0
    if ids and ids[index][0]:
        reader.take("medical_record_number", ids[index][0], _where(pid, 3, index + 1))
    name = reader.name(pid, 5)
    if name is not None:
        reader.take("baby_name", name, _where(pid, 5))
    sex = (reader.parts(pid, 8) or [""])[0]
    reader.take("sex", sex if sex in ("M", "F") else "U", _where(pid, 8))
    multiple = (reader.parts(pid, 24) or [""])[0]
    if multiple:
        if multiple not in ("Y", "N"):
            raise MessageError(f"multiple birth indicator {multiple!r} is not Y or N",
                               _where(pid, 24), code=103)
        reader.take("multiple_birth", multiple == "Y", _where(pid, 24))
    order = (reader.parts(pid, 25) or [""])[0]
    if order:
        if not order.isdigit() or int(order) < 1:
            raise MessageError(f"birth order {order!r} is not a positive whole number",
                               _where(pid, 25))
        reader.take("birth_order", int(order), _where(pid, 25))


def _mother(reader: _Reader) -> None:
    for nk1 in reader.all("NK1"):
        if (reader.parts(nk1, 3) or [""])[0] != "MTH":
            continue
        name = reader.name(nk1, 2)
        if name is not None and name.family:
            reader.take("mother_name", name, _where(nk1, 2))
        ident = (reader.parts(nk1, 33) or [""])[0]
        if ident:
            reader.take("mother_id", ident, _where(nk1, 33))
        return


def _order(reader: _Reader) -> None:
    orc = reader.first("ORC")
    if orc is not None and (reader.parts(orc, 2) or [""])[0]:
        reader.take("placer_order_number", reader.parts(orc, 2)[0], _where(orc, 2))
    spm = reader.first("SPM")
    if spm is not None and spm.field(17):
        start = spm.field(17).split(reader.encoding.component)[0]
        reader.take("collected_at", reader.time(start, _where(spm, 17)), _where(spm, 17))
        return
    for obr in reader.all("OBR"):
        if obr.field(7):
            reader.take("collected_at", reader.time(obr.field(7), _where(obr, 7)),
                        _where(obr, 7))
            return
    raise MessageError("no collection time (SPM-17 or OBR-7)",
                       Location("SPM", 1, 17) if spm is not None else Location("OBR", 1, 7),
                       code=101)


def _number(reader: _Reader, obx: RawSegment, code: str) -> float:
    text = (reader.parts(obx, 5) or [""])[0].strip()
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        raise MessageError(f"{text!r} is not a number", _where(obx, 5))
    unit = (reader.parts(obx, 6) or [""])[0].strip()
    factor = _UNITS[code].get(unit)
    if factor is None:
        raise MessageError(f"unit {unit!r} is not one of {', '.join(u for u in _UNITS[code] if u)}",
                           _where(obx, 6), code=103)
    return value * factor


class _Answers:
    """The card-data answer codes the reader understands, from the code tables."""

    def __init__(self, codes: CodeTables) -> None:
        def code(concept: str) -> str:
            return codes[concept].code

        self.reason = {code("answer.initial_screen"): "initial",
                       code("answer.subsequent_protocol"): "repeat",
                       code("answer.subsequent_law"): "repeat",
                       code("answer.subsequent_unknown"): "repeat"}
        self.feeding = {code("answer.breast_milk"): "breast",
                        code("answer.lactose_formula"): "formula",
                        code("answer.lactose_free_formula"): "formula",
                        code("answer.tpn"): "tpn", code("answer.npo"): "none"}
        self.factors = {code("answer.nicu"): "nicu", code("answer.transfusion"): "transfused",
                        code("answer.none"): "", code("answer.antibiotics"): ""}
        self.obs = {concept: code(concept) for concept in (
            "obs.barcode", "obs.reason", "obs.birth_weight", "obs.gestational_age",
            "obs.feeding", "obs.infant_factors", "obs.transfusion_date")}
        #: the reflex context: local question code -> (record field, kind of value)
        self.context = {code(f"obs.{key}"): (key, kind) for key, kind in (
            ("tpn_started", "time"), ("tpn_stopped", "time"), ("pivalate_exposure", "flag"),
            ("maternal_b12_low", "flag"), ("maternal_diet", "text"),
            ("maternal_disorder", "text"))}


def _coded(reader: _Reader, obx: RawSegment, table: dict[str, str], what: str) -> str:
    answer = (reader.parts(obx, 5) or [""])[0]
    if answer not in table:
        raise MessageError(f"{answer!r} is not a {what} code we know ({', '.join(table)})",
                           _where(obx, 5), code=103)
    return table[answer]


_FIELD = {"tpn_started": "tpn_started_at", "tpn_stopped": "tpn_stopped_at"}
_YES_NO = {"Y": True, "N": False}


def _context(reader: _Reader, obx: RawSegment, code: str, key: str, kind: str) -> None:
    """One context observation: a time, a Y/N flag (HL7 table 0136) or a text."""
    name = _FIELD.get(key, key)
    if name in reader.values:
        raise MessageError(f"observation {code} is given twice", _where(obx, 3))
    value = (reader.parts(obx, 5) or [""])[0].strip()
    if not value:
        raise MessageError(f"observation {code} has no value", _where(obx, 5), code=101)
    if kind == "time":
        reader.take(name, reader.time(value, _where(obx, 5)), _where(obx, 5))
    elif kind == "flag":
        if value not in _YES_NO:
            raise MessageError(f"{value!r} is not Y or N", _where(obx, 5), code=103)
        reader.take(name, _YES_NO[value], _where(obx, 5))
    else:
        reader.take(name, value, _where(obx, 5))


def _observation(reader: _Reader, obx: RawSegment, answers: _Answers,
                 feeding: set[str]) -> None:
    code = (reader.parts(obx, 3) or [""])[0]
    if code in answers.context:
        _context(reader, obx, code, *answers.context[code])
        return
    obs = answers.obs
    single = {obs["obs.barcode"]: "barcode", obs["obs.reason"]: "kind",
              obs["obs.birth_weight"]: "birth_weight_g",
              obs["obs.gestational_age"]: "gestational_age_weeks",
              obs["obs.transfusion_date"]: "transfused_at"}
    key = single.get(code)
    if key is not None and key in reader.values:
        raise MessageError(f"observation {code} is given twice", _where(obx, 3))
    if code == obs["obs.barcode"]:
        value = (reader.parts(obx, 5) or [""])[0].strip()
        if not value:
            raise MessageError("the card's bar code is empty", _where(obx, 5), code=101)
        reader.take("barcode", value, _where(obx, 5))
    elif code == obs["obs.reason"]:
        reader.take("kind", _coded(reader, obx, answers.reason, "reason-for-test"), _where(obx, 5))
    elif code == obs["obs.birth_weight"]:
        reader.take("birth_weight_g", round(_number(reader, obx, code)), _where(obx, 5))
    elif code == obs["obs.gestational_age"]:
        reader.take("gestational_age_weeks", round(_number(reader, obx, code), 1),
                    _where(obx, 5))
    elif code == obs["obs.feeding"]:
        feeding.add(_coded(reader, obx, answers.feeding, "feeding"))
        reader.locations.setdefault("feeding", _where(obx, 5))
    elif code == obs["obs.infant_factors"]:
        factor = _coded(reader, obx, answers.factors, "infant-factor")
        if factor:
            reader.take(factor, True, _where(obx, 5))
    elif code == obs["obs.transfusion_date"]:
        when = reader.time((reader.parts(obx, 5) or [""])[0], _where(obx, 5))
        reader.take("transfused_at", when, _where(obx, 5))
        reader.take("transfused", True, _where(obx, 5))


def _card(reader: _Reader, codes: CodeTables) -> None:
    answers = _Answers(codes)
    feeding: set[str] = set()
    for obx in reader.all("OBX"):
        _observation(reader, obx, answers, feeding)
    if "barcode" not in reader.values:
        raise MessageError(f"no observation {answers.obs['obs.barcode']} (the card's bar code)",
                           Location("OBX"), code=101)
    if "tpn" in feeding:
        reader.values["tpn"] = True
    milk = feeding & {"breast", "formula"}
    reader.values["feeding"] = ("mixed" if len(milk) == 2 else milk.pop() if milk
                                else "tpn" if "tpn" in feeding
                                else "none" if "none" in feeding else "unknown")


def parse_oml(text: str, *, default_tz: tzinfo = UTC,
              codes: CodeTables | None = None) -> AccessionRecord:
    """The card data an OML^O21 message carries.

    ``default_tz`` is the time zone of date/times written without an offset (the sender's local
    time). Raises :class:`MessageError` naming the segment and field of the first problem.
    """
    reader = _Reader(text, default_tz)
    _header(reader)
    _patient(reader)
    _mother(reader)
    _order(reader)
    _card(reader, codes or default_codes())
    return AccessionRecord(**reader.values,  # type: ignore[arg-type]
                           locations=MappingProxyType(dict(reader.locations)))

