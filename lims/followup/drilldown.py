"""The specimens behind a programme measure of a month (docs/followup.md "Measures"), for a
submitting unit, a district or the whole programme: the rows the measure is over, each with the
figure it contributes and whether it counts in the numerator.

Card measures read ``card_measure`` (the same rows ``lims.followup.card_measures`` counts);
case measures read the cohorts of ``measures.case_cohorts`` (the same cases
``measures.case_measures`` computes from), each case named by the card that opened it.

Public names: ``CARD_INDICATORS``, ``DrillRow``, ``Drill``, ``drill_down``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from lims.errors import NotFoundError
from lims.followup import repository
from lims.followup.births import month_key
from lims.followup.measures import CaseRow, case_cohorts, month_of
from lims.followup.programme import month_case_rows
from lims.followup.rules import followup_rules

__all__ = ["CARD_INDICATORS", "Drill", "DrillRow", "drill_down"]

_HOURS_PER_DAY = 24.0
#: The measures over the cards received in the month (the others are over follow-up cases).
CARD_INDICATORS: tuple[str, ...] = ("coverage", "unsatisfactory_rate", "early_collection",
                                    "age_at_collection", "transit_time", "time_to_result")


@dataclass(frozen=True, slots=True)
class DrillRow:
    specimen_id: int
    barcode: str
    submitter: str
    received_at: datetime | None
    #: the measure's figure for this row (hours or days), None for a proportion's row
    figure: float | None
    #: whether the row counts in the numerator (None: the measure has none)
    counted: bool | None
    case_id: int | None = None


@dataclass(frozen=True)
class Drill:
    code: str
    month: date
    rows: list[DrillRow]
    #: the rows the measure is over (all of them, while ``rows`` may be cut at ``limit``)
    total: int
    counted: int | None


def _card_rows(session: Session, code: str, key: int,
               submitters: Collection[int] | None) -> list[DrillRow]:
    rows = repository.card_drill_rows(
        session, key, submitters, first_only=code not in ("unsatisfactory_rate", "transit_time"),
        released_only=code == "time_to_result")
    out = []
    for sid, barcode, unit, received, unsat, age, transit, result in rows:
        figure: float | None = None
        counted: bool | None = None
        if code == "unsatisfactory_rate":
            counted = bool(unsat)
        elif code == "coverage":
            counted = not unsat
        elif code == "early_collection":
            figure, counted = float(age), float(age) < 24
        elif code == "age_at_collection":
            figure = float(age)
        elif code == "transit_time":
            figure = float(transit)
        else:
            figure = float(result) / _HOURS_PER_DAY
        out.append(DrillRow(int(sid), barcode, unit, received, figure, counted))
    return out


def _case_figure(code: str, c: CaseRow) -> float | None:
    def hours(later: datetime | None, earlier: datetime) -> float | None:
        return None if later is None else (later - earlier).total_seconds() / 3600.0

    if code == "time_to_contact":
        return hours(c.first_contact_at, c.opened_at)
    if code == "time_to_diagnosis":
        h = hours(c.diagnosed_at, c.birth_at)
        return None if h is None else h / _HOURS_PER_DAY
    if code == "time_to_treatment":
        h = hours(c.treatment_started_at, c.birth_at)
        return None if h is None else h / _HOURS_PER_DAY
    return None


def _case_rows(session: Session, code: str, day: date,
               submitters: Collection[int] | None) -> list[DrillRow]:
    rules = followup_rules()
    span = month_of(day)
    cases = [c for c in month_case_rows(session, span, rules.follow_up_limit_days,
                                        rules.recall_window_days)
             if submitters is None or c.submitter_id in submitters]
    cohorts = case_cohorts(cases, span, recall_window_days=rules.recall_window_days,
                           follow_up_limit_days=rules.follow_up_limit_days)
    if code not in cohorts:
        raise NotFoundError(f"no programme measure {code!r}")
    rows, counts = cohorts[code]
    cards = repository.cards_of_cases(session, [c.id for c in rows])
    out = []
    for c in rows:
        sid, barcode, unit, received = cards[c.id]
        out.append(DrillRow(sid, barcode, unit, received, _case_figure(code, c),
                            None if counts is None else counts(c), case_id=c.id))
    return out


def drill_down(session: Session, code: str, month: date, *,
               submitters: Collection[int] | None = None, limit: int = 500) -> Drill:
    """The rows behind measure ``code`` of the month holding ``month`` for the submitters
    (None: all): counted rows first, then by figure (largest first), then by barcode; at most
    ``limit`` rows, with the totals of all."""
    if code in CARD_INDICATORS:
        rows = _card_rows(session, code, month_key(month), submitters)
    else:
        rows = _case_rows(session, code, month, submitters)
    rows.sort(key=lambda r: (not r.counted, -(r.figure or 0.0), r.barcode))
    counted = None if not rows or rows[0].counted is None else sum(
        bool(r.counted) for r in rows)
    return Drill(code, month.replace(day=1), rows[:limit], len(rows), counted)
