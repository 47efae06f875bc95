"""Charts drawn with reportlab's graphics shapes (deterministic, vector, text extractable):
the 96-well plate map, Levey-Jennings charts, horizontal bar charts with median and target
lines, and the strip chart of a report card.

The functions take plain values (positions, numbers, colours, labels); the document modules
decide what they mean.

Public names: ``text``, ``PlateWell``, ``plate_map``, ``LegendItem``, ``legend``, ``LJPoint``,
``levey_jennings``, ``BarRow``, ``bar_chart``, ``StripRow``, ``strip_chart``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from reports.pdf.fonts import face, runs, string_width
from reports.pdf.page import COLOURS

__all__ = ["BarRow", "LJPoint", "LegendItem", "PlateWell", "StripRow", "bar_chart",
           "legend", "levey_jennings", "plate_map", "strip_chart", "text"]


def text(group: Group | Drawing, x: float, y: float, value: str, size: float, *,
         anchor: str = "start", colour: Any = COLOURS.ink, bold: bool = False) -> float:
    """``value`` added to ``group`` at ``(x, y)``, each run in its face; returns its width."""
    width = string_width(value, size, bold=bold)
    x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
    for font, segment in runs(value):
        name = face(font, bold=bold)
        group.add(String(x0, y, segment, fontName=name, fontSize=size, fillColor=colour))
        x0 += stringWidth(segment, name, size)
    return width


def _fit(value: str, size: float, room: float) -> str:
    """``value`` cut with an ellipsis to fit ``room`` points."""
    if string_width(value, size) <= room:
        return value
    while value and string_width(value + "…", size) > room:
        value = value[:-1]
    return value + "…"


# ---- plate map ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlateWell:
    row: int
    column: int
    fill: Any
    border: Any
    border_width: float = 0.5
    cross: bool = False
    label: str = ""


def plate_map(wells: Sequence[PlateWell], *, rows: int, columns: int, width: float) -> Drawing:
    """A plate drawn as ``rows`` x ``columns`` circles with row letters and column numbers."""
    pitch = min((width - 16) / columns, 30.0)
    radius = pitch * 0.43
    height = rows * pitch + 14
    drawing = Drawing(width, height)
    left, top = max(16.0, (width - columns * pitch) / 2), height - 12
    for c in range(columns):
        text(drawing, left + (c + 0.5) * pitch, top + 3, str(c + 1), 7, anchor="middle",
             colour=COLOURS.muted)
    for r in range(rows):
        text(drawing, left - 10, top - (r + 0.5) * pitch - 2.5, chr(ord("A") + r), 7,
             anchor="middle",
             colour=COLOURS.muted)
    for well in wells:
        cx = left + (well.column + 0.5) * pitch
        cy = top - (well.row + 0.5) * pitch
        drawing.add(Circle(cx, cy, radius, fillColor=well.fill, strokeColor=well.border,
                           strokeWidth=well.border_width))
        if well.cross:
            d = radius * 0.6
            for sign in (1, -1):
                drawing.add(Line(cx - d, cy - sign * d, cx + d, cy + sign * d,
                                 strokeColor=COLOURS.red, strokeWidth=1))
        if well.label:
            text(drawing, cx, cy - 2.2, well.label, 6.2 if pitch >= 28 else 5.5, anchor="middle",
                 colour=COLOURS.red if well.cross else COLOURS.ink, bold=well.cross)
    return drawing


@dataclass(frozen=True)
class LegendItem:
    label: str
    fill: Any
    border: Any = COLOURS.rule
    border_width: float = 0.5
    cross: bool = False


def legend(items: Sequence[LegendItem], *, width: float) -> Drawing:
    """Legend entries (swatch and label) flowing left to right in as many lines as needed."""
    size, gap, line_h = 7.0, 12.0, 11.0
    placed: list[tuple[float, int, LegendItem]] = []
    x, line = 0.0, 0
    for item in items:
        need = 12 + string_width(item.label, size) + gap
        if x + need > width and x > 0:
            x, line = 0.0, line + 1
        placed.append((x, line, item))
        x += need
    height = (line + 1) * line_h + 2
    drawing = Drawing(width, height)
    for x, line, item in placed:
        y = height - (line + 1) * line_h + 3
        drawing.add(Circle(x + 4, y + 2.5, 4, fillColor=item.fill, strokeColor=item.border,
                           strokeWidth=item.border_width))
        if item.cross:
            drawing.add(Line(x + 1.5, y, x + 6.5, y + 5, strokeColor=COLOURS.red, strokeWidth=1))
        text(drawing, x + 11, y, item.label, size)
    return drawing


# ---- Levey-Jennings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LJPoint:
    z: float
    current: bool = False
    flags: tuple[str, ...] = ()


def _lj_frame(drawing: Drawing, x0: float, x1: float, y_of: Callable[[float], float],
              mean: float, sd: float, fmt: Callable[[float], str], mean_label: str) -> None:
    styles = {0: (COLOURS.ink, 0.8, None), 1: (COLOURS.rule, 0.5, [1, 2]),
              2: (COLOURS.amber, 0.6, [3, 2]), 3: (COLOURS.red, 0.7, None)}
    for k in (-3, -2, -1, 0, 1, 2, 3):
        colour, lw, dash = styles[abs(k)]
        y = y_of(k)
        drawing.add(Line(x0, y, x1, y, strokeColor=colour, strokeWidth=lw, strokeDashArray=dash))
        label = mean_label if k == 0 else f"{k:+d}SD"
        text(drawing, x0 - 2, y - 2, label, 5.5, anchor="end",
             colour=COLOURS.muted)
        text(drawing, x1 + 2, y - 2, fmt(mean + k * sd), 5.5, colour=COLOURS.muted)


def levey_jennings(points: Sequence[LJPoint], *, mean: float, sd: float, title: str,
                   width: float, height: float, fmt: Callable[[float], str],
                   mean_label: str = "mean") -> Drawing:
    """A Levey-Jennings chart in SD units: lines at the mean and ±1, 2, 3 SD (labelled with
    their values), the points in order, this run's points filled, rule breakers red and named.
    Points beyond ±3.8 SD sit on the edge as triangles."""
    drawing = Drawing(width, height)
    x0, x1 = 26.0, width - 26.0
    y_bottom, y_top = 8.0, height - 18.0
    span = 3.8

    def y_of(z: float) -> float:
        return y_bottom + (max(-span, min(span, z)) + span) / (2 * span) * (y_top - y_bottom)

    text(drawing, x0, height - 9, title, 7.5, bold=True)
    _lj_frame(drawing, x0, x1, y_of, mean, sd, fmt, mean_label)
    step = (x1 - x0 - 8) / max(len(points) - 1, 1)
    coords = [(x0 + 4 + i * step, y_of(p.z)) for i, p in enumerate(points)]
    for (xa, ya), (xb, yb) in zip(coords, coords[1:], strict=False):
        drawing.add(Line(xa, ya, xb, yb, strokeColor=COLOURS.muted, strokeWidth=0.4))
    for (x, y), point in zip(coords, points, strict=True):
        colour = COLOURS.red if point.flags else COLOURS.accent
        if abs(point.z) > span:
            d = 3.0 if point.z > 0 else -3.0
            drawing.add(Polygon([x - 3, y - d, x + 3, y - d, x, y], fillColor=colour,
                                strokeColor=colour))
        else:
            drawing.add(Circle(x, y, 2.0, fillColor=colour if point.current else COLOURS.white,
                               strokeColor=colour, strokeWidth=0.8))
        if point.flags:
            near_end = x > x1 - 24
            text(drawing, x - 4 if near_end else x, min(y + 4, y_top + 2), ",".join(point.flags),
                 5.5, anchor="end" if near_end else "middle", colour=COLOURS.red, bold=True)
    return drawing


# ---- bar chart ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarRow:
    label: str
    value: float | None


def bar_chart(rows: Sequence[BarRow], *, title: str, width: float, max_height: float,
              median: float | None, target: float | None, fmt: Callable[[float], str],
              no_data: str) -> Drawing:
    """Horizontal bars, one per row in the order given, with a solid median line and a dashed
    target line. Rows that do not fit ``max_height`` are elided in the middle (first and last
    kept)."""
    row_h, head = 8.5, 16.0
    fit = max(int((max_height - head - 6) // row_h), 3)
    shown: list[BarRow | None] = list(rows)
    if len(rows) > fit:
        keep = (fit - 1) // 2
        shown = [*rows[:keep], None, *rows[len(rows) - (fit - 1 - keep):]]
    height = head + len(shown) * row_h + 6
    drawing = Drawing(width, height)
    text(drawing, 0, height - 9, title, 7.5, bold=True)
    label_w = min(width * 0.38, 150.0)
    x0, x1 = label_w + 4, width - 30
    values = [r.value for r in rows if r.value is not None]
    top = max([*values, *(v for v in (median, target) if v is not None), 0.0]) or 1.0

    def x_of(v: float) -> float:
        return x0 + (x1 - x0) * max(v, 0.0) / (top * 1.05)

    y_top = height - head
    for i, row in enumerate(shown):
        y = y_top - (i + 1) * row_h + 2
        if row is None:
            text(drawing, label_w, y, "…", 6.5, anchor="end", colour=COLOURS.muted)
            continue
        text(drawing, label_w, y, _fit(row.label, 6.5, label_w), 6.5, anchor="end")
        if row.value is None:
            text(drawing, x0 + 2, y, no_data, 6, colour=COLOURS.muted)
            continue
        drawing.add(Rect(x0, y - 1, x_of(row.value) - x0, row_h - 2.5, fillColor=COLOURS.accent,
                         strokeColor=None))
        text(drawing, x_of(row.value) + 2, y, fmt(row.value), 6)
    y_low = y_top - len(shown) * row_h
    drawing.add(Line(x0, y_low, x0, y_top, strokeColor=COLOURS.ink, strokeWidth=0.5))
    for value, dash, colour in ((median, None, COLOURS.ink), (target, [3, 2], COLOURS.red)):
        if value is not None:
            drawing.add(Line(x_of(value), y_low, x_of(value), y_top + 2, strokeColor=colour,
                             strokeWidth=0.9, strokeDashArray=dash))
    return drawing


# ---- strip chart (report card) -----------------------------------------------------------------


@dataclass(frozen=True)
class StripRow:
    label: str
    low: float | None
    median: float | None
    high: float | None
    value: float | None
    target: float | None = None
    fmt: Callable[[float], str] | None = None


def strip_chart(rows: Sequence[StripRow], *, width: float, fmt: Callable[[float], str]) -> Drawing:
    """One line per row from the lowest to the highest unit, a tick at the median, a dot for
    this unit and a diamond at the target, each row on its own scale (values printed with the
    row's ``fmt``, else ``fmt``)."""
    row_h = 17.0
    height = len(rows) * row_h + 4
    drawing = Drawing(width, height)
    label_w = min(width * 0.34, 170.0)
    x0, x1 = label_w + 30, width - 34
    default = fmt
    for i, row in enumerate(rows):
        fmt = row.fmt or default
        y = height - (i + 1) * row_h + 6
        text(drawing, label_w, y - 2.5, _fit(row.label, 7, label_w), 7, anchor="end")
        points = [v for v in (row.low, row.high, row.value, row.target) if v is not None]
        if row.low is None or row.high is None or not points:
            continue
        lo, hi = min(points), max(points)
        spread = hi - lo

        def x_of(v: float, lo: float = lo, spread: float = spread) -> float:
            # every point equal (all units alike): one point in the middle of the scale
            return x0 + (x1 - x0) * ((v - lo) / spread if spread else 0.5)

        drawing.add(Line(x_of(row.low), y, x_of(row.high), y, strokeColor=COLOURS.rule,
                         strokeWidth=2.2))
        low, high = fmt(row.low), fmt(row.high)
        if low != high:
            text(drawing, x_of(row.low) - 3, y - 2.5, low, 5.8, anchor="end",
                 colour=COLOURS.muted)
        if row.value is None or fmt(row.value) != high or low != high:
            # the lowest and highest printed once when they read the same, and not at all
            # when this unit's value (printed above) reads the same too
            text(drawing, x_of(row.high) + 6, y - 2.5, high, 5.8, colour=COLOURS.muted)
        if row.median is not None:
            xm = x_of(row.median)
            drawing.add(Line(xm, y - 5, xm, y + 5, strokeColor=COLOURS.ink, strokeWidth=1.2))
        if row.target is not None:
            xt = x_of(row.target)
            drawing.add(Polygon([xt, y - 4, xt + 4, y, xt, y + 4, xt - 4, y],
                                fillColor=None, strokeColor=COLOURS.red, strokeWidth=0.9))
        if row.value is not None:
            xv = x_of(row.value)
            drawing.add(Circle(xv, y, 3.2, fillColor=COLOURS.accent, strokeColor=COLOURS.white,
                               strokeWidth=0.6))
            text(drawing, xv, y + 5, fmt(row.value), 6, anchor="middle", colour=COLOURS.accent,
                 bold=True)
    return drawing
