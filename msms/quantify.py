"""Quantitation: measurement intensities -> µmol/L blood through the internal standard, and the
profiles table (docs/architecture.md "Profiles"; docs/quantitation.md).

``conc_umol_l = intensity / IS intensity x IS concentration x response factor`` per (well,
analyte), with the method's IS concentration and response factor. Intensities are ``area`` rows
(``height`` when a well has no area for the analyte); IS rows are ``is_area`` rows keyed by the
analyte they serve. Values a vendor already reports as concentrations (``kind =
"concentration"``) pass through; where a well has both, the method's value is used unless
``prefer="vendor"``, and the report gives how far the two differ. ``response`` rows (a vendor's
ratio whose definition varies between programs) are not used and are reported.

Wells whose internal standard is low or missing (:mod:`msms.qc.internal_standard`) have no
reportable result for the analytes that IS serves: the value is NaN, the ``concentrations`` table
says why (``reportable``, ``reason``), and the profiles table lists the analytes in its
``not_reportable`` column (``analyte: reason`` joined by ``; ``). A patient or control well that
lacks analytes of the method the rest of the plate has (:mod:`msms.qc.completeness`) has no
reportable result at all: the pairs it lacks appear in ``concentrations`` as NaN (``not measured
in this well``) and its profile note names the well. The processing report records every step.

Public names: ``quantify``, ``QuantResult``, ``read_card_data``,
``validate_card_data``, ``profile_columns``, ``CONCENTRATION_COLUMNS``, ``PROFILE_EXTRA_COLUMNS``,
``CONCENTRATION_UNITS``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from msms.catalogue import Catalogue, default_catalogue
from msms.errors import DataError
from msms.methods import Method
from msms.qc.completeness import Completeness, check_completeness
from msms.qc.grid import PlateGrid, TableCodes, plate_grid, table_codes
from msms.qc.internal_standard import ISCheck, check_internal_standards
from msms.qc.messages import ITEMS, finding, listing
from msms.qc.report import Finding, ProcessingReport, StepReport
from msms.qc.rules import QCRules, default_rules
from msms.tables import (
    COVARIATE_COLUMNS,
    MEASUREMENT_COLUMNS,
    MEASUREMENT_KINDS,
    PROFILE_ID,
    SAMPLE_TYPES,
    SEXES,
)

__all__ = [
    "CONCENTRATION_COLUMNS",
    "CONCENTRATION_UNITS",
    "PROFILE_EXTRA_COLUMNS",
    "QuantResult",
    "profile_columns",
    "quantify",
    "read_card_data",
    "absent_card_columns",
    "validate_card_data",
]

#: The long table of every (well, analyte) result, patients, blanks and controls alike.
CONCENTRATION_COLUMNS: tuple[str, ...] = (
    "run_id", "plate_id", "well", "sample_id", "sample_type", "analyte", "conc_umol_l",
    "source", "reportable", "reason",
)
#: Columns the profiles table carries after the analytes (extra columns of the profiles
#: contract, docs/architecture.md "Profiles").
PROFILE_EXTRA_COLUMNS: tuple[str, ...] = ("plate_id", "wells", "not_reportable")
#: Unit spellings accepted for vendor concentrations (all equal to µmol/L).
CONCENTRATION_UNITS: frozenset[str] = frozenset(
    {"umol/l", "µmol/l", "μmol/l", "um", "µm", "μm", "nmol/ml"})
_PREFER = ("method", "vendor")


@dataclass(frozen=True)
class QuantResult:
    """What :func:`quantify` returns.

    Attributes
    ----------
    profiles
        One row per patient specimen (docs/architecture.md "Profiles") then
        ``PROFILE_EXTRA_COLUMNS``.
    concentrations
        ``CONCENTRATION_COLUMNS``, one row per (well, analyte) of every well on the plate.
    is_check
        The internal-standard check; ``internal_standards`` is its per-(well, analyte) table
        (:data:`msms.qc.internal_standard.IS_CHECK_COLUMNS`).
    report
        The processing report of each step.
    method
        The method used.
    run_id, plate_id
        The plate's identifiers.
    """

    profiles: pd.DataFrame
    concentrations: pd.DataFrame
    is_check: ISCheck
    report: ProcessingReport
    method: Method
    run_id: str
    plate_id: str

    @property
    def internal_standards(self) -> pd.DataFrame:
        return self.is_check.table


# ---- validation -------------------------------------------------------------------------------


def _where(row: pd.Series | Any) -> dict[str, Any]:
    file = str(row["source_file"]) if pd.notna(row["source_file"]) else None
    line = row["source_row"]
    try:
        line = int(line) if pd.notna(line) else None
    except (TypeError, ValueError):
        line = None
    return {"file": file, "line": line}


def _validate(measurements: pd.DataFrame, catalogue: Catalogue) -> tuple[pd.DataFrame,
                                                                         TableCodes]:
    """Check a measurements table (the measurements contract) of one plate; a clean copy.

    Checks: every column of ``MEASUREMENT_COLUMNS``; one run; kinds, sample types and canonical
    analyte codes; numeric, finite-or-missing, non-negative values; one sample per well; no
    duplicate (well, analyte, kind). ``value`` becomes float. A problem raises DataError naming
    the source file and row (from ``source_file``/``source_row``) and the field.
    """
    missing = [c for c in MEASUREMENT_COLUMNS if c not in measurements.columns]
    if missing:
        raise DataError(f"measurements lack column(s) {', '.join(missing)}", field=missing[0])
    m = measurements.loc[:, list(MEASUREMENT_COLUMNS)].copy()
    if m.empty:
        raise DataError("the measurements table is empty", field="value")

    def first(mask: Any) -> pd.Series:
        return m[np.asarray(mask, dtype=bool)].iloc[0]

    runs = [str(r) for r in pd.unique(m["run_id"])]
    if len(runs) != 1:
        raise DataError(f"measurements hold {len(runs)} runs ({', '.join(runs[:5])}); "
                        "quantify one plate at a time", field="run_id")
    codes = table_codes(m)
    type_code, type_values = pd.factorize(m["sample_type"])
    factorized = {"well": (codes.well_code, codes.wells, None),
                  "analyte": (codes.analyte_code, codes.analytes, set(catalogue.codes)),
                  "kind": (codes.kind_code, codes.kinds, set(MEASUREMENT_KINDS)),
                  "sample_type": (type_code, type_values, set(SAMPLE_TYPES))}
    for column, (code, distinct, choices) in factorized.items():
        empty = [i for i, v in enumerate(distinct) if not isinstance(v, str) or not v.strip()]
        if (code < 0).any() or empty:
            row = first((code < 0) | np.isin(code, empty))
            raise DataError(f"{column} is empty", field=column, **_where(row))
        if choices is None:
            continue
        bad = [i for i, v in enumerate(distinct) if v not in choices]
        if bad:
            value = distinct[bad[0]]
            row = first(code == bad[0])
            if column == "analyte":
                hint = catalogue.try_resolve(str(value))
                extra = f" (the canonical code is {hint!r})" if hint else ""
                raise DataError(f"{value!r} is not a canonical analyte code{extra}",
                                field="analyte", **_where(row))
            raise DataError(f"{value!r} is not one of {', '.join(sorted(choices))}",
                            field=column, **_where(row))
    if not pd.api.types.is_float_dtype(m["value"]):
        values = pd.to_numeric(m["value"], errors="coerce")
        text = m["value"].astype("string").fillna("").str.strip()
        bad = values.isna() & (text != "")
        if bad.any():
            row = first(bad)
            raise DataError(f"{row['value']!r} is not a number", field="value", **_where(row))
        m["value"] = values.astype(float)
    values = m["value"].to_numpy(dtype=float)
    bad = np.isinf(values) | (values < 0)
    if bad.any():
        row = first(bad)
        raise DataError(f"{row['value']!r} must be a finite number >= 0", field="value",
                        **_where(row))
    m["sample_id"] = m["sample_id"].astype("string").fillna("")
    well_code, wells = codes.well_code, codes.wells
    sample_code = (pd.factorize(m["sample_id"])[0] * len(SAMPLE_TYPES) + type_code)
    pairs = np.unique(well_code.astype(np.int64) * (sample_code.max() + 1) + sample_code)
    per_well = np.bincount(pairs // (sample_code.max() + 1), minlength=len(wells))
    if (per_well > 1).any():
        well = wells[int(np.flatnonzero(per_well > 1)[0])]
        rows = m[m["well"] == well].drop_duplicates(["sample_id", "sample_type"])
        seen = ", ".join(f"{r.sample_id}/{r.sample_type}" for r in rows.itertuples())
        raise DataError(f"well {well} holds more than one sample ({seen})", field="sample_id",
                        **_where(rows.iloc[-1]))
    key = ((well_code.astype(np.int64) * len(codes.analytes) + codes.analyte_code)
           * len(MEASUREMENT_KINDS) + codes.kind_code)
    dup = pd.Series(key).duplicated(keep="first").to_numpy()
    if dup.any():
        row = first(dup)
        same = key == key[int(np.flatnonzero(dup)[0])]
        raise DataError(
            f"well {row['well']} has {row['kind']} for {row['analyte']} twice (also source row "
            f"{first(same)['source_row']})", field="value", **_where(row))
    conc = (m["kind"] == "concentration").to_numpy()
    if conc.any():
        units = m.loc[conc, "unit"]
        bad_units = [u for u in pd.unique(units)
                     if not isinstance(u, str) or u.strip().casefold() not in CONCENTRATION_UNITS]
        if bad_units:
            row = first(conc & m["unit"].isin(bad_units).to_numpy())
            raise DataError(f"concentration unit {row['unit']!r} is not µmol/L", field="unit",
                            **_where(row))
    return m.reset_index(drop=True), codes


# ---- card data --------------------------------------------------------------------------------

#: Plausibility limits for card data (input validation, not clinical decision limits).
_CARD_LIMITS: dict[str, tuple[float, float]] = {
    "birth_weight_g": (200.0, 7000.0),
    "gestational_age_weeks": (20.0, 46.0),
    "age_at_collection_hours": (0.0, 24.0 * 366),
}


def read_card_data(path: str | Path) -> pd.DataFrame:
    """Read and validate a card-data CSV: ``specimen_id`` plus any of the covariate columns.

    Returns a frame with ``specimen_id`` and all of ``COVARIATE_COLUMNS`` (absent ones empty).
    Other columns are ignored. Raises DataError naming file, line and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 ({exc.reason})", file=str(path)) from None
    except OSError as exc:
        raise DataError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise DataError("empty file", file=str(path), line=1)
    header = [h.strip() for h in header]
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        rows.append((reader.line_num, cells))
    return validate_card_data(header, rows, file=str(path))


def absent_card_columns(header: Sequence[str]) -> list[str]:
    """The covariate columns (``COVARIATE_COLUMNS``) a card-data header lacks: accepted, the
    covariates left empty, but worth a warning (scores and rules then use no weight, no
    gestational age, ...)."""
    names = {h.strip() for h in header}
    return [c for c in COVARIATE_COLUMNS if c not in names]


def validate_card_data(header: Sequence[str], rows: Sequence[tuple[int, Sequence[str]]], *,
                       file: str | None = None) -> pd.DataFrame:
    """Validate card-data rows (``(line, cells)``) under ``header``; see :func:`read_card_data`."""
    if PROFILE_ID not in header:
        hint = (" (a card CSV for the LIMS, with a barcode column, is imported by `nbs hl7 "
                "cards`; card data here is specimen_id and the covariates)"
                if "barcode" in header else "")
        raise DataError(f"header lacks {PROFILE_ID!r}{hint}", file=file, line=1,
                        field=PROFILE_ID)
    dupes = [h for h in header if header.count(h) > 1]
    if dupes:
        raise DataError(f"column {dupes[0]!r} appears twice", file=file, line=1, field=dupes[0])
    index = {name: i for i, name in enumerate(header)}
    present = [c for c in COVARIATE_COLUMNS if c in index]
    records: dict[str, list[Any]] = {c: [] for c in (PROFILE_ID, *COVARIATE_COLUMNS)}
    seen: dict[str, int] = {}
    for line, cells in rows:
        if len(cells) != len(header):
            raise DataError(f"has {len(cells)} fields, the header has {len(header)}",
                            file=file, line=line)
        specimen = cells[index[PROFILE_ID]].strip()
        if not specimen:
            raise DataError("is empty", file=file, line=line, field=PROFILE_ID)
        if specimen in seen:
            raise DataError(f"specimen {specimen!r} already on line {seen[specimen]}",
                            file=file, line=line, field=PROFILE_ID)
        seen[specimen] = line
        records[PROFILE_ID].append(specimen)
        for column in COVARIATE_COLUMNS:
            raw = cells[index[column]].strip() if column in present else ""
            records[column].append(_card_value(column, raw, file, line))
    frame = _covariate_dtypes(pd.DataFrame(records))
    frame.attrs["absent_columns"] = absent_card_columns(header)
    return frame


def _card_value(column: str, raw: str, file: str | None, line: int) -> Any:
    if raw == "":
        return None
    if column == "sex":
        if raw not in SEXES:
            raise DataError(f"{raw!r} is not one of {'|'.join(SEXES)}", file=file, line=line,
                            field=column)
        return raw
    if column in ("tpn", "transfused"):
        if raw not in ("0", "1"):
            raise DataError(f"{raw!r} must be 0 or 1", file=file, line=line, field=column)
        return int(raw)
    try:
        value = float(raw)
    except ValueError:
        raise DataError(f"{raw!r} is not a number", file=file, line=line, field=column) from None
    low, high = _CARD_LIMITS[column]
    if not (math.isfinite(value) and low <= value <= high):
        raise DataError(f"{raw} is outside the plausible range {low:g}..{high:g}", file=file,
                        line=line, field=column)
    return value


def _covariate_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out[PROFILE_ID] = out[PROFILE_ID].astype("string")
    for column in ("birth_weight_g", "gestational_age_weeks", "age_at_collection_hours"):
        out[column] = pd.to_numeric(out[column], errors="raise").astype("Float64")
    out["sex"] = out["sex"].astype("string")
    for column in ("tpn", "transfused"):
        out[column] = pd.array(out[column].tolist(), dtype="Int64")
    return out


_NO_CARDS = _covariate_dtypes(pd.DataFrame({c: [] for c in (PROFILE_ID, *COVARIATE_COLUMNS)}))


# ---- quantitation -----------------------------------------------------------------------------


def profile_columns(analytes: Sequence[str]) -> list[str]:
    """Column order of a profiles table holding ``analytes``."""
    return [PROFILE_ID, *COVARIATE_COLUMNS, *analytes, *PROFILE_EXTRA_COLUMNS]


@dataclass(frozen=True)
class _Values:
    """Concentrations on the plate grid and where they came from."""

    conc: np.ndarray
    present: np.ndarray
    vendor: np.ndarray


def _intensity_concentrations(
    grid: PlateGrid, method: Method
) -> tuple[np.ndarray, np.ndarray, list[Finding], dict[str, int]]:
    """(conc, present) from intensity / IS intensity x IS concentration x response factor."""
    area, has_area = grid.kind("area")
    height, has_height = grid.kind("height")
    intensity = np.where(has_area, area, height)  # area where a well has both
    has_intensity = has_area | has_height
    in_method = np.array([code in method for code in grid.analytes], dtype=bool)
    findings: list[Finding] = []
    absent = [str(code) for code, ok, seen in
              zip(grid.analytes, in_method, has_intensity.any(axis=0), strict=True)
              if seen and not ok]
    if absent:
        findings.append(finding("intensities", "warning", "analyte_not_in_method",
                                method=method.name, analytes=", ".join(absent),
                                detail={"analytes": absent}))
    factor = np.array([method.analyte(code).factor_umol_l if ok else np.nan
                       for code, ok in zip(grid.analytes, in_method, strict=True)])
    is_value, _ = grid.kind("is_area")
    usable_is = np.where(is_value > 0, is_value, np.nan)
    conc = intensity / usable_is * factor[None, :]
    present = has_intensity & in_method[None, :]
    counts = {"intensity_pairs": int(present.sum()),
              "height_used": int((has_height & ~has_area & present).sum()),
              "without_internal_standard": int((present & np.isnan(usable_is)).sum())}
    return conc, present, findings, counts


def _combine(
    grid: PlateGrid, computed: np.ndarray, computed_present: np.ndarray, prefer: str
) -> tuple[_Values, list[Finding], dict[str, Any]]:
    vendor, has_vendor = grid.kind("concentration")
    both = computed_present & has_vendor
    findings: list[Finding] = []
    counts: dict[str, Any] = {"method_values": int(computed_present.sum()),
                              "vendor_values": int(has_vendor.sum()), "both": int(both.sum())}
    if both.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(vendor - computed) / computed
        rel = np.where(both & np.isfinite(rel), rel, np.nan)
        finite = np.isfinite(rel)
        counts["median_abs_rel_difference_vendor_vs_method"] = (
            float(np.median(rel[finite])) if finite.any() else None)
        far = {}
        for j in np.flatnonzero(finite.any(axis=0)):
            value = float(np.median(rel[finite[:, j], j]))
            if value > 0.05:
                far[str(grid.analytes[j])] = value
        if far:
            findings.append(finding(
                "concentrations", "info", "vendor_differs_from_method",
                differences=", ".join(ITEMS.text("difference", analyte=a, fraction=f"{v:.0%}")
                                      for a, v in far.items()),
                detail={"median_abs_rel_difference": far},
            ))
    use_vendor = has_vendor & (~computed_present if prefer == "method" else True)
    values = _Values(np.where(use_vendor, vendor, computed), computed_present | has_vendor,
                     use_vendor)
    counts["vendor_passed_through"] = int(use_vendor.sum())
    return values, findings, counts


def quantify(
    measurements: pd.DataFrame,
    method: Method,
    *,
    card_data: pd.DataFrame | str | Path | None = None,
    rules: QCRules | None = None,
    prefer: str = "method",
    catalogue: Catalogue | None = None,
) -> QuantResult:
    """Quantify one plate and build its profiles table.

    Parameters
    ----------
    measurements
        The plate's measurements (docs/architecture.md "Measurements"), e.g.
        ``instruments.read(...).measurements``.
    method
        The quantitation method (:func:`msms.methods.load_method`).
    card_data
        Specimen covariates: a frame as :func:`read_card_data` returns, or a CSV path.
        Specimens without card data get empty covariates (listed in the report).
    rules
        Plate-QC rules for the internal-standard check (default: packaged rules).
    prefer
        ``"method"`` (default) or ``"vendor"``: which value wins where a well has both an
        intensity pair and a vendor concentration for the same analyte.
    catalogue
        The analyte catalogue (default: packaged).

    Returns
    -------
    QuantResult

    Raises
    ------
    DataError
        On a malformed measurements table or card-data file (file, line, field named).
    """
    if prefer not in _PREFER:
        raise ValueError(f"prefer must be one of {_PREFER}, got {prefer!r}")
    rules = rules or default_rules()
    catalogue = catalogue or default_catalogue()
    m, codes = _validate(measurements, catalogue)
    run_id, plate_id = str(m["run_id"].iloc[0]), str(m["plate_id"].iloc[0])
    steps: list[StepReport] = []
    kinds = {str(k): int(n) for k, n in zip(codes.kinds, np.bincount(codes.kind_code),
                                              strict=True)}
    validate_findings: list[Finding] = []
    if "response" in kinds:
        validate_findings.append(finding("validate", "info", "response_not_used",
                                         n=kinds["response"]))
    steps.append(StepReport(
        step="validate", description="check the measurements table",
        parameters={"run_id": run_id, "plate_id": plate_id},
        counts={"rows": len(m), "wells": int(m["well"].nunique()),
                "analytes": int(m["analyte"].nunique()), "kinds": kinds},
        findings=tuple(validate_findings),
    ))

    grid = plate_grid(m, catalogue=catalogue, codes=codes)
    is_check = check_internal_standards(grid, rules=rules, method=method)
    steps.append(is_check.report)
    completeness = check_completeness(grid, method, rules=rules)
    steps.append(completeness.report)

    computed, computed_present, findings, counts = _intensity_concentrations(grid, method)
    steps.append(StepReport(
        step="intensities",
        description="conc_umol_l = intensity / IS intensity x IS concentration x response "
                    "factor",
        parameters={"method": method.label, "method_file": method.source_file},
        counts=counts, findings=tuple(findings),
    ))

    values, findings, counts = _combine(grid, computed, computed_present, prefer)
    steps.append(StepReport(
        step="concentrations",
        description="vendor concentrations pass through where no intensity pair exists",
        parameters={"prefer": prefer}, counts=counts, findings=tuple(findings),
    ))

    incomplete = completeness.incomplete[:, None]
    reportable = is_check.reportable & np.isfinite(values.conc) & ~incomplete
    reason = np.where(is_check.reportable & ~np.isfinite(values.conc), "no value",
                      is_check.reason)
    reason = np.where(completeness.missing, "not measured in this well", reason)
    reason = np.where(incomplete & (reason == ""), completeness.reason[:, None], reason)
    conc = np.where(reportable, values.conc, np.nan)
    shown = values.present | completeness.missing
    concentrations = _concentration_table(grid, values, shown, conc, reportable, reason, run_id,
                                          plate_id)
    profiles, step = _profiles(grid, shown, conc, reportable, reason, card_data, plate_id,
                               completeness)
    steps.append(step)
    return QuantResult(
        profiles=profiles,
        concentrations=concentrations,
        is_check=is_check,
        report=ProcessingReport(tuple(steps)),
        method=method,
        run_id=run_id,
        plate_id=plate_id,
    )


def _concentration_table(
    grid: PlateGrid, values: _Values, shown: np.ndarray, conc: np.ndarray,
    reportable: np.ndarray, reason: np.ndarray, run_id: str, plate_id: str,
) -> pd.DataFrame:
    w, a = np.nonzero(shown)  # wells in plate order, analytes in catalogue order
    return pd.DataFrame({
        "run_id": run_id, "plate_id": plate_id, "well": grid.wells[w],
        "sample_id": grid.sample_id[w], "sample_type": grid.sample_type[w],
        "analyte": grid.analytes[a], "conc_umol_l": conc[w, a],
        "source": np.where(values.vendor[w, a], "vendor", "method"),
        "reportable": reportable[w, a], "reason": reason[w, a],
    }, columns=list(CONCENTRATION_COLUMNS))


def _profiles(
    grid: PlateGrid, present: np.ndarray, conc: np.ndarray, reportable: np.ndarray,
    reason: np.ndarray, card_data: pd.DataFrame | str | Path | None, plate_id: str,
    completeness: Completeness,
) -> tuple[pd.DataFrame, StepReport]:
    findings: list[Finding] = []
    rows = np.flatnonzero(grid.sample_type == "patient")
    ids = grid.sample_id[rows]
    no_id = [i for i, s in zip(rows, ids, strict=True) if not s]
    if no_id:
        raise DataError(f"patient well {grid.wells[no_id[0]]} has no sample_id: a profile "
                        "needs a specimen id (join a plate map)", field="sample_id")
    analytes = [str(a) for a in grid.analytes]
    measured = np.asarray(present[rows].any(axis=0), dtype=bool)
    columns = [analytes[j] for j in np.flatnonzero(measured)]
    values = pd.DataFrame(conc[rows][:, measured], columns=columns)
    wells_of: dict[str, list[str]] = {}
    for specimen, well in zip(ids, grid.wells[rows], strict=True):
        wells_of.setdefault(str(specimen), []).append(str(well))
    order = list(wells_of)
    if len(order) < len(rows):
        values = values.groupby(pd.Series(ids, dtype=object), sort=False).mean()
        values = values.reindex(order)
    else:
        values.index = order
    notes: dict[str, str] = {}
    bad = present[rows] & ~reportable[rows]
    ok = present[rows] & reportable[rows]
    for specimen in dict.fromkeys(ids[bad.any(axis=1)]):
        mine = np.flatnonzero(ids == specimen)
        lacking = bad[mine].any(axis=0) & ~ok[mine].any(axis=0)
        parts = []
        for j in np.flatnonzero(lacking):
            first_bad = rows[mine[bad[mine, j]][0]]
            if completeness.incomplete[first_bad]:
                # one note for the whole well, not one per analyte
                note = f"{grid.wells[first_bad]}: {completeness.reason[first_bad]}"
                if note not in parts:
                    parts.append(note)
                continue
            parts.append(f"{grid.analytes[j]}: {reason[first_bad, j]}")
        if parts:
            notes[str(specimen)] = "; ".join(parts)
    for specimen, ws in wells_of.items():
        if len(ws) > 1:
            findings.append(finding("profiles", "info", "replicates_averaged", well=ws[0],
                                    specimen=specimen, wells=", ".join(ws),
                                    detail={"specimen_id": specimen}))
    profiles = values.reset_index(drop=True)
    profiles.insert(0, PROFILE_ID, pd.array(order, dtype="string"))
    profiles["plate_id"] = plate_id
    profiles["wells"] = ["|".join(wells_of[s]) for s in order]
    profiles["not_reportable"] = pd.array([notes.get(s, "") for s in order], dtype="string")
    patients_wells = len(rows)

    card_counts: dict[str, Any] = {}
    if card_data is None:
        cards, source = _NO_CARDS, None
    elif isinstance(card_data, pd.DataFrame):
        cards, source = card_data, "DataFrame"
        missing = [c for c in (PROFILE_ID, *COVARIATE_COLUMNS) if c not in cards.columns]
        if missing:
            raise DataError(f"card data lack column(s) {', '.join(missing)}", field=missing[0])
        cards = _covariate_dtypes(cards[[PROFILE_ID, *COVARIATE_COLUMNS]])
    else:
        cards, source = read_card_data(card_data), str(card_data)
        absent = list(cards.attrs.get("absent_columns", []))
        if absent:
            findings.append(finding("profiles", "warning", "card_columns_absent",
                                    source=source, columns=", ".join(absent),
                                    detail={"columns": absent}))
    profiles = profiles.merge(cards[[PROFILE_ID, *COVARIATE_COLUMNS]], on=PROFILE_ID,
                              how="left")
    if source is not None:
        on_plate = set(profiles[PROFILE_ID])
        without = sorted(on_plate - set(cards[PROFILE_ID]))
        card_counts = {"card_rows": len(cards),
                       "specimens_with_card_data": len(on_plate) - len(without),
                       "specimens_without_card_data": len(without),
                       "card_rows_not_on_plate": int((~cards[PROFILE_ID].isin(on_plate)).sum())}
        if without:
            findings.append(finding("profiles", "warning", "no_card_data", n=len(without),
                                    specimens=listing(without, 10),
                                    detail={"specimen_ids": without}))
    profiles = profiles[profile_columns(columns)]
    step = StepReport(
        step="profiles",
        description="one row per patient specimen, covariates joined from card data by "
                    "specimen_id",
        parameters={"card_data": source},
        counts={"specimens": len(profiles), "patient_wells": patients_wells,
                "analytes": len(columns),
                "specimens_with_not_reportable_values": int((profiles["not_reportable"] != "")
                                                            .sum()),
                **card_counts},
        findings=tuple(findings),
    )
    return profiles, step
