"""Control materials: lots with target means and SDs as data, each control well's z-scores, and the
Westgard multirules over each control's history (Levey-Jennings; docs/quantitation.md).

A control well is matched to its lot by ``sample_id`` (the lot number); a well without a lot
number gets the only in-use lot of its level, which the report says. History is an explicit
table of earlier runs' control values (``HISTORY_COLUMNS``, chronological; ``acquired_at`` sorts
it when present), not a database; :func:`control_values` returns this run's values in the same
shape so a caller can append them.

Public names: ``Target``, ``ControlLot``, ``ControlLots``, ``ControlLotsFile`` (the file's
schema), ``load_control_lots``,
``default_control_lots``, ``CONTROL_LOTS_TOML``, ``control_values``, ``evaluate_westgard``,
``read_control_history``, ``validate_control_history``, ``history_lots``,
``CONTROL_VALUE_COLUMNS``, ``HISTORY_COLUMNS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import Field

from msms.catalogue import Catalogue, default_catalogue
from msms.datafiles import DataFile, LenientSchema, Positive, Schema, Text, load_toml
from msms.errors import DataError
from msms.qc import westgard
from msms.qc.messages import ITEMS, finding
from msms.qc.report import Finding, StepReport
from msms.qc.rules import QCRules
from msms.qc.wells import injection_order

__all__ = [
    "CONTROL_LOTS_TOML",
    "CONTROL_VALUE_COLUMNS",
    "HISTORY_COLUMNS",
    "ControlLot",
    "ControlLots",
    "ControlLotsFile",
    "Target",
    "control_values",
    "default_control_lots",
    "evaluate_westgard",
    "history_lots",
    "load_control_lots",
    "read_control_history",
    "validate_control_history",
]

CONTROL_LOTS_TOML = Path(str(resources.files("msms") / "data" / "qc" / "control_lots.toml"))
#: This run's control values; the first four columns are what history needs.
CONTROL_VALUE_COLUMNS: tuple[str, ...] = (
    "run_id", "lot", "analyte", "conc_umol_l", "well", "level", "target_mean_umol_l",
    "target_sd_umol_l", "z",
)
#: Columns of a control-history table. Instead of ``lot`` a table may give ``sample_id`` and
#: ``sample_type`` (a control well as stored), resolved to a lot like this run's wells;
#: ``acquired_at`` (ISO date-time, sorts the rows) and ``well`` are optional.
HISTORY_COLUMNS: tuple[str, ...] = ("run_id", "lot", "analyte", "conc_umol_l")


@dataclass(frozen=True, slots=True)
class Target:
    """A control material's assigned value for one analyte (µmol/L)."""

    mean_umol_l: float
    sd_umol_l: float


@dataclass(frozen=True)
class ControlLot:
    """One lot of a control material."""

    lot: str
    level: str
    material: str
    expires: dt.date | None
    in_use: bool
    verified: bool
    targets: Mapping[str, Target]


@dataclass(frozen=True)
class ControlLots:
    """All lots of a control-lots file."""

    version: str
    notice: str
    lots: Mapping[str, ControlLot]
    source_file: str = ""

    def in_use(self, level: str) -> list[ControlLot]:
        """The in-use lots of a level."""
        return [lot for lot in self.lots.values() if lot.level == level and lot.in_use]


class _Target(Schema):
    mean_umol_l: Positive
    sd_umol_l: Positive


class _Lot(Schema):
    level: Text
    material: str = ""
    expires: dt.date | None = None
    in_use: bool = False
    verified: bool = False
    targets: Annotated[dict[str, _Target], Field(min_length=1)]


class _Head(LenientSchema):
    version: Text
    notice: str = ""


class ControlLotsFile(LenientSchema):
    """The layout of a control-lots file (``msms/data/qc/control_lots.toml``)."""

    control_lots: _Head
    lots: Annotated[dict[str, _Lot], Field(min_length=1)]


def _lots(file: DataFile, doc: ControlLotsFile, catalogue: Catalogue) -> ControlLots:
    lots: dict[str, ControlLot] = {}
    for lot_id, lot in doc.lots.items():
        targets: dict[str, Target] = {}
        for key, target in lot.targets.items():
            code = catalogue.try_resolve(key)
            if code is None or code != key:
                hint = f"; use the canonical code {code!r}" if code else ""
                raise file.error(f"unknown analyte {key!r}{hint}", "lots", lot_id, "targets", key)
            targets[code] = Target(target.mean_umol_l, target.sd_umol_l)
        lots[lot_id] = ControlLot(
            lot=lot_id, level=lot.level, material=lot.material, expires=lot.expires,
            in_use=lot.in_use, verified=lot.verified, targets=MappingProxyType(targets),
        )
    return ControlLots(version=doc.control_lots.version, notice=doc.control_lots.notice,
                       lots=MappingProxyType(lots), source_file=file.path)


def load_control_lots(path: str | Path = CONTROL_LOTS_TOML, *,
                      catalogue: Catalogue | None = None) -> ControlLots:
    """Read and validate a control-lots file; problems raise DataError with file, line, key."""
    doc, file = load_toml(path, ControlLotsFile)
    return _lots(file, doc, catalogue or default_catalogue())


@cache
def default_control_lots() -> ControlLots:
    """The packaged lots (the virtual instrument's materials), loaded once."""
    return load_control_lots()


# ---- history ----------------------------------------------------------------------------------


def validate_control_history(history: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check a control-history table and return it in chronological order.

    Lines in errors count a header line, as in the CSV the table came from.
    """
    required = list(HISTORY_COLUMNS)
    if "lot" not in history.columns and {"sample_id", "sample_type"} <= set(history.columns):
        required = [c for c in required if c != "lot"] + ["sample_id", "sample_type"]
    missing = [c for c in required if c not in history.columns]
    if missing:
        raise DataError(f"control history lacks column(s) {', '.join(missing)}", file=file,
                        line=1, field=missing[0])
    h = history.reset_index(drop=True).copy()
    for column in [c for c in ("run_id", "lot", "analyte", "sample_type") if c in required]:
        empty = h[column].isna() | (h[column].astype(str).str.strip() == "")
        if empty.any():
            raise DataError("is empty", file=file, line=int(np.flatnonzero(empty)[0]) + 2,
                            field=column)
        h[column] = h[column].astype(str).str.strip()
    conc = pd.to_numeric(h["conc_umol_l"], errors="coerce")
    bad = conc.isna() & h["conc_umol_l"].notna() & (h["conc_umol_l"].astype(str).str.strip()
                                                      != "")
    bad |= np.isinf(conc) | (conc < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"{h['conc_umol_l'].iloc[i]!r} is not a concentration >= 0", file=file,
                        line=i + 2, field="conc_umol_l")
    h["conc_umol_l"] = conc.astype(float)
    h["_line"] = np.arange(len(h)) + 2
    if "acquired_at" in h.columns:
        when = pd.to_datetime(h["acquired_at"], errors="coerce", utc=True, format="ISO8601")
        bad = when.isna() & h["acquired_at"].notna()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{h['acquired_at'].iloc[i]!r} is not an ISO date-time", file=file,
                            line=i + 2, field="acquired_at")
        h = h.assign(_when=when).sort_values("_when", kind="stable").drop(columns="_when")
    return h.reset_index(drop=True)


def read_control_history(path: str | Path) -> pd.DataFrame:
    """Read a control-history CSV (``HISTORY_COLUMNS``, optional ``acquired_at``, ``well``)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read control history: {exc}", file=str(path)) from None
    return validate_control_history(frame, file=str(path))


# ---- this run's control values ------------------------------------------------------------------


def control_values(
    concentrations: pd.DataFrame,
    lots: ControlLots,
    rules: QCRules,
    *,
    run_id: str,
    run_date: dt.date | None = None,
) -> tuple[pd.DataFrame, StepReport]:
    """Match control wells to lots and compute each value's z-score.

    Parameters
    ----------
    concentrations
        :attr:`msms.quantify.QuantResult.concentrations` of the plate.
    lots
        The control lots.
    rules
        Plate-QC rules (control levels by sample type, required levels, injection order).
    run_id
        The run's id (goes into the returned values).
    run_date
        The run's date, to check lot expiry (not checked when None).

    Returns
    -------
    (values, report)
        ``values`` has ``CONTROL_VALUE_COLUMNS`` in injection order (``z`` NaN where the value is
        not reportable); the report has a ``reject`` finding for a missing required level, a
        well whose lot cannot be told, or an analyte without any usable value at a level.
    """
    step = "controls"
    findings: list[Finding] = []
    levels = dict(rules.control_levels)
    conc = concentrations
    controls = conc[conc["sample_type"].isin(list(levels))]
    others = conc.loc[conc["sample_type"] == "qc_other", "well"].unique()
    if len(others):
        findings.append(finding(step, "info", "qc_other_not_evaluated",
                                wells=", ".join(others)))

    wells = controls.drop_duplicates("well")[["well", "sample_id", "sample_type"]]
    well_lot: dict[str, ControlLot] = {}
    for row in wells.itertuples():
        level = levels[row.sample_type]
        lot = lots.lots.get(str(row.sample_id))
        if lot is not None and lot.level != level:
            findings.append(finding(step, "reject", "lot_level_mismatch", well=row.well,
                                    sample_type=row.sample_type, lot=lot.lot, level=lot.level))
            continue
        if lot is None:
            candidates = lots.in_use(level)
            if len(candidates) != 1:
                names = ", ".join(c.lot for c in candidates) or ITEMS.text("none")
                findings.append(finding(step, "reject", "lot_unknown", well=row.well,
                                        sample_type=row.sample_type,
                                        sample_id=repr(row.sample_id), level=level, lots=names))
                continue
            lot = candidates[0]
            findings.append(finding(step, "info", "lot_assumed", well=row.well,
                                    sample_id=repr(row.sample_id), level=level, lot=lot.lot))
        if (run_date is not None and lot.expires is not None and run_date > lot.expires
                and rules.expired_lot_action != "off"):
            findings.append(finding(step, rules.expired_lot_action, "lot_expired", well=row.well,
                                    lot=lot.lot, expires=lot.expires.isoformat()))
        well_lot[row.well] = lot

    present = {lot.level for lot in well_lot.values()}
    for level in rules.required_levels:
        if level not in present:
            findings.append(finding(step, "reject", "control_level_missing", level=level))

    matched = controls[controls["well"].isin(list(well_lot))]
    lot_of = [well_lot[w] for w in matched["well"].tolist()]
    targets = [lot.targets.get(a) for lot, a in zip(lot_of, matched["analyte"].tolist(),
                                                    strict=True)]
    keep = np.array([t is not None for t in targets], dtype=bool)
    mean = np.array([t.mean_umol_l for t in targets if t is not None], dtype=float)
    sd = np.array([t.sd_umol_l for t in targets if t is not None], dtype=float)
    matched = matched[keep]
    conc_values = matched["conc_umol_l"].to_numpy(dtype=float)
    values = pd.DataFrame({
        "run_id": run_id,
        "lot": [lot.lot for lot, k in zip(lot_of, keep, strict=True) if k],
        "analyte": matched["analyte"].to_numpy(), "conc_umol_l": conc_values,
        "well": matched["well"].to_numpy(),
        "level": [lot.level for lot, k in zip(lot_of, keep, strict=True) if k],
        "target_mean_umol_l": mean, "target_sd_umol_l": sd, "z": (conc_values - mean) / sd,
    }, columns=list(CONTROL_VALUE_COLUMNS))
    order = {w: i for i, w in enumerate(injection_order(pd.unique(values["well"]),
                                                          rules.injection_order))}
    values = values.iloc[np.argsort(values["well"].map(order).to_numpy(), kind="stable")]
    values = values.reset_index(drop=True)

    # every analyte reported on the plate needs a usable value at each required level
    reported = set(pd.unique(conc.loc[conc["sample_type"] == "patient", "analyte"]))
    usable = values[values["z"].notna()]
    for level in rules.required_levels:
        if level not in present:
            continue
        have = set(usable.loc[usable["level"] == level, "analyte"])
        lacking = sorted(reported - have)
        if lacking:
            findings.append(finding(step, "reject", "control_value_missing", level=level,
                                    analytes=", ".join(lacking),
                                    detail={"analytes": lacking, "level": level}))
    no_target = sorted(reported - set(values["analyte"]))
    counts = {"control_wells": len(wells), "matched_wells": len(well_lot),
              "values": len(values), "usable_values": len(usable),
              "analytes_without_target": len(no_target)}
    report = StepReport(
        step=step,
        description="match control wells to lots; z = (value - target mean) / target SD",
        parameters={"lots_file": lots.source_file, "lots_version": lots.version,
                    "levels": levels, "required_levels": list(rules.required_levels)},
        counts=counts, findings=tuple(findings),
    )
    return values, report


# ---- Westgard over history --------------------------------------------------------------------


def _z_label(z: float) -> str:
    return f"{z:+.2f}"


def evaluate_westgard(
    values: pd.DataFrame,
    lots: ControlLots,
    rules: QCRules,
    *,
    history: pd.DataFrame | None = None,
) -> StepReport:
    """Apply the Westgard multirules to this run's control values and their history.

    Across runs, per (lot, analyte): 1-2s, 1-3s, 2-2s, 4-1s, 10-x over the last
    ``rules.westgard_history_runs`` runs plus this run, and R-4s within this run; within this run,
    per analyte across materials: 2-2s, R-4s, 4-1s. Only violations that involve this run's
    values count. Each violation is a finding with the severity ``rules.westgard_actions`` gives.
    """
    step = "westgard"
    actions = dict(rules.westgard_actions)
    active = [rule for rule, action in actions.items() if action != "off"]
    past_by_series = _history_by_series(history, set(values["run_id"]),
                                        rules.westgard_history_runs, lots, rules)
    seen: set[tuple[str, str, frozenset[str]]] = set()
    findings: list[Finding] = []

    def add(rule: str, analyte: str, ids: list[str], labels: list[str], lot: str | None,
            wells: list[str]) -> None:
        key = (rule, analyte, frozenset(ids))
        if key in seen or rule not in active:
            return
        seen.add(key)
        findings.append(finding(
            step, "reject" if actions[rule] == "reject" else "warning",
            "westgard_lot" if lot else "westgard_across", code=f"westgard_{rule}",
            analyte=analyte, well=wells[0] if wells else None,
            detail={"rule": rule, "lot": lot, "wells": wells, "observations": ids},
            rule=rule, z=", ".join(labels), **({"lot": lot} if lot else {}),
        ))

    usable = values[values["z"].notna()]
    lot_col = usable["lot"].tolist()
    analyte_col = usable["analyte"].tolist()
    well_col = usable["well"].tolist()
    z_col = usable["z"].to_numpy(dtype=float)
    series: dict[tuple[str, str], list[int]] = {}
    by_analyte: dict[str, list[int]] = {}
    for i, key in enumerate(zip(lot_col, analyte_col, strict=True)):
        series.setdefault(key, []).append(i)
        by_analyte.setdefault(key[1], []).append(i)

    n_history_values = 0
    for (lot_id, analyte), rows in series.items():
        target = lots.lots[lot_id].targets[analyte]
        past_runs, past_conc, past_lines = past_by_series.get(
            (lot_id, analyte), ([], np.empty(0), []))
        past_z = (past_conc - target.mean_umol_l) / target.sd_umol_l
        n_history_values += len(past_z)
        z = np.concatenate([past_z, z_col[rows]])
        if len(z) < 10 and not (np.abs(z) > 1.0).any():
            continue  # no rule can fire
        is_current = np.r_[np.zeros(len(past_z), bool), np.ones(len(rows), bool)]
        ids = [f"{r}@line{ln}" for r, ln in zip(past_runs, past_lines, strict=True)]
        ids += [well_col[i] for i in rows]
        labels = [f"{_z_label(v)} (run {r})" for v, r in zip(past_z, past_runs, strict=True)]
        labels += [f"{_z_label(z_col[i])} ({well_col[i]})" for i in rows]
        for v in westgard.across_runs(z, is_current, rules=active):
            pos = list(v.positions)
            add(v.rule, analyte, [ids[i] for i in pos], [labels[i] for i in pos], lot_id,
                [ids[i] for i in pos if is_current[i]])

    for analyte, rows in by_analyte.items():
        zs = z_col[rows]
        if len(rows) < 2 or not (np.abs(zs) > 1.0).any():
            continue
        wells = [well_col[i] for i in rows]
        for v in westgard.within_run(zs):
            pos = list(v.positions)
            lots_involved = {lot_col[rows[i]] for i in pos}
            add(v.rule, analyte, [wells[i] for i in pos],
                [f"{_z_label(zs[i])} ({wells[i]})" for i in pos],
                next(iter(lots_involved)) if len(lots_involved) == 1 else None,
                [wells[i] for i in pos])

    counts = {"series": len(series), "current_values": len(usable),
              "history_values_used": n_history_values, "violations": len(findings),
              "rejections": sum(f.severity == "reject" for f in findings)}
    return StepReport(
        step=step,
        description="Westgard multirules over each control's history and within this run",
        parameters={"actions": actions, "history_runs": rules.westgard_history_runs},
        counts=counts, findings=tuple(findings),
    )


def history_lots(h: pd.DataFrame, lots: ControlLots, rules: QCRules) -> pd.Series:
    """The lot of each history row: its ``lot``, or the lot its control well resolves to
    (the sample id when it names a lot, else the only in-use lot of the level; "" if none)."""
    if "lot" in h.columns:
        return h["lot"]
    levels = dict(rules.control_levels)

    def resolve(sample_id: str, sample_type: str) -> str:
        if sample_id in lots.lots:
            return sample_id
        level = levels.get(sample_type)
        in_use = lots.in_use(level) if level else []
        return in_use[0].lot if len(in_use) == 1 else ""

    pairs = zip(h["sample_id"].astype(str).tolist(), h["sample_type"].astype(str).tolist(),
                strict=True)
    cache: dict[tuple[str, str], str] = {}
    return pd.Series([cache.setdefault(p, resolve(*p)) for p in pairs], index=h.index,
                     dtype=object)


def _history_by_series(
    history: pd.DataFrame | None, current_runs: set[str], keep_runs: int, lots: ControlLots,
    rules: QCRules,
) -> dict[tuple[str, str], tuple[list[str], np.ndarray, list[int]]]:
    """Per (lot, analyte): the last ``keep_runs`` earlier runs' (run ids, values, lines)."""
    if history is None or not keep_runs or len(history) == 0:
        return {}
    h = validate_control_history(history)
    h = h.assign(lot=history_lots(h, lots, rules))
    h = h[~h["run_id"].isin(current_runs) & h["conc_umol_l"].notna() & (h["lot"] != "")]
    grouped: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(h["lot"].tolist(), h["analyte"].tolist(), strict=True)):
        grouped.setdefault(key, []).append(i)
    runs = h["run_id"].tolist()
    conc = h["conc_umol_l"].to_numpy(dtype=float)
    lines = h["_line"].tolist()
    out = {}
    for key, rows in grouped.items():
        recent = set(list(dict.fromkeys(runs[i] for i in rows))[-keep_runs:])
        rows = [i for i in rows if runs[i] in recent]
        out[key] = ([runs[i] for i in rows], conc[rows], [lines[i] for i in rows])
    return out
