"""Levey-Jennings series per control lot and analyte, each run's values with the Westgard
multirules it broke when it was judged (Westgard et al., Clin Chem 1981;27:493; Levey and
Jennings, Am J Clin Pathol 1950;20:1059; docs/quantitation.md "Plate QC").

A series is one lot of one control material for one analyte over runs, oldest first. Each run
is judged as plate QC judges it (``msms.qc.controls.evaluate_westgard``): along its series over
the ``rules.westgard_history_runs`` earlier runs shown before it plus its own values (1-2s, 1-3s,
2-2s, 4-1s, 10-x; R-4s within the run), and across materials within the run, per analyte (2-2s,
R-4s, 4-1s). A flag is set on the run's own values that take part in a violation; a violation
that involves earlier runs names them. Rules whose action is ``off`` are not applied.

Public names: ``LJPoint``, ``LJViolation``, ``LJSeries``, ``levey_jennings``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from msms.qc import westgard
from msms.qc.controls import ControlLots, history_lots, validate_control_history
from msms.qc.rules import WESTGARD_RULES, QCRules

__all__ = ["LJPoint", "LJSeries", "LJViolation", "levey_jennings"]


@dataclass(frozen=True, slots=True)
class LJPoint:
    """One control value of a run: its z-score against the lot's target and the rules its run
    broke with it."""

    run_id: str
    well: str
    value_umol_l: float
    z: float
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LJViolation:
    """A rule broken when ``run_id`` was judged; ``points`` index the series' points involved
    (its own and earlier runs'); ``across_materials`` for a within-run rule over both levels."""

    rule: str
    severity: str
    run_id: str
    points: tuple[int, ...]
    across_materials: bool = False


@dataclass(frozen=True)
class LJSeries:
    """One lot x analyte: the target and the points, oldest first."""

    lot: str
    level: str
    analyte: str
    mean_umol_l: float
    sd_umol_l: float
    points: tuple[LJPoint, ...]
    violations: tuple[LJViolation, ...]

    def flags_of(self, run_id: str) -> tuple[str, ...]:
        """The rules ``run_id`` broke in this series, in the rules' order."""
        seen = {v.rule for v in self.violations if v.run_id == run_id}
        return tuple(r for r in WESTGARD_RULES if r in seen)

    def worst_z(self, run_id: str) -> float:
        """The largest |z| of ``run_id``'s values (0 when it has none)."""
        return max((abs(p.z) for p in self.points if p.run_id == run_id), default=0.0)


def _series_rows(history: pd.DataFrame, lots: ControlLots, rules: QCRules) -> pd.DataFrame:
    h = validate_control_history(history)
    h = h.assign(lot=history_lots(h, lots, rules))
    keep = (h["lot"] != "") & h["conc_umol_l"].notna()
    keep &= np.array([lot in lots.lots and a in lots.lots[lot].targets
                      for lot, a in zip(h["lot"].tolist(), h["analyte"].tolist(), strict=True)],
                     dtype=bool)
    h = h[keep]
    if "well" not in h.columns:
        h = h.assign(well="")
    return h.assign(well=h["well"].fillna("").astype(str))


def levey_jennings(
    history: pd.DataFrame,
    lots: ControlLots,
    rules: QCRules,
    *,
    runs: Sequence[str] | None = None,
) -> list[LJSeries]:
    """The Levey-Jennings series of every lot x analyte in ``history``, with Westgard flags.

    Parameters
    ----------
    history
        Control values in chronological order (``msms.qc.controls.HISTORY_COLUMNS``, or
        ``sample_id`` and ``sample_type`` instead of ``lot``; ``well`` optional): the runs to
        show and, before them, the earlier runs each is judged against.
    lots, rules
        The control lots (targets) and plate-QC rules (history length, each rule's action).
    runs
        The runs whose points the series show (default: all); earlier runs of ``history`` only
        serve as the history they are judged against.

    Returns
    -------
    list of LJSeries
        Sorted by analyte, then lot; values without a lot or a target are left out.
    """
    actions = dict(rules.westgard_actions)
    active = [rule for rule in WESTGARD_RULES if actions.get(rule, "off") != "off"]
    h = _series_rows(history, lots, rules)
    order = list(dict.fromkeys(h["run_id"].tolist()))
    shown = set(order if runs is None else runs)
    z_all = np.array([
        (c - lots.lots[lot].targets[a].mean_umol_l) / lots.lots[lot].targets[a].sd_umol_l
        for lot, a, c in zip(h["lot"].tolist(), h["analyte"].tolist(),
                             h["conc_umol_l"].tolist(), strict=True)], dtype=float)
    h = h.assign(_z=z_all, _run=h["run_id"].map({r: i for i, r in enumerate(order)}))
    flags: dict[int, set[str]] = {}
    violations: dict[tuple[str, str], list[tuple[str, str, tuple[int, ...], bool]]] = {}

    def flag(rows: list[int], rule: str) -> None:
        for row in rows:
            flags.setdefault(row, set()).add(rule)

    groups = {key: list(g.index) for key, g in h.groupby(["lot", "analyte"], sort=False)}
    for (lot, analyte), index in groups.items():
        series = h.loc[index]
        run_pos = series["_run"].to_numpy()
        z = series["_z"].to_numpy(dtype=float)
        for run in sorted(set(run_pos.tolist())):
            if order[run] not in shown:
                continue
            earlier = sorted({r for r in run_pos.tolist() if r < run})
            window = set(earlier[-rules.westgard_history_runs:]) | {run}
            rows = [i for i, r in enumerate(run_pos.tolist()) if r in window]
            current = run_pos[rows] == run
            for v in westgard.across_runs(z[rows], current, rules=active):
                members = [rows[p] for p in v.positions]
                flag([index[m] for m in members if run_pos[m] == run], v.rule)
                violations.setdefault((lot, analyte), []).append(
                    (v.rule, order[run], tuple(index[m] for m in members), False))

    for (run, analyte), g in h.groupby(["_run", "analyte"], sort=False):
        if order[int(run)] not in shown or len(g) < 2:
            continue
        for v in westgard.within_run(g["_z"].to_numpy(dtype=float)):
            if v.rule not in active:
                continue
            members = [g.index[p] for p in v.positions]
            if len({h.at[m, "lot"] for m in members}) < 2:
                continue  # one lot's own values: judged along its series above
            flag(members, v.rule)
            for lot in sorted({h.at[m, "lot"] for m in members}):
                mine = tuple(m for m in members if h.at[m, "lot"] == lot)
                violations.setdefault((lot, analyte), []).append(
                    (v.rule, order[int(run)], mine, True))

    out = []
    for (lot, analyte), index in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        keep = [i for i in index if order[int(h.at[i, "_run"])] in shown]
        if not keep:
            continue
        position = {i: n for n, i in enumerate(keep)}
        target = lots.lots[lot].targets[analyte]
        points = tuple(LJPoint(
            run_id=str(h.at[i, "run_id"]), well=str(h.at[i, "well"]),
            value_umol_l=float(h.at[i, "conc_umol_l"]), z=float(h.at[i, "_z"]),
            flags=tuple(r for r in WESTGARD_RULES if r in flags.get(i, ())))
            for i in keep)
        found = []
        for rule, run_id, involved, across in violations.get((lot, analyte), []):
            found.append(LJViolation(
                rule=rule, severity="reject" if actions[rule] == "reject" else "warning",
                run_id=run_id, points=tuple(position[r] for r in involved if r in position),
                across_materials=across))
        out.append(LJSeries(lot=lot, level=lots.lots[lot].level, analyte=analyte,
                            mean_umol_l=target.mean_umol_l, sd_umol_l=target.sd_umol_l,
                            points=points, violations=tuple(found)))
    return out
