"""Charts drawn on the server as inline SVG (no script, no asset): horizontal bars per unit or
district with the median and target lines, and a month-by-month trend line. Every text is
escaped; a missing value is drawn as "no data". The bars' labels get the room their longest
one needs (estimated from the 11 px font: a wide character, as in Chinese, counts twice), up
to ``MAX_LABEL`` px; a longer one is cut with an ellipsis and shows in full as its tooltip.

Public names: ``Bar``, ``bar_chart``, ``trend_chart``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from unicodedata import east_asian_width

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart", "trend_chart"]

_ROW, _BARS, _VALUE = 18, 310, 70
#: the narrowest and the widest room for the bars' labels (px)
MIN_LABEL, MAX_LABEL = 60, 260
#: an 11 px font: the width of a narrow and of a wide (CJK) character, generously (px)
_NARROW, _WIDE = 6.6, 11.5


def _text_width(text: str) -> float:
    return sum(_WIDE if east_asian_width(c) in ("W", "F") else _NARROW for c in text)


def _fitted(text: str, room: float) -> str:
    """``text`` cut with an ellipsis to fit ``room`` px."""
    if _text_width(text) <= room:
        return text
    out = ""
    for c in text:
        if _text_width(out + c + "…") > room:
            break
        out += c
    return out.rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    href: str = ""


def _scale(values: Sequence[float | None], *extra: float | None) -> float:
    top = max([v for v in (*values, *extra) if v is not None] or [0.0])
    return top if top > 0 else 1.0


def _x(value: float, top: float, left: float) -> float:
    return left + (_BARS - _VALUE) * value / top


def bar_chart(bars: Sequence[Bar], *, title: str, fmt: Callable[[float | None], str],
              no_data: str, median: float | None = None, target: float | None = None,
              median_label: str = "median", target_label: str = "target") -> Markup:
    """One bar per row, longest scale from the largest value (or the target)."""
    top = _scale([b.value for b in bars], median, target)
    height = 24 + _ROW * max(len(bars), 1) + 18
    room = min(max([_text_width(b.label) for b in bars] or [0.0]), MAX_LABEL - 6)
    left = max(MIN_LABEL, math.ceil(room) + 6)
    width = left + _BARS
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="14" class="chart-title">{escape(title)}</text>']
    for k, bar in enumerate(bars):
        y = 24 + k * _ROW
        shown = _fitted(bar.label, room)
        tip = f"<title>{escape(bar.label)}</title>" if shown != bar.label else ""
        label = (f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{tip}'
                 f"{escape(shown)}</text>")
        parts.append(f'<a href="{escape(bar.href)}">{label}</a>' if bar.href else label)
        if bar.value is None:
            parts.append(f'<text x="{left + 4}" y="{y + 12}" class="muted">'
                         f"{escape(no_data)}</text>")
            continue
        end = _x(max(bar.value, 0.0), top, left)
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{end - left:.1f}" '
                     f'height="{_ROW - 5}" class="bar"/>')
        parts.append(f'<text x="{end + 4:.1f}" y="{y + 12}" class="value">'
                     f"{escape(fmt(bar.value))}</text>")
    bottom = 24 + _ROW * max(len(bars), 1)
    for value, css, name in ((median, "median", median_label), (target, "target", target_label)):
        if value is None:
            continue
        x = _x(value, top, left)
        parts.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{bottom}" class="{css}"/>')
        parts.append(f'<text x="{x:.1f}" y="{bottom + 13}" class="{css}" text-anchor="middle">'
                     f"{escape(name)} {escape(fmt(value))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_chart(points: Sequence[tuple[str, float | None]], *, title: str,
                fmt: Callable[[float | None], str]) -> Markup:
    """A line through the months' values (a gap where a month has none), each point labelled."""
    width, height, left, right, top_pad, bottom_pad = 300, 130, 20, 24, 24, 22
    top = _scale([v for _, v in points])
    step = (width - left - right) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return top_pad + (height - top_pad - bottom_pad) * (1 - value / top)

    parts = [f'<svg class="chart trend" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="14" class="chart-title">{escape(title)}</text>']
    segment: list[str] = []
    for k, (label, value) in enumerate(points):
        x = left + k * step
        parts.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" '
                     f'class="axis">{escape(label)}</text>')
        if value is None:
            if len(segment) > 1:
                parts.append(f'<polyline points="{" ".join(segment)}" class="line"/>')
            segment = []
            continue
        segment.append(f"{x:.1f},{y(value):.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y(value):.1f}" r="3" class="point"/>')
        parts.append(f'<text x="{x:.1f}" y="{y(value) - 6:.1f}" text-anchor="middle" '
                     f'class="value">{escape(fmt(value))}</text>')
    if len(segment) > 1:
        parts.append(f'<polyline points="{" ".join(segment)}" class="line"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
