"""The programme measures of a month from the database (docs/followup.md "Measures"): one
place that the API (``GET /programme/measures``), the monthly bulletin and the report cards
use. The rows come from ``lims.followup.repository``; the arithmetic is the pure functions of
``lims.followup.measures``. Coverage is there for a month whose live births were recorded
(``lims.followup.births``), for the groups of the units that reported them.

A month's measures are computed once and stored until the data behind them change, the
follow-up rules' version changes or the indicator definitions' version does
(``lims.followup.stored_measures``): ``programme_measures`` gives the stored ones when they
stand for the data, else computes them (``computed_measures``) and stores them;
``refresh_measures`` computes the months asked (``nbs programme refresh``).

No month after the current one (``current_month``: the laboratory's, ``NBS_TIME_ZONE``) is
computed: one asked for is refused naming it (``InvalidInputError``), and the months a refresh
finds by itself stop at the current one. A case opened now counts a change in every month up
to its follow-up limit, months ahead (``lims.followup.stored_measures``), so future months do
have change counts; their measures are computed once they have begun.

Public names: ``ProgrammeMeasures``, ``programme_measures``, ``computed_measures``,
``refresh_measures``, ``programme_trend``, ``month_case_rows``, ``current_month``,
``INDICATOR_CODES``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from lims.errors import InvalidInputError
from lims.followup import births, repository, stored_measures
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
from lims.models import utcnow
from lims.settings import get_settings, lab_day
from lims.vocabulary import CaseReason
from reports.indicators import indicators

__all__ = ["INDICATOR_CODES", "ProgrammeMeasures", "computed_measures", "current_month",
           "month_case_rows", "programme_measures", "programme_trend", "refresh_measures"]

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
    #: The indicator definitions (``reports/data/indicators.toml``) they were computed under.
    indicators_version: str = field(default_factory=lambda: indicators().version)


def current_month() -> date:
    """The first day of the laboratory's current month (its day now, ``lab_day``)."""
    return lab_day(utcnow()).replace(day=1)


def _begun(months: Iterable[date]) -> None:
    """Refuse, naming it, a month after the current one: its measures are not computed."""
    now = current_month()
    future = sorted({m.replace(day=1) for m in months if m.replace(day=1) > now})
    if future:
        raise InvalidInputError(
            f"{future[0]:%Y-%m} has not begun: the current month is {now:%Y-%m} (laboratory "
            f"time, {get_settings().time_zone}); a month's measures are computed from its "
            "first day on", field="month")


def month_case_rows(session: Session, month: Month, limit_days: int,
                    window_days: int = 0) -> list[CaseRow]:
    """The cases the month's measures read (``repository.case_measure_rows``; those opened
    ``window_days`` before it too, whose recall is due in it)."""
    rows = repository.case_measure_rows(session, month.start, month.end,
                                        timedelta(days=limit_days),
                                        (*SCREEN_POSITIVE, CaseReason.manual),
                                        timedelta(days=window_days))
    cases = [CaseRow(i, infant, submitter, reason, tuple(suspected or ()), *rest)
             for i, infant, submitter, reason, suspected, *rest in rows]
    # a case opened by hand is a screen positive when its card was flagged for it
    flags = repository.flagged_disorders(session, [
        c.specimen_id for c in cases if c.reason == CaseReason.manual and c.specimen_id])
    return [replace(c, flagged=bool(flags.get(c.specimen_id or 0, set()) & set(c.suspected)))
            if c.reason == CaseReason.manual else c for c in cases]


def _all(card: CardMeasures, cases: list[CaseRow], month: Month, rules: FollowUpRules,
         disorder: str | None = None) -> Measures:
    return {**card.measures,
            **case_measures(cases, month, screened=card.screened,
                            recall_window_days=rules.recall_window_days,
                            follow_up_limit_days=rules.follow_up_limit_days,
                            disorder=disorder)}


def computed_measures(session: Session, month: date, *,
                      rules: FollowUpRules | None = None) -> ProgrammeMeasures:
    """The measures of the calendar month holding ``month`` (UTC), computed from the data; a
    month after the current one is refused."""
    _begun([month])
    rules = rules or followup_rules()
    span = month_of(month)
    cases = month_case_rows(session, span, rules.follow_up_limit_days,
                            rules.recall_window_days)
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


#: The layout of the stored measures (a change to it makes every stored month stale).
_LAYOUT = 1


def _encode_measures(measures: Measures) -> dict[str, list[Any]]:
    return {code: [m.value, m.n, m.numerator] for code, m in measures.items()}


def _decode_measures(data: dict[str, list[Any]]) -> Measures:
    return {code: Measure(value, n, numerator) for code, (value, n, numerator) in data.items()}


def _encode(computed: ProgrammeMeasures) -> dict[str, Any]:
    return {"layout": _LAYOUT, "month": f"{computed.month:%Y-%m-%d}",
            "rules_version": computed.rules_version,
            "indicators_version": computed.indicators_version,
            "programme": _encode_measures(computed.programme),
            **{name: {k: _encode_measures(v) for k, v in getattr(computed, name).items()}
               for name in ("by_submitter", "by_district", "by_disorder")},
            "confirmed_by_disorder": computed.confirmed_by_disorder}


def _decode(data: dict[str, Any]) -> ProgrammeMeasures | None:
    """The stored measures, or None when they are of another layout or were computed under
    other indicator definitions than the packaged ones (a definition may have changed under
    the same code, as ``recall_compliance`` did): those are computed again, never shown
    under the new definitions."""
    if data.get("layout") != _LAYOUT or data.get("indicators_version") != indicators().version:
        return None
    return ProgrammeMeasures(
        month=date.fromisoformat(data["month"]), rules_version=data["rules_version"],
        programme=_decode_measures(data["programme"]),
        **{name: {k: _decode_measures(v) for k, v in data[name].items()}
           for name in ("by_submitter", "by_district", "by_disorder")},
        confirmed_by_disorder=dict(data["confirmed_by_disorder"]),
        indicators_version=data["indicators_version"])


def programme_measures(session: Session, month: date, *,
                       rules: FollowUpRules | None = None) -> ProgrammeMeasures:
    """The measures of the calendar month holding ``month`` (UTC): the stored ones while they
    stand for the month's data, else computed and stored (other ``rules`` than the
    programme's are computed, never stored); a month after the current one is refused, even
    if measures were stored for it."""
    _begun([month])
    if rules is not None and rules != followup_rules():
        return computed_measures(session, month, rules=rules)
    rules = followup_rules()
    seen, data = stored_measures.stored(session, month, rules.version)
    kept = None if data is None else _decode(data)
    if kept is not None:
        return kept
    computed = computed_measures(session, month, rules=rules)
    stored_measures.store(session, month, seen, rules.version, _encode(computed))
    return computed


def refresh_measures(session: Session, months: Iterable[date] | None = None, *,
                     force: bool = False) -> list[date]:
    """Compute and store the measures of ``months`` (None: every month with cards or a
    change counted, up to the current one) whose stored ones no longer stand for their data
    (``force``: all of them); the months computed. A month asked for after the current one is
    refused before any is computed."""
    if months is None:
        now = current_month()
        months = [m for key in repository.months_with_data(session)
                  if (m := date(key // 100, key % 100, 1)) <= now]
    months = list(months)
    _begun(months)
    rules, done = followup_rules(), []
    for month in sorted({m.replace(day=1) for m in months}):
        seen, data = stored_measures.stored(session, month, rules.version)
        if not force and data is not None and _decode(data) is not None:
            continue
        stored_measures.store(session, month, seen, rules.version,
                              _encode(computed_measures(session, month, rules=rules)))
        done.append(month)
    return done


def programme_trend(session: Session, months: list[date]) -> dict[date, Measures]:
    """The programme's measures of each month (by its first day), as ``programme_measures``
    gives them: the stored ones where they stand for the month's data; the others computed,
    the programme's alone (not stored), reading the cases of all those months in one query:
    the rows of a span of months hold every month's (``repository.case_measure_rows``), and
    each month keeps those opened from its start less the follow-up limit to its end, the only
    ones its measures count. A month after the current one is refused."""
    if not months:
        return {}
    _begun(months)
    rules = followup_rules()
    out: dict[date, Measures] = {}
    spans = []
    for span in sorted({month_of(m).start: month_of(m) for m in months}.values(),
                       key=lambda span: span.start):
        _, data = stored_measures.stored(session, span.start.date(), rules.version)
        kept = None if data is None else _decode(data)
        if kept is not None:
            out[span.start.date()] = kept.programme
        else:
            spans.append(span)
    if not spans:
        return dict(sorted(out.items()))
    limit = timedelta(days=rules.follow_up_limit_days)
    rows = month_case_rows(session, Month(spans[0].start, spans[-1].end),
                           rules.follow_up_limit_days, rules.recall_window_days)
    for span in spans:
        cases = [c for c in rows if span.start - limit <= c.opened_at < span.end]
        cards = month_card_measures(session, span, {"": None})
        covered = births.coverage(session, span.start.date(), {"": None}) or {}
        if "" in covered:
            cards[""].measures["coverage"] = covered[""]
        out[span.start.date()] = _all(cards[""], cases, span, rules)
    return dict(sorted(out.items()))
