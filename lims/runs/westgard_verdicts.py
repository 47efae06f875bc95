"""A run's Westgard verdicts, judged once at ingest and stored (table ``westgard_verdict``).

At ingest, once the run's control values are stored, each control lot x analyte of the run is
judged as the plate page's Levey-Jennings charts judge it (``lims.runs.levey_jennings``: over
the accepted runs before it): one row per rule the run broke (its action as the decision, the
values involved with their z and well or run), or one row with no rule and the decision
``accept``; every row keeps the run's value furthest from target (``z``). The plate page reads
these rows for the run's flags and for which series to chart first, rather than judging the
history again. A run stored before verdicts were kept has none: it is judged from the history
when its page is shown (nothing is stored by a page).

Public names: ``judge``, ``store_verdicts``, ``run_verdicts``, ``ranked_series``,
``ACCEPT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from lims.models import WestgardVerdict
from lims.runs import repository
from lims.runs.levey_jennings import run_charts
from msms.qc.levey_jennings import LJPoint

__all__ = ["ACCEPT", "judge", "ranked_series", "run_verdicts", "store_verdicts"]

#: The decision of a lot x analyte whose values broke no rule.
ACCEPT = "accept"


def _point_label(point: LJPoint, run_key: str) -> str:
    where = point.well if point.run_id == run_key else f"RUN-{int(point.run_id):06d}"
    return f"{point.z:+.2f} ({where})"


def _rows(session: Session, run_id: int) -> list[dict[str, Any]]:
    """The verdicts on ``run_id``'s control values as plain rows, by analyte, lot, rule."""
    charts = run_charts(session, run_id, own_flags_only=True)
    key = charts.key
    out: list[dict[str, Any]] = []
    for s in charts.current:
        own = [p for p in s.points if p.run_id == key]
        worst = max(own, key=lambda p: abs(p.z)).z if own else 0.0
        base = {"run_id": run_id, "lot": s.lot[:64], "level": s.level[:16],
                "analyte": s.analyte[:32], "z": worst, "across_materials": False,
                "observations": ""}
        broken = [v for v in s.violations if v.run_id == key]
        if not broken:
            out.append({**base, "rule": "", "decision": ACCEPT})
        for v in broken:
            values = ", ".join(_point_label(s.points[i], key) for i in v.points)
            out.append({**base, "rule": v.rule, "decision": v.severity,
                        "across_materials": v.across_materials,
                        "observations": values[:1000]})
    return out


def judge(session: Session, run_id: int) -> list[WestgardVerdict]:
    """The verdicts on ``run_id``'s control values (not stored), by analyte, lot, then rule."""
    return [WestgardVerdict(**row) for row in _rows(session, run_id)]


def store_verdicts(session: Session, run_id: int) -> None:
    """Judge ``run_id`` (its control values stored) and store its verdicts."""
    repository.insert_westgard_verdicts(session, _rows(session, run_id))


def run_verdicts(session: Session, run_id: int) -> list[WestgardVerdict]:
    """The verdicts stored at ingest; for a run stored before they were kept, judged now."""
    return repository.westgard_verdicts(session, run_id) or judge(session, run_id)


def ranked_series(verdicts: Sequence[WestgardVerdict]) -> list[tuple[str, str]]:
    """The run's (lot, analyte) series: those that broke a rule first, then the furthest from
    target, then by analyte and lot."""
    flagged: dict[tuple[str, str], bool] = {}
    worst: dict[tuple[str, str], float] = {}
    for v in verdicts:
        key = (v.lot, v.analyte)
        flagged[key] = flagged.get(key, False) or bool(v.rule)
        worst[key] = abs(v.z)
    return sorted(flagged, key=lambda k: (not flagged[k], -worst[k], k[1], k[0]))
