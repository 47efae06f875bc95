"""The result message of a release, from what the LIMS stores: the view model
(``reports.hl7.ResultMessage``) of one released version of a specimen's result, which
``reports.hl7.build_oru`` turns into an ORU^R01 (docs/hl7.md "In the LIMS").

- the baby, the mother and the card come from the specimen and its infant (the LIMS keeps no
  name for a baby: PID-5 is "Baby Girl" or "Baby Boy" with the mother's name); the submitter and
  the names of the receiving application and facility from the submitter and its endpoint
  (without an endpoint, the submitter's code is the receiving facility);
- the values are the ones the release recorded (``Release.summary``), the ratios of the ratio
  catalogue computed from them (``msms.ratios``); each is reported with the reference range of
  the disorder rules' literature levels (``cutoffs/data/rules``: for each marker a rule reads
  as a primary marker, the nearest first level in each direction) and an abnormal flag against
  it (``H``/``L``, ``HH``/``LL`` past a critical level, ``N`` within; none for a marker no rule
  reads as a primary one);
- the interpretations are the specimen's current calls, one per catalogue disorder (normal
  unless a call stands; a release as normal, by the reviewer's decision or an override, reports
  every disorder normal); a positive call of a referred release asks for immediate referral
  (released with a request for a repeat specimen, it is out of range);
- the recommendation is the result report's wording (``reports/data/wording/en.toml``): the
  overall sentence with the release's action (what the reviewer decided, whatever the calls'
  own first-tier actions), then each out-of-range disorder.

Public names: ``Sender``, ``Stored``, ``stored_for``, ``Measured``, ``measurements``,
``result_message``, ``control_id``, ``ReferenceRange``, ``reference_ranges``, ``designator``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Literal

import numpy as np
from sqlmodel import Session

from cutoffs import default_rules
from lims.accession.repository import infants_by_ids
from lims.interfaces import repository
from lims.models import Evaluation, Hl7Endpoint, Infant, Release, Specimen, Submitter
from lims.reference import unsatisfactory_codes
from lims.review import repository as review_repository
from lims.review.actions import AS_NORMAL, release_action
from lims.settings import Settings
from lims.vocabulary import Action, Final, ReleaseOutcome
from msms.catalogue import default_catalogue
from msms.ratios import OK, ratio_catalogue, ratio_values_from_arrays
from reports.hl7 import (
    Baby,
    Card,
    HierarchicDesignator,
    Interpretation,
    Measurement,
    Mother,
    PersonName,
    ResultMessage,
    SpecimenQuality,
)
from reports.hl7 import Submitter as SubmitterView
from reports.wording import fill, wording

__all__ = ["Measured", "ReferenceRange", "Sender", "Stored", "control_id", "designator",
           "measurements", "reference_ranges", "result_message", "stored_for"]


def designator(text: str) -> HierarchicDesignator:
    """An HD from ``NAME`` or ``NAME^OID^ISO``."""
    parts = (text.split("^") + ["", ""])[:3]
    return HierarchicDesignator(parts[0], parts[1], parts[2])


@dataclass(frozen=True, slots=True)
class Sender:
    """The laboratory as the sender of its messages (MSH-3, MSH-4, MSH-11)."""

    application: HierarchicDesignator
    facility: HierarchicDesignator
    processing_id: Literal["P", "T", "D"] = "P"

    @classmethod
    def from_settings(cls, settings: Settings) -> Sender:
        return cls(designator(settings.hl7_sending_application),
                   designator(settings.hl7_sending_facility), settings.hl7_processing_id)


def control_id(specimen_id: int, version: int) -> str:
    """MSH-10 of the message of one released version (at most 20 characters)."""
    return f"NBS{specimen_id}-{version}"


@dataclass(frozen=True, slots=True)
class ReferenceRange:
    """Where a marker's values stop being in range (``low``, ``high``) and become critical."""

    low: float | None = None
    high: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None

    def flag(self, value: float) -> str:
        """The abnormal flag of ``value`` (HL7 table 0078)."""
        if self.critical_high is not None and value > self.critical_high:
            return "HH"
        if self.critical_low is not None and value < self.critical_low:
            return "LL"
        if self.high is not None and value > self.high:
            return "H"
        if self.low is not None and value < self.low:
            return "L"
        return "N"


@cache
def reference_ranges() -> Mapping[str, ReferenceRange]:
    """Per marker a rule reads as a primary marker: the nearest first level in each direction
    and the nearest critical level (the packaged disorder rules, cited in their files). A
    marker the rules read only as a secondary one has no range: its levels only support a
    primary marker's call and never make one, and most normal babies pass one of them."""
    found: dict[str, dict[str, float]] = {}
    for rule in default_rules():
        for marker in rule.primary:
            levels = [v for _, v in marker.levels.items()]
            if not levels:
                continue
            entry = found.setdefault(marker.name, {})
            high = marker.direction == "high"
            nearest = min if high else max
            for key, value in ((("high" if high else "low"), levels[0]),
                               (("critical_high" if high else "critical_low"),
                                marker.levels.critical)):
                if value is not None:
                    entry[key] = nearest(entry.get(key, value), value)
    return {name: ReferenceRange(**entry) for name, entry in found.items()}


def _measurement(code: str, value: float) -> Measurement:
    reference = reference_ranges().get(code)
    if reference is None:
        return Measurement(code, value)
    return Measurement(code, value, reference.flag(value), reference.low, reference.high)


Measured = tuple[tuple[Measurement, ...], tuple[Measurement, ...]]


def measurements(many: Sequence[Mapping[str, float | None]]) -> list[Measured]:
    """For each card's values (a release's ``summary["values_umol_l"]``): its analytes, in the
    catalogue's order, and the ratios of the ratio catalogue defined for it (every analyte
    measured, finite, not negative, a denominator above zero), each ratio computed for all the
    cards at once."""
    known = [{code: float(v) for code, v in values.items()
              if v is not None and math.isfinite(float(v))} for values in many]
    codes = {code for values in known for code in values}
    arrays = {code: np.array([values.get(code, np.nan) for values in known]) for code in codes}
    ratios: list[list[Measurement]] = [[] for _ in known]
    for ratio in ratio_catalogue():
        if not any(code in arrays for code in ratio.analytes):
            continue
        value, status = ratio_values_from_arrays(ratio, arrays, len(known))
        for i in np.flatnonzero(status == OK):
            ratios[i].append(_measurement(ratio.name, float(value[i])))
    return [(tuple(_measurement(a.code, values[a.code])
                   for a in default_catalogue().analytes if a.code in values), tuple(mine))
            for values, mine in zip(known, ratios, strict=True)]


def _interpretations(calls: Sequence[Evaluation], outcome: str) -> tuple[Interpretation, ...]:
    standing = {} if outcome in AS_NORMAL else {
        c.disorder: c for c in calls if c.final != Final.negative}
    # "requiring immediate referral" when the reviewer referred (the narrative's "refer at
    # once"), for each positive call, time-critical or after its duplicates; released with a
    # request for a repeat specimen, a positive call is out of range
    referred = outcome == ReleaseOutcome.referred
    out = []
    for disorder in default_catalogue().disorders:
        call = standing.get(disorder.code)
        if call is None:
            out.append(Interpretation(disorder.code, "normal"))
        else:
            positive = call.final == Final.positive
            out.append(Interpretation(disorder.code, "positive" if positive else "borderline",
                                      immediate=referred and positive))
    return tuple(out)


def _recommendation(interpretations: Sequence[Interpretation], outcome: str) -> str:
    words = wording("en")
    flagged = [i for i in interpretations if i.call != "normal"]
    action = release_action(outcome)  # what the reviewer decided
    if not flagged and action == Action.none:
        return fill(words.result.overall_negative_text, total=len(interpretations))
    lines = [fill(words.result.overall_flagged_text, count=len(flagged),
                  total=len(interpretations), action=getattr(words.common.actions, action))]
    finals = {"borderline": words.common.finals.borderline,
              "positive": words.common.finals.positive}
    lines += [words.label(words.disorder_label(i.disorder), finals[i.call]) for i in flagged]
    return "\n".join(lines)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _card(specimen: Specimen, infant: Infant) -> Card:
    collected, birth = _utc(specimen.collected_at), _utc(infant.birth_at)
    quality = SpecimenQuality()
    if specimen.unsatisfactory_code:
        known = unsatisfactory_codes().get(specimen.unsatisfactory_code)
        quality = SpecimenQuality(False, specimen.unsatisfactory_code,
                                  known.description if known else "")
    return Card(
        barcode=specimen.barcode, collected_at=collected,
        received_at=_utc(specimen.received_at),
        kind=specimen.kind,  # type: ignore[arg-type]
        birth_weight_g=specimen.birth_weight_g or infant.birth_weight_g,
        gestational_age_weeks=specimen.gestational_age_weeks or infant.gestational_age_weeks,
        age_at_collection_hours=round((collected - birth).total_seconds() / 3600, 1),
        feeding=specimen.feeding,  # type: ignore[arg-type]
        tpn=specimen.tpn, transfused=specimen.transfused,
        transfused_at=_utc(specimen.transfused_at) if specimen.transfused_at else None,
        nicu=specimen.nicu, quality=quality)


def _baby(infant: Infant) -> Baby:
    """PID: the LIMS records no name for a baby, so PID-5 is the newborn convention (family:
    the mother's name, given: Baby Girl / Baby Boy); the hospital's record number (PID-3, MR)
    and the birth time identify the baby."""
    assert infant.id is not None
    given = {"F": "Baby Girl", "M": "Baby Boy"}.get(infant.sex, "Baby")
    return Baby(lab_id=f"INF-{infant.id:06d}",
                name=PersonName(infant.mother_name or "Newborn", given),
                birth_at=_utc(infant.birth_at), sex=infant.sex,  # type: ignore[arg-type]
                medical_record_number=infant.medical_record_number,
                multiple_birth=infant.plurality > 1, birth_order=infant.birth_order)


@dataclass(frozen=True, slots=True)
class Stored:
    """What the messages of several releases read, read once (``stored_for``): the babies,
    the submitters and their endpoints, and the specimens' current calls."""

    infants: Mapping[int, Infant]
    submitters: Mapping[int, Submitter]
    endpoints: Mapping[int, Hl7Endpoint]
    calls: Mapping[int, Sequence[Evaluation]]


def stored_for(session: Session, specimens: Sequence[Specimen],
               calls: Mapping[int, Sequence[Evaluation]] | None = None) -> Stored:
    """``Stored`` for these specimens in four queries (three when their ``calls`` are given)."""
    ids = [s.id for s in specimens if s.id is not None]
    submitter_ids = {s.submitter_id for s in specimens}
    return Stored(
        infants=infants_by_ids(session, [s.infant_id for s in specimens]),
        submitters=repository.submitters_by_ids(session, submitter_ids),
        endpoints=repository.endpoints_of_submitters(session, submitter_ids),
        calls=calls if calls is not None else review_repository.current_calls(session, ids))


def result_message(session: Session, specimen: Specimen, release: Release, *,
                   sender: Sender, stored: Stored | None = None,
                   measured: Measured | None = None) -> ResultMessage:
    """The view model of ``release`` (a released version of ``specimen``'s result);
    ``stored``: what it reads, read already for several (else read for this one);
    ``measured``: its ``measurements``, computed already with others'."""
    assert specimen.id is not None
    stored = stored or stored_for(session, [specimen])
    infant = stored.infants.get(specimen.infant_id)
    submitter = stored.submitters.get(specimen.submitter_id)
    assert infant is not None and submitter is not None
    endpoint = stored.endpoints.get(specimen.submitter_id)
    calls = stored.calls.get(specimen.id, [])
    analytes, ratios = measured or measurements(
        [(release.summary or {}).get("values_umol_l", {})])[0]
    interpretations = _interpretations(calls, release.outcome)
    mother = (Mother(PersonName(infant.mother_name), id=infant.mother_id)
              if infant.mother_name or infant.mother_id else None)
    released_at = _utc(release.released_at)
    return ResultMessage(
        message_control_id=control_id(specimen.id, release.version),
        message_time=released_at,
        sending_application=sender.application, sending_facility=sender.facility,
        receiving_application=HierarchicDesignator(
            endpoint.receiving_application if endpoint else ""),
        receiving_facility=HierarchicDesignator(
            endpoint.receiving_facility if endpoint else submitter.code[:20]),
        baby=_baby(infant), mother=mother,
        submitter=SubmitterView(submitter.code, submitter.name),
        card=_card(specimen, infant), filler_order_number=f"SPC-{specimen.id:06d}",
        released_at=released_at, analytes=analytes, ratios=ratios,
        interpretations=interpretations,
        recommendation=_recommendation(interpretations, release.outcome),
        version=release.version, processing_id=sender.processing_id)
