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


def _along(z: np.ndarray, runs: np.ndarray, active: Sequence[str], keep_runs: int,
           judged: set[int]) -> list[tuple[str, int, list[int]]]:
    """The violations along one series as ``westgard.across_runs`` finds them when each run is
    judged over the ``keep_runs`` runs before it: (rule, run, positions). A group of
    consecutive values is judged with the run of its last value, and only when its first value
    lies within that run's history; R-4s within each run; only for the ``judged`` runs."""
    ordinal = {r: k for k, r in enumerate(sorted(set(runs.tolist())))}
    out: list[tuple[str, int, list[int]]] = []
    for rule in active:
        if rule == "R-4s":
            continue
        for group in westgard.SERIES_RULES[rule](z):
            last, first = int(runs[group[-1]]), int(runs[group[0]])
            if last in judged and ordinal[last] - ordinal[first] <= keep_runs:
                out.append((rule, last, list(group)))
    if "R-4s" in active:
        for run in judged & set(ordinal):
            rows = np.flatnonzero(runs == run)
            if len(rows) > 1:
                out.extend(("R-4s", run, [int(rows[p]) for p in g])
                           for g in westgard.rule_r_4s(z[rows]))
    return out


def levey_jennings(
    history: pd.DataFrame,
    lots: ControlLots,
    rules: QCRules,
    *,
    runs: Sequence[str] | None = None,
    judged: Sequence[str] | None = None,
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
    judged
        The runs whose rules are worked out (default: those shown); the others' points carry
        no flags (a page that needs only its own run's flags saves the rest).

    Returns
    -------
    list of LJSeries
        Sorted by analyte, then lot; values without a lot or a target are left out.
    """
    actions = dict(rules.westgard_actions)
    active = [rule for rule in WESTGARD_RULES if actions.get(rule, "off") != "off"]
    h = _series_rows(history, lots, rules).reset_index(drop=True)
    # plain lists: the rows are indexed by position throughout
    run_ids = h["run_id"].astype(str).tolist()
    lot_of = h["lot"].astype(str).tolist()
    analyte_of = h["analyte"].astype(str).tolist()
    conc = h["conc_umol_l"].to_numpy(dtype=float)
    well_of = h["well"].tolist()
    order = list(dict.fromkeys(run_ids))
    run_index = {r: i for i, r in enumerate(order)}
    run_pos = np.array([run_index[r] for r in run_ids], dtype=int)
    shown = set(order if runs is None else runs)
    judge = shown if judged is None else set(judged)
    judged_pos = {i for i, r in enumerate(order) if r in judge}
    z_all = np.array([
        (c - lots.lots[lot].targets[a].mean_umol_l) / lots.lots[lot].targets[a].sd_umol_l
        for lot, a, c in zip(lot_of, analyte_of, conc.tolist(), strict=True)], dtype=float)
    flags: dict[int, set[str]] = {}
    violations: dict[tuple[str, str], list[tuple[str, str, tuple[int, ...], bool]]] = {}
    keep_runs = rules.westgard_history_runs

    def flag(rows: Sequence[int], rule: str) -> None:
        for row in rows:
            flags.setdefault(row, set()).add(rule)

    groups: dict[tuple[str, str], list[int]] = {}
    by_run_analyte: dict[tuple[int, str], list[int]] = {}
    for i, key in enumerate(zip(lot_of, analyte_of, strict=True)):
        groups.setdefault(key, []).append(i)
        by_run_analyte.setdefault((int(run_pos[i]), key[1]), []).append(i)

    for (lot, analyte), index in groups.items():
        for rule, run, members in _along(z_all[index], run_pos[index], active, keep_runs,
                                         judged_pos):
            rows = [index[m] for m in members]
            flag([m for m in rows if run_pos[m] == run], rule)
            violations.setdefault((lot, analyte), []).append(
                (rule, order[run], tuple(rows), False))

    for (run, analyte), members_all in by_run_analyte.items():
        if order[run] not in judge or len(members_all) < 2:
            continue
        zs = z_all[members_all]
        if not (np.abs(zs) > 1.0).any():
            continue
        for v in westgard.within_run(zs):
            if v.rule not in active:
                continue
            members = [members_all[p] for p in v.positions]
            involved = sorted({lot_of[m] for m in members})
            if len(involved) < 2:
                continue  # one lot's own values: judged along its series above
            flag(members, v.rule)
            for lot in involved:
                violations.setdefault((lot, analyte), []).append(
                    (v.rule, order[run], tuple(m for m in members if lot_of[m] == lot), True))

    out = []
    for (lot, analyte), index in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        keep = [i for i in index if order[run_pos[i]] in shown]
        if not keep:
            continue
        position = {i: n for n, i in enumerate(keep)}
        target = lots.lots[lot].targets[analyte]
        points = tuple(LJPoint(
            run_id=run_ids[i], well=str(well_of[i]), value_umol_l=float(conc[i]),
            z=float(z_all[i]), flags=tuple(r for r in WESTGARD_RULES if r in flags.get(i, ())))
            for i in keep)
        found = []
        for rule, run_id, involved_rows, across in violations.get((lot, analyte), []):
            found.append(LJViolation(
                rule=rule, severity="reject" if actions[rule] == "reject" else "warning",
                run_id=run_id,
                points=tuple(position[r] for r in involved_rows if r in position),
                across_materials=across))
        out.append(LJSeries(lot=lot, level=lots.lots[lot].level, analyte=analyte,
                            mean_umol_l=target.mean_umol_l, sd_umol_l=target.sd_umol_l,
                            points=points, violations=tuple(found)))
    return out
