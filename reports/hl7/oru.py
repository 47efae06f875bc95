"""Build an HL7 v2.5.1 ORU^R01 newborn-screening result message from a :class:`ResultMessage`.

The layout follows the newborn dried-blood-spot screening guide as the real programmes' messages
use it (docs/hl7.md, "The result message"):

- MSH (profile identifiers in MSH-21), PID (the baby), NK1 (the mother);
- ORC/OBR 57128-1, the report summary: sample quality, overall interpretation, the conditions
  with positive and with equivocal markers, the conditions tested, the recommendation; then SPM
  (the dried blood spot, its collection and receipt times);
- ORC/OBR 57717-1, the card data: bar code, reason for the test, birth weight, gestational age,
  age at collection, feeding, NICU and transfusion;
- one ORC/OBR per result panel (amino acids, acylcarnitines, fatty-acid oxidation, organic acids,
  X-ALD, SCID) with each disorder's interpretation (the group question with the disorder as
  alternate code, an LA answer) and each analyte and ratio (value, UCUM unit, reference range,
  abnormal flag).

A correction (``version`` > 1) has result status ``C`` in every OBR-25 and OBX-11. Codes come
from :mod:`reports.hl7.codes`. Segments end with CR.

Public names: ``build_oru``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from reports.hl7.codes import Coded, CodeTables, default_codes
from reports.hl7.er7 import escape, escape_text, format_dtm, format_number
from reports.hl7.errors import Hl7Error
from reports.hl7.model import (
    CALLS,
    FEEDINGS,
    FLAGS,
    KINDS,
    Address,
    HierarchicDesignator,
    Measurement,
    PersonName,
    ResultMessage,
)

__all__ = ["build_oru"]

#: The result panels in the order they are reported.
_RESULT_PANELS = ("panel.amino_acid", "panel.acylcarnitine", "panel.fatty_acid_oxidation",
                  "panel.organic_acid", "panel.x_ald", "panel.scid")
_FLAGS = frozenset(FLAGS)
_FEEDING_ANSWERS = {
    "breast": ("answer.breast_milk",), "formula": ("answer.lactose_formula",),
    "mixed": ("answer.breast_milk", "answer.lactose_formula"), "tpn": ("answer.tpn",),
    "none": ("answer.npo",), "unknown": (),
}


@dataclass(frozen=True, slots=True)
class _Context:
    """What every OBR and OBX of one message repeats, formatted once."""

    codes: CodeTables
    status: str
    #: OBX-9 to OBX-23 (result status, observation time, performing organisation).
    tail: str
    observed: str
    performer: str
    placer: str
    filler: str
    released: str
    provider: str


def _dtm(value: datetime, what: str) -> str:
    try:
        return format_dtm(value)
    except ValueError as exc:
        raise Hl7Error(f"{what}: {exc}; give datetimes with a time zone") from None


def _hd(value: HierarchicDesignator, separator: str = "^") -> str:
    parts = [escape(value.namespace), escape(value.universal_id), escape(value.universal_id_type)]
    return separator.join(parts).rstrip(separator)


def _xpn(name: PersonName) -> str:
    return f"{escape(name.family)}^{escape(name.given)}^{escape(name.middle)}^^^^L"


def _xad(address: Address | None) -> str:
    if address is None:
        return ""
    return (f"{escape(address.street)}^^{escape(address.city)}^{escape(address.state)}"
            f"^{escape(address.postal_code)}^{escape(address.country)}")


class _Group:
    """The OBX segments of one OBR, numbered (OBX-1) and sub-numbered per question (OBX-4: the
    question's code and coding system, whatever its alternate code)."""

    def __init__(self, ctx: _Context) -> None:
        self.ctx = ctx
        self.segments: list[str] = []
        self._counts: dict[tuple[str, str], int] = {}

    def add(self, value_type: str, identifier: str, value: str, units: str = "",
            reference: str = "", flag: str = "") -> None:
        # the question is its code in its coding system: a disorder's interpretation repeats
        # one LOINC question with the disorder as the alternate code, and a receiver tells the
        # repeats apart by the sub-id alone
        parts = identifier.split("^")
        question = (parts[0], parts[2] if len(parts) > 2 else "")
        sub = self._counts.get(question, 0) + 1
        self._counts[question] = sub
        self.segments.append(
            f"OBX|{len(self.segments) + 1}|{value_type}|{identifier}|{sub}|{value}|{units}"
            f"|{reference}|{flag}{self.ctx.tail}")

    def coded(self, question: Coded, answer: Coded) -> None:
        self.add("CWE", question.cwe, answer.cwe)


def _msh(result: ResultMessage, codes: CodeTables) -> str:
    if not result.message_control_id:
        raise Hl7Error("message_control_id is empty (MSH-10)")
    profiles = "~".join(f"{c.code}^^{c.display}^{c.system}"
                        for c in (codes["profile.lri_ng_frn"], codes["profile.lri_ndbs"]))
    return (f"MSH|^~\\&|{_hd(result.sending_application)}|{_hd(result.sending_facility)}"
            f"|{_hd(result.receiving_application)}|{_hd(result.receiving_facility)}"
            f"|{_dtm(result.message_time, 'message_time')}||ORU^R01^ORU_R01"
            f"|{escape(result.message_control_id)}|{result.processing_id}|2.5.1|||AL|NE"
            f"|||||{profiles}")


def _pid(result: ResultMessage) -> str:
    baby = result.baby
    if not baby.lab_id or not baby.name.family:
        raise Hl7Error("the baby needs a lab_id (PID-3) and a family name (PID-5)")
    if baby.sex not in ("M", "F", "U"):
        raise Hl7Error(f"baby.sex {baby.sex!r} is not M, F or U (PID-8)")
    ids = f"{escape(baby.lab_id)}^^^{_hd(result.sending_facility, '&')}^PI"
    if baby.medical_record_number:
        ids += f"~{escape(baby.medical_record_number)}^^^{escape(result.submitter.code)}^MR"
    multiple = {None: "", True: "Y", False: "N"}[baby.multiple_birth]
    order = "" if baby.birth_order is None else str(baby.birth_order)
    return (f"PID|1||{ids}||{_xpn(baby.name)}||{_dtm(baby.birth_at, 'baby.birth_at')}"
            f"|{baby.sex}|||{_xad(baby.address)}|||||||||||||{multiple}|{order}")


def _nk1(result: ResultMessage, codes: CodeTables) -> list[str]:
    mother = result.mother
    if mother is None:
        return []
    ident = escape(mother.id)
    return [f"NK1|1|{_xpn(mother.name)}|{codes['relationship.mother'].cwe}|{_xad(mother.address)}"
            f"|{escape(mother.phone)}{'|' * 28}{ident}".rstrip("|")]


def _order(ctx: _Context, result: ResultMessage, set_id: int, panel: Coded,
           parent: Coded) -> list[str]:
    """ORC and OBR of one panel."""
    submitter = (f"{escape(result.submitter.name)}^L^^^^{_hd(result.sending_facility, '&')}"
                 f"^XX^^^{escape(result.submitter.code)}")
    orc = (f"ORC|RE|{ctx.placer}|{ctx.filler}|||||||||{ctx.provider}|||||||||{submitter}")
    obr = (f"OBR|{set_id}|{ctx.placer}|{ctx.filler}|{panel.cwe}|||{ctx.observed}||||O|||||"
           f"{ctx.provider}||||||{ctx.released}|||{ctx.status}{'|' * 25}{parent.cwe}")
    return [orc, obr]


def _overall(result: ResultMessage, codes: CodeTables) -> Coded:
    calls = [i for i in result.interpretations if i.call != "normal"]
    if any(i.call == "positive" and i.immediate for i in calls):
        return codes["answer.immediate_referral"]
    return codes["answer.some_out_of_range" if calls else "answer.all_in_range"]


def _summary(ctx: _Context, result: ResultMessage) -> _Group:
    codes, card = ctx.codes, result.card
    group = _Group(ctx)
    quality = card.quality
    if not quality.acceptable and not quality.code:
        raise Hl7Error("an unsatisfactory specimen needs the laboratory's code (OBX 57718-9)")
    group.coded(codes["obs.sample_quality"], codes["answer.acceptable"] if quality.acceptable
                else Coded(quality.code, quality.description, codes["system.local"].code))
    group.coded(codes["obs.overall"], _overall(result, codes))
    for question, call in (("obs.positive_conditions", "positive"),
                           ("obs.equivocal_conditions", "borderline")):
        listed = [codes.disorders[i.disorder].answer for i in result.interpretations
                  if i.call == call]
        for answer in listed or [codes["answer.none"]]:
            group.coded(codes[question], answer)
    tested = (codes.coded_disorders if result.conditions_tested is None
              else result.conditions_tested)
    for disorder in tested:
        if disorder not in codes.disorders:
            raise Hl7Error(f"conditions_tested: {disorder!r} is not a catalogue disorder")
        group.coded(codes["obs.conditions_tested"], codes.disorders[disorder].answer)
    if result.recommendation.strip():
        group.add("TX", codes["obs.narrative"].cwe, escape_text(result.recommendation))
    return group


def _number(value: float | None, what: str, unit: Coded, group: _Group, code: Coded) -> None:
    if value is not None:
        try:
            text = format_number(value)
        except ValueError as exc:
            raise Hl7Error(f"{what}: {exc}") from None
        group.add("NM", code.cwe, text, unit.cwe)


def _card(ctx: _Context, result: ResultMessage) -> _Group:
    codes, card = ctx.codes, result.card
    if card.kind not in KINDS or card.feeding not in FEEDINGS:
        raise Hl7Error(f"card kind {card.kind!r} or feeding {card.feeding!r} is not known")
    group = _Group(ctx)
    group.add("ST", codes["obs.barcode"].cwe, escape(card.barcode))
    reason = "answer.initial_screen" if card.kind == "initial" else "answer.subsequent_protocol"
    group.coded(codes["obs.reason"], codes[reason])
    _number(card.birth_weight_g, "card.birth_weight_g", codes["unit.gram"], group,
            codes["obs.birth_weight"])
    _number(card.gestational_age_weeks, "card.gestational_age_weeks", codes["unit.week"], group,
            codes["obs.gestational_age"])
    _number(card.age_at_collection_hours, "card.age_at_collection_hours", codes["unit.hour"],
            group, codes["obs.age_at_collection"])
    feeding = list(_FEEDING_ANSWERS[card.feeding])
    if card.tpn and "answer.tpn" not in feeding:
        feeding.append("answer.tpn")
    for answer in feeding:
        group.coded(codes["obs.feeding"], codes[answer])
    factors = [a for a, on in (("answer.nicu", card.nicu), ("answer.transfusion", card.transfused))
               if on] or ["answer.none"]
    for answer in factors:
        group.coded(codes["obs.infant_factors"], codes[answer])
    if card.transfused_at is not None:
        group.add("DTM", codes["obs.transfusion_date"].cwe,
                  _dtm(card.transfused_at, "card.transfused_at"))
    return group


@lru_cache(maxsize=4096)
def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{format_number(low)}-{format_number(high)}"
    if high is not None:
        return f"<{format_number(high)}"
    if low is not None:
        return f">{format_number(low)}"
    return ""


def _measurements(ctx: _Context, groups: dict[str, _Group], items: Iterable[Measurement],
                  ratio: bool) -> None:
    codes = ctx.codes
    table = codes.ratios if ratio else codes.analytes
    unit = codes["unit.ratio" if ratio else "unit.umol_l"].cwe
    for item in items:
        entry = table.get(item.code)
        if entry is None:
            kind = "ratio" if ratio else "analyte"
            raise Hl7Error(f"{item.code!r} is not a catalogue {kind}")
        if item.flag not in _FLAGS:
            raise Hl7Error(f"{item.code}: abnormal flag {item.flag!r} is not one of "
                           f"{', '.join(f for f in FLAGS if f)}")
        try:
            value = format_number(item.value)
            reference = _range(item.reference_low, item.reference_high)
        except ValueError as exc:
            raise Hl7Error(f"{item.code}: {exc}") from None
        groups[entry.panel].add("NM", entry.coded.cwe, value, unit, reference, item.flag)


def _results(ctx: _Context, result: ResultMessage) -> dict[str, _Group]:
    codes = ctx.codes
    groups = {panel: _Group(ctx) for panel in _RESULT_PANELS}
    seen: set[str] = set()
    for item in result.interpretations:
        disorder = codes.disorders.get(item.disorder)
        if disorder is None or item.call not in CALLS or item.disorder in seen:
            raise Hl7Error(f"interpretation {item.disorder!r} ({item.call!r}) names no catalogue "
                           "disorder, has no known call, or is given twice")
        seen.add(item.disorder)
        answer = ("answer.in_range" if item.call == "normal"
                  else "answer.immediate_referral" if item.call == "positive" and item.immediate
                  else "answer.out_of_range")
        groups[disorder.panel].add("CWE", disorder.question_cwe, codes[answer].cwe)
    _measurements(ctx, groups, result.analytes, ratio=False)
    _measurements(ctx, groups, result.ratios, ratio=True)
    return groups


def _context(result: ResultMessage, codes: CodeTables) -> _Context:
    if result.version < 1:
        raise Hl7Error(f"version {result.version} is not a positive number")
    if not result.filler_order_number:
        raise Hl7Error("filler_order_number is empty (ORC-3/OBR-3)")
    lab = _hd(result.sending_facility)
    provider = result.ordering_provider
    status = "C" if result.corrected else "F"
    observed = _dtm(result.card.collected_at, "card.collected_at")
    performer = escape(result.sending_facility.namespace)
    return _Context(
        codes=codes,
        status=status,
        tail=f"|||{status}|||{observed}|||||||||{performer}",
        observed=observed,
        performer=performer,
        placer=(f"{escape(result.placer_order_number)}^{escape(result.submitter.code)}"
                if result.placer_order_number else ""),
        filler=f"{escape(result.filler_order_number)}^{lab}",
        released=_dtm(result.released_at, "released_at"),
        provider=(f"{escape(provider.id)}^{escape(provider.name.family)}"
                  f"^{escape(provider.name.given)}" if provider else ""),
    )


def _spm(result: ResultMessage, codes: CodeTables) -> str:
    card = result.card
    specimen_id = f"{escape(card.barcode)}&{_hd(result.sending_facility, '&')}"
    return (f"SPM|1|^{specimen_id}||{codes['specimen.dried_blood_spot'].cwe}|||||||||||||"
            f"{_dtm(card.collected_at, 'card.collected_at')}"
            f"|{_dtm(card.received_at, 'card.received_at')}")


def build_oru(result: ResultMessage, *, codes: CodeTables | None = None) -> str:
    """The ORU^R01 message (segments separated and ended by CR) for one released version.

    Raises :class:`Hl7Error` naming what in the view model cannot be sent: a naive datetime, an
    unknown analyte, ratio or disorder code, an abnormal flag outside HL7 table 0078, a value that
    is not a finite number, an empty identifier.
    """
    codes = codes or default_codes()
    ctx = _context(result, codes)
    segments = [_msh(result, codes), _pid(result), *_nk1(result, codes)]
    summary_parent, results_parent = codes["panel.newborn_screening"], codes["panel.results"]
    results = _results(ctx, result)  # first: it checks every interpretation
    groups: list[tuple[Coded, Coded, _Group]] = [
        (codes["panel.summary"], summary_parent, _summary(ctx, result)),
        (codes["panel.card"], summary_parent, _card(ctx, result)),
    ]
    groups += [(codes[panel], results_parent, group)
               for panel, group in results.items() if group.segments]
    for set_id, (panel, parent, group) in enumerate(groups, start=1):
        segments += _order(ctx, result, set_id, panel, parent)
        segments += group.segments
        if set_id == 1:
            segments.append(_spm(result, codes))
    return "\r".join(segments) + "\r"
