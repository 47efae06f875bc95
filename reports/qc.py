"""The run QC report: the accept/reject decision and who made it first, then the plate map
coloured by sample type and status with each well's internal-standard signal, the controls
against their limits, Levey-Jennings charts per control lot and analyte with the Westgard
violations marked, and every finding of the plate checks.

The view model carries what the plate QC (docs/quantitation.md "Plate QC") found; the LIMS
fills it from the run's stored QC report and control history.

Public names: ``SampleType``, ``WellStatus``, ``Well``, ``ControlValue``, ``SeriesPoint``,
``ControlSeries``, ``QcFinding``, ``QcReport``, ``render_qc_report``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, Self

from pydantic import Field, model_validator
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer, Table, TableStyle

from reports.models import DocumentInfo, Laboratory, ViewModel
from reports.pdf.charts import LegendItem, LJPoint, PlateWell, legend, levey_jennings, plate_map
from reports.pdf.page import COLOURS, MARGIN, PageSetup, Styles, page_size, para, render, styles
from reports.pdf.tables import banner, bullets, correction_box, data_table, fmt_number, info_table
from reports.wording import Wording, fill, wording_for

__all__ = ["ControlSeries", "ControlValue", "QcFinding", "QcReport", "SampleType",
           "SeriesPoint", "Well", "WellStatus", "render_qc_report"]

SampleType = Literal["patient", "blank", "qc_low", "qc_high", "qc_other", "calibrator",
                     "proficiency", "unknown", "empty"]
WellStatus = Literal["ok", "warning", "rejected", "not_reportable", "empty"]
Level = Literal["low", "high", "other"]
_WELL = re.compile(r"^([A-P])(\d{2})$")

#: Fill per sample type on the plate map.
_TYPE_FILL = {
    "patient": COLOURS.white, "blank": "#CFD8DC", "qc_low": "#C8E6C9", "qc_high": "#81C784",
    "qc_other": "#80CBC4", "calibrator": "#D1C4E9", "proficiency": "#FFE0B2",
    "unknown": "#BDBDBD", "empty": "#F5F5F5",
}
#: Border (colour, width) and cross per well status.
_STATUS_BORDER = {
    "ok": (COLOURS.rule, 0.6, False), "warning": (COLOURS.amber, 1.8, False),
    "rejected": (COLOURS.red, 2.0, False), "not_reportable": (COLOURS.red, 1.2, True),
    "empty": (COLOURS.rule, 0.4, False),
}


class Well(ViewModel):
    """One well of the plate: what it holds, its QC status, and its internal-standard signal
    (the lowest over its internal standards, as % of the plate median of the same standard)."""

    well: str = Field(pattern=_WELL.pattern)
    sample_type: SampleType
    sample_id: str = ""
    status: WellStatus = "ok"
    is_signal_pct: float | None = Field(default=None, ge=0)

    @property
    def position(self) -> tuple[int, int]:
        match = _WELL.match(self.well)
        assert match is not None  # the field pattern guarantees it
        return ord(match.group(1)) - ord("A"), int(match.group(2)) - 1


class ControlValue(ViewModel):
    """A control well of this run against its lot's target."""

    lot: str = Field(min_length=1)
    level: Level
    analyte: str = Field(min_length=1)
    well: str = Field(pattern=_WELL.pattern)
    value_umol_l: float
    target_mean_umol_l: float
    target_sd_umol_l: float = Field(gt=0)
    flags: tuple[str, ...] = ()

    @property
    def z(self) -> float:
        return (self.value_umol_l - self.target_mean_umol_l) / self.target_sd_umol_l


class SeriesPoint(ViewModel):
    run_id: str = Field(min_length=1)
    value_umol_l: float
    current: bool = False
    flags: tuple[str, ...] = ()


class ControlSeries(ViewModel):
    """One control lot's history for one analyte, oldest first, this run's values last."""

    lot: str = Field(min_length=1)
    level: Level
    analyte: str = Field(min_length=1)
    mean_umol_l: float
    sd_umol_l: float = Field(gt=0)
    points: tuple[SeriesPoint, ...] = Field(min_length=1)


class QcFinding(ViewModel):
    """A reason the run's QC stored, as stored (English: ``<step>: <message>`` of the plate QC,
    ``msms.qc.messages``); the report prints it in the document's language."""

    severity: Literal["warning", "reject"]
    code: str = Field(min_length=1)
    message: str = Field(min_length=1)


class QcReport(ViewModel):
    document: DocumentInfo
    laboratory: Laboratory
    run_id: str = Field(min_length=1)
    plate_id: str = Field(min_length=1)
    #: The instrument as the run records it (its output format), and the instrument's own
    #: run id; the uploaded file's name is ``file_name``.
    instrument: str = ""
    instrument_run: str = ""
    file_name: str = ""
    method: str = Field(min_length=1)
    rules: str = Field(min_length=1)
    acquired_at: dt.datetime | None = None
    plate_rows: int = Field(default=8, ge=1, le=16)
    plate_columns: int = Field(default=12, ge=1, le=24)
    wells: tuple[Well, ...] = Field(min_length=1)
    is_limit_pct: float = Field(default=30.0, gt=0, le=100)
    controls: tuple[ControlValue, ...] = ()
    series: tuple[ControlSeries, ...] = ()
    findings: tuple[QcFinding, ...] = ()
    decision: Literal["accept", "accept_with_warnings", "reject"]
    decided_by: str = Field(min_length=1)
    #: How it was decided (the wording's ``[qc.deciders]``): by plate QC on upload (``note``
    #: the rules), or a person's sign-off (``note`` the reason); None prints ``decided_by``.
    decided_how: Literal["plate_qc", "plate_qc_unattended", "accepted", "rejected",
                         "withdrawn"] | None = None
    decided_note: str = ""
    decided_at: dt.datetime

    @model_validator(mode="after")
    def _plate(self) -> Self:
        seen: set[str] = set()
        for well in self.wells:
            row, column = well.position
            if row >= self.plate_rows or column >= self.plate_columns:
                raise ValueError(f"well {well.well} is outside a {self.plate_rows} x "
                                 f"{self.plate_columns} plate")
            if well.well in seen:
                raise ValueError(f"well {well.well} is listed twice")
            seen.add(well.well)
        return self


def _decider(report: QcReport, words: Wording) -> str:
    if report.decided_how is None:
        return report.decided_by
    return fill(getattr(words.qc.deciders, report.decided_how), name=report.decided_by,
                note=report.decided_note)


def _decision(report: QcReport, words: Wording, st: Styles, width: float) -> list[Flowable]:
    t = words.qc
    colour = {"accept": COLOURS.green, "accept_with_warnings": COLOURS.amber,
              "reject": COLOURS.red}[report.decision]
    out: list[Flowable] = [
        banner([(getattr(t.decisions, report.decision), st.banner),
                (fill(t.decided_by, name=_decider(report, words),
                      at=words.datetime(report.decided_at)), st.banner_text)], width, colour)]
    for severity, heading in (("reject", t.reasons_heading), ("warning", t.warnings_heading)):
        messages = [words.qc_reason(f.message) for f in report.findings
                    if f.severity == severity]
        if messages:
            out += [para(heading, st.h2), bullets(messages[:12], st.cell)]
            if len(messages) > 12:
                out.append(para(f"… (+{len(messages) - 12})", st.small))
    return out


def _plate(report: QcReport, words: Wording, st: Styles, width: float) -> list[Flowable]:
    t = words.qc
    wells = []
    for well in report.wells:
        row, column = well.position
        border, line, cross = _STATUS_BORDER[well.status]
        label = "" if well.is_signal_pct is None else f"{well.is_signal_pct:.0f}"
        wells.append(PlateWell(row, column, _TYPE_FILL[well.sample_type], border, line, cross,
                               label))
    types = sorted({w.sample_type for w in report.wells}, key=list(_TYPE_FILL).index)
    statuses = sorted({w.status for w in report.wells} - {"empty"},
                      key=list(_STATUS_BORDER).index)
    items = [LegendItem(getattr(t.sample_types, k), _TYPE_FILL[k]) for k in types]
    items += [LegendItem(getattr(t.statuses, s), COLOURS.white, *_STATUS_BORDER[s])
              for s in statuses]
    low = [w.well for w in report.wells
           if w.is_signal_pct is not None and w.is_signal_pct < report.is_limit_pct]
    limit = f"{report.is_limit_pct:g}"
    is_text = (fill(t.is_low, limit=limit, wells=", ".join(low)) if low
               else fill(t.is_all_ok, limit=limit))
    return [KeepTogether([
        para(t.plate_map_heading, st.h1), para(t.plate_map_note, st.small),
        plate_map(wells, rows=report.plate_rows, columns=report.plate_columns, width=width),
        Spacer(1, 3), legend(items, width=width)]),
        para(t.is_heading, st.h2), para(is_text, st.body)]


def _controls(report: QcReport, words: Wording, st: Styles, width: float) -> list[Flowable]:
    if not report.controls:
        return []
    t = words.qc
    rows: list[list[str]] = []
    fills: dict[int, object] = {}
    for index, c in enumerate(report.controls):
        if abs(c.z) >= 3:
            fills[index] = COLOURS.red_fill
        elif c.flags or abs(c.z) >= 2:
            fills[index] = COLOURS.amber_fill
        rows.append([c.lot, getattr(t.levels, c.level), c.analyte, c.well,
                     fmt_number(c.value_umol_l), fmt_number(c.target_mean_umol_l),
                     fmt_number(c.target_sd_umol_l), f"{c.z:+.2f}", ", ".join(c.flags)])
    widths = [0.15, 0.08, 0.13, 0.07, 0.11, 0.12, 0.1, 0.09, 0.15]
    return [para(t.controls_heading, st.h1),
            data_table([t.lot, t.level, t.analyte, t.well,
                        *(fill(t.in_unit, label=label)
                          for label in (words.common.value, t.target, t.sd)),
                        t.z, t.flags], rows, [w * width for w in widths], st, row_fills=fills,
                       right=(4, 5, 6, 7))]


def _charts(report: QcReport, words: Wording, st: Styles, width: float) -> list[Flowable]:
    if not report.series:
        return []
    t = words.qc
    cell_w = width / 2
    drawings = []
    for s in report.series:
        points = [LJPoint((p.value_umol_l - s.mean_umol_l) / s.sd_umol_l, p.current, p.flags)
                  for p in s.points]
        title = (f"{s.analyte} · {s.lot} ({getattr(t.levels, s.level)}) · "
                 f"{fmt_number(s.mean_umol_l)} ± {fmt_number(s.sd_umol_l)} µmol/L")
        drawings.append(levey_jennings(points, mean=s.mean_umol_l, sd=s.sd_umol_l, title=title,
                                       width=cell_w - 6, height=104, fmt=fmt_number,
                                       mean_label=t.mean))
    rows = [drawings[i:i + 2] + [""] * (2 - len(drawings[i:i + 2]))
            for i in range(0, len(drawings), 2)]
    grid = Table(rows, colWidths=[cell_w, cell_w], hAlign="LEFT")
    grid.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                              ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return [CondPageBreak(160), para(t.lj_heading, st.h1), para(t.lj_note, st.small), grid]


def _findings(report: QcReport, words: Wording, st: Styles, width: float) -> list[Flowable]:
    t = words.qc
    if not report.findings:
        return [para(t.findings_heading, st.h1), para(t.none, st.body)]
    rows = [[getattr(t.severities, f.severity), f.code, words.qc_reason(f.message)]
            for f in report.findings]
    fills: dict[int, object] = {i: COLOURS.red_fill for i, f in enumerate(report.findings)
                                if f.severity == "reject"}
    return [para(t.findings_heading, st.h1),
            data_table([t.severity, t.check, t.message], rows,
                       [0.1 * width, 0.2 * width, 0.7 * width], st, row_fills=fills)]


def render_qc_report(report: QcReport) -> bytes:
    """The run's QC report as PDF bytes."""
    words = wording_for(report.document)
    st = styles(report.document.lang)
    width = page_size()[0] - 2 * MARGIN
    t = words.qc
    pairs = [(t.run, report.run_id), (t.plate, report.plate_id),
             (t.instrument, report.instrument or words.common.not_recorded),
             *([(t.instrument_run, report.instrument_run)] if report.instrument_run else []),
             *([(t.file, report.file_name)] if report.file_name else []),
             (t.acquired, words.datetime(report.acquired_at) if report.acquired_at
              else words.common.not_recorded),
             (t.method, report.method), (t.rules, report.rules)]
    story: list[Flowable] = [
        *correction_box(report.document, words, width, st),
        para(t.title, st.title),
        info_table(pairs, width, st),
        Spacer(1, 6),
        *_decision(report, words, st, width),
        *_plate(report, words, st, width),
        *_controls(report, words, st, width),
        *_charts(report, words, st, width),
        *_findings(report, words, st, width),
    ]
    return render(story, PageSetup(report.document, report.laboratory, t.title, words))
