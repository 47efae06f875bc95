"""Charts drawn on the server as inline SVG (no script, no asset): horizontal bars per unit or
district with the median and target lines, and a month-by-month trend line. Every text is
escaped; a missing value is drawn as "no data".

Public names: ``Bar``, ``bar_chart``, ``trend_chart``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart", "trend_chart"]

_ROW, _LABEL, _WIDTH, _VALUE = 18, 150, 460, 70


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    href: str = ""


def _scale(values: Sequence[float | None], *extra: float | None) -> float:
    top = max([v for v in (*values, *extra) if v is not None] or [0.0])
    return top if top > 0 else 1.0


def _x(value: float, top: float) -> float:
    return _LABEL + (_WIDTH - _LABEL - _VALUE) * value / top


def bar_chart(bars: Sequence[Bar], *, title: str, fmt: Callable[[float | None], str],
              no_data: str, median: float | None = None, target: float | None = None,
              median_label: str = "median", target_label: str = "target") -> Markup:
    """One bar per row, longest scale from the largest value (or the target)."""
    top = _scale([b.value for b in bars], median, target)
    height = 24 + _ROW * max(len(bars), 1) + 18
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {_WIDTH} {height}" '
             f'width="{_WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<text x="0" y="14" class="chart-title">{escape(title)}</text>']
    for k, bar in enumerate(bars):
        y = 24 + k * _ROW
        label = f'<text x="{_LABEL - 6}" y="{y + 12}" text-anchor="end">{escape(bar.label)}</text>'
        parts.append(f'<a href="{escape(bar.href)}">{label}</a>' if bar.href else label)
        if bar.value is None:
            parts.append(f'<text x="{_LABEL + 4}" y="{y + 12}" class="muted">'
                         f"{escape(no_data)}</text>")
            continue
        end = _x(max(bar.value, 0.0), top)
        parts.append(f'<rect x="{_LABEL}" y="{y + 2}" width="{end - _LABEL:.1f}" '
                     f'height="{_ROW - 5}" class="bar"/>')
        parts.append(f'<text x="{end + 4:.1f}" y="{y + 12}" class="value">'
                     f"{escape(fmt(bar.value))}</text>")
    bottom = 24 + _ROW * max(len(bars), 1)
    for value, css, name in ((median, "median", median_label), (target, "target", target_label)):
        if value is None:
            continue
        x = _x(value, top)
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
