"""Quantitation: measurement intensities -> µmol/L blood through the internal standard, and the
profiles table of DESIGN §4.2 (DESIGN §6.1).

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
``not_reportable`` column (``analyte: reason`` joined by ``; ``). The processing report records
every step.

Public names: ``quantify``, ``QuantResult``, ``validate_measurements``, ``read_card_data``,
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
from msms.qc.internal_standard import ISCheck, check_internal_standards
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
    "validate_card_data",
    "validate_measurements",
]

#: The long table of every (well, analyte) result, patients, blanks and controls alike.
CONCENTRATION_COLUMNS: tuple[str, ...] = (
    "run_id", "plate_id", "well", "sample_id", "sample_type", "analyte", "conc_umol_l",
    "source", "reportable", "reason",
)
#: Columns the profiles table carries after the analytes (DESIGN §4.2 "extra columns").
PROFILE_EXTRA_COLUMNS: tuple[str, ...] = ("plate_id", "wells", "not_reportable")
#: Unit spellings accepted for vendor concentrations (all equal to µmol/L).
CONCENTRATION_UNITS: frozenset[str] = frozenset(
    {"umol/l", "µmol/l", "μmol/l", "um", "µm", "μm", "nmol/ml"})
_INTENSITY = ("area", "height")
_PREFER = ("method", "vendor")


@dataclass(frozen=True)
class QuantResult:
    """What :func:`quantify` returns.

    Attributes
    ----------
    profiles
        One row per patient specimen (DESIGN §4.2) then ``PROFILE_EXTRA_COLUMNS``.
    concentrations
        ``CONCENTRATION_COLUMNS``, one row per (well, analyte) of every well on the plate.
    internal_standards
        The per-(well, analyte) IS check (:data:`msms.qc.internal_standard.IS_CHECK_COLUMNS`).
    report
        The processing report of each step.
    method
        The method used.
    run_id, plate_id
        The plate's identifiers.
    """

    profiles: pd.DataFrame
    concentrations: pd.DataFrame
    internal_standards: pd.DataFrame
    report: ProcessingReport
    method: Method
    run_id: str
    plate_id: str


# ---- validation -------------------------------------------------------------------------------


def _where(row: pd.Series | Any) -> dict[str, Any]:
    file = str(row["source_file"]) if pd.notna(row["source_file"]) else None
    line = row["source_row"]
    try:
        line = int(line) if pd.notna(line) else None
    except (TypeError, ValueError):
        line = None
    return {"file": file, "line": line}


def validate_measurements(
    measurements: pd.DataFrame, *, catalogue: Catalogue | None = None
) -> pd.DataFrame:
    """Check a measurements table (DESIGN §4.1) of one plate and return a clean copy.

    Checks: every column of ``MEASUREMENT_COLUMNS``; one run; kinds, sample types and canonical
    analyte codes; numeric, finite-or-missing, non-negative values; one sample per well; no
    duplicate (well, analyte, kind). ``value`` becomes float.

    Raises
    ------
    DataError
        Naming the source file and row (from ``source_file``/``source_row``) and the field.
    """
    catalogue = catalogue or default_catalogue()
    missing = [c for c in MEASUREMENT_COLUMNS if c not in measurements.columns]
    if missing:
        raise DataError(f"measurements lack column(s) {', '.join(missing)}", field=missing[0])
    m = measurements.loc[:, list(MEASUREMENT_COLUMNS)].copy()
    if m.empty:
        raise DataError("the measurements table is empty", field="value")
    runs = m["run_id"].astype(str).unique()
    if len(runs) != 1:
        raise DataError(f"measurements hold {len(runs)} runs ({', '.join(runs[:5])}); "
                        "quantify one plate at a time", field="run_id")
    for column in ("well", "analyte", "kind", "sample_type"):
        empty = m[column].isna() | (m[column].astype(str).str.strip() == "")
        if empty.any():
            raise DataError(f"{column} is empty", field=column, **_where(m[empty].iloc[0]))
    for column, allowed in (("kind", MEASUREMENT_KINDS), ("sample_type", SAMPLE_TYPES)):
        bad = ~m[column].isin(allowed)
        if bad.any():
            row = m[bad].iloc[0]
            raise DataError(f"{row[column]!r} is not one of {', '.join(allowed)}",
                            field=column, **_where(row))
    codes = set(catalogue.codes)
    unknown = ~m["analyte"].isin(codes)
    if unknown.any():
        row = m[unknown].iloc[0]
        hint = catalogue.try_resolve(str(row["analyte"]))
        extra = f" (the canonical code is {hint!r})" if hint else ""
        raise DataError(f"{row['analyte']!r} is not a canonical analyte code{extra}",
                        field="analyte", **_where(row))
    values = pd.to_numeric(m["value"], errors="coerce")
    bad = values.isna() & m["value"].notna() & (m["value"].astype(str).str.strip() != "")
    if bad.any():
        row = m[bad].iloc[0]
        raise DataError(f"{row['value']!r} is not a number", field="value", **_where(row))
    values = values.astype(float)
    bad = np.isinf(values) | (values < 0)
    if bad.any():
        row = m[bad.to_numpy()].iloc[0]
        raise DataError(f"{row['value']!r} must be a finite number >= 0", field="value",
                        **_where(row))
    m["value"] = values
    m["sample_id"] = m["sample_id"].astype("string").fillna("")
    per_well = m.drop_duplicates(["well", "sample_id", "sample_type"])
    clash = per_well["well"].duplicated(keep=False)
    if clash.any():
        rows = per_well[clash]
        well = rows.iloc[0]["well"]
        seen = ", ".join(f"{r.sample_id}/{r.sample_type}" for r in rows[rows.well == well]
                         .itertuples())
        raise DataError(f"well {well} holds more than one sample ({seen})", field="sample_id",
                        **_where(rows.iloc[-1]))
    dup = m.duplicated(["well", "analyte", "kind"], keep="first")
    if dup.any():
        row = m[dup].iloc[0]
        first = m[(m.well == row.well) & (m.analyte == row.analyte) & (m.kind == row.kind)]
        raise DataError(
            f"well {row['well']} has {row['kind']} for {row['analyte']} twice (also source row "
            f"{first.iloc[0]['source_row']})", field="value", **_where(row))
    conc = m["kind"] == "concentration"
    if conc.any():
        units = m.loc[conc, "unit"].astype("string").fillna("").str.strip().str.casefold()
        bad_unit = ~units.isin(CONCENTRATION_UNITS)
        if bad_unit.any():
            row = m[conc][bad_unit.to_numpy()].iloc[0]
            raise DataError(f"concentration unit {row['unit']!r} is not µmol/L", field="unit",
                            **_where(row))
    return m.reset_index(drop=True)


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


def validate_card_data(header: Sequence[str], rows: Sequence[tuple[int, Sequence[str]]], *,
                       file: str | None = None) -> pd.DataFrame:
    """Validate card-data rows (``(line, cells)``) under ``header``; see :func:`read_card_data`."""
    if PROFILE_ID not in header:
        raise DataError(f"header lacks {PROFILE_ID!r}", file=file, line=1, field=PROFILE_ID)
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
    frame = pd.DataFrame(records)
    return _covariate_dtypes(frame)


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


# ---- quantitation -----------------------------------------------------------------------------


def profile_columns(analytes: Sequence[str]) -> list[str]:
    """Column order of a profiles table holding ``analytes``."""
    return [PROFILE_ID, *COVARIATE_COLUMNS, *analytes, *PROFILE_EXTRA_COLUMNS]


def _intensity_concentrations(
    m: pd.DataFrame, method: Method, is_check: ISCheck
) -> tuple[pd.DataFrame, list[Finding], dict[str, int]]:
    """(well, analyte, conc_umol_l) from intensity / IS intensity x factor."""
    keys = ["well", "analyte"]
    intens = m[m["kind"].isin(_INTENSITY)]
    # area before height: keep the area where a well has both
    intens = intens.sort_values("kind").drop_duplicates(keys, keep="first")
    n_height = int((intens["kind"] == "height").sum())
    findings: list[Finding] = []
    known = intens["analyte"].isin(method.codes)
    if not known.all():
        absent = sorted(set(intens.loc[~known, "analyte"]))
        findings.append(Finding(
            step="intensities", severity="warning", code="analyte_not_in_method",
            message=f"method {method.name} has no entry for {', '.join(absent)}: their "
                    "intensities are not quantified",
            detail={"analytes": absent},
        ))
    intens = intens[known]
    factors = method.factors().set_index("analyte")["factor_umol_l"]
    is_values = is_check.table.set_index(keys)["is_value"]
    joined = intens[keys + ["value"]].join(is_values, on=keys)
    usable_is = joined["is_value"].where(joined["is_value"] > 0)
    joined["conc_umol_l"] = (joined["value"] / usable_is
                             * joined["analyte"].map(factors).astype(float))
    counts = {"intensity_pairs": len(joined), "height_used": n_height,
              "without_internal_standard": int(usable_is.isna().sum())}
    return joined[[*keys, "conc_umol_l"]], findings, counts


def _vendor_concentrations(m: pd.DataFrame) -> pd.DataFrame:
    rows = m[m["kind"] == "concentration"]
    return rows[["well", "analyte", "value"]].rename(columns={"value": "conc_umol_l"})


def _combine(
    computed: pd.DataFrame, vendor: pd.DataFrame, prefer: str
) -> tuple[pd.DataFrame, list[Finding], dict[str, Any]]:
    keys = ["well", "analyte"]
    both = computed.merge(vendor, on=keys, suffixes=("_method", "_vendor"))
    findings: list[Finding] = []
    counts: dict[str, Any] = {"method_values": len(computed), "vendor_values": len(vendor),
                              "both": len(both)}
    if len(both):
        rel = ((both["conc_umol_l_vendor"] - both["conc_umol_l_method"])
               / both["conc_umol_l_method"]).replace([np.inf, -np.inf], np.nan).abs()
        per_analyte = rel.groupby(both["analyte"]).median().dropna()
        counts["median_abs_rel_difference_vendor_vs_method"] = (
            float(rel.median()) if rel.notna().any() else None)
        far = per_analyte[per_analyte > 0.05]
        if len(far):
            findings.append(Finding(
                step="concentrations", severity="info", code="vendor_differs_from_method",
                message="vendor concentrations differ from the method's by a median of more "
                        "than 5% for " + ", ".join(f"{a} ({v:.0%})" for a, v in far.items()),
                detail={"median_abs_rel_difference": far.to_dict()},
            ))
    first, second = (computed, vendor) if prefer == "method" else (vendor, computed)
    first = first.assign(source="method" if prefer == "method" else "vendor")
    second = second.assign(source="vendor" if prefer == "method" else "method")
    combined = pd.concat([first, second], ignore_index=True)
    combined = combined.drop_duplicates(keys, keep="first")
    counts["vendor_passed_through"] = int((combined["source"] == "vendor").sum())
    return combined, findings, counts


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
        The plate's measurements (DESIGN §4.1), e.g. ``instruments.read(...).measurements``.
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
    m = validate_measurements(measurements, catalogue=catalogue)
    run_id, plate_id = str(m["run_id"].iloc[0]), str(m["plate_id"].iloc[0])
    steps: list[StepReport] = []
    kinds = m["kind"].value_counts().to_dict()
    validate_findings: list[Finding] = []
    if "response" in kinds:
        validate_findings.append(Finding(
            step="validate", severity="info", code="response_not_used",
            message=f"{kinds['response']} 'response' values are not used: the method needs "
                    "intensities with internal standards, or vendor concentrations",
        ))
    steps.append(StepReport(
        step="validate", description="check the measurements table (DESIGN §4.1)",
        parameters={"run_id": run_id, "plate_id": plate_id},
        counts={"rows": len(m), "wells": int(m["well"].nunique()),
                "analytes": int(m["analyte"].nunique()), "kinds": kinds},
        findings=tuple(validate_findings),
    ))

    is_check = check_internal_standards(m, rules=rules, method=method)
    steps.append(is_check.report)

    computed, findings, counts = _intensity_concentrations(m, method, is_check)
    steps.append(StepReport(
        step="intensities",
        description="conc_umol_l = intensity / IS intensity x IS concentration x response "
                    "factor",
        parameters={"method": method.label, "method_file": method.source_file},
        counts=counts, findings=tuple(findings),
    ))

    combined, findings, counts = _combine(computed, _vendor_concentrations(m), prefer)
    steps.append(StepReport(
        step="concentrations",
        description="vendor concentrations pass through where no intensity pair exists",
        parameters={"prefer": prefer}, counts=counts, findings=tuple(findings),
    ))

    concentrations = _concentration_table(
        m, combined, is_check, run_id, plate_id,
        {code: i for i, code in enumerate(catalogue.codes)})
    profiles, step = _profiles(concentrations, catalogue, card_data, plate_id)
    steps.append(step)
    return QuantResult(
        profiles=profiles,
        concentrations=concentrations,
        internal_standards=is_check.table,
        report=ProcessingReport(tuple(steps)),
        method=method,
        run_id=run_id,
        plate_id=plate_id,
    )


def _concentration_table(
    m: pd.DataFrame, combined: pd.DataFrame, is_check: ISCheck, run_id: str, plate_id: str,
    analyte_order: dict[str, int],
) -> pd.DataFrame:
    keys = ["well", "analyte"]
    wells = m.drop_duplicates("well").set_index("well")[["sample_id", "sample_type"]]
    table = combined.join(wells, on="well")
    status = is_check.table.set_index(keys)[["reportable", "reason"]]
    table = table.join(status, on=keys)
    table["reportable"] = table["reportable"].fillna(True).astype(bool)
    table["reason"] = table["reason"].fillna("").astype(object)
    no_value = table["conc_umol_l"].isna() & table["reportable"]
    table.loc[no_value, "reportable"] = False
    table.loc[no_value, "reason"] = "no value"
    table.loc[~table["reportable"], "conc_umol_l"] = np.nan
    table["run_id"] = run_id
    table["plate_id"] = plate_id
    order = {w: i for i, w in enumerate(m["well"].drop_duplicates())}
    table = table.assign(_w=table["well"].map(order), _a=table["analyte"].map(analyte_order))
    table = table.sort_values(["_w", "_a"])
    return table[list(CONCENTRATION_COLUMNS)].reset_index(drop=True)


def _profiles(
    conc: pd.DataFrame, catalogue: Catalogue, card_data: pd.DataFrame | str | Path | None,
    plate_id: str,
) -> tuple[pd.DataFrame, StepReport]:
    findings: list[Finding] = []
    patients = conc[conc["sample_type"] == "patient"]
    analytes = [c for c in catalogue.codes if c in set(conc["analyte"])]
    no_id = patients[patients["sample_id"] == ""]
    if len(no_id):
        raise DataError(f"patient well {no_id.iloc[0]['well']} has no sample_id: a profile "
                        "needs a specimen id (join a plate map)", field="sample_id")
    values = patients.pivot_table(index="sample_id", columns="analyte", values="conc_umol_l",
                                  aggfunc="mean", dropna=False)
    values = values.reindex(columns=analytes)
    wells = patients.drop_duplicates("well").groupby("sample_id", sort=False)["well"].agg(
        lambda w: "|".join(w))
    order = list(wells.index)
    replicated = wells[wells.str.contains("|", regex=False)]
    for specimen, ws in replicated.items():
        findings.append(Finding(
            step="profiles", severity="info", code="replicates_averaged",
            message=f"specimen {specimen} is in wells {ws.replace('|', ', ')}: the profile "
                    "holds the mean of its reportable values",
            well=ws.split("|")[0], detail={"specimen_id": specimen},
        ))
    bad = patients[~patients["reportable"]]
    # an analyte is not reportable for a specimen when no replicate has a reportable value
    ok_any = patients.groupby(["sample_id", "analyte"])["reportable"].any()
    bad = bad.join(ok_any.rename("any_ok"), on=["sample_id", "analyte"])
    bad = bad[~bad["any_ok"]].drop_duplicates(["sample_id", "analyte"])
    bad = bad.assign(note=bad["analyte"].astype(str) + ": " + bad["reason"].astype(str))
    notes = bad.groupby("sample_id", sort=False)["note"].agg("; ".join)
    profiles = values.reindex(order)
    profiles.index.name = PROFILE_ID
    profiles = profiles.reset_index()
    profiles[PROFILE_ID] = profiles[PROFILE_ID].astype("string")
    profiles["plate_id"] = plate_id
    profiles["wells"] = profiles[PROFILE_ID].map(wells)
    note_of = notes.to_dict()
    profiles["not_reportable"] = pd.array(
        [note_of.get(s, "") for s in profiles[PROFILE_ID]], dtype="string")

    card_counts: dict[str, Any] = {}
    if card_data is None:
        cards = _covariate_dtypes(pd.DataFrame({c: [] for c in (PROFILE_ID, *COVARIATE_COLUMNS)}))
        source = None
    elif isinstance(card_data, pd.DataFrame):
        cards, source = card_data, "DataFrame"
        missing = [c for c in (PROFILE_ID, *COVARIATE_COLUMNS) if c not in cards.columns]
        if missing:
            raise DataError(f"card data lack column(s) {', '.join(missing)}", field=missing[0])
        cards = _covariate_dtypes(cards[[PROFILE_ID, *COVARIATE_COLUMNS]])
    else:
        cards, source = read_card_data(card_data), str(card_data)
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
            findings.append(Finding(
                step="profiles", severity="warning", code="no_card_data",
                message=f"{len(without)} specimen(s) have no card data (covariates left empty): "
                        + ", ".join(without[:10]) + (" ..." if len(without) > 10 else ""),
                detail={"specimen_ids": without},
            ))
    profiles = profiles[profile_columns(analytes)]
    step = StepReport(
        step="profiles",
        description="one row per patient specimen (DESIGN §4.2), covariates joined from card "
                    "data by specimen_id",
        parameters={"card_data": source},
        counts={"specimens": len(profiles), "patient_wells": int(patients["well"].nunique()),
                "analytes": len(analytes),
                "specimens_with_not_reportable_values": int((profiles["not_reportable"] != "")
                                                            .sum()),
                **card_counts},
        findings=tuple(findings),
    )
    return profiles, step
