"""The monthly bulletin and the report cards from the programme measures the LIMS computes
(``lims.followup.programme.programme_measures``: the same numbers as ``GET
/programme/measures``), keeping the measures the bulletin's indicator definitions name
(``reports/data/indicators.toml``). Coverage is over the live births the units reported
(``lims.followup.births``); a month without them prints coverage as not available.

Public names: ``bulletin_view``, ``card_view``, ``month_start``.
"""

from __future__ import annotations

import calendar
from datetime import date

from sqlmodel import Session

from lims.documents import repository
from lims.documents.laboratory import LaboratoryFile
from lims.errors import NotFoundError
from lims.followup.measures import Measure as LimsMeasure
from lims.followup.programme import INDICATOR_CODES, programme_measures
from msms.catalogue import default_catalogue
from reports.bulletin import Bulletin, CaseCount, Measure, UnitMeasures
from reports.models import DocumentInfo
from reports.report_card import ReportCard, report_card

__all__ = ["bulletin_view", "card_view", "month_start"]


def month_start(day: date) -> date:
    return day.replace(day=1)


def _numerator(m: LimsMeasure) -> int | None:
    """The numerator the bulletin prints: none over no rows, and none when the month's cases
    outnumber its cards (a recall this month of a card received last month), where the value
    is printed as computed."""
    if m.numerator is None or not m.n or m.numerator > m.n:
        return None
    return m.numerator


def _measures(values: dict[str, LimsMeasure], codes: tuple[str, ...]) -> dict[str, Measure]:
    return {code: Measure(value=m.value, n=m.n, numerator=_numerator(m))
            for code, m in values.items() if code in codes}


def bulletin_view(session: Session, month: date, *, document: DocumentInfo,
                  lab: LaboratoryFile) -> Bulletin:
    """The bulletin of the calendar month holding ``month``."""
    computed = programme_measures(session, month)
    names = {s.code: s for s in repository.submitters(session)}
    if not names:
        raise NotFoundError("no submitting unit: a bulletin ranks the submitting units")
    start = computed.month
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    known = {d.code for d in default_catalogue().disorders}
    return Bulletin(
        document=document, laboratory=lab.text(document.lang).laboratory(),
        programme=lab.programme[document.lang], period_start=start, period_end=end,
        programme_measures=_measures(computed.programme, INDICATOR_CODES),
        districts=tuple(UnitMeasures(code=d, name=d, measures=_measures(m, INDICATOR_CODES))
                        for d, m in computed.by_district.items()),
        units=tuple(UnitMeasures(code=code, name=names[code].name,
                                 district=names[code].district,
                                 measures=_measures(m, INDICATOR_CODES))
                    for code, m in computed.by_submitter.items() if code in names),
        confirmed_by_disorder=tuple(CaseCount(code=c, cases=n)
                                    for c, n in computed.confirmed_by_disorder.items()
                                    if c in known and n > 0))


def card_view(session: Session, month: date, unit_code: str, *, document: DocumentInfo,
              lab: LaboratoryFile) -> ReportCard:
    """A submitting unit's report card, derived from the month's bulletin."""
    bulletin = bulletin_view(session, month, document=document, lab=lab)
    if unit_code not in {u.code for u in bulletin.units}:
        raise NotFoundError(f"submitter {unit_code} not found")
    return report_card(bulletin, unit_code, document)
