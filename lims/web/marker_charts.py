"""The geometry of the specimen page's two marker charts, drawn as inline SVG by the templates
(``_population_chart.html``, ``_trend_chart.html``): no script, no library.

- ``population_chart``: one row per marker of a flagged disorder, on the marker's own
  logarithmic axis: the reference band among babies like this one (P0.1-P99.9, P1-P99,
  P5-P95, P25-P75, the median), the cutoff the call used and the baby's value.
- ``trend_chart``: one marker across the baby's specimens: age at collection (hours) across,
  the value up (logarithmic), each specimen's P1-P99 band and median, the cutoff, and one
  point per specimen with a value.

Values at or below zero cannot sit on a logarithmic axis: they are drawn at the axis's low end
and marked ``clipped``.

Public names: ``BandRow``, ``PopulationChart``, ``TrendPoint``, ``TrendChart``,
``population_chart``, ``trend_chart``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lims.review.population import TrendSpecimen
from lims.web.markers import Marker

__all__ = ["BandRow", "PopulationChart", "TrendChart", "TrendPoint", "population_chart",
           "trend_chart"]

#: Nested bands, widest first: (low probability, high probability, CSS class).
_SPANS = ((0.001, 0.999, "p999"), (0.01, 0.99, "p99"), (0.05, 0.95, "p95"),
          (0.25, 0.75, "p75"))
_WIDTH, _LEFT, _RIGHT, _ROW = 640, 110, 20, 44


def _number(value: float) -> str:
    """A value as the axis labels print it (three significant digits, whole numbers from
    1000 up)."""
    return f"{value:.0f}" if value >= 1000 else f"{value:.3g}"


@dataclass(frozen=True)
class _LogScale:
    low: float
    high: float
    x0: float
    x1: float

    @classmethod
    def over(cls, values: Sequence[float], x0: float, x1: float) -> _LogScale:
        positive = [v for v in values if v > 0 and math.isfinite(v)] or [1.0]
        low, high = min(positive), max(positive)
        if high <= low * 1.01:
            low, high = low / 2, high * 2
        pad = (math.log(high) - math.log(low)) * 0.08
        return cls(math.exp(math.log(low) - pad), math.exp(math.log(high) + pad), x0, x1)

    def __call__(self, value: float) -> float:
        v = min(max(value, self.low), self.high) if value > 0 else self.low
        span = math.log(self.high) - math.log(self.low)
        return round(self.x0 + (math.log(v) - math.log(self.low)) / span * (self.x1 - self.x0),
                     1)

    def clipped(self, value: float) -> bool:
        return not self.low <= value <= self.high


@dataclass(frozen=True)
class BandRow:
    marker: str
    y: float
    value: float
    value_x: float
    clipped: bool
    cutoff: float
    cutoff_x: float
    direction: str
    percentile: float | None
    #: (x from, x to, CSS class), widest first
    spans: tuple[tuple[float, float, str], ...]
    median_x: float | None
    low_label: str
    high_label: str


@dataclass(frozen=True)
class PopulationChart:
    width: int
    height: int
    left: int
    right: int
    rows: tuple[BandRow, ...]


def population_chart(markers: Sequence[Marker],
                     bands: Mapping[str, Mapping[float, float]]) -> PopulationChart:
    """The chart of one disorder's ``markers`` against their ``bands`` (marker ->
    {probability: value}, ``lims.review.population.bands``)."""
    rows = []
    for i, m in enumerate(markers):
        band = bands.get(m.marker, {})
        scale = _LogScale.over([*band.values(), m.value, m.cutoff], _LEFT, _WIDTH - _RIGHT)
        spans = tuple((scale(band[lo]), scale(band[hi]), css) for lo, hi, css in _SPANS
                      if lo in band and hi in band)
        rows.append(BandRow(
            marker=m.marker, y=i * _ROW + 14, value=m.value, value_x=scale(m.value),
            clipped=scale.clipped(m.value), cutoff=m.cutoff, cutoff_x=scale(m.cutoff),
            direction=m.direction, percentile=m.percentile, spans=spans,
            median_x=scale(band[0.5]) if 0.5 in band else None,
            low_label=_number(scale.low), high_label=_number(scale.high)))
    return PopulationChart(_WIDTH, len(rows) * _ROW + 8, _LEFT, _WIDTH - _RIGHT, tuple(rows))


@dataclass(frozen=True)
class TrendPoint:
    barcode: str
    age_hours: float
    x: float
    value: float | None
    y: float | None
    percentile: float | None
    #: the P1-P99 band and the median at this specimen (y), where the reference has them
    band_low_y: float | None
    band_high_y: float | None
    median_y: float | None
    current: bool


@dataclass(frozen=True)
class TrendChart:
    marker: str
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: tuple[TrendPoint, ...]
    #: the points with a value, joined in order of collection ("x,y x,y ...")
    polyline: str
    cutoff: float | None
    cutoff_y: float | None
    #: (y, label) of the value axis; (x, label) of the age axis
    y_ticks: tuple[tuple[float, str], ...]
    x_ticks: tuple[tuple[float, str], ...]


_TW, _TH, _TL, _TR, _TT, _TB = 320, 190, 52, 12, 24, 160


def trend_chart(marker: str, specimens: Sequence[TrendSpecimen], current_id: int,
                cutoff: float | None) -> TrendChart:
    """``marker`` across the baby's ``specimens`` (oldest first); ``cutoff`` the one this
    specimen's call used (None: none drawn)."""
    ages = [s.age_hours for s in specimens]
    low_age, high_age = min(ages, default=0.0), max(ages, default=1.0)
    if high_age - low_age < 1:
        low_age, high_age = low_age - 12, high_age + 12
    pad = (high_age - low_age) * 0.06

    def x_of(age: float) -> float:
        lo, hi = low_age - pad, high_age + pad
        return round(_TL + (age - lo) / (hi - lo) * (_TW - _TR - _TL), 1)

    values = [v for s in specimens for v in (s.values.get(marker), *(
        s.bands.get(marker, {}).values())) if v is not None]
    if cutoff is not None:
        values.append(cutoff)
    scale = _LogScale.over(values, _TB, _TT)  # up: high values at the top
    points = []
    for s in specimens:
        value, band = s.values.get(marker), s.bands.get(marker, {})
        points.append(TrendPoint(
            barcode=s.barcode, age_hours=round(s.age_hours, 1), x=x_of(s.age_hours),
            value=value, y=None if value is None else scale(value),
            percentile=s.percentiles.get(marker),
            band_low_y=scale(band[0.01]) if 0.01 in band else None,
            band_high_y=scale(band[0.99]) if 0.99 in band else None,
            median_y=scale(band[0.5]) if 0.5 in band else None,
            current=s.specimen_id == current_id))
    polyline = " ".join(f"{p.x},{p.y}" for p in points if p.y is not None)
    y_ticks = ((float(_TB), _number(scale.low)), (float(_TT), _number(scale.high)))
    x_ticks = tuple((x_of(a), f"{a:.0f}") for a in sorted({round(a) for a in ages}))
    return TrendChart(marker, _TW, _TH, _TL, _TR, _TT, _TB, tuple(points), polyline, cutoff,
                      None if cutoff is None else scale(cutoff), y_ticks, x_ticks)
