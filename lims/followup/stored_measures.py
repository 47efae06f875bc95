"""The programme measures of a month computed once and stored (``programme_month``) until the
data behind them change (docs/followup.md "Stored measures").

Each month has a change count. After every ORM flush, the months whose measures the flush
may have changed have their count raised, in the same transaction:

* a card (specimen) added, changed in a figure, moved or deleted, a first release, a baby's
  birth time: the months of the cards' ``card_measure`` rows, before and after
  (``lims.followup.card_measures`` reports them, ``card_months_changed``);
* a case added or deleted, or its opening or suspected disorders changed: every month whose
  measures read it, from the month it was opened to the month of its follow-up limit (for its
  opening before and after; the disorders a month lists are those of these cases); another
  column the measures read changed: only the months of the cohorts it can be in (the month it
  was opened, of its follow-up limit, of its diagnosis and treatment before and after); a
  baby's birth time: every month of each of the baby's cases;
* a card's calls added or changed: every month of the cases opened on that card (whether a
  case opened by hand is a screen positive depends on them);
* a unit's live births: that month;
* a submitting unit added, deleted or given another code or district: every month.

Cards and cases written in bulk with Core are followed by
``repository.rebuild_card_measures``, which raises every month's count.

Reading (``lims.followup.programme.programme_measures``): the month's count is read first,
then the measures, stored if the count was the same when they were computed and they were
computed with the same follow-up rules; else they are computed from the data and stored with
the count read, unless the count has moved on meanwhile (a change committed during the
computation), in which case the next read computes them again. Stored measures are therefore
never older than the data they stand for.

Public names: ``month_key``, ``card_months_changed``, ``stored``, ``store``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from lims.followup import repository
from lims.followup.rules import followup_rules
from lims.models import Evaluation, FollowUpCase, Infant, LiveBirths, Submitter, utcnow

__all__ = ["card_months_changed", "month_key", "store", "stored"]

#: The case columns the measures read: ``repository.CASE_MEASURE_COLUMNS`` without the id and
#: the baby's birth (read from the baby, not the case), so a new measure column is tracked too.
_CASE_FIELDS = tuple(c for c in repository.CASE_MEASURE_COLUMNS if c not in ("id", "birth_at"))
#: The case columns that move a case between the months whose measures read it, or change the
#: disorders a month lists.
_CASE_SPAN_FIELDS = ("opened_at", "suspected")
#: The case dates that place a case in a month's cohort besides its opening and follow-up limit.
_CASE_COHORT_DATES = ("diagnosed_at", "treatment_started_at")
#: The submitter columns the measures group by.
_SUBMITTER_FIELDS = ("code", "district")


def month_key(day: date) -> int:
    """The ``yyyymm`` of the month holding ``day`` (a datetime is taken in UTC)."""
    if isinstance(day, datetime) and day.tzinfo is not None:
        day = day.astimezone(UTC)
    return day.year * 100 + day.month


def _months_of_case(opened_at: datetime, limit: timedelta) -> set[int]:
    """The months whose measures read a case opened at ``opened_at``: from that month to the
    month of its follow-up limit (``repository.case_measure_rows``)."""
    first, last = month_key(opened_at), month_key(opened_at + limit)
    months, key = set(), first
    while key <= last:
        months.add(key)
        key = key + 1 if key % 100 < 12 else (key // 100 + 1) * 100 + 1
    return months


def _history(obj: Any, fields: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


def _values(obj: Any, field: str) -> list[Any]:
    """The attribute's value before and after the flush."""
    added, unchanged, deleted = inspect(obj).attrs[field].history
    return [v for v in (*added, *unchanged, *deleted) if v is not None]


def card_months_changed(connection: Connection, months: Collection[int]) -> None:
    """Count a change to the cards of these months."""
    repository.months_changed(connection, months)


def _limit() -> timedelta:
    return timedelta(days=followup_rules().follow_up_limit_days)


def _case_months(openings: Iterable[datetime]) -> set[int]:
    limit, months = _limit(), set()
    for opened in openings:
        months |= _months_of_case(opened, limit)
    return months


def _cohort_months(case: FollowUpCase) -> set[int]:
    """The months of the cohorts a case whose opening and disorders did not change can be in:
    its opening, its follow-up limit, its diagnosis and treatment (before and after)."""
    limit = _limit()
    moments = [case.opened_at, case.opened_at + limit,
               *(v for f in _CASE_COHORT_DATES for v in _values(case, f))]
    return {month_key(m) for m in moments}


@event.listens_for(OrmSession, "after_flush")
def _count_changes(session: OrmSession, _context: Any) -> None:
    """After a flush, count a change to every month whose measures it may have changed."""
    openings: list[datetime] = []
    cohorts: set[int] = set()
    births: set[int] = set()
    infants: set[int] = set()
    every = False
    called: set[int] = set()
    for obj in (*session.new, *session.deleted, *session.dirty):
        if isinstance(obj, Evaluation) and obj.specimen_id is not None:
            called.add(obj.specimen_id)
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, FollowUpCase):
            openings += _values(obj, "opened_at")
        elif isinstance(obj, LiveBirths):
            births |= set(_values(obj, "month"))
        elif isinstance(obj, Submitter):
            every = True
    for obj in session.dirty:
        if isinstance(obj, FollowUpCase) and _history(obj, _CASE_SPAN_FIELDS):
            openings += _values(obj, "opened_at")
        elif isinstance(obj, FollowUpCase) and _history(obj, _CASE_FIELDS):
            cohorts |= _cohort_months(obj)
        elif isinstance(obj, LiveBirths) and _history(obj, ("births", "month")):
            births |= set(_values(obj, "month"))
        elif isinstance(obj, Submitter) and _history(obj, _SUBMITTER_FIELDS):
            every = True
        elif isinstance(obj, Infant) and obj.id is not None and _history(obj, ("birth_at",)):
            infants.add(obj.id)
    if not (openings or cohorts or births or infants or every or called):
        return
    connection = session.connection()
    if called:  # a card's calls decide whether a case opened by hand on it is a screen positive
        openings += repository.cases_of_specimens(connection, called)
    if not (openings or cohorts or births or infants or every):
        return
    if every:
        repository.every_month_changed(connection)
        return
    if infants:
        openings += repository.case_openings_of_infants(connection, infants)
    repository.months_changed(connection, _case_months(openings) | cohorts | births)


def stored(session: Session, month: date, rules_version: str) -> tuple[
        int | None, dict[str, Any] | None]:
    """The month's change count (None: no change counted yet) and its stored measures if they
    stand for the data of that count under ``rules_version`` (else None)."""
    row = repository.stored_month(session, month_key(month))
    if row is None:
        return None, None
    version, computed, rules, measures = row
    fresh = computed == version and rules == rules_version and measures is not None
    return version, measures if fresh else None


def store(session: Session, month: date, seen: int | None, rules_version: str,
          measures: dict[str, Any]) -> bool:
    """Store the month's measures computed from the data of count ``seen`` (as ``stored``
    gave it, read before the data), unless the count moved on; whether they were stored."""
    return repository.store_month(session, month_key(month), seen, rules_version, measures,
                                  utcnow())
