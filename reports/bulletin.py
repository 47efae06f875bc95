"""The monthly programme bulletin: the programme's measures against their targets, the measures
of each district and submitting unit, a ranking of the units, charts per indicator, the
confirmed cases, and the indicator definitions with their sources.

The measures arrive computed (the LIMS computes them); their definitions, directions and
targets are the cited data of ``reports.indicators``. The ranking is the mean of each unit's
ranks over the indicators that have a direction of better (equal weights), ties sharing the
better rank; a unit without a value for an indicator is not ranked on it.

Public names: ``Measure``, ``UnitMeasures``, ``CaseCount``, ``Bulletin``, ``RankedUnit``,
``ranking``, ``unit_medians``, ``fmt_measure``, ``check_definitions``,
``definitions_section``, ``render_bulletin``.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Self

from pydantic import Field, model_validator
from reportlab.platypus import CondPageBreak, Flowable, Spacer, Table, TableStyle

from reports import ReportError
from reports.indicators import Indicator, IndicatorSet, IndicatorSource, indicators, rank
from reports.models import DisorderRow, DocumentInfo, Laboratory, Lang, ViewModel
from reports.pdf.charts import BarRow, bar_chart
from reports.pdf.page import COLOURS, MARGIN, PageSetup, Styles, page_size, para, render, styles
from reports.pdf.tables import bullets, correction_box, data_table
from reports.wording import Wording, fill, wording_for

__all__ = ["Bulletin", "CaseCount", "Measure", "RankedUnit", "UnitMeasures",
           "check_definitions", "definitions_section", "fmt_measure", "ranking",
           "render_bulletin", "unit_medians"]

#: How far a proportion may be from 100 x numerator / n (the LIMS may round to 0.1 %).
_ROUNDING_PCT = 0.051


class Measure(ViewModel):
    """One computed measure: its value in the indicator's unit, the number of babies or
    specimens it is over (``n``) and, for a proportion, the numerator."""

    value: float | None = None
    n: int | None = Field(default=None, ge=0)
    numerator: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _counts(self) -> Self:
        if self.numerator is not None and (self.n is None or self.numerator > self.n):
            raise ValueError(f"numerator {self.numerator} needs an n at least as large "
                             f"(n = {self.n})")
        return self


class UnitMeasures(ViewModel):
    """A submitting unit's (or a district's) measures, by indicator code."""

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    district: str = ""
    measures: dict[str, Measure]


class CaseCount(DisorderRow):
    cases: int = Field(ge=1)


def _check_measures(owner: str, measures: dict[str, Measure], definitions: IndicatorSet) -> None:
    for code, measure in measures.items():
        try:
            indicator = definitions.get(code)
        except KeyError as exc:
            raise ValueError(f"{owner}: {exc.args[0]}") from None
        if indicator.kind != "proportion" or measure.numerator is None or not measure.n:
            continue
        expected = 100 * measure.numerator / measure.n
        if measure.value is None or abs(measure.value - expected) > _ROUNDING_PCT:
            raise ValueError(f"{owner}, {code}: value {measure.value} is not 100 x "
                             f"{measure.numerator} / {measure.n} = {expected:.3f}")


class Bulletin(ViewModel):
    document: DocumentInfo
    laboratory: Laboratory
    programme: str = Field(min_length=1)
    period_start: dt.date
    period_end: dt.date
    programme_measures: dict[str, Measure]
    districts: tuple[UnitMeasures, ...] = ()
    units: tuple[UnitMeasures, ...] = Field(min_length=1)
    confirmed_by_disorder: tuple[CaseCount, ...] = ()
    #: The indicator definitions the bulletin was issued with; another version is refused.
    indicators_version: str | None = None
    charts: tuple[str, ...] = ("unsatisfactory_rate", "early_collection", "transit_time",
                               "recall_compliance")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        definitions = indicators()
        _check_measures("programme_measures", self.programme_measures, definitions)
        for kind, rows in (("district", self.districts), ("unit", self.units)):
            codes = [r.code for r in rows]
            if dupes := sorted({c for c in codes if codes.count(c) > 1}):
                raise ValueError(f"{kind} codes listed twice: {dupes}")
            for row in rows:
                _check_measures(f"{kind} {row.code}", row.measures, definitions)
        for code in self.charts:
            definitions.get(code)
        return self


def fmt_measure(indicator: Indicator, value: float | None, words: Wording, *,
                bare: bool = False) -> str:
    """A measure as printed: ``0.42%`` / ``12.5%``, ``26.0 h``, ``5.5 d``, ``3``; ``bare``
    leaves out the hours and days unit (the wide tables give it in the column heading)."""
    if value is None:
        return "-"
    if indicator.unit == "%":
        return f"{value:.2f}%" if abs(value) < 1 else f"{value:.1f}%"
    if indicator.unit in ("h", "d"):
        unit = words.common.hours if indicator.unit == "h" else words.common.days
        return f"{value:.1f}" if bare else fill(unit, value=f"{value:.1f}")
    return f"{value:.0f}"


def _heading(indicator: Indicator, words: Wording, lang: Lang) -> str:
    """An indicator's column heading in the wide tables, with its unit of time."""
    name = indicator.text("name", lang)
    if indicator.unit not in ("h", "d"):
        return name
    unit = words.common.hours if indicator.unit == "h" else words.common.days
    return f"{name}, {fill(unit, value='').strip()}"


def _value(unit: UnitMeasures, code: str) -> float | None:
    measure = unit.measures.get(code)
    return None if measure is None else measure.value


def unit_medians(units: Sequence[UnitMeasures],
                 definitions: IndicatorSet) -> dict[str, float | None]:
    """The median over the units of each indicator (None where no unit has a value)."""
    out: dict[str, float | None] = {}
    for code in definitions.codes:
        values = [v for u in units if (v := _value(u, code)) is not None]
        out[code] = statistics.median(values) if values else None
    return out


@dataclass(frozen=True)
class RankedUnit:
    unit: UnitMeasures
    position: int | None  # None: ranked on no indicator (no figures that month)
    mean_rank: float | None
    ranks: dict[str, int]


def ranking(units: Sequence[UnitMeasures], definitions: IndicatorSet) -> list[RankedUnit]:
    """The units ordered by the mean of their ranks (best first; units ranked on nothing last,
    in code order, without a position), with their rank on each indicator. Units with the same
    mean rank share a position (competition ranking: 1, 2, 2, 4)."""
    per_code = {i.code: rank({u.code: _value(u, i.code) for u in units}, i)
                for i in definitions.indicator}
    rows = []
    for unit in units:
        ranks = {code: r[unit.code] for code, r in per_code.items() if unit.code in r}
        mean = statistics.fmean(ranks.values()) if ranks else None
        rows.append((unit, mean, ranks))
    rows.sort(key=lambda row: (row[1] is None, row[1] or 0.0, row[0].code))
    out: list[RankedUnit] = []
    for i, (unit, mean, ranks) in enumerate(rows):
        tied = (i > 0 and mean is not None and rows[i - 1][1] is not None
                and math.isclose(mean, rows[i - 1][1] or 0.0, abs_tol=1e-9))
        position = None if mean is None else out[-1].position if tied else i + 1
        out.append(RankedUnit(unit, position, mean, ranks))
    return out


def check_definitions(version: str | None, definitions: IndicatorSet) -> None:
    """ReportError if a document issued with definitions ``version`` would print others."""
    if version is not None and version != definitions.version:
        raise ReportError(f"the document was issued with indicator definitions {version}, but "
                          f"the packaged ones are {definitions.version}: reprint the stored PDF, "
                          "or issue a new version")


def _programme(bulletin: Bulletin, words: Wording, st: Styles, width: float,
               definitions: IndicatorSet) -> list[Flowable]:
    t, lang = words.bulletin, bulletin.document.lang
    medians = unit_medians(bulletin.units, definitions)
    rows: list[list[str]] = []
    fills: dict[int, object] = {}
    for i in definitions.indicator:
        measure = bulletin.programme_measures.get(i.code, Measure())
        met = i.meets(measure.value)
        if met is False:
            fills[len(rows)] = COLOURS.red_fill
        target = ("-" if i.target is None else
                  f"{'>=' if i.better == 'higher' else '<='} {fmt_measure(i, i.target, words)}")
        counts = (f"{measure.numerator:,} / {measure.n:,}" if measure.numerator is not None
                  and measure.n is not None else f"{measure.n:,}" if measure.n is not None
                  else "-")
        rows.append([i.text("name", lang), fmt_measure(i, measure.value, words), counts, target,
                     "-" if met is None else (t.met if met else t.not_met),
                     fmt_measure(i, medians[i.code], words)])
    widths = [0.3, 0.12, 0.18, 0.14, 0.12, 0.14]
    return [para(t.programme_heading, st.h1),
            data_table([t.indicator, t.value, t.n, t.target, t.status, t.median], rows,
                       [w * width for w in widths], st, row_fills=fills, right=(1, 2, 5))]


def _wide_table(heading: str, first: list[str], lead: list[float],
                rows: list[tuple[list[str], dict[str, str]]], words: Wording, st: Styles,
                width: float, definitions: IndicatorSet, lang: Lang, *,
                right_from: int) -> list[Flowable]:
    """Leading columns (``lead``: their shares of the width) then one column per indicator;
    columns from ``right_from`` on are right-aligned (the district and ranking tables)."""
    rest = (1 - sum(lead)) / len(definitions.indicator)
    widths = [w * width for w in [*lead, *([rest] * len(definitions.indicator))]]
    header = [*first, *(_heading(i, words, lang) for i in definitions.indicator)]
    body = [[*lead_cells, *(cells.get(i.code, "-") for i in definitions.indicator)]
            for lead_cells, cells in rows]
    return [para(heading, st.h1),
            data_table(header, body, widths, st, right=tuple(range(right_from, len(header))),
                       cell_style=st.small_cell, head_style=st.small_head)]


def _districts(bulletin: Bulletin, words: Wording, st: Styles, width: float,
               definitions: IndicatorSet) -> list[Flowable]:
    if not bulletin.districts:
        return []
    lang = bulletin.document.lang
    rows = [([d.name, f"{_n(d):,}" if _n(d) is not None else "-"],
             {i.code: fmt_measure(i, _value(d, i.code), words, bare=True)
              for i in definitions.indicator})
            for d in bulletin.districts]
    return _wide_table(words.bulletin.districts_heading,
                       [words.common.district, words.bulletin.cards],
                       [0.13, 0.06], rows, words, st, width, definitions, lang, right_from=1)


def _n(unit: UnitMeasures) -> int | None:
    """The cards the district received in the period (the unsatisfactory rate's n)."""
    measure = unit.measures.get("unsatisfactory_rate")
    return None if measure is None else measure.n


def _title(bulletin: Bulletin, words: Wording) -> str:
    """The title, naming the programme unless the title already says it."""
    title = words.bulletin.title
    if bulletin.programme.casefold() in title.casefold():
        return title
    return words.label(title, bulletin.programme)


def _ranking(bulletin: Bulletin, words: Wording, st: Styles, width: float,
             definitions: IndicatorSet) -> list[Flowable]:
    t, lang = words.bulletin, bulletin.document.lang
    rows = []
    for r in ranking(bulletin.units, definitions):
        cells = {}
        for i in definitions.indicator:
            text = fmt_measure(i, _value(r.unit, i.code), words, bare=True)
            cells[i.code] = f"{text} ({r.ranks[i.code]})" if i.code in r.ranks else text
        mean = "-" if r.mean_rank is None else f"{r.mean_rank:.1f}"
        rows.append((["-" if r.position is None else str(r.position), r.unit.name,
                      r.unit.district, mean], cells))
    return [*_wide_table(t.ranking_heading, [t.rank, t.unit, words.common.district, t.mean_rank],
                         [0.035, 0.13, 0.065, 0.05], rows, words, st, width, definitions,
                         lang, right_from=3),
            para(t.ranking_note, st.small)]


def _charts(bulletin: Bulletin, words: Wording, st: Styles, width: float,
            definitions: IndicatorSet) -> list[Flowable]:
    t, lang = words.bulletin, bulletin.document.lang
    medians = unit_medians(bulletin.units, definitions)
    column = width / 2
    drawings = []
    for code in bulletin.charts:
        i = definitions.get(code)
        ranks = rank({u.code: _value(u, code) for u in bulletin.units}, i)
        ordered = sorted(bulletin.units, key=lambda u: (u.code not in ranks,
                                                        ranks.get(u.code, 0), u.code))
        rows = [BarRow(u.name, _value(u, code)) for u in ordered]
        drawings.append(bar_chart(rows, title=i.text("name", lang), width=column - 8,
                                  max_height=400, median=medians[code], target=i.target,
                                  fmt=partial(fmt_measure, i, words=words), no_data=t.no_data))
    if not drawings:
        return []
    grid = Table([drawings[k:k + 2] + [""] * (2 - len(drawings[k:k + 2]))
                  for k in range(0, len(drawings), 2)], colWidths=[column, column], hAlign="LEFT")
    grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 8)]))
    return [CondPageBreak(200), para(t.charts_heading, st.h1), para(t.chart_note, st.small),
            grid]


def _cases(bulletin: Bulletin, words: Wording, st: Styles, width: float) -> list[Flowable]:
    if not bulletin.confirmed_by_disorder:
        return []
    t = words.bulletin
    rows = [[words.disorder_label(c.code), words.group_of(c.code).name, str(c.cases)]
            for c in bulletin.confirmed_by_disorder]
    return [para(t.cases_heading, st.h1),
            data_table([words.common.disorder, t.group, t.cases], rows,
                       [0.4 * width, 0.3 * width, 0.1 * width], st, right=(2,))]


def _source_title(source: IndicatorSource, words: Wording, lang: Lang) -> str:
    """A source's title in the document's language, then its citation as published; the
    citation alone when it is the title."""
    title = source.title_in(lang)
    if title is None or title == source.title:
        return source.title
    return fill(words.bulletin.translated_source, title=title, original=source.title)


def definitions_section(words: Wording, st: Styles, width: float, definitions: IndicatorSet,
                        lang: Lang) -> list[Flowable]:
    """The definitions table and its numbered sources (shared with the report card)."""
    t = words.bulletin
    rows = []
    for i in definitions.indicator:
        target = ("-" if i.target is None or i.target_source is None
                  else f"{fmt_measure(i, i.target, words)} [{i.target_source}]")
        rows.append([i.text("name", lang), i.text("numerator", lang), i.text("denominator", lang),
                     getattr(t.units, "percent" if i.unit == "%" else i.unit),
                     getattr(t.directions, i.better), target, ", ".join(i.sources)])
    widths = [0.14, 0.27, 0.2, 0.05, 0.08, 0.11, 0.15]
    cited = dict.fromkeys(s for i in definitions.indicator
                          for s in (*i.sources, *([i.target_source] if i.target_source else [])))
    refs = [f"[{s}] {_source_title(definitions.source(s), words, lang)}" for s in cited]
    return [CondPageBreak(120), para(t.definitions_heading, st.h1),
            para(fill(t.indicators_version, version=definitions.version), st.small),
            data_table([t.indicator, t.numerator, t.denominator, t.unit_of_measure, t.direction,
                        t.target, t.source], rows, [w * width for w in widths], st,
                       cell_style=st.small_cell),
            Spacer(1, 4), bullets(refs, st.small)]


def render_bulletin(bulletin: Bulletin) -> bytes:
    """The monthly bulletin as PDF bytes (A4 landscape)."""
    words = wording_for(bulletin.document)
    definitions = indicators()
    check_definitions(bulletin.indicators_version, definitions)
    st = styles(bulletin.document.lang)
    width = page_size(wide=True)[0] - 2 * MARGIN
    t = words.bulletin
    period = fill(t.period, start=words.date(bulletin.period_start),
                  end=words.date(bulletin.period_end))
    story: list[Flowable] = [
        *correction_box(bulletin.document, words, width, st),
        para(_title(bulletin, words), st.title),
        para(period, st.body, bold=True),
        *_programme(bulletin, words, st, width, definitions),
        *_districts(bulletin, words, st, width, definitions),
        *_ranking(bulletin, words, st, width, definitions),
        *_charts(bulletin, words, st, width, definitions),
        *_cases(bulletin, words, st, width),
        *definitions_section(words, st, width, definitions, bulletin.document.lang),
    ]
    return render(story, PageSetup(bulletin.document, bulletin.laboratory, t.title, words,
                                   wide=True))
