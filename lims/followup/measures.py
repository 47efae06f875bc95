"""The programme measures as pure functions over plain rows (docs/followup.md "Measures"): the
same functions serve the API (``GET /programme/measures``), the monthly bulletin and the
report cards, each grouping the rows as it needs (programme, submitter, district, disorder).

A measure is a ``Measure``: its value (a percentage for a proportion, a median in its unit, a
count), ``n`` (what it is over) and, for a proportion, the numerator. A measure over no rows
has value None.

Specimens (a frame of ``SPECIMEN_COLUMNS``): the cards received in the month. Case rows
(``CaseRow``): the cases opened from the start of the month less the follow-up limit up to its
end; each measure picks its own cohort (the case's opening, diagnosis or treatment in the
month, or its follow-up limit falling in it).

Public names: ``Measure``, ``SPECIMEN_COLUMNS``, ``CaseRow``, ``Month``, ``SCREEN_POSITIVE``,
``RECALLED``, ``RESOLVED``, ``NOT_CONFIRMED``, ``Cohort``, ``proportion``, ``median``,
``specimen_measures``, ``case_cohorts``, ``case_measures``, ``confirmed_by_disorder``, ``month_of``.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from lims.errors import InvalidInputError
from lims.vocabulary import CaseReason, OutcomeClass

if TYPE_CHECKING:  # the card frame's type only: a session's flush hook imports this module
    import pandas as pd

__all__ = ["NOT_CONFIRMED", "RECALLED", "RESOLVED", "SCREEN_POSITIVE", "CaseRow", "Cohort",
           "Measure", "Month", "SPECIMEN_COLUMNS", "case_cohorts", "case_measures",
           "confirmed_by_disorder",
           "median", "month_of", "proportion", "specimen_measures"]

#: Cases opened by a screen result (the recalled babies).
SCREEN_POSITIVE: tuple[str, ...] = (CaseReason.referral, CaseReason.repeat_specimen)
#: Cases that recall a baby with a due date: a repeat specimen (also of an unsatisfactory
#: card) or a referral for diagnosis.
RECALLED: tuple[str, ...] = (CaseReason.referral, CaseReason.repeat_specimen,
                             CaseReason.unsatisfactory)
#: Outcomes that are a final resolution: the disorder confirmed or ruled out.
RESOLVED: tuple[str, ...] = (
    OutcomeClass.confirmed, OutcomeClass.carrier, OutcomeClass.false_positive,
    OutcomeClass.transient_maternal, OutcomeClass.prematurity_tpn, OutcomeClass.normal_repeat)
#: Resolutions that are not the screened disorder (the false positives of the screen).
NOT_CONFIRMED: tuple[str, ...] = tuple(o for o in RESOLVED if o != OutcomeClass.confirmed)
_HOURS_PER_DAY = 24.0


@dataclass(frozen=True, slots=True)
class Measure:
    value: float | None
    n: int
    numerator: int | None = None


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in UTC: ``[start, end)``."""

    start: datetime
    end: datetime

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def month_of(day: date) -> Month:
    """The month holding ``day``; a month in the calendar's first or last year is refused
    naming it (its end, or the windows reaching back or ahead of it, fall off the calendar:
    9999-12 has no next month)."""
    if not MINYEAR < day.year < MAXYEAR:
        raise InvalidInputError(
            f"{day.year:04d}-{day.month:02d} is outside the months that can be measured "
            f"({MINYEAR + 1:04d}-01 to {MAXYEAR - 1:04d}-12)", field="month")
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    end = datetime(day.year + day.month // 12, day.month % 12 + 1, 1, tzinfo=UTC)
    return Month(start, end)


#: The columns of the specimen frame ``specimen_measures`` reads: one row per card received in
#: the month: its submitter, whether it is the baby's first card, whether it was
#: unsatisfactory, age at collection and transit (hours), age at its first release (hours; NaN
#: before release).
SPECIMEN_COLUMNS: tuple[str, ...] = ("submitter_id", "initial", "unsatisfactory",
                                     "age_at_collection_h", "transit_h", "age_at_result_h")


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case with the dates of its steps and its baby's birth."""

    id: int
    infant_id: int
    submitter_id: int
    reason: str
    suspected: tuple[str, ...]
    opened_at: datetime
    birth_at: datetime
    first_contact_at: datetime | None = None
    repeat_received_at: datetime | None = None
    diagnosed_at: datetime | None = None
    treatment_started_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    diagnosed_disorder: str | None = None
    specimen_id: int | None = None
    #: The case's card was flagged by the screen for one of the disorders the case suspects
    #: (a current call not read as normal): a case opened by hand on such a card is a screen
    #: positive too.
    flagged: bool = False

    @property
    def screen_positive(self) -> bool:
        """Recalled by the screen: opened by a referral or a repeat request, or opened by hand
        on a card the screen flagged for a disorder the case suspects. A case that is not
        and was opened by hand (``screen_missed``) is, confirmed, a case the screen missed (a
        false negative, clinically detected)."""
        return self.reason in SCREEN_POSITIVE or (
            self.reason == CaseReason.manual and self.flagged)

    @property
    def screen_missed(self) -> bool:
        """Opened by hand on a card the screen did not flag for the disorders the case
        suspects: confirmed, a case the screen missed."""
        return self.reason == CaseReason.manual and not self.flagged

    @property
    def resolved_at(self) -> datetime | None:
        """When the case reached a final resolution (None: not resolved)."""
        if self.outcome not in RESOLVED:
            return None
        return self.closed_at if self.outcome == OutcomeClass.normal_repeat else (
            self.diagnosed_at)


def proportion(numerator: int, n: int) -> Measure:
    """100 x numerator / n, in %."""
    return Measure(100.0 * numerator / n if n else None, n, numerator)


def median(values: Iterable[float]) -> Measure:
    """The median of ``values`` (None when there are none)."""
    kept = [v for v in values if v is not None]
    return Measure(statistics.median(kept) if kept else None, len(kept))


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600.0


def _median_of(values: pd.Series) -> Measure:
    kept = values.dropna()
    return Measure(float(kept.median()) if len(kept) else None, int(len(kept)))


def specimen_measures(frame: pd.DataFrame) -> dict[str, Measure]:
    """The card measures of a frame of ``SPECIMEN_COLUMNS``: unsatisfactory rate (all cards),
    early collection (< 24 h) and median age at collection (h) of first cards, median transit
    (h) of all cards, median age at the first card's release (days)."""
    first = frame[frame["initial"].astype(bool)]
    return {
        "unsatisfactory_rate": proportion(int(frame["unsatisfactory"].astype(bool).sum()),
                                          len(frame)),
        "early_collection": proportion(int((first["age_at_collection_h"] < 24).sum()),
                                       len(first)),
        "age_at_collection": _median_of(first["age_at_collection_h"]),
        "transit_time": _median_of(frame["transit_h"]),
        "time_to_result": _median_of(first["age_at_result_h"] / _HOURS_PER_DAY),
    }


def _opened(cases: Sequence[CaseRow], month: Month,
            keep: Callable[[CaseRow], bool] = lambda c: True) -> list[CaseRow]:
    return [c for c in cases if month.holds(c.opened_at) and keep(c)]


#: A case measure's cohort: the cases it is over and, for a proportion, which of them count
#: in its numerator (None: a median or count over the cases).
Cohort = tuple[list[CaseRow], Callable[[CaseRow], bool] | None]


def case_cohorts(cases: Sequence[CaseRow], month: Month, *, recall_window_days: int,
                 follow_up_limit_days: int, disorder: str | None = None,
                 now: datetime | None = None) -> dict[str, Cohort]:
    """The cases each case measure of ``month`` is over (``case_measures`` computes from
    them; the programme pages list them). One cohort of screen positives for every measure
    of the screen (``CaseRow.screen_positive``: a referral, a repeat request, or a case opened
    by hand on a card the screen flagged for it): recall, lost to follow-up, PPV and false
    positives; a confirmed case opened by hand on a card the screen did not flag for it is
    counted apart (``missed_cases``: a false negative, clinically detected), not among the
    confirmed cases nor in the ages at diagnosis and treatment. ``recall_rate`` and
    ``false_positive_rate`` are over the babies screened: their cohort is the cases of their
    numerator. ``recall_compliance``
    is over the recalls (``RECALLED``: a repeat specimen, an unsatisfactory card's repeat, a
    referral) whose due date (``recall_window_days`` after the recall) fell in the month and
    has passed by ``now`` (default: the present), as its definition says
    (``reports/data/indicators.toml``); it counts those re-sampled (a repeat card received)
    or seen (a diagnosis recorded) by the due date."""
    positive = _opened(cases, month, lambda c: c.screen_positive)
    window = timedelta(days=recall_window_days)
    as_of = now or datetime.now(UTC)

    def due(c: CaseRow) -> datetime:
        return c.opened_at + window

    recalls = [c for c in cases if (c.reason in RECALLED or c.screen_positive)
               and month.holds(due(c)) and due(c) <= as_of]

    def on_time(c: CaseRow) -> bool:
        seen = [t for t in (c.repeat_received_at, c.diagnosed_at) if t is not None]
        return bool(seen) and min(seen) <= due(c)

    limit = timedelta(days=follow_up_limit_days)
    due_limit = [c for c in cases if c.screen_positive and month.holds(c.opened_at + limit)]
    resolved = [c for c in positive if c.outcome in RESOLVED]

    def found(c: CaseRow) -> bool:
        return c.outcome == OutcomeClass.confirmed and (
            disorder is None or c.diagnosed_disorder == disorder)

    def not_found(c: CaseRow) -> bool:
        return c.outcome in NOT_CONFIRMED or (c.outcome == OutcomeClass.confirmed
                                              and not found(c))

    diagnosed = [c for c in cases if found(c) and month.holds(c.diagnosed_at)]
    confirmed = [c for c in diagnosed if not c.screen_missed]
    treated = [c for c in cases if c.outcome == OutcomeClass.confirmed and not c.screen_missed
               and month.holds(c.treatment_started_at)]
    return {
        "recall_rate": (positive, None),
        "recall_compliance": (recalls, on_time),
        "time_to_contact": ([c for c in _opened(cases, month) if c.first_contact_at], None),
        "time_to_diagnosis": ([c for c in confirmed if c.diagnosed_at], None),
        "time_to_treatment": ([c for c in treated if c.treatment_started_at], None),
        "lost_to_follow_up": (due_limit, lambda c: c.resolved_at is None
                              or c.resolved_at > c.opened_at + limit),
        "confirmed_cases": (confirmed, None),
        "missed_cases": ([c for c in diagnosed if c.screen_missed], None),
        "ppv": (resolved, found),
        "false_positive_rate": ([c for c in resolved if not_found(c)], None),
    }


def case_measures(cases: Sequence[CaseRow], month: Month, *, screened: int,
                  recall_window_days: int, follow_up_limit_days: int,
                  disorder: str | None = None, now: datetime | None = None
                  ) -> dict[str, Measure]:
    """The case measures of ``month`` (of the cases suspecting ``disorder`` when given;
    ``screened`` is the babies screened, the first cards received in the month)."""
    cohorts = case_cohorts(cases, month, recall_window_days=recall_window_days,
                           follow_up_limit_days=follow_up_limit_days, disorder=disorder,
                           now=now)

    def share(code: str) -> Measure:
        rows, counts = cohorts[code]
        assert counts is not None
        return proportion(sum(counts(c) for c in rows), len(rows))

    confirmed = cohorts["confirmed_cases"][0]
    return {
        "recall_rate": proportion(len({c.infant_id for c in cohorts["recall_rate"][0]}),
                                  screened),
        "recall_compliance": share("recall_compliance"),
        "time_to_contact": median(_hours(c.first_contact_at, c.opened_at)
                                  for c in cohorts["time_to_contact"][0]
                                  if c.first_contact_at),
        "time_to_diagnosis": median(_hours(c.diagnosed_at, c.birth_at) / _HOURS_PER_DAY
                                    for c in cohorts["time_to_diagnosis"][0] if c.diagnosed_at),
        "time_to_treatment": median(_hours(c.treatment_started_at, c.birth_at) / _HOURS_PER_DAY
                                    for c in cohorts["time_to_treatment"][0]
                                    if c.treatment_started_at),
        "lost_to_follow_up": share("lost_to_follow_up"),
        "confirmed_cases": Measure(float(len(confirmed)), len(confirmed)),
        "missed_cases": Measure(float(len(cohorts["missed_cases"][0])),
                                len(cohorts["missed_cases"][0])),
        "ppv": share("ppv"),
        "false_positive_rate": proportion(len(cohorts["false_positive_rate"][0]), screened),
    }


def confirmed_by_disorder(cases: Sequence[CaseRow], month: Month) -> dict[str, int]:
    """Confirmed diagnoses recorded in the month, by the disorder found, but those the screen
    missed (``missed_cases``)."""
    counts: dict[str, int] = {}
    for c in cases:
        if c.outcome == OutcomeClass.confirmed and month.holds(c.diagnosed_at) and (
                c.diagnosed_disorder) and not c.screen_missed:
            counts[c.diagnosed_disorder] = counts.get(c.diagnosed_disorder, 0) + 1
    return dict(sorted(counts.items()))
