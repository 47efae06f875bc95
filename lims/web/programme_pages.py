"""The programme's pages, for admins and the programme's directors: the monthly bulletin
(the programme's measures against their targets and last month, the ranking of the units,
charts by unit and district drawn as inline SVG, the trend over the last months, loaded just
after the page) and its PDF;
each measure drills down to the specimens behind it; the live births each unit reported (the
coverage's denominator), typed in or imported from a CSV.

The page is built from the same view model as the PDF (``lims.documents.bulletins
.bulletin_view``) and prints its figures with the PDF's own formatting
(``reports.bulletin.fmt_measure``), so the two show the same numbers.

Public names: ``router``, ``bulletin_context``, ``trend_context``, ``TREND_MONTHS``,
``month_of_text``, ``chosen_month``, ``ChosenMonth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Annotated, Any

from babel.support import NullTranslations
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from lims.audit import Actor, record
from lims.documents import service as documents
from lims.documents.bulletins import bulletin_view
from lims.documents.laboratory import laboratory
from lims.documents.repository import submitters as all_submitters
from lims.errors import InvalidInputError, NotFoundError, found
from lims.followup.births import births_of_month, import_births, parse_month, record_births
from lims.followup.drilldown import drill_down
from lims.followup.measures import month_of
from lims.followup.programme import programme_trend
from lims.followup.repository import latest_card_month
from lims.followup.service import is_director
from lims.models import Submitter, utcnow
from lims.vocabulary import Role
from lims.web.context import (
    FORM_ERRORS,
    Page,
    PageError,
    check_csrf,
    doc_lang,
    in_session_async,
    page_from,
    pages_for,
    pdf_response,
    posted_form,
    refused_form,
    shown_on_page,
)
from lims.web.i18n import load_translations
from lims.web.lab_pages import read_upload
from lims.web.refusals import PAGE_REFUSALS
from lims.web.svg_charts import Bar, bar_chart, trend_chart
from reports.bulletin import Bulletin, Measure, UnitMeasures, fmt_measure, ranking, unit_medians
from reports.indicators import Indicator, indicators
from reports.models import DocumentInfo, Lang
from reports.wording import Wording, wording

__all__ = ["TREND_MONTHS", "ChosenMonth", "bulletin_context", "chosen_month", "month_of_text",
           "router", "trend_context"]

router = APIRouter(include_in_schema=False)
Staff = Annotated[Page, Depends(pages_for(Role.admin, Role.reviewer))]
#: The months the trend charts show, this one included.
TREND_MONTHS = 6


def _programme_user(session: Session, current: Page) -> None:
    """Admins and directors only (a director is a reviewer granted the authority)."""
    if current.role != Role.admin and not is_director(session, current.user.id):
        raise PageError(403, PAGE_REFUSALS.text("programme_for_admins"))


def month_of_text(text: str) -> date:
    """``YYYY-MM`` (blank: last month) as the month's first day; a month that cannot be
    measured (``month_of``: the calendar's first and last years) is refused naming it."""
    if not text.strip():
        today = utcnow().date().replace(day=1)
        return (today.replace(year=today.year - 1, month=12) if today.month == 1
                else today.replace(month=today.month - 1))
    first = parse_month(text)
    month_of(first)
    return first


@dataclass(frozen=True, slots=True)
class ChosenMonth:
    """The month a page shows: asked for (``chosen`` empty), else the latest month with cards
    received (``"latest"``), else last month (``"no_cards"``); ``in_progress`` while it is not
    over."""

    month: date
    chosen: str
    in_progress: bool

    def context(self) -> dict[str, Any]:
        return {"chosen": self.chosen, "in_progress": self.in_progress}


def chosen_month(session: Session, text: str, submitter_id: int | None = None) -> ChosenMonth:
    """The month ``YYYY-MM`` in ``text``; none: the latest month with cards received (of one
    submitter), else last month."""
    if text.strip():
        month, chosen = month_of_text(text), ""
    elif (key := latest_card_month(session, submitter_id)) is not None:
        month, chosen = date(key // 100, key % 100, 1), "latest"
    else:
        month, chosen = month_of_text(""), "no_cards"
    return ChosenMonth(month, chosen, month >= utcnow().date().replace(day=1))


def _back(month: date, k: int) -> date:
    index = month.year * 12 + month.month - 1 - k
    return date(index // 12, index % 12 + 1, 1)


def signed_measure(indicator: Indicator, change: float, words: Wording) -> str:
    """A change of a measure, signed, as precise as the measure is printed (a count: ``+2``)."""
    size = fmt_measure(indicator, abs(change), words, bare=True)
    if size.strip("0.%") == "":
        return size
    return ("+" if change > 0 else "−") + size


def measure_range(indicator: Indicator, low: float | None, high: float | None,
                  words: Wording) -> str:
    """The range of the units' measures: ``low – high``, one value when they are equal, ``-``
    when no unit has one."""
    if low is None or high is None:
        return "-"
    low_text, high_text = fmt_measure(indicator, low, words), fmt_measure(indicator, high, words)
    return low_text if low_text == high_text else f"{low_text} – {high_text}"


def _value(unit: UnitMeasures, code: str) -> float | None:
    measure = unit.measures.get(code)
    return None if measure is None else measure.value


def _measure_rows(bulletin: Bulletin, previous: dict[str, float | None], words: Wording,
                  lang: Lang) -> list[dict[str, Any]]:
    definitions = indicators()
    medians = unit_medians(bulletin.units, definitions)
    rows = []
    for i in definitions.indicator:
        m = bulletin.programme_measures.get(i.code, Measure())
        before = previous.get(i.code)
        change = None if m.value is None or before is None else m.value - before
        rows.append({
            "code": i.code, "name": i.text("name", lang), "unit": i.unit,
            "value": fmt_measure(i, m.value, words),
            "counts": (f"{m.numerator:,} / {m.n:,}" if m.numerator is not None and m.n is not None
                       else f"{m.n:,}" if m.n is not None else "-"),
            "target": "-" if i.target is None else
            f"{'>=' if i.better == 'higher' else '<='} {fmt_measure(i, i.target, words)}",
            "met": i.meets(m.value), "median": fmt_measure(i, medians[i.code], words),
            "previous": fmt_measure(i, before, words),
            "change": None if change is None else signed_measure(i, change, words),
            "better": None if change is None or change == 0 or i.better == "neither"
            else (change > 0) == (i.better == "higher")})
    return rows


def _bars(units: tuple[UnitMeasures, ...], i: Indicator, month: date, kind: str) -> list[Bar]:
    from reports.indicators import rank

    ranks = rank({u.code: _value(u, i.code) for u in units}, i)
    ordered = sorted(units, key=lambda u: (u.code not in ranks, ranks.get(u.code, 0), u.code))
    return [Bar(u.name, _value(u, i.code),
                f"/programme/indicators/{i.code}?month={month:%Y-%m}&{kind}={u.code}")
            for u in ordered]


def _charts(bulletin: Bulletin, words: Wording, lang: Lang,
            labels: dict[str, str]) -> list[dict[str, Any]]:
    definitions = indicators()
    medians = unit_medians(bulletin.units, definitions)
    month = bulletin.period_start
    out = []
    for code in bulletin.charts:
        i = definitions.get(code)

        def fmt(v: float | None, i: Indicator = i) -> str:
            return fmt_measure(i, v, words)

        name = i.text("name", lang)
        out.append({
            "code": code, "name": name,
            "units": bar_chart(_bars(bulletin.units, i, month, "unit"), title=name, fmt=fmt,
                               no_data=labels["no_data"], median=medians[code],
                               target=i.target, median_label=labels["median"],
                               target_label=labels["target"]),
            "districts": bar_chart(_bars(bulletin.districts, i, month, "district"), title=name,
                                   fmt=fmt, no_data=labels["no_data"], target=i.target,
                                   target_label=labels["target"])})
    return out


def bulletin_context(session: Session, month: date, locale: str,
                     labels: dict[str, str]) -> dict[str, Any]:
    """Everything the bulletin page shows for the month holding ``month`` (the trend comes
    after, from ``trend_context``)."""
    lang = doc_lang(locale)
    words = wording(lang)
    info = DocumentInfo(document_id="page", issued_at=utcnow(), lang=lang)
    bulletin = bulletin_view(session, month, document=info, lab=laboratory())
    definitions = indicators()
    last = _back(bulletin.period_start, 1)
    previous = {c: m.value for c, m in programme_trend(session, [last])[last].items()}
    ranked = []
    for r in ranking(bulletin.units, definitions):
        ranked.append({
            "position": "-" if r.position is None else r.position, "code": r.unit.code,
            "name": r.unit.name,
            "district": r.unit.district,
            "mean": "-" if r.mean_rank is None else f"{r.mean_rank:.1f}",
            "cells": [(fmt_measure(i, _value(r.unit, i.code), words, bare=True),
                       r.ranks.get(i.code)) for i in definitions.indicator]})
    districts = [{"code": d.code, "name": d.name,
                  "cells": [fmt_measure(i, _value(d, i.code), words, bare=True)
                            for i in definitions.indicator]} for d in bulletin.districts]
    headings = [{"code": i.code, "name": i.text("name", lang), "unit": i.unit}
                for i in definitions.indicator]
    return {"month": bulletin.period_start, "bulletin": bulletin, "headings": headings,
            "measures": _measure_rows(bulletin, previous, words, lang), "ranking": ranked,
            "districts": districts, "charts": _charts(bulletin, words, lang, labels),
            "indicators_version": definitions.version, "previous_month": last}


def trend_context(session: Session, month: date, locale: str) -> dict[str, Any]:
    """The programme's value of each charted indicator in the ``TREND_MONTHS`` months up to
    the one holding ``month``, as line charts."""
    lang = doc_lang(locale)
    words, definitions = wording(lang), indicators()
    first = month.replace(day=1)
    trend = sorted(programme_trend(session, [_back(first, k) for k in
                                             range(TREND_MONTHS - 1, -1, -1)]).items())
    charts = []
    for code in Bulletin.model_fields["charts"].default:
        i = definitions.get(code)

        def fmt(v: float | None, i: Indicator = i) -> str:
            return fmt_measure(i, v, words)

        points = [(f"{m:%Y-%m}"[2:], values[code].value if code in values else None)
                  for m, values in trend]
        charts.append({"code": code, "name": i.text("name", lang),
                       "svg": trend_chart(points, title=i.text("name", lang), fmt=fmt)})
    return {"month": first, "trend": charts}


@cache
def _translations() -> dict[str, NullTranslations]:
    return load_translations()


def _labels(request: Request, current: Page) -> dict[str, str]:
    """The charts' words in the page's language (the template's legend uses the same ones)."""
    gettext = _translations()[current.locale].gettext
    return {"no_data": gettext("no data"), "median": gettext("median"),
            "target": gettext("target")}


def _read_bulletin(session: Session, current: Page, month_text: str,
                   labels: dict[str, str]) -> dict[str, Any]:
    _programme_user(session, current)
    shown = chosen_month(session, month_text)
    context = bulletin_context(session, shown.month, current.locale, labels)
    record(session, Actor.of(current.user), "read_bulletin", "bulletin", f"{shown.month:%Y-%m}")
    return {**context, **shown.context()}


def _read_trend(session: Session, current: Page, month: date) -> dict[str, Any]:
    _programme_user(session, current)
    return trend_context(session, month, current.locale)


@router.get("/programme/bulletin/trend", response_class=HTMLResponse)
def bulletin_trend(request: Request, current: Staff, month: str = "") -> HTMLResponse:
    """The trend charts (the bulletin page loads them after it is shown)."""
    return page_from(request, "_programme_trend.html", current,
                     lambda s: _read_trend(s, current, chosen_month(s, month).month))


@router.get("/programme/bulletin", response_class=HTMLResponse)
def bulletin_page(request: Request, current: Staff, month: str = "") -> HTMLResponse:
    labels = _labels(request, current)
    return page_from(request, "programme_bulletin.html", current,
                     lambda s: _read_bulletin(s, current, month, labels))


def _issue_bulletin(session: Session, current: Page, month: date) -> Any:
    _programme_user(session, current)
    return documents.issue_bulletin(session, Actor.of(current.user), month,
                                    language=doc_lang(current.locale)).document


@router.post("/programme/bulletin/pdf")
async def bulletin_pdf(request: Request, current: Staff) -> Response:
    """The month's bulletin as a PDF in the page's language: issued (stored, hashed and
    audited) the first time, its stored bytes after."""
    form = await posted_form(request, current)
    with shown_on_page():
        first = month_of_text(str(form.get("month") or ""))
        doc = await in_session_async(request, lambda s: _issue_bulletin(s, current, first))
    return pdf_response(doc)


def _scope(session: Session, unit: str, district: str) -> tuple[list[int] | None, str]:
    if not unit and not district:
        return None, ""
    rows = all_submitters(session)
    if unit:
        ids = [s.id for s in rows if s.code == unit and s.id is not None]
        if not ids:
            raise NotFoundError(f"submitter {unit} not found")
        return ids, next(s.name for s in rows if s.code == unit)
    ids = [s.id for s in rows if (s.district or "-") == district and s.id is not None]
    if not ids:
        raise NotFoundError(f"district {district} not found")
    return ids, district


def _read_drill(session: Session, current: Page, code: str, month: date, unit: str,
                district: str) -> dict[str, Any]:
    _programme_user(session, current)
    try:
        indicator = indicators().get(code)
    except KeyError:
        raise NotFoundError(f"no programme measure {code!r}") from None
    ids, scope = _scope(session, unit, district)
    drill = drill_down(session, code, month, submitters=ids)
    record(session, Actor.of(current.user), "read_list", "specimen", "drill-down",
           after={"measure": code, "month": f"{month:%Y-%m}", "unit": unit,
                  "district": district, "ids": [r.specimen_id for r in drill.rows]})
    lang = doc_lang(current.locale)
    return {"drill": drill, "indicator": indicator, "name": indicator.text("name", lang),
            "numerator": indicator.text("numerator", lang),
            "denominator": indicator.text("denominator", lang), "scope": scope,
            "unit": unit, "district": district, "month": drill.month}


@router.get("/programme/indicators/{code}", response_class=HTMLResponse)
def indicator_page(request: Request, code: str, current: Staff, month: str = "",
                   unit: str = "", district: str = "") -> HTMLResponse:
    return page_from(request, "programme_indicator.html", current, lambda s: _read_drill(
        s, current, code[:40], chosen_month(s, month).month, unit[:32], district[:64]))


def _births_context(session: Session, current: Page, month: date) -> dict[str, Any]:
    _programme_user(session, current)
    recorded = births_of_month(session, month)
    units = [{"id": s.id, "code": s.code, "name": s.name, "district": s.district,
              "births": recorded.get(s.id) if s.id is not None else None}
             for s in all_submitters(session)]
    return {"month": month, "units": units}


@router.get("/programme/births", response_class=HTMLResponse)
def births_page(request: Request, current: Staff, month: str = "") -> HTMLResponse:
    return page_from(request, "programme_births.html", current,
                     lambda s: _births_context(s, current, chosen_month(s, month).month))


def _record_form(session: Session, current: Page, month: date,
                 typed: dict[int, str]) -> int:
    _programme_user(session, current)
    actor, done = Actor.of(current.user), 0
    for submitter_id, text in typed.items():
        found(session.get(Submitter, submitter_id), f"submitter {submitter_id}")
        try:
            births = int(text)
        except ValueError:
            raise InvalidInputError(f"{text!r} is not a whole number",
                                    field=f"births_{submitter_id}") from None
        record_births(session, actor, submitter_id, month, births)
        done += 1
    return done


@router.post("/programme/births", response_class=HTMLResponse)
async def record_births_form(request: Request, current: Staff) -> Response:
    """The typed figures of the month (a blank field leaves the unit's figure as it is)."""
    form = await posted_form(request, current)
    with shown_on_page():
        first = month_of_text(str(form.get("month") or ""))
    typed = {}
    for key, value in form.multi_items():
        if key.startswith("births_") and isinstance(value, str) and value.strip():
            suffix = key.removeprefix("births_")
            if suffix.isdigit():
                typed[int(suffix)] = value.strip()
    try:
        await in_session_async(request, lambda s: _record_form(s, current, first, typed))
    except FORM_ERRORS as exc:
        return await refused_form(request, "programme_births.html", current, exc,
                                  lambda s: _births_context(s, current, first))
    return RedirectResponse(f"/programme/births?month={first:%Y-%m}&saved=1", status_code=303)


@router.post("/programme/births/import", response_class=HTMLResponse)
async def import_births_form(request: Request, current: Staff) -> Response:
    """A live-births CSV (``submitter,month,live_births``), stored whole or refused."""
    async with request.form() as form:
        check_csrf(request, current, form)
        with shown_on_page():
            first = month_of_text(str(form.get("month") or ""))
        try:
            upload = await read_upload(form.get("file"), "live_births")
            if upload is None:
                raise InvalidInputError("choose a live-births CSV file", field="file")
            actor = Actor.of(current.user)

            def work(s: Session) -> int:
                _programme_user(s, current)
                return import_births(s, actor, upload.data, upload.name)

            await in_session_async(request, work)
        except FORM_ERRORS as exc:
            return await refused_form(request, "programme_births.html", current, exc,
                                      lambda s: _births_context(s, current, first),
                                      shown_as="import_error")
        return RedirectResponse(f"/programme/births?month={first:%Y-%m}&saved=1",
                                status_code=303)
