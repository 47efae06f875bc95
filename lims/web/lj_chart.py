"""The geometry of a Levey-Jennings chart drawn as inline SVG by ``_lj_chart.html``: one
control series (``msms.qc.levey_jennings.LJSeries``) as z-scores against the lot's mean and
±1, 2, 3 SD, runs left to right, the plate's own run last; points beyond ±4 SD are drawn at
the edge. No script draws it: the page's HTML is the chart.

Public names: ``LJChart``, ``lj_chart``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lims.runs.levey_jennings import chart_id
from msms.qc.levey_jennings import LJSeries

__all__ = ["LJChart", "lj_chart"]

WIDTH, HEIGHT = 460, 190
LEFT, RIGHT, TOP, BOTTOM = 82, 12, 10, 24
Z_EDGE = 4.0


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    run_id: int
    well: str
    value: float
    z: float
    flags: tuple[str, ...]
    current: bool
    clipped: bool


@dataclass(frozen=True)
class ChartLine:
    y: float
    z: int
    value: float


@dataclass(frozen=True)
class LJChart:
    id: str
    lot: str
    level: str
    analyte: str
    mean: float
    sd: float
    width: int
    height: int
    left: int
    right: int
    lines: tuple[ChartLine, ...]
    points: tuple[ChartPoint, ...]
    path: str
    current_x: float | None
    flags: tuple[str, ...]


def _y(z: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return round(TOP + inner * (Z_EDGE - max(-Z_EDGE, min(Z_EDGE, z))) / (2 * Z_EDGE), 1)


def lj_chart(series: LJSeries, run_id: int) -> LJChart:
    """``series`` laid out for ``run_id``'s page."""
    runs = list(dict.fromkeys(p.run_id for p in series.points))
    step = (WIDTH - LEFT - RIGHT) / max(len(runs), 1)
    x_of = {r: round(LEFT + step * (i + 0.5), 1) for i, r in enumerate(runs)}
    mine = str(run_id)
    points = tuple(ChartPoint(
        x=x_of[p.run_id], y=_y(p.z), run_id=int(p.run_id), well=p.well, value=p.value_umol_l,
        z=p.z, flags=p.flags, current=p.run_id == mine, clipped=abs(p.z) > Z_EDGE)
        for p in series.points)
    lines = tuple(ChartLine(_y(z), z, series.mean_umol_l + z * series.sd_umol_l)
                  for z in (3, 2, 1, 0, -1, -2, -3))
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    return LJChart(
        id=chart_id(series), lot=series.lot, level=series.level, analyte=series.analyte,
        mean=series.mean_umol_l, sd=series.sd_umol_l, width=WIDTH, height=HEIGHT, left=LEFT,
        right=WIDTH - RIGHT, lines=lines, points=points, path=path,
        current_x=x_of.get(mine), flags=series.flags_of(mine))
