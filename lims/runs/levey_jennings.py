"""A run's Levey-Jennings series: each control lot x analyte over the accepted runs before it
and the run itself, with the Westgard rules each run broke (``msms.qc.levey_jennings``), for
the plate page and the run QC report.

The runs before it are the accepted ones (a rejected run's controls are not history, as at
ingest, ``lims.runs.repository.control_history``); each shown run is judged over the
``westgard_history_runs`` accepted runs before it, so twice that many are read.

Public names: ``RunCharts``, ``run_charts``, ``chart_id``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from lims.runs import repository
from msms.qc.controls import ControlLots, default_control_lots
from msms.qc.levey_jennings import LJSeries, levey_jennings
from msms.qc.rules import QCRules
from msms.qc.rules import default_rules as default_qc_rules

__all__ = ["RunCharts", "chart_id", "run_charts"]


@dataclass(frozen=True)
class RunCharts:
    """The run's series (every lot x analyte it has a value for), sorted by analyte then lot."""

    run_id: int
    series: tuple[LJSeries, ...]

    @property
    def key(self) -> str:
        return str(self.run_id)

    def flagged(self) -> list[LJSeries]:
        """The series in which this run broke a rule."""
        return [s for s in self.series if s.flags_of(self.key)]

    def chosen(self, limit: int) -> list[LJSeries]:
        """The series to chart first: those this run flagged, then the furthest from target,
        at most ``limit``."""
        ranked = sorted(self.series, key=lambda s: (not s.flags_of(self.key),
                                                    -s.worst_z(self.key), s.analyte, s.lot))
        return ranked[:limit]

    def analytes(self) -> list[str]:
        return sorted({s.analyte for s in self.series})


def chart_id(series: LJSeries) -> str:
    """A stable HTML id of a series' chart."""
    safe = "".join(c if c.isalnum() else "-" for c in f"{series.lot}-{series.analyte}")
    return f"lj-{safe}"


def run_charts(session: Session, run_id: int, *, lots: ControlLots | None = None,
               rules: QCRules | None = None) -> RunCharts:
    """The Levey-Jennings series of ``run_id``'s control lots and analytes."""
    lots = lots or default_control_lots()
    rules = rules or default_qc_rules()
    shown = rules.westgard_history_runs
    history, runs = repository.chart_history(session, run_id, shown, 2 * shown)
    if history.empty:
        return RunCharts(run_id, ())
    series = levey_jennings(history, lots, rules, runs=[str(r) for r in runs])
    mine = {(s.lot, s.analyte) for s in series
            if any(p.run_id == str(run_id) for p in s.points)}
    return RunCharts(run_id, tuple(s for s in series if (s.lot, s.analyte) in mine))
