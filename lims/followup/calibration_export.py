"""The laboratory's screened babies as a calibration population for the reflex second tier
(docs/followup.md "Outcomes", docs/second_tier.md A9): the two files ``nbs second-tier
calibrate-reflex FIRST REPEAT`` reads, written from the database.

- **First cards**: every baby's first card (kind ``initial``) released and received in the
  period asked, one row per baby: the profile the reflex second tier decides the card on
  (``lims.reflex.stored.stored_profiles``: the mean of its stored first-tier wells, its
  context, its second-tier results) with the card's covariates (``card_covariates``), and the
  baby's labels from its follow-up cases: ``true_disorder`` and ``severity`` from a confirmed
  diagnosis, ``fp_mechanism`` ``maternal_b12_deficiency`` from a diagnosis
  ``transient_maternal`` naming ``B12D``. A baby with no case is unaffected as far as the
  laboratory knows (empty labels).
- **Repeat specimens**: for each such baby, its first released repeat of that card (naming it,
  or recorded as its repeat by a case opened on it: ``lims.reflex.repeat.earlier_cards``),
  with ``previous_specimen_id`` the first card's barcode.

The cards written are recorded as one audited list read. A baby is left out, and counted by
why, when one of its cases has no final resolution yet (open) or ended without one (lost to
follow-up, moved, declined, deceased), when its confirmed diagnosis has no severity (recorded
before severities were, migration 0015), or when two different disorders were confirmed.

Public names: ``MATERNAL_B12``, ``LABEL_COLUMNS``, ``CalibrationExport``,
``calibration_population``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlmodel import Session

from lims.accession.repository import infants_by_ids
from lims.audit import Actor, record_list_read
from lims.followup import repository
from lims.followup.measures import RESOLVED
from lims.models import FollowUpCase, Infant, Specimen
from lims.pipeline import card_covariates
from lims.reflex.repeat import earlier_cards
from lims.reflex.repository import repeats_of
from lims.reflex.stored import stored_profiles
from lims.vocabulary import OutcomeClass
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID

__all__ = ["LABEL_COLUMNS", "MATERNAL_B12", "CalibrationExport", "calibration_population"]

#: The diagnosis (outcome ``transient_maternal``, disorder) that is a maternal vitamin B12
#: deficiency, and the calibration's name for it (``fp_mechanism``).
MATERNAL_B12: tuple[str, str] = ("B12D", "maternal_b12_deficiency")
LABEL_COLUMNS: tuple[str, ...] = ("true_disorder", "severity", "fp_mechanism")

#: Why a baby is left out (the counts the export prints).
OPEN = "a case not resolved yet"
UNRESOLVED = "a case ended without a diagnosis (lost, moved, declined, deceased)"
NO_SEVERITY = "a confirmed diagnosis without a severity (recorded before severities were)"
TWO_DISORDERS = "two different disorders confirmed"


@dataclass(frozen=True)
class CalibrationExport:
    """The two tables, and the babies left out by reason."""

    first: pd.DataFrame
    repeat: pd.DataFrame
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def cases(self) -> pd.Series:
        """Confirmed cases per severity among the first cards."""
        return self.first.loc[self.first["true_disorder"] != "", "severity"].value_counts()


def _released_first_cards(session: Session, since: date | None,
                          until: date | None) -> list[Specimen]:
    """Each baby's earliest released first card received in the period (days in UTC,
    inclusive)."""
    start = datetime.combine(since, time.min, UTC) if since is not None else None
    end = datetime.combine(until + timedelta(days=1), time.min, UTC) if until is not None \
        else None
    cards: dict[int, Specimen] = {}
    for card in repository.released_first_cards(session, start, end):
        cards.setdefault(card.infant_id, card)
    return list(cards.values())


def _labels(cases: Sequence[FollowUpCase], severities: dict[int, str]
            ) -> tuple[dict[str, str], str | None]:
    """A baby's labels from its cases, or why it is left out."""
    if any(c.outcome is None for c in cases):
        return {}, OPEN
    if any(c.outcome not in RESOLVED for c in cases):
        return {}, UNRESOLVED
    confirmed = {c.diagnosed_disorder: c for c in cases
                 if c.outcome == OutcomeClass.confirmed and c.diagnosed_disorder}
    if len(confirmed) > 1:
        return {}, TWO_DISORDERS
    maternal = any(c.outcome == OutcomeClass.transient_maternal
                   and c.diagnosed_disorder == MATERNAL_B12[0] for c in cases)
    labels = {"true_disorder": "", "severity": "",
              "fp_mechanism": MATERNAL_B12[1] if maternal else ""}
    if confirmed:
        disorder, case = next(iter(confirmed.items()))
        severity = severities.get(case.id or 0, "")
        if not severity:
            return {}, NO_SEVERITY
        labels |= {"true_disorder": str(disorder), "severity": severity}
    return labels, None


def _severities(session: Session, case_ids: list[int]) -> dict[int, str]:
    """Each case's severity as its latest diagnosis records it."""
    return {row.case_id: row.severity
            for row in repository.diagnoses_of_cases(session, case_ids)}


def _profiles(session: Session, cards: dict[str, Specimen],
              infants: dict[int, Infant]) -> pd.DataFrame:
    """The cards' profiles as ``nbs evaluate`` reads them: covariates, then the stored values,
    context and second-tier results (the context's ``tpn`` is the one the reflex reads)."""
    covariates = pd.DataFrame(
        [{PROFILE_ID: b, **card_covariates(s, infants[s.infant_id])} for b, s in cards.items()],
        columns=[PROFILE_ID, *COVARIATE_COLUMNS])
    if not cards:
        return covariates
    stored = stored_profiles(session, cards)
    covariates = covariates.drop(columns=[c for c in covariates.columns
                                          if c != PROFILE_ID and c in stored.columns])
    profiles = covariates.merge(stored, on=PROFILE_ID, how="left")
    front = [c for c in (*COVARIATE_COLUMNS, "pivalate_exposure", "maternal_b12_low")
             if c in profiles.columns]
    rest = sorted(c for c in profiles.columns if c not in (PROFILE_ID, *front))
    return profiles[[PROFILE_ID, *front, *rest]]


def _first_repeats(session: Session, firsts: dict[int, Specimen]) -> dict[str, Specimen]:
    """Barcode of each first card -> its earliest released repeat (by collection)."""
    candidates = {s.barcode: s for s in repeats_of(session, list(firsts))}
    released = {r.specimen_id for r in repository.releases_of(
        session, [s.id for s in candidates.values() if s.id is not None])}
    earlier = earlier_cards(session, {b: s for b, s in candidates.items() if s.id in released})
    out: dict[str, Specimen] = {}
    for barcode, first_id in earlier.items():
        if first_id not in firsts:
            continue
        repeat, key = candidates[barcode], firsts[first_id].barcode
        if key not in out or (repeat.collected_at, repeat.id or 0) < (
                out[key].collected_at, out[key].id or 0):
            out[key] = repeat
    return out


def calibration_population(session: Session, actor: Actor, *, since: date | None = None,
                           until: date | None = None) -> CalibrationExport:
    """The released first cards received from ``since`` to ``until`` (inclusive; None: no
    bound), one per baby with its labels, and their repeats; babies without a final
    resolution of every case left out and counted by reason. The cards written are one
    audited list read of ``actor``'s."""
    cards = _released_first_cards(session, since, until)
    infant_ids = [c.infant_id for c in cards]
    cases: dict[int, list[FollowUpCase]] = {}
    for case in repository.cases_of_infants(session, infant_ids):
        cases.setdefault(case.infant_id, []).append(case)
    severities = _severities(session, [c.id for cs in cases.values() for c in cs
                                       if c.id is not None])
    left_out: Counter[str] = Counter()
    kept: dict[str, Specimen] = {}
    labels: dict[str, dict[str, str]] = {}
    for card in cards:
        found, why = _labels(cases.get(card.infant_id, []), severities)
        if why is not None:
            left_out[why] += 1
            continue
        kept[card.barcode], labels[card.barcode] = card, found
    repeats = _first_repeats(session, {c.id: c for c in kept.values() if c.id is not None})
    infants = infants_by_ids(session, sorted({s.infant_id for s in (
        *kept.values(), *repeats.values())}))
    first = _profiles(session, kept, infants)
    label_frame = pd.DataFrame([{PROFILE_ID: b, **v} for b, v in labels.items()],
                               columns=[PROFILE_ID, *LABEL_COLUMNS])
    first = first.merge(label_frame, on=PROFILE_ID, how="left")
    by_barcode = {r.barcode: r for r in repeats.values()}
    repeat = _profiles(session, by_barcode, infants)
    repeat["previous_specimen_id"] = repeat[PROFILE_ID].map(
        {r.barcode: first_barcode for first_barcode, r in repeats.items()})
    written = [*kept.values(), *repeats.values()]
    record_list_read(session, actor, "specimen", [s.id for s in written if s.id is not None],
                     [s.infant_id for s in written],
                     filters={"export": "calibration", "from": since, "to": until})
    return CalibrationExport(first.reset_index(drop=True), repeat.reset_index(drop=True),
                             dict(left_out))
