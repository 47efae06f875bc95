"""A submitting unit's report card: its own measures for the month against the median of all
units and the published targets, its rank on each indicator, where it stands among the units
(a strip chart), and the indicator definitions.

``report_card`` builds the card's view model from the month's bulletin, so the cards and the
bulletin rank and compare the same way.

Public names: ``ReportCard``, ``report_card``, ``render_report_card``.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Self

from pydantic import Field, model_validator
from reportlab.platypus import Flowable, Spacer

from reports.bulletin import (
    Bulletin,
    Measure,
    UnitMeasures,
    check_definitions,
    definitions_section,
    fmt_measure,
    ranking,
    unit_medians,
)
from reports.indicators import indicators, rank
from reports.models import DocumentInfo, Laboratory, ViewModel
from reports.pdf.charts import StripRow, strip_chart
from reports.pdf.page import COLOURS, MARGIN, PageSetup, page_size, para, render, styles
from reports.pdf.tables import correction_box, data_table, fmt_number
from reports.wording import fill, wording_for

__all__ = ["ReportCard", "render_report_card", "report_card"]


class ReportCard(ViewModel):
    document: DocumentInfo
    laboratory: Laboratory
    programme: str = Field(min_length=1)
    period_start: dt.date
    period_end: dt.date
    unit: UnitMeasures
    unit_count: int = Field(ge=1)
    position: int | None = Field(default=None, ge=1)
    mean_rank: float | None = None
    medians: dict[str, float | None]
    lows: dict[str, float | None]
    highs: dict[str, float | None]
    ranks: dict[str, int] = {}
    ranked_counts: dict[str, int] = {}
    indicators_version: str | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.position is not None and self.position > self.unit_count:
            raise ValueError(f"position {self.position} is beyond {self.unit_count} units")
        known = set(indicators().codes)
        for name in ("medians", "lows", "highs", "ranks", "ranked_counts"):
            if bad := sorted(set(getattr(self, name)) - known):
                raise ValueError(f"{name} names unknown indicators {bad}")
        return self


def report_card(bulletin: Bulletin, unit_code: str, document: DocumentInfo) -> ReportCard:
    """The card of one unit of ``bulletin`` (medians, ranges and ranks over all its units)."""
    definitions = indicators()
    units = bulletin.units
    ranked = {r.unit.code: r for r in ranking(units, definitions)}
    if unit_code not in ranked:
        raise KeyError(f"the bulletin has no unit {unit_code!r}")
    ranks: dict[str, int] = {}
    counts: dict[str, int] = {}
    lows: dict[str, float | None] = {}
    highs: dict[str, float | None] = {}
    for i in definitions.indicator:
        values = {u.code: u.measures[i.code].value if i.code in u.measures else None
                  for u in units}
        present = [v for v in values.values() if v is not None]
        lows[i.code], highs[i.code] = (min(present), max(present)) if present else (None, None)
        order = rank(values, i)
        if unit_code in order:
            ranks[i.code], counts[i.code] = order[unit_code], len(order)
    mine = ranked[unit_code]
    return ReportCard(
        document=document, laboratory=bulletin.laboratory, programme=bulletin.programme,
        period_start=bulletin.period_start, period_end=bulletin.period_end, unit=mine.unit,
        unit_count=len(units), position=mine.position if mine.ranks else None,
        mean_rank=mine.mean_rank, medians=unit_medians(units, definitions), lows=lows,
        highs=highs, ranks=ranks, ranked_counts=counts,
        indicators_version=bulletin.indicators_version)


def render_report_card(card: ReportCard) -> bytes:
    """The unit's report card as PDF bytes."""
    words = wording_for(card.document)
    definitions = indicators()
    check_definitions(card.indicators_version, definitions)
    lang = card.document.lang
    st = styles(lang)
    width = page_size()[0] - 2 * MARGIN
    t, b = words.card, words.bulletin
    rows: list[list[str]] = []
    fills: dict[int, object] = {}
    strips = []
    for i in definitions.indicator:
        measure = card.unit.measures.get(i.code, Measure())
        median = card.medians.get(i.code)
        status = i.compare(measure.value, median)
        if status in ("better", "worse"):
            fills[len(rows)] = COLOURS.green_fill if status == "better" else COLOURS.amber_fill
        place = (fill(t.rank_of, rank=card.ranks[i.code], count=card.ranked_counts[i.code])
                 if i.code in card.ranks else "-")
        rows.append([i.text("name", lang), fmt_measure(i, measure.value, words),
                     "-" if measure.n is None else f"{measure.n:,}",
                     fmt_measure(i, median, words),
                     "-" if i.target is None else fmt_measure(i, i.target, words), place,
                     getattr(t.statuses, status)])
        strips.append(StripRow(i.text("name", lang), card.lows.get(i.code), median,
                               card.highs.get(i.code), measure.value, i.target,
                               partial(fmt_measure, i, words=words)))
    overall = ("-" if card.position is None else
               f"{fill(t.rank_of, rank=card.position, count=card.unit_count)} "
               f"({words.label(b.mean_rank, fmt_number(card.mean_rank, decimals=1))})")
    where = card.unit.name + (f" · {card.unit.district}" if card.unit.district else "")
    story: list[Flowable] = [
        *correction_box(card.document, words, width, st),
        para(words.label(t.title, where), st.title),
        para(f"{card.programme} · " + fill(b.period, start=words.date(card.period_start),
                                           end=words.date(card.period_end)), st.body, bold=True),
        para(words.label(b.ranking_heading, overall), st.body),
        Spacer(1, 4),
        data_table([b.indicator, t.this_unit, b.n, t.programme_median, b.target, t.rank,
                    t.status], rows, [w * width for w in (0.27, 0.12, 0.1, 0.14, 0.1, 0.15,
                                                          0.12)],
                   st, row_fills=fills, right=(1, 2, 3, 4)),
        para(t.chart_heading, st.h1), para(t.chart_note, st.small),
        strip_chart(strips, width=width, fmt=fmt_number),
        *definitions_section(words, st, width, definitions, lang),
    ]
    return render(story, PageSetup(card.document, card.laboratory, t.title, words))
