"""The result report to the submitter, one per specimen, and the batch report (many specimens,
one PDF): the overall result and its action first, then the baby and the card, notes on the
specimen, the out-of-range findings, every disorder screened with its result and action, the
method with the cutoff and model versions, the limitations, and who released it when.

Public names: ``DisorderResult``, ``SpecimenResult``, ``ResultReport``, ``BatchResultReport``,
``render_result_report``, ``render_batch_report``, ``ACTION_ORDER``.
"""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import Field, model_validator
from reportlab.platypus import CondPageBreak, Flowable, PageBreak, Spacer, Table, TableStyle

from msms.catalogue import default_catalogue
from reports.blocks import identity_pairs, marker_value, sources_line
from reports.models import (
    Action,
    Baby,
    DisorderRow,
    DocumentInfo,
    Final,
    FirstTier,
    Laboratory,
    MarkerValue,
    Specimen,
    Submitter,
    ViewModel,
)
from reports.pdf.page import COLOURS, MARGIN, PageSetup, Styles, page_size, para, render, styles
from reports.pdf.tables import banner, bullets, cell, correction_box, data_table, info_table
from reports.wording import Wording, fill, wording_for

__all__ = ["ACTION_ORDER", "BatchResultReport", "DisorderResult", "ResultReport",
           "SpecimenResult", "render_batch_report", "render_result_report"]

#: Actions from the least to the most urgent; a specimen's overall action is its most urgent.
ACTION_ORDER: tuple[Action, ...] = ("none", "repeat_in_duplicate", "reflex_second_tier",
                                    "request_repeat_specimen", "immediate_referral")


class DisorderResult(DisorderRow):
    """One disorder's call for the specimen (a row of the calls table)."""

    first_tier: FirstTier
    final: Final
    action: Action
    reasons: str = ""
    second_tier_probability: float | None = Field(default=None, ge=0, le=1)
    markers: tuple[MarkerValue, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.final != "negative" or self.action != "none"


class SpecimenResult(ViewModel):
    """A specimen's released result over every disorder screened."""

    baby: Baby
    specimen: Specimen
    results: tuple[DisorderResult, ...] = Field(min_length=1)
    method: str = Field(min_length=1)
    #: The cutoff table's version; "" when the calls used the disorder rules' literature levels
    #: (printed in the document's language).
    cutoff_version: str = ""
    model_version: str | None = None
    released_by: str = Field(min_length=1)
    released_at: dt.datetime
    reviewed_by: str | None = None
    #: What the release decided for the card; the report's action when given (a reviewer
    #: may ask for a repeat specimen where a call asked for a referral).
    release_action: Action | None = None

    @model_validator(mode="after")
    def _unique(self) -> Self:
        codes = [r.code for r in self.results]
        if dupes := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"disorders listed more than once: {dupes}")
        return self

    @property
    def flagged(self) -> tuple[DisorderResult, ...]:
        return tuple(r for r in self.results if r.flagged)

    @property
    def action(self) -> Action:
        """What the release decided for the card, else the most urgent action of any
        disorder."""
        if self.release_action is not None:
            return self.release_action
        return max((r.action for r in self.results), key=ACTION_ORDER.index)


class ResultReport(ViewModel):
    document: DocumentInfo
    laboratory: Laboratory
    result: SpecimenResult


class BatchResultReport(ViewModel):
    document: DocumentInfo
    laboratory: Laboratory
    submitter: Submitter
    #: The laboratory's day the results were released on (the LIMS's batch), if one.
    released_on: dt.date | None = None
    results: tuple[SpecimenResult, ...] = Field(min_length=1)


def _overall(result: SpecimenResult, words: Wording, st: Styles, width: float) -> Flowable:
    t = words.result
    flagged = result.flagged
    total = len(result.results)
    if not flagged:
        return banner([(t.overall_negative, st.banner),
                       (fill(t.overall_negative_text, total=total), st.banner_text)],
                      width, COLOURS.green)
    action = getattr(words.common.actions, result.action)
    colour = COLOURS.red if result.action == "immediate_referral" else COLOURS.amber
    return banner([(t.overall_flagged, st.banner),
                   (fill(t.overall_flagged_text, count=len(flagged), total=total,
                         action=action), st.banner_text)], width, colour)


def _findings(result: SpecimenResult, words: Wording, st: Styles, width: float) -> list[Flowable]:
    c, t = words.common, words.result
    rows: list[list[str]] = []
    fills: dict[int, object] = {}
    for r in result.flagged:
        what = words.call_reasons(r.reasons) or "; ".join(
            f"{m.marker} {marker_value(m)}" for m in r.markers)
        probability = ("-" if r.second_tier_probability is None
                       else f"{r.second_tier_probability:.2f}")
        fills[len(rows)] = (COLOURS.red_fill if r.final == "positive" else COLOURS.amber_fill)
        rows.append([words.disorder_label(r.code),
                     f"{getattr(c.tiers, r.first_tier)} / {getattr(c.finals, r.final)}",
                     getattr(c.actions, r.action) if r.action != "none" else "-", what,
                     probability])
    widths = [0.27, 0.15, 0.2, 0.28, 0.1]
    return [para(t.findings_heading, st.h1),
            data_table([c.disorder, c.result, c.action, t.reasons, t.second_tier], rows,
                       [w * width for w in widths], st, row_fills=fills, right=(4,))]


def _catalogue_order(results: tuple[DisorderResult, ...]) -> list[DisorderResult]:
    order = {d.code: i for i, d in enumerate(default_catalogue().disorders)}
    return sorted(results, key=lambda r: order[r.code])


def _all_rows(result: SpecimenResult, words: Wording) -> list[tuple[str, DisorderResult | None]]:
    """Group headings (result None) and disorders in catalogue order."""
    catalogue = default_catalogue()
    entries: list[tuple[str, DisorderResult | None]] = []
    group = None
    for r in _catalogue_order(result.results):
        category = catalogue.disorder(r.code).category
        if category != group:
            group = category
            entries.append((words.group[category].name, None))
        entries.append((words.disorder_label(r.code), r))
    return entries


#: The disorders a group heading of "Every disorder screened" is kept on the page with.
_KEEP_WITH_HEADING = 2


def _entry_cells(entry: tuple[str, DisorderResult | None], at: tuple[int, int], words: Wording,
                 st: Styles, widths: list[float],
                 commands: list[tuple[object, ...]]) -> list[Flowable | str]:
    """The three cells of a group heading or a disorder; styling commands go to ``commands``."""
    (text, r), (row, first) = entry, at
    if r is None:
        # a group heading stays on the page of its first disorders (a page break only after
        # them): the table's rows hold the two halves side by side, so the whole rows
        commands += [("SPAN", (first, row), (first + 2, row)),
                     ("LINEBELOW", (first, row), (first + 2, row), 0.5, COLOURS.rule),
                     ("NOSPLIT", (0, row), (-1, row + _KEEP_WITH_HEADING))]
        return [cell(text, st.compact_bold), "", ""]
    c = words.common
    style = st.compact_bold if r.flagged else st.compact
    if r.flagged:
        colour = COLOURS.red_fill if r.final == "positive" else COLOURS.amber_fill
        commands.append(("BACKGROUND", (first, row), (first + 2, row), colour))
    action = getattr(c.actions, r.action) if r.action != "none" else "-"
    return [cell(text, style), cell(getattr(c.tiers, r.first_tier), style), cell(action, style)]


def _all_disorders(result: SpecimenResult, words: Wording, st: Styles,
                   width: float) -> list[Flowable]:
    """Every disorder screened, in two halves side by side in one table (so it can split)."""
    c = words.common
    entries = _all_rows(result, words)
    half = (len(entries) + 1) // 2
    column = (width - 6) / 2
    widths = [0.56 * column, 0.19 * column, 0.25 * column]
    head = [cell(h, st.cell_head) for h in (c.disorder, c.result, c.action)]
    data: list[list[Flowable | str]] = [[*head, "", *head]]
    commands: list[tuple[object, ...]] = [("BACKGROUND", (0, 0), (2, 0), COLOURS.header_fill),
                                          ("BACKGROUND", (4, 0), (6, 0), COLOURS.header_fill)]
    for index in range(half):
        row: list[Flowable | str] = []
        for side, position in enumerate((index, index + half)):
            if position < len(entries):
                row += _entry_cells(entries[position], (index + 1, 4 * side), words, st,
                                    widths, commands)
            else:
                row += ["", "", ""]
            row += [""] if side == 0 else []
        data.append(row)
    table = Table(data, colWidths=[*widths, 6, *widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*commands, ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 0.7),
                               ("LEFTPADDING", (0, 0), (-1, -1), 2),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return [para(words.result.all_heading, st.h1), table]


def _versions(result: SpecimenResult, words: Wording, st: Styles, width: float) -> list[Flowable]:
    t, c = words.result, words.common
    pairs = [(t.method, result.method),
             (t.cutoff_version, result.cutoff_version or t.cutoff_rules),
             (t.model_version, result.model_version or c.none),
             (t.wording_version, f"{words.language} {words.version}")]
    released = fill(t.released, name=result.released_by, at=words.datetime(result.released_at))
    if result.reviewed_by:
        released += " · " + fill(t.reviewed, name=result.reviewed_by)
    return [para(t.method_heading, st.h1), info_table(pairs, width, st),
            Spacer(1, 4), para(released, st.body, bold=True)]


def _specimen_section(result: SpecimenResult, words: Wording, st: Styles,
                      width: float) -> list[Flowable]:
    """Everything about one specimen, from the overall result to who released it."""
    t = words.result
    out: list[Flowable] = [_overall(result, words, st, width), Spacer(1, 5),
                           info_table(identity_pairs(result.baby, result.specimen, words),
                                      width, st)]
    if result.specimen.notes:
        out += [para(t.notes_heading, st.h1),
                bullets([getattr(t.notes, n) for n in result.specimen.notes], st.body)]
    if result.flagged:
        out += _findings(result, words, st, width)
    return [*out, *_all_disorders(result, words, st, width),
            *_versions(result, words, st, width)]


def _limitations(words: Wording, st: Styles) -> list[Flowable]:
    t = words.result
    cited = [*t.limitations_sources, *t.notes.sources]
    return [CondPageBreak(90), para(t.limitations_heading, st.h1),
            bullets(list(t.limitations), st.small), para(sources_line(cited, words), st.small)]


def render_result_report(report: ResultReport) -> bytes:
    """One specimen's result report as PDF bytes."""
    words = wording_for(report.document)
    st = styles(report.document.lang)
    width = page_size()[0] - 2 * MARGIN
    t = words.result
    submitter = report.result.specimen.submitter
    story: list[Flowable] = [
        *correction_box(report.document, words, width, st),
        para(t.title, st.title),
        para(words.label(t.to, submitter.name) + (f" ({submitter.district})"
                                            if submitter.district else ""), st.body, bold=True),
        *_specimen_section(report.result, words, st, width),
        *_limitations(words, st),
    ]
    return render(story, PageSetup(report.document, report.laboratory, t.title, words))


def _batch_summary(report: BatchResultReport, words: Wording, st: Styles,
                   width: float) -> list[Flowable]:
    c, t = words.common, words.result
    rows: list[list[str]] = []
    fills: dict[int, object] = {}
    for number, r in enumerate(report.results, start=1):
        flagged = r.flagged
        if flagged:
            fills[number - 1] = (COLOURS.red_fill if r.action == "immediate_referral"
                                 else COLOURS.amber_fill)
        outcome = (c.finals.negative if not flagged
                   else ", ".join(f"{x.code} {getattr(c.tiers, x.first_tier)}" for x in flagged))
        rows.append([str(number), r.specimen.card_barcode, r.baby.name,
                     words.datetime(r.specimen.collected_at), outcome,
                     getattr(c.actions, r.action)])
    widths = [0.06, 0.13, 0.25, 0.17, 0.19, 0.2]
    count = len(report.results)
    flagged_count = sum(1 for r in report.results if r.flagged)
    return [para(t.batch_summary_heading, st.h1),
            para(fill(t.batch_count, count=count, flagged=flagged_count), st.body),
            data_table([t.number, c.card, c.baby, c.collected, c.result, c.action], rows,
                       [w * width for w in widths], st, row_fills=fills)]


def render_batch_report(report: BatchResultReport) -> bytes:
    """Many specimens' results in one PDF: a summary table, then one section per specimen."""
    words = wording_for(report.document)
    st = styles(report.document.lang)
    width = page_size()[0] - 2 * MARGIN
    t, c = words.result, words.common
    story: list[Flowable] = [
        *correction_box(report.document, words, width, st),
        para(t.batch_title, st.title),
        para(words.label(t.to, report.submitter.name), st.body, bold=True),
        *([para(fill(t.batch_released_on, day=words.date(report.released_on)), st.body)]
          if report.released_on is not None else []),
        *_batch_summary(report, words, st, width),
    ]
    for number, result in enumerate(report.results, start=1):
        story += [PageBreak(),
                  para(f"{t.number} {number} · {c.card} {result.specimen.card_barcode}", st.h2),
                  *_specimen_section(result, words, st, width)]
    story += _limitations(words, st)
    return render(story, PageSetup(report.document, report.laboratory, t.batch_title, words))
