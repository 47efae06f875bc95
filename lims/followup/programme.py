"""The programme measures of a month from the database (docs/followup.md "Measures"): one
place that the API (``GET /programme/measures``), the monthly bulletin and the report cards
use. The rows come from ``lims.followup.repository``; the arithmetic is the pure functions of
``lims.followup.measures``. Coverage is there for a month whose live births were recorded
(``lims.followup.births``), for the groups of the units that reported them.

Public names: ``ProgrammeMeasures``, ``programme_measures``, ``programme_trend``,
``month_case_rows``, ``INDICATOR_CODES``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from lims.followup import births, repository
from lims.followup.card_measures import CardMeasures, month_card_measures
from lims.followup.measures import (
    SCREEN_POSITIVE,
    CaseRow,
    Measure,
    Month,
    case_measures,
    confirmed_by_disorder,
    month_of,
)
from lims.followup.rules import FollowUpRules, followup_rules
from reports.indicators import indicators

__all__ = ["INDICATOR_CODES", "ProgrammeMeasures", "month_case_rows", "programme_measures",
           "programme_trend"]

#: The measures the bulletin's indicator definitions (reports/data/indicators.toml) name.
INDICATOR_CODES: tuple[str, ...] = indicators().codes

Measures = dict[str, Measure]


@dataclass(frozen=True)
class ProgrammeMeasures:
    """A month's measures: the programme's, and per submitter (code), district and suspected
    disorder; the confirmed diagnoses by the disorder found."""

    month: date
    rules_version: str
    programme: Measures
    by_submitter: dict[str, Measures] = field(default_factory=dict)
    by_district: dict[str, Measures] = field(default_factory=dict)
    by_disorder: dict[str, Measures] = field(default_factory=dict)
    confirmed_by_disorder: dict[str, int] = field(default_factory=dict)

    def indicator_measures(self, measures: Measures) -> Measures:
        """Only the measures the bulletin's indicators define (``INDICATOR_CODES``)."""
        return {k: v for k, v in measures.items() if k in INDICATOR_CODES}


def month_case_rows(session: Session, month: Month, limit_days: int) -> list[CaseRow]:
    """The cases the month's measures read (``repository.case_measure_rows``)."""
    rows = repository.case_measure_rows(session, month.start, month.end,
                                        timedelta(days=limit_days), SCREEN_POSITIVE)
    return [CaseRow(i, infant, submitter, reason, tuple(suspected or ()), *rest)
            for i, infant, submitter, reason, suspected, *rest in rows]


def _all(card: CardMeasures, cases: list[CaseRow], month: Month, rules: FollowUpRules,
         disorder: str | None = None) -> Measures:
    return {**card.measures,
            **case_measures(cases, month, screened=card.screened,
                            recall_window_days=rules.recall_window_days,
                            follow_up_limit_days=rules.follow_up_limit_days,
                            disorder=disorder)}


def programme_measures(session: Session, month: date, *,
                       rules: FollowUpRules | None = None) -> ProgrammeMeasures:
    """The measures of the calendar month holding ``month`` (UTC)."""
    rules = rules or followup_rules()
    span = month_of(month)
    cases = month_case_rows(session, span, rules.follow_up_limit_days)
    submitters = sorted(repository.submitters(session).items())
    districts: dict[str, set[int]] = {}
    for submitter_id, (_, district) in submitters:
        districts.setdefault(district or "-", set()).add(submitter_id)
    groups: dict[str, set[int] | None] = {
        "": None, **{f"s:{i}": {i} for i, _ in submitters},
        **{f"d:{d}": ids for d, ids in districts.items()}}
    cards = month_card_measures(session, span, groups)
    covered = births.coverage(session, span.start.date(), groups) or {}
    for group, measure in covered.items():
        cards[group].measures["coverage"] = measure
    by_submitter = {code: _all(cards[f"s:{i}"], [c for c in cases if c.submitter_id == i],
                               span, rules) for i, (code, _) in submitters}
    by_district = {d: _all(cards[f"d:{d}"], [c for c in cases if c.submitter_id in ids], span,
                           rules) for d, ids in sorted(districts.items())}
    screened = cards[""].screened
    codes = sorted(repository.suspected_codes(
        session, span.start - timedelta(days=rules.follow_up_limit_days), span.end))
    by_disorder = {d: case_measures(
        [c for c in cases if d in c.suspected], span, screened=screened,
        recall_window_days=rules.recall_window_days,
        follow_up_limit_days=rules.follow_up_limit_days, disorder=d) for d in codes}
    return ProgrammeMeasures(
        month=span.start.date(), rules_version=rules.version,
        programme=_all(cards[""], cases, span, rules), by_submitter=by_submitter,
        by_district=by_district, by_disorder=by_disorder,
        confirmed_by_disorder=confirmed_by_disorder(cases, span))



def programme_trend(session: Session, months: list[date], *,
                    rules: FollowUpRules | None = None) -> dict[date, Measures]:
    """The programme's measures of each month (by its first day), as ``programme_measures``
    gives them, reading the cases of all the months in one query: the rows of a span of months
    hold every month's (``repository.case_measure_rows``), and each month keeps those opened
    from its start less the follow-up limit to its end, the only ones its measures count."""
    if not months:
        return {}
    rules = rules or followup_rules()
    spans = sorted({month_of(m).start: month_of(m) for m in months}.values(),
                   key=lambda span: span.start)
    limit = timedelta(days=rules.follow_up_limit_days)
    rows = month_case_rows(session, Month(spans[0].start, spans[-1].end),
                           rules.follow_up_limit_days)
    out: dict[date, Measures] = {}
    for span in spans:
        cases = [c for c in rows if span.start - limit <= c.opened_at < span.end]
        cards = month_card_measures(session, span, {"": None})
        covered = births.coverage(session, span.start.date(), {"": None}) or {}
        if "" in covered:
            cards[""].measures["coverage"] = covered[""]
        out[span.start.date()] = _all(cards[""], cases, span, rules)
    return out
