"""The view models of the case and specimen documents, built from the database: the recall
letter of a follow-up case, the result report of a released specimen (and a submitter's
batch), the QC report of a run. ``reports`` renders them; nothing here renders or stores.

- A baby is named as the card names a newborn (the LIMS keeps no name): "Baby girl of
  <mother>" in the document's language (``lims.documents.laboratory``).
- The values against the cutoffs are the call's own reasons (``C8=0.61>0.3``: marker, value,
  direction, cutoff), as ``cutoffs.evaluate`` wrote them.
- A result report lists every disorder of the catalogue: a disorder without a current call is
  normal; a release as normal (by the reviewer, or an override) reports every final negative
  with no action, as the HL7 result does (``lims.interfaces.results``).

- Every time is printed in the laboratory's time zone (``NBS_TIME_ZONE``, as the web pages
  show it) with its UTC offset (``lims.settings.aware``): a birth at 18:20 UTC is the next
  morning in Beijing.

Public names: ``ViewError``, ``markers_of``, ``rule_markers``, ``baby_view``,
``specimen_view``, ``QuotedResult``, ``quoted_result``, ``letter_view``, ``letter_action``,
``LetterAction``, ``specimen_result``, ``qc_view``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from cutoffs import default_rules
from lims.documents import repository
from lims.documents.laboratory import LabText
from lims.errors import ConflictError, InvalidInputError
from lims.models import (
    Clinic,
    Evaluation,
    FollowUpCase,
    Infant,
    Release,
    Run,
    Specimen,
    Submitter,
    User,
    WellSignal,
)
from lims.pipeline import well_means
from lims.review import repository as review_repository
from lims.review.actions import AS_NORMAL, release_action
from lims.runs import repository as runs_repository
from lims.runs.levey_jennings import run_charts
from lims.settings import aware
from lims.vocabulary import Action, CaseReason, CaseState, Final, FirstTier, QcDecision
from msms.catalogue import default_catalogue
from msms.methods import default_method
from msms.qc.controls import default_control_lots
from msms.qc.levey_jennings import LJSeries
from msms.qc.rules import default_rules as default_qc_rules
from reports import models as rm
from reports.letter import RecallLetter, ReferralClinic, SuspectedDisorder
from reports.qc import ControlSeries, ControlValue, QcFinding, QcReport, SeriesPoint, Well
from reports.result import DisorderResult, SpecimenResult
from reports.wording import wording

__all__ = ["LetterAction", "QuotedResult", "ViewError", "baby_view", "letter_action",
           "letter_view", "markers_of", "qc_view", "quoted_result", "rule_markers",
           "specimen_result", "specimen_view"]

#: What a recall letter asks for.
LetterAction = Literal["request_repeat_specimen", "immediate_referral"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_PIECE = re.compile(rf"(?P<marker>[A-Za-z0-9:+\-/]+)=(?P<value>{_NUMBER})"
                    rf"(?P<op>>=|<=|>|<)(?P<cutoff>{_NUMBER})")
_SAMPLE_TYPES = ("patient", "blank", "qc_low", "qc_high", "qc_other", "calibrator",
                 "proficiency", "unknown")
#: Charts drawn in a QC report: every series the run flagged (at most ``QC_MAX_CHARTS``), and
#: at least ``QC_CHARTS``, filled with those furthest from their targets.
QC_CHARTS = 6
QC_MAX_CHARTS = 12


class ViewError(InvalidInputError):
    """The records cannot make this document (e.g. a letter about a case suspecting nothing)."""


def markers_of(reasons: str, tier: str | None = None) -> tuple[rm.MarkerValue, ...]:
    """The markers a call's reasons name with their values and cutoffs."""
    out = []
    for piece in reasons.split(";"):
        match = _PIECE.search(piece)
        if match is None:
            continue
        value, cutoff = float(match["value"]), float(match["cutoff"])
        if not (math.isfinite(value) and math.isfinite(cutoff)):
            continue
        out.append(rm.MarkerValue(
            marker=match["marker"], value=value, cutoff=cutoff,
            direction="high" if match["op"].startswith(">") else "low",
            unit="" if "/" in match["marker"] else "µmol/L",
            tier=tier if tier in ("borderline", "positive", "critical") else None))  # type: ignore[arg-type]
    return tuple(out)


def _card_values(session: Session, specimen_id: int) -> dict[str, float]:
    """The card's mean concentration per analyte on its latest run."""
    means = well_means(review_repository.latest_results(session, [specimen_id]))
    return {str(analyte): float(v) for (_, analyte), v in means.items()
            if v is not None and math.isfinite(float(v))}


def rule_markers(code: str, values: dict[str, float]) -> tuple[rm.MarkerValue, ...]:
    """A disorder's analyte markers (its cited rule, ``cutoffs/data/rules``) with the card's
    values against the rule's first level: a letter about a case opened by hand, whose
    specimen has no call of that disorder, still shows why."""
    rules = default_rules()
    if code not in rules.codes:
        return ()
    out = []
    for marker in rules.rule(code).markers:
        levels = [v for _, v in marker.levels.items()]
        if marker.name in values and levels:
            out.append(rm.MarkerValue(marker=marker.name, value=values[marker.name],
                                      cutoff=levels[0], direction=marker.direction))  # type: ignore[arg-type]
    return tuple(out)


def baby_view(infant: Infant, text: LabText, first_card: Specimen | None = None) -> rm.Baby:
    """The baby as documents print it; the birth weight and gestational age the baby's record
    lacks come from its first card (``first_card``), where the submitter wrote them."""
    weight = infant.birth_weight_g
    weeks = infant.gestational_age_weeks
    if first_card is not None:
        weight = weight if weight is not None else first_card.birth_weight_g
        weeks = weeks if weeks is not None else first_card.gestational_age_weeks
    return rm.Baby(
        # a card without the mother's name names her by her identifier, as the pages do
        name=text.baby_name(infant.mother_name or infant.mother_id, infant.sex),
        sex=infant.sex if infant.sex in ("M", "F") else "U",  # type: ignore[arg-type]
        birth_at=aware(infant.birth_at),
        birth_weight_g=weight if weight is not None and 0 < weight < 10_000 else None,
        gestational_age_weeks=weeks if weeks is not None and 15 < weeks < 50 else None,
        mother_name=infant.mother_name, mother_id=infant.mother_id,
        infant_id=f"INF-{infant.id:06d}",
        medical_record_number=infant.medical_record_number)


def _notes(specimen: Specimen, infant: Infant) -> tuple[rm.SpecimenNote, ...]:
    notes: list[rm.SpecimenNote] = []
    hours = (aware(specimen.collected_at) - aware(infant.birth_at)).total_seconds() / 3600
    weeks = specimen.gestational_age_weeks or infant.gestational_age_weeks
    weight = specimen.birth_weight_g or infant.birth_weight_g
    if hours < 24:
        notes.append("early_collection")
    if weeks is not None and weeks < 37:
        notes.append("preterm")
    if weight is not None and weight < 2500:
        notes.append("low_birth_weight")
    if specimen.tpn:
        notes.append("tpn")
    if specimen.transfused:
        notes.append("transfused")
    if specimen.unsatisfactory_code:
        notes.append("unsatisfactory")
    return tuple(notes)


def submitter_view(submitter: Submitter) -> rm.Submitter:
    return rm.Submitter(code=submitter.code, name=submitter.name, district=submitter.district)


def specimen_view(specimen: Specimen, infant: Infant, submitter: Submitter) -> rm.Specimen:
    return rm.Specimen(
        specimen_id=f"SPC-{specimen.id:06d}", card_barcode=specimen.barcode,
        kind=specimen.kind.replace("-", "_"),  # type: ignore[arg-type]
        collected_at=aware(specimen.collected_at), received_at=aware(specimen.received_at),
        submitter=submitter_view(submitter), notes=_notes(specimen, infant))


def _letter_tier(call: Evaluation) -> str:
    if call.first_tier in (FirstTier.borderline, FirstTier.positive, FirstTier.critical):
        return call.first_tier
    return "positive" if call.final == Final.positive else "borderline"


@dataclass(frozen=True)
class QuotedResult:
    """What of a case's card a recall letter may quote (``quoted_result``)."""

    #: The card has no release yet: nothing of its result is quoted.
    pending: bool
    #: The current calls the reviewer decided on (a referral, a repeat request); none for a
    #: card released as normal or awaiting review.
    calls: list[Evaluation]
    #: The card's mean concentration per analyte on its latest run; none before a release.
    values: dict[str, float]


def quoted_result(session: Session, case: FollowUpCase) -> QuotedResult:
    """The part of the case's card a letter quotes: only a released result (its newest
    release); a card released as normal gives its values and no call, a card awaiting review
    neither. The recall letter and the letter's data (``GET /cases/{id}/letter``) both use
    this."""
    release = repository.latest_releases(session, [case.specimen_id]).get(case.specimen_id)
    if release is None:
        return QuotedResult(pending=True, calls=[], values={})
    calls = [] if release.outcome in AS_NORMAL else (
        review_repository.current_calls(session, [case.specimen_id]).get(
            case.specimen_id, []))
    return QuotedResult(pending=False, calls=list(calls),
                        values=_card_values(session, case.specimen_id))


def letter_view(session: Session, case: FollowUpCase, *, document: rm.DocumentInfo,
                text: LabText, audience: str, signed_by: str) -> RecallLetter:
    """The recall letter of ``case`` to its clinic (the submitting unit before one is
    assigned: it recalls the family, the follow-up service names the clinic) or to the
    family: immediate referral for a case referred to a clinic, a referral (or a case opened
    by hand whose calls ask for one), else a repeat specimen. Only a released result is
    quoted: a referral's or repeat request's calls; for a card released as normal, the
    card's values against the rules (the disorders "suspected"); a card awaiting review
    gives no letter (``ConflictError``), except for a case opened by hand, whose letter names
    the disorders suspected and quotes no value (``result_pending``)."""
    suspected = list(case.suspected or [])
    if not suspected:
        raise ViewError(f"case {case.id} ({case.reason}) suspects no disorder: a recall "
                        "letter is about a screen result that suspects one", field="case_id")
    specimen = session.get(Specimen, case.specimen_id)
    infant = session.get(Infant, case.infant_id)
    submitter = session.get(Submitter, case.submitter_id)
    assert specimen is not None and infant is not None and submitter is not None
    quoted = quoted_result(session, case)
    pending, calls, values = quoted.pending, quoted.calls, quoted.values
    if pending and case.reason != CaseReason.manual:
        raise ConflictError(
            f"case {case.id}: card {specimen.barcode} ({specimen.state.replace('_', ' ')}) "
            "awaits review: a recall letter quotes only a released result")
    by_code = {c.disorder: c for c in calls}
    disorders = []
    for code in suspected:
        call = by_code.get(code)
        if pending:  # a case opened by hand before its card's result: suspected, no value
            disorders.append(SuspectedDisorder(code=code, first_tier="suspected"))
            continue
        # a disorder the case suspects but the screen did not flag is never called positive
        tier = _letter_tier(call) if call is not None else "suspected"
        markers = (markers_of(call.reasons, tier) if call is not None else ()) or (
            rule_markers(code, values))
        if markers:
            disorders.append(SuspectedDisorder(code=code, first_tier=tier,  # type: ignore[arg-type]
                                               markers=markers))
    if not disorders:
        raise ViewError(f"case {case.id}: neither a current call of {', '.join(suspected)} "
                        "nor the card's values give a value against a cutoff", field="case_id")
    clinic = session.get(Clinic, case.clinic_id) if case.clinic_id else None
    return RecallLetter(
        document=document, laboratory=text.laboratory(),
        audience=audience,  # type: ignore[arg-type]
        case_id=f"CASE-{case.id:06d}",
        baby=baby_view(infant, text, repository.first_card(session, case.infant_id)),
        specimen=specimen_view(specimen, infant, submitter), disorders=tuple(disorders),
        action=_letter_action(case, calls),
        time_critical=bool(case.time_critical),
        due_by=letter_deadline(case, document.issued_at,
                               wording(document.lang).letter.act_today_min_hours),
        appointment_at=booked_appointment(case, document.issued_at),
        clinic=(ReferralClinic(name=clinic.name, address=clinic.district, phone=clinic.phone)
                if clinic is not None else None),  # none yet: to the submitting unit
        contacts=text.contact_list(), signed_by=signed_by, result_pending=pending)


def _letter_action(case: FollowUpCase, calls: Sequence[Evaluation]) -> LetterAction:
    """The case's state first: a case the follow-up service has referred to a clinic asks
    for the specialist's diagnostic appointment, whatever opened it (a repeat request too);
    else a referral, or a case opened by hand whose calls ask for one; else a repeat
    specimen."""
    suspected = case.suspected or []
    referral = (case.referred_at is not None or case.state == CaseState.referred
                or case.reason == CaseReason.referral or (
                    case.reason == CaseReason.manual and any(
                        c.action == Action.immediate_referral
                        for c in calls if c.disorder in suspected)))
    return "immediate_referral" if referral else "request_repeat_specimen"


def letter_action(session: Session, case: FollowUpCase) -> LetterAction:
    """What a recall letter about ``case`` asks for, as ``letter_view`` words it:
    ``immediate_referral`` or ``request_repeat_specimen``."""
    return _letter_action(case, quoted_result(session, case).calls)


def booked_appointment(case: FollowUpCase, issued_at: datetime) -> datetime | None:
    """The case's appointment when one is booked and not yet past at ``issued_at``."""
    if case.appointment_at is None or aware(case.appointment_at) < aware(issued_at):
        return None
    return aware(case.appointment_at)


def letter_deadline(case: FollowUpCase, issued_at: datetime,
                    min_hours: float) -> datetime:
    """The deadline a letter issued at ``issued_at`` prints, in the laboratory's time zone,
    never a time already past: the booked appointment when there is one; for a time-critical
    case the end of the laboratory's day of issue (``ACT TODAY``) when at least
    ``min_hours`` remain (the wording's ``act_today_min_hours``, cited there) and the case is
    not due sooner; issued later in the day, the case's due time, but no later than the end of
    the next day (never a step months away, such as a growth visit once treatment began);
    for any other case what it has due next. A due time already past gives the end of the
    day, or ``min_hours`` from issue when the day ends sooner."""
    booked = booked_appointment(case, issued_at)
    if booked is not None:
        return booked
    now = aware(issued_at)
    due = aware(case.due_at or case.opened_at)
    end = now.replace(hour=23, minute=59, second=0, microsecond=0)
    sensible = end - now >= timedelta(hours=min_hours)
    if case.time_critical and sensible:
        return min(due, end) if due > now else end
    if case.time_critical and due > now:
        return min(due, end + timedelta(days=1))
    if due > now:
        return due
    return end if sensible else now + timedelta(hours=min_hours)


_RECALLS = (Action.request_repeat_specimen, Action.immediate_referral)


def _disorder_action(call: Evaluation, decided: Action) -> str:
    """A disorder's action on a released report: its call's recall, no more urgent than what
    the release decided for the card (a reviewer's repeat request turns a call's referral into
    a repeat specimen); never a laboratory step (retest in duplicate, second tier), which
    the release has already settled."""
    if call.action not in _RECALLS or decided not in _RECALLS:
        return Action.none
    return min(call.action, decided, key=_RECALLS.index)


def _disorder_results(calls: Sequence[Evaluation], outcome: str) -> tuple[DisorderResult, ...]:
    by_code = {c.disorder: c for c in calls}
    normal = outcome in AS_NORMAL
    decided = release_action(outcome)
    out = []
    for disorder in default_catalogue().disorders:
        call = by_code.get(disorder.code)
        if call is None:
            out.append(DisorderResult(code=disorder.code, first_tier="normal",
                                      final="negative", action="none"))
            continue
        p = call.second_tier_probability
        out.append(DisorderResult(
            code=disorder.code, first_tier=call.first_tier,  # type: ignore[arg-type]
            final="negative" if normal else call.final,  # type: ignore[arg-type]
            action=_disorder_action(call, decided),  # type: ignore[arg-type]
            reasons=call.reasons,
            second_tier_probability=p if p is not None and 0 <= p <= 1 else None,
            markers=markers_of(call.reasons, call.first_tier)))
    return tuple(out)


def specimen_result(session: Session, specimen: Specimen, release: Release, *,
                    text: LabText) -> SpecimenResult:
    """A released version of a specimen's result, over every disorder of the catalogue."""
    assert specimen.id is not None
    infant = session.get(Infant, specimen.infant_id)
    submitter = session.get(Submitter, specimen.submitter_id)
    releaser = session.get(User, release.released_by)
    assert infant is not None and submitter is not None
    calls = review_repository.current_calls(session, [specimen.id]).get(specimen.id, [])
    cutoffs = sorted({c.cutoff_version for c in calls if c.cutoff_version})
    models = sorted({c.model_version for c in calls if c.model_version})
    return SpecimenResult(
        baby=baby_view(infant, text, repository.first_card(session, specimen.infant_id)),
        specimen=specimen_view(specimen, infant, submitter),
        results=_disorder_results(calls, release.outcome),
        release_action=release_action(release.outcome),  # type: ignore[arg-type]
        method=f"MS/MS, {default_method().label}",
        cutoff_version=", ".join(cutoffs),  # none: the rules' literature levels
        model_version=", ".join(models) or None,
        released_by=releaser.full_name if releaser is not None else str(release.released_by),
        released_at=aware(release.released_at))


# ---- the run QC report -----------------------------------------------------------------------


def _sample_type(value: str) -> str:
    return value if value in _SAMPLE_TYPES else "unknown"


def _z_flags(z: float) -> tuple[str, ...]:
    if abs(z) > 3:
        return ("1-3s",)
    if abs(z) > 2:
        return ("1-2s",)
    return ()


def _signal_pct(signal: WellSignal) -> float | None:
    """A well's internal-standard signal as % of the plate median; 0 when a standard is
    missing; None when none was checked (vendor concentrations)."""
    if signal.status == "missing":
        return 0.0
    return None if signal.fraction is None else round(100 * signal.fraction, 1)


def _plate_size(wells: Sequence[str]) -> tuple[int, int]:
    big = any(w[0] > "H" or int(w[1:]) > 12 for w in wells)
    return (16, 24) if big else (8, 12)


def qc_view(session: Session, run: Run, *, document: rm.DocumentInfo, text: LabText) -> QcReport:
    """The QC report of ``run``: its wells with their internal-standard signal, its controls
    against their lots' targets with the Westgard rules they broke, the Levey-Jennings series
    the run flagged and those furthest from target, the plate QC's findings and decision."""
    assert run.id is not None
    rejected = run.qc_decision == QcDecision.reject
    wells: dict[str, Well] = {}
    for well, barcode, _ in repository.run_wells(session, run.id):
        wells.setdefault(well, Well(well=well, sample_type="patient", sample_id=barcode,
                                    status="rejected" if rejected else "ok"))
    for held in repository.held_wells(session, run.id):
        wells.setdefault(held.well, Well(well=held.well, sample_type="patient",
                                         sample_id=held.sample_id, status="warning"))
    lots = default_control_lots()
    levels = dict(default_qc_rules().control_levels)
    controls: list[ControlValue] = []
    control_rows = repository.run_controls(session, run.id)
    types: dict[str, tuple[str, str]] = {}
    for row in control_rows:
        level = levels.get(row.sample_type)
        lot = lots.lots.get(row.sample_id) if level else None
        if level and lot is None:
            in_use = lots.in_use(level)
            lot = in_use[0] if len(in_use) == 1 else None
        target = lot.targets.get(row.analyte) if lot is not None else None
        if (lot is not None and target is not None and row.conc_umol_l is not None
                and math.isfinite(row.conc_umol_l)):
            z = (row.conc_umol_l - target.mean_umol_l) / target.sd_umol_l
            controls.append(ControlValue(
                lot=lot.lot, level=lot.level if lot.level in ("low", "high") else "other",  # type: ignore[arg-type]
                analyte=row.analyte, well=row.well, value_umol_l=row.conc_umol_l,
                target_mean_umol_l=target.mean_umol_l, target_sd_umol_l=target.sd_umol_l,
                flags=_z_flags(z)))
        types[row.well] = (_sample_type(row.sample_type), row.sample_id)
    for well, (sample_type, sample_id) in types.items():
        z = max((abs(c.z) for c in controls if c.well == well), default=0.0)
        status = "rejected" if z > 3 else "warning" if z > 2 else "ok"
        wells.setdefault(well, Well(well=well, sample_type=sample_type,  # type: ignore[arg-type]
                                    sample_id=sample_id, status=status))  # type: ignore[arg-type]
    charts = run_charts(session, run.id, lots=lots)
    series = tuple(_series(s, charts.key) for s in charts.charts(charts.chosen(
        max(QC_CHARTS, min(len(charts.flagged()), QC_MAX_CHARTS)))))
    flags = {(s.lot, s.analyte, p.well): p.flags for s in charts.current for p in s.points}
    controls = [c.model_copy(update={"flags": flags.get((c.lot, c.analyte, c.well), c.flags)})
                for c in controls]
    decision = run.qc_decision if run.qc_decision in ("accept", "accept_with_warnings",
                                                      "reject") else "reject"
    uploader = session.get(User, run.uploaded_by) if run.uploaded_by else None
    label = default_qc_rules().label
    decided_by, decided_how, note = ((uploader.full_name, "plate_qc", label) if uploader
                                     else (label, "plate_qc_unattended", label))
    decided_at = aware(run.uploaded_at)
    signed = runs_repository.qc_sign_off_events(session, run.id)
    if signed:  # the technician's sign-off, or the plate's withdrawal, decides last
        last = signed[-1]
        signer = session.get(User, last.user_id) if last.user_id else None
        decided_by = (signer.full_name if signer else last.username)[:100]
        decided_how = {"qc_accept": "accepted", "qc_reject": "rejected",
                       "qc_withdraw": "withdrawn"}.get(last.action, "accepted")
        note = (last.reason or "")[:200]
        decided_at = aware(last.at)
    signal = runs_repository.well_signal(session, run.id)
    for name, sig in signal.items():  # a QC-rejected plate stores no patient well
        wells.setdefault(name, Well(
            well=name, sample_type=_sample_type(sig.sample_type),  # type: ignore[arg-type]
            sample_id=sig.sample_id, status="rejected" if rejected else "ok"))
    wells = {name: w.model_copy(update={"is_signal_pct": _signal_pct(signal[name])})
             if name in signal else w for name, w in wells.items()}
    rows, columns = _plate_size(list(wells))
    return QcReport(
        document=document, laboratory=text.laboratory(), run_id=f"RUN-{run.id:06d}",
        plate_id=run.plate_id, instrument=run.format[:200],
        instrument_run=run.instrument_run_id[:200], file_name=run.file_name[:255],
        method=default_method().label, rules=default_qc_rules().label,
        plate_rows=rows, plate_columns=columns,
        is_limit_pct=100 * default_qc_rules().is_low_fraction_of_plate_median,
        wells=tuple(sorted(wells.values(), key=lambda w: w.position)) or (
            Well(well="A01", sample_type="empty", status="empty"),),
        controls=tuple(controls), series=series,
        findings=tuple(QcFinding(severity="reject" if rejected else "warning",
                                 code="plate_qc", message=m[:500])
                       for m in (run.qc_reasons or []) if m.strip()),
        decision=decision,  # type: ignore[arg-type]
        decided_by=decided_by, decided_how=decided_how,  # type: ignore[arg-type]
        decided_note=note, decided_at=decided_at)


def _series(series: LJSeries, run_key: str) -> ControlSeries:
    """A Levey-Jennings series of the run (``lims.runs.levey_jennings``) as the report draws
    it: each point with the Westgard rules its run broke."""
    level = series.level
    return ControlSeries(
        lot=series.lot, level=level if level in ("low", "high") else "other",  # type: ignore[arg-type]
        analyte=series.analyte, mean_umol_l=series.mean_umol_l, sd_umol_l=series.sd_umol_l,
        points=tuple(SeriesPoint(run_id=f"RUN-{int(p.run_id):06d}", value_umol_l=p.value_umol_l,
                                 current=p.run_id == run_key, flags=p.flags)
                     for p in series.points))
