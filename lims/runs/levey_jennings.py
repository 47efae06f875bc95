"""A run's Levey-Jennings series: each control lot x analyte over the accepted runs before it
and the run itself, with the Westgard rules each run broke (``msms.qc.levey_jennings``), for
the plate page and the run QC report.

The runs before it are the accepted ones (a rejected run's controls are not history, as at
ingest, ``lims.runs.repository.control_history``); each shown run is judged over the
``westgard_history_runs`` accepted runs before it, so twice that many are read. The run's own
flags are worked out for every series (``RunCharts.current``); whole series only for the
analytes charted (``RunCharts.charts``), which keeps the plate page quick.

``series_charts`` charts the chosen series alone (the plate page, whose run's own flags were
stored at ingest, ``lims.runs.westgard_verdicts``).

Public names: ``RunCharts``, ``run_charts``, ``series_charts``, ``chart_id``, ``chart_key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session

from lims.runs import repository
from msms.qc.controls import ControlLots, default_control_lots
from msms.qc.levey_jennings import LJSeries, levey_jennings
from msms.qc.rules import QCRules
from msms.qc.rules import default_rules as default_qc_rules

__all__ = ["RunCharts", "chart_id", "chart_key", "run_charts", "series_charts"]


@dataclass(frozen=True)
class RunCharts:
    """The run's series (every lot x analyte it has a value for, sorted by analyte then lot)
    with only this run's rules worked out, and what it takes to chart whole series."""

    run_id: int
    current: tuple[LJSeries, ...]
    history: pd.DataFrame
    shown: tuple[str, ...]
    lots: ControlLots
    rules: QCRules

    @property
    def key(self) -> str:
        return str(self.run_id)

    def flagged(self) -> list[LJSeries]:
        """The series in which this run broke a rule."""
        return [s for s in self.current if s.flags_of(self.key)]

    def chosen(self, limit: int) -> list[LJSeries]:
        """The series to chart first: those this run flagged, then the furthest from target,
        at most ``limit``."""
        ranked = sorted(self.current, key=lambda s: (not s.flags_of(self.key),
                                                     -s.worst_z(self.key), s.analyte, s.lot))
        return ranked[:limit]

    def analytes(self) -> list[str]:
        return sorted({s.analyte for s in self.current})

    def charts(self, series: Sequence[LJSeries]) -> list[LJSeries]:
        """Whole series (the runs before this one, then this one) of ``series``, in order."""
        wanted = [(s.lot, s.analyte) for s in series]
        analytes = {a for _, a in wanted}
        frame = self.history[self.history["analyte"].isin(list(analytes))]
        return _whole(frame, self.shown, wanted, self.lots, self.rules)


def _whole(frame: pd.DataFrame, shown: Sequence[str], wanted: Sequence[tuple[str, str]],
           lots: ControlLots, rules: QCRules) -> list[LJSeries]:
    if not wanted or frame.empty:
        return []
    whole = {(s.lot, s.analyte): s for s in levey_jennings(frame, lots, rules, runs=shown)}
    return [whole[k] for k in wanted if k in whole]


def series_charts(session: Session, run_id: int, wanted: Sequence[tuple[str, str]], *,
                  lots: ControlLots | None = None,
                  rules: QCRules | None = None) -> list[LJSeries]:
    """The whole series of the ``wanted`` (lot, analyte) of ``run_id``, in that order: their
    analytes' control values read in one query, each shown run judged over the runs before
    it for the points' flags."""
    lots = lots or default_control_lots()
    rules = rules or default_qc_rules()
    if not wanted:
        return []
    history, runs = repository.chart_history(
        session, run_id, rules.westgard_history_runs, 2 * rules.westgard_history_runs,
        analytes=sorted({a for _, a in wanted}))
    return _whole(history, tuple(str(r) for r in runs), wanted, lots, rules)


def chart_id(series: LJSeries) -> str:
    """A stable HTML id of a series' chart."""
    return chart_key(series.lot, series.analyte)


def chart_key(lot: str, analyte: str) -> str:
    """The HTML id of the chart of ``lot`` x ``analyte``."""
    safe = "".join(c if c.isalnum() else "-" for c in f"{lot}-{analyte}")
    return f"lj-{safe}"


def run_charts(session: Session, run_id: int, *, lots: ControlLots | None = None,
               rules: QCRules | None = None, own_flags_only: bool = False) -> RunCharts:
    """The Levey-Jennings series of ``run_id``'s control lots and analytes (``own_flags_only``:
    only the history this run is judged over is read, not what judging every shown run
    takes, so ``RunCharts.charts`` would leave the earlier runs' flags out)."""
    lots = lots or default_control_lots()
    rules = rules or default_qc_rules()
    keep = rules.westgard_history_runs
    history, runs = repository.chart_history(session, run_id, keep,
                                             keep if own_flags_only else 2 * keep)
    shown = tuple(str(r) for r in runs)
    current = () if history.empty else tuple(
        s for s in levey_jennings(history, lots, rules, runs=shown, judged=[str(run_id)])
        if any(p.run_id == str(run_id) for p in s.points))
    return RunCharts(run_id, current, history, shown, lots, rules)
