"""Tables shared by the documents: label/value grids for identities, data tables with a
repeated header row and coloured rows, coloured banners for actions and decisions, bullet lists.

Cells given as ``str`` become ``Text`` flowables (wrapped to their column, CJK runs in the CJK
face); flowables pass through.

Public names: ``Cell``, ``cell``, ``info_table``, ``data_table``, ``banner``, ``bullets``,
``correction_box``, ``fmt_number`` (``reports.numbers``'s, shared with the web pages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, ListFlowable, ListItem, Spacer, Table, TableStyle

from reports.models import DocumentInfo
from reports.numbers import fmt_number
from reports.pdf.page import COLOURS, Styles, para
from reports.pdf.text import Text
from reports.wording import Wording, fill

__all__ = ["Cell", "banner", "bullets", "cell", "correction_box", "data_table",
           "fmt_number", "info_table"]

#: A table cell: plain text or a reportlab flowable (reportlab ships no type information).
Cell: TypeAlias = Any
_PAD = 3.0


def cell(value: Cell, style: ParagraphStyle, width: float = 0.0) -> Flowable:
    """A table cell: text wrapped to its column (``width`` is kept for callers that size
    cells themselves); a flowable passes through."""
    return Text(value, style) if isinstance(value, str) else value


def info_table(pairs: Sequence[tuple[str, str]], width: float, st: Styles, *,
               columns: int = 2) -> Table:
    """``label: value`` pairs laid out in ``columns`` column pairs (labels muted)."""
    label_w = width / columns * 0.36
    value_w = width / columns - label_w
    rows: list[list[Flowable | str]] = []
    for start in range(0, len(pairs), columns):
        row: list[Flowable | str] = []
        for label, value in pairs[start:start + columns]:
            row += [cell(label, st.cell_head, label_w), cell(value, st.cell_bold, value_w)]
        row += [""] * (2 * columns - len(row))
        rows.append(row)
    table = Table(rows, colWidths=[label_w, value_w] * columns, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, COLOURS.rule),
    ]))
    return table


def data_table(header: Sequence[str], rows: Sequence[Sequence[Cell]], widths: Sequence[float],
               st: Styles, *, row_fills: Mapping[int, Any] | None = None,
               right: Sequence[int] = (), cell_style: ParagraphStyle | None = None,
               head_style: ParagraphStyle | None = None) -> Table:
    """A table with a shaded header row repeated on each page, zebra rows and optional row
    fills (``{row index (0 = first data row): colour}``); ``right`` aligns those columns."""
    body_style = cell_style or st.cell
    right_style = ParagraphStyle(f"{body_style.name}-right", parent=body_style, alignment=2)
    data: list[list[Flowable]] = [[cell(h, head_style or st.cell_head) for h in header]]
    for row in rows:
        data.append([cell(v, right_style if i in right else body_style, widths[i])
                     for i, v in enumerate(row)])
    table = Table(data, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), COLOURS.header_fill),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), _PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PAD),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, COLOURS.rule),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, COLOURS.rule),
    ]
    fills = row_fills or {}
    for index in range(len(rows)):
        colour = fills.get(index, COLOURS.zebra if index % 2 else None)
        if colour is not None:
            commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), colour))
    table.setStyle(TableStyle(commands))
    return table


def banner(lines: Sequence[tuple[str, ParagraphStyle]], width: float, fill_colour: Any) -> Table:
    """A full-width coloured box holding ``lines`` (text, style), for the action or decision."""
    table = Table([[para(text, style)] for text, style in lines], colWidths=[width])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), fill_colour),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, 0), 6),
        ("BOTTOMPADDING", (0, -1), (-1, -1), 7),
    ]))
    return table


def bullets(items: Sequence[str], style: ParagraphStyle) -> ListFlowable:
    """A bulleted list of plain texts."""
    return ListFlowable(
        [ListItem(Text(item, style), leftIndent=10) for item in items],
        bulletType="bullet", start="•", leftIndent=10, bulletFontSize=7,
    )


def correction_box(info: DocumentInfo, words: Wording, width: float, st: Styles) -> list[Flowable]:
    """For a correction, the box that says which version it replaces and why (else nothing)."""
    if info.replaces is None:
        return []
    c = words.common
    digest = (fill(c.replaced_hash, sha256=info.replaces.sha256)
              if info.replaces.sha256 else "")
    text = fill(c.correction, version=info.version, replaced_version=info.replaces.version,
                replaced_hash=digest, reason=info.correction_reason or "")
    title_style = ParagraphStyle("correction", parent=st.h2, textColor=COLOURS.red,
                                 spaceBefore=0)
    body_style = ParagraphStyle("correction-body", parent=st.cell, textColor=COLOURS.ink)
    box = Table([[para(c.correction_title, title_style)], [para(text, body_style)]],
                colWidths=[width])
    box.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 1, COLOURS.red),
        ("BACKGROUND", (0, 0), (-1, -1), COLOURS.red_fill),
        ("LEFTPADDING", (0, 0), (-1, -1), 6),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return [box, Spacer(1, 8)]
