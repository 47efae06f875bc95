"""Control materials: lots with target means and SDs as data, each control well's z-scores, and the
Westgard multirules over each control's history (Levey-Jennings; DESIGN §6.2).

A control well is matched to its lot by ``sample_id`` (the lot number); a well without a lot
number gets the only in-use lot of its level, which the report says. History is an explicit
table of earlier runs' control values (``HISTORY_COLUMNS``, chronological; ``acquired_at`` sorts
it when present), not a database; :func:`control_values` returns this run's values in the same
shape so a caller can append them.

Public names: ``Target``, ``ControlLot``, ``ControlLots``, ``load_control_lots``,
``default_control_lots``, ``CONTROL_LOTS_TOML``, ``control_values``, ``evaluate_westgard``,
``read_control_history``, ``validate_control_history``, ``CONTROL_VALUE_COLUMNS``,
``HISTORY_COLUMNS``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from msms.catalogue import Catalogue, default_catalogue
from msms.errors import DataError
from msms.methods import TomlSource, read_toml
from msms.qc import westgard
from msms.qc.report import Finding, StepReport
from msms.qc.rules import QCRules
from msms.qc.wells import injection_order

__all__ = [
    "CONTROL_LOTS_TOML",
    "CONTROL_VALUE_COLUMNS",
    "HISTORY_COLUMNS",
    "ControlLot",
    "ControlLots",
    "Target",
    "control_values",
    "default_control_lots",
    "evaluate_westgard",
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
#: Required columns of a control-history table (``acquired_at`` and ``well`` are optional).
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


def _parse_lots(src: TomlSource, doc: Mapping[str, Any], catalogue: Catalogue) -> ControlLots:
    head = doc.get("control_lots")
    if not isinstance(head, dict):
        raise DataError("has no [control_lots] table", file=src.path, field="control_lots")
    version = head.get("version")
    if not isinstance(version, str) or not version.strip():
        raise src.error("version must be a non-empty string", "control_lots", "version")
    raw = doc.get("lots")
    if not isinstance(raw, dict) or not raw:
        raise DataError("has no [lots.\"LOT\"] entries", file=src.path, field="lots")
    lots: dict[str, ControlLot] = {}
    for lot_id, data in raw.items():
        table = ("lots", lot_id)
        if not isinstance(data, dict):
            raise src.error("must be a table", table)
        for key in data:
            if key not in {"level", "material", "expires", "in_use", "verified", "targets"}:
                raise src.error(f"unknown key {key!r}", table, key)
        level = data.get("level")
        if not isinstance(level, str) or not level:
            raise src.error("level must be a non-empty string", table, "level")
        expires = data.get("expires")
        if expires is not None and not isinstance(expires, dt.date):
            raise src.error(f"expires must be a TOML date (2027-12-31), got {expires!r}", table,
                            "expires")
        for key in ("in_use", "verified"):
            if not isinstance(data.get(key, False), bool):
                raise src.error(f"{key} must be true or false", table, key)
        targets_raw = data.get("targets")
        if not isinstance(targets_raw, dict) or not targets_raw:
            raise src.error("has no targets", table)
        targets: dict[str, Target] = {}
        ttable = ("lots", lot_id, "targets")
        for key, value in targets_raw.items():
            code = catalogue.try_resolve(key)
            if code is None or code != key:
                hint = f"; use the canonical code {code!r}" if code else ""
                raise src.error(f"unknown analyte {key!r}{hint}", ttable, _toml_key(key))
            if not isinstance(value, dict) or set(value) != {"mean_umol_l", "sd_umol_l"}:
                raise src.error("must be { mean_umol_l = ..., sd_umol_l = ... }", ttable,
                                _toml_key(key))
            mean, sd = value["mean_umol_l"], value["sd_umol_l"]
            if not all(isinstance(v, int | float) and not isinstance(v, bool)
                       and math.isfinite(v) and v > 0 for v in (mean, sd)):
                raise src.error(f"mean and SD must be numbers > 0, got {mean!r}, {sd!r}", ttable,
                                _toml_key(key))
            targets[code] = Target(float(mean), float(sd))
        lots[lot_id] = ControlLot(
            lot=lot_id, level=level, material=str(data.get("material", "")), expires=expires,
            in_use=bool(data.get("in_use", False)), verified=bool(data.get("verified", False)),
            targets=MappingProxyType(targets),
        )
    return ControlLots(version=version, notice=str(head.get("notice", "")),
                       lots=MappingProxyType(lots), source_file=src.path)


def _toml_key(key: str) -> str:
    return key if all(c.isalnum() or c in "_-" for c in key) else f'"{key}"'


def load_control_lots(path: str | Path = CONTROL_LOTS_TOML, *,
                      catalogue: Catalogue | None = None) -> ControlLots:
    """Read and validate a control-lots file; problems raise DataError with file, line, key."""
    src, doc = read_toml(Path(path))
    return _parse_lots(src, doc, catalogue or default_catalogue())


@cache
def default_control_lots() -> ControlLots:
    """The packaged lots (the virtual instrument's materials), loaded once."""
    return load_control_lots()


# ---- history ----------------------------------------------------------------------------------


def validate_control_history(history: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check a control-history table and return it in chronological order.

    Lines in errors count a header line, as in the CSV the table came from.
    """
    missing = [c for c in HISTORY_COLUMNS if c not in history.columns]
    if missing:
        raise DataError(f"control history lacks column(s) {', '.join(missing)}", file=file,
                        line=1, field=missing[0])
    h = history.reset_index(drop=True).copy()
    for column in ("run_id", "lot", "analyte"):
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
        findings.append(Finding(
            step=step, severity="info", code="qc_other_not_evaluated",
            message=f"wells {', '.join(others)} hold other QC material; not evaluated"))

    wells = controls.drop_duplicates("well")[["well", "sample_id", "sample_type"]]
    well_lot: dict[str, ControlLot] = {}
    for row in wells.itertuples():
        level = levels[row.sample_type]
        lot = lots.lots.get(str(row.sample_id))
        if lot is not None and lot.level != level:
            findings.append(Finding(
                step=step, severity="reject", code="lot_level_mismatch", well=row.well,
                message=f"well {row.well} is {row.sample_type} but lot {lot.lot} is a "
                        f"{lot.level} control"))
            continue
        if lot is None:
            candidates = lots.in_use(level)
            if len(candidates) != 1:
                names = ", ".join(c.lot for c in candidates) or "none"
                findings.append(Finding(
                    step=step, severity="reject", code="lot_unknown", well=row.well,
                    message=f"well {row.well} ({row.sample_type}, sample id "
                            f"{row.sample_id!r}): no such lot, and the in-use {level} lots are "
                            f"{names}"))
                continue
            lot = candidates[0]
            findings.append(Finding(
                step=step, severity="info", code="lot_assumed", well=row.well,
                message=f"well {row.well}: sample id {row.sample_id!r} names no lot; took the "
                        f"in-use {level} lot {lot.lot}"))
        if run_date is not None and lot.expires is not None and run_date > lot.expires:
            findings.append(Finding(
                step=step, severity="warning", code="lot_expired", well=row.well,
                message=f"well {row.well}: lot {lot.lot} expired on {lot.expires.isoformat()}"))
        well_lot[row.well] = lot

    present = {lot.level for lot in well_lot.values()}
    for level in rules.required_levels:
        if level not in present:
            findings.append(Finding(
                step=step, severity="reject", code="control_level_missing",
                message=f"no usable {level} control on the plate"))

    rows = []
    for r in controls[controls["well"].isin(list(well_lot))].itertuples():
        lot = well_lot[r.well]
        target = lot.targets.get(r.analyte)
        if target is None:
            continue
        z = (r.conc_umol_l - target.mean_umol_l) / target.sd_umol_l
        rows.append((run_id, lot.lot, r.analyte, r.conc_umol_l, r.well, lot.level,
                     target.mean_umol_l, target.sd_umol_l, z))
    values = pd.DataFrame(rows, columns=list(CONTROL_VALUE_COLUMNS))
    order = {w: i for i, w in enumerate(injection_order(values["well"], rules.injection_order))}
    values = values.assign(_o=values["well"].map(order)).sort_values(["_o"], kind="stable")
    values = values.drop(columns="_o").reset_index(drop=True)

    # every analyte reported on the plate needs a usable value at each required level
    reported = set(conc.loc[conc["sample_type"] == "patient", "analyte"])
    usable = values[values["z"].notna()]
    for level in rules.required_levels:
        if level not in present:
            continue
        have = set(usable.loc[usable["level"] == level, "analyte"])
        lacking = sorted(reported - have)
        if lacking:
            findings.append(Finding(
                step=step, severity="reject", code="control_value_missing",
                message=f"no usable {level} control value for {', '.join(lacking)}",
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
    history = (validate_control_history(history) if history is not None
               else pd.DataFrame(columns=[*HISTORY_COLUMNS, "_line"]))
    current_runs = set(values["run_id"])
    history = history[~history["run_id"].isin(current_runs)]
    seen: set[tuple[str, str, frozenset[str]]] = set()
    findings: list[Finding] = []
    n_history_values = 0

    def add(rule: str, analyte: str, ids: list[str], labels: list[str], lot: str | None,
            wells: list[str]) -> None:
        key = (rule, analyte, frozenset(ids))
        if key in seen or actions.get(rule, "off") == "off":
            return
        seen.add(key)
        where = f"lot {lot}" if lot else "across materials"
        findings.append(Finding(
            step=step, severity="reject" if actions[rule] == "reject" else "warning",
            code=f"westgard_{rule}", analyte=analyte, well=wells[0] if wells else None,
            message=f"{analyte} {rule} ({where}): z = {', '.join(labels)}",
            detail={"rule": rule, "lot": lot, "wells": wells, "observations": ids},
        ))

    usable = values[values["z"].notna()]
    grouped_history = dict(tuple(history.groupby(["lot", "analyte"], sort=False)))
    for (lot_id, analyte), current in usable.groupby(["lot", "analyte"], sort=False):
        lot = lots.lots[lot_id]
        target = lot.targets[analyte]
        past = grouped_history.get((lot_id, analyte))
        if past is None or not rules.westgard_history_runs:
            past = history.iloc[0:0]
        else:
            keep = list(dict.fromkeys(past["run_id"]))[-rules.westgard_history_runs:]
            past = past[past["run_id"].isin(keep) & past["conc_umol_l"].notna()]
        past_z = ((past["conc_umol_l"] - target.mean_umol_l) / target.sd_umol_l).to_numpy(float)
        n_history_values += len(past_z)
        z = np.concatenate([past_z, current["z"].to_numpy(float)])
        is_current = np.r_[np.zeros(len(past_z), bool), np.ones(len(current), bool)]
        ids = [f"{r}@line{ln}" for r, ln in zip(past["run_id"], past["_line"], strict=True)]
        ids += list(current["well"])
        labels = [f"{_z_label(v)} (run {r})" for v, r in zip(past_z, past["run_id"], strict=True)]
        labels += [f"{_z_label(v)} ({w})" for v, w in zip(current["z"], current["well"],
                                                          strict=True)]
        for v in westgard.across_runs(z, is_current, rules=active):
            pos = list(v.positions)
            add(v.rule, analyte, [ids[i] for i in pos], [labels[i] for i in pos], lot_id,
                [ids[i] for i in pos if is_current[i]])

    for analyte, current in usable.groupby("analyte", sort=False):
        if len(current) < 2:
            continue
        zs = current["z"].to_numpy()
        wells = list(current["well"])
        for v in westgard.within_run(zs):
            if v.rule not in active:
                continue
            pos = list(v.positions)
            lots_involved = set(current["lot"].iloc[pos])
            add(v.rule, analyte, [wells[i] for i in pos],
                [f"{_z_label(zs[i])} ({wells[i]})" for i in pos],
                next(iter(lots_involved)) if len(lots_involved) == 1 else None,
                [wells[i] for i in pos])

    counts = {"series": int(usable.groupby(["lot", "analyte"]).ngroups),
              "current_values": len(usable), "history_values_used": n_history_values,
              "violations": len(findings),
              "rejections": sum(f.severity == "reject" for f in findings)}
    return StepReport(
        step=step,
        description="Westgard multirules over each control's history and within this run",
        parameters={"actions": actions, "history_runs": rules.westgard_history_runs},
        counts=counts, findings=tuple(findings),
    )
