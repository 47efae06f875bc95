"""Profiles tables (docs/architecture.md "Profiles") as the evaluation reads them: reading,
numeric columns, covariates.

Every problem is a :class:`~cutoffs.errors.CutoffError` naming the file (when known), the line
(header = line 1, so the first specimen is line 2) and the field.

Public names: ``read_profiles``, ``check_columns``, ``check_covariates``, ``numeric_column``,
``covariate_frame``, ``specimen_ids``, ``write_table``.
"""

from __future__ import annotations

import csv
import difflib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from msms import csvsafe
from msms.catalogue import default_catalogue
from msms.tables import COVARIATE_COLUMNS, PROFILE_ID, SEXES

__all__ = ["LINK_COLUMNS", "check_columns", "check_covariates", "covariate_frame",
           "numeric_column", "read_profiles", "specimen_ids", "write_table"]

_FLAGS = ("tpn", "transfused")


#: Columns naming other specimens or the baby: identifiers, read as text like ``specimen_id``
#: (a numeric-looking id keeps its leading zeros and links to the card it names).
LINK_COLUMNS = ("previous_specimen_id", "infant_id")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    except (ValueError, TypeError) as exc:
        raise CutoffError(f"not a readable Parquet table: {exc}", file=str(path)) from None
    if PROFILE_ID not in frame.columns:
        raise CutoffError("lacks the specimen_id column", file=str(path), field=PROFILE_ID)
    ids = frame[PROFILE_ID]
    blank = (ids.isna() | ids.astype("string").str.strip().eq("")).to_numpy(dtype=bool)
    if blank.any():
        raise CutoffError("is empty", file=str(path), line=int(np.flatnonzero(blank)[0]) + 2,
                          field=PROFILE_ID)
    frame[PROFILE_ID] = ids.astype(str)
    frame.attrs["source_file"] = str(path)
    return frame


def read_profiles(path: Path | str) -> pd.DataFrame:
    """Read a profiles table, CSV or Parquet (by the ``.parquet`` extension); every column is
    kept, ``specimen_id`` as text. Line numbers in later errors count a header line, as in a
    CSV file (row 1 is line 2).

    Raises
    ------
    CutoffError
        If the file cannot be read, is not UTF-8 CSV or Parquet, has no ``specimen_id`` column,
        repeats a column name, or a row has the wrong number of fields.
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), None)
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        raise CutoffError(f"not UTF-8 ({exc.reason})", file=str(path)) from None
    if not header:
        raise CutoffError("empty file", file=str(path), line=1)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise CutoffError(f"column {name!r} appears twice", file=str(path), line=1, field=name)
        seen.add(name)
    if PROFILE_ID not in header:
        raise CutoffError("header lacks the specimen_id column", file=str(path), line=1,
                          field=PROFILE_ID)
    try:
        frame = pd.read_csv(path, dtype={c: str for c in (PROFILE_ID, *LINK_COLUMNS)
                                         if c in header},
                            keep_default_na=True, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CutoffError(f"not UTF-8 ({exc.reason})", file=str(path)) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise CutoffError(f"not a well-formed CSV table: {exc}", file=str(path)) from None
    blank = frame[PROFILE_ID].isna().to_numpy()
    if blank.any():
        line = int(np.flatnonzero(blank)[0]) + 2
        raise CutoffError("is empty", file=str(path), line=line, field=PROFILE_ID)
    _check_last_row(path, len(header), len(frame) + 1)
    frame.attrs["source_file"] = str(path)
    return frame


def _check_last_row(path: Path, n_fields: int, line: int) -> None:
    """A file cut short ends in a row with fewer fields than the header, which the CSV reader
    fills with blanks: refuse it. Only the file's last row is read again (a quoted field in
    it, which could span lines, leaves it unchecked)."""
    with path.open("rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - (1 << 16)))
        tail = handle.read()
    last = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    if not last or b'"' in last:
        return
    fields = next(csv.reader([last.decode("utf-8", errors="replace")]), [])
    if 1 < len(fields) < n_fields or (len(fields) == 1 and n_fields > 1 and fields[0]):
        raise CutoffError(f"has {len(fields)} of the header's {n_fields} fields (the file may "
                          "be cut short)", file=str(path), line=line)


def check_columns(profiles: pd.DataFrame, needed: tuple[str, ...], *,
                  file: str | None = None) -> list[str]:
    """The analytes of ``needed`` (canonical codes the rules read) the table has no column for.

    A column that names a missing one another way is an error naming the column: a vendor
    alias or another case (``phe`` for ``Phe``), or a near miss (``C3x`` for ``C3``). The rules
    read canonical codes only, so such a column would leave every specimen's disorders that
    need it not evaluable without a word. Other columns are carried through, as the profiles
    contract says.
    """
    catalogue = default_catalogue()
    columns = [str(c) for c in profiles.columns]
    missing = [code for code in needed if code not in set(columns)]
    if not missing:
        return []
    for column in columns:
        code = catalogue.try_resolve(column)
        if code is not None and code != column and code in missing:
            raise CutoffError(f"names the analyte {code} another way: call the column {code}",
                              file=_file(profiles, file), line=1, field=column)
    known = set(catalogue.codes)
    for column in columns:
        if column in known or catalogue.try_resolve(column) is not None:
            continue
        folded = {code.casefold(): code for code in missing}
        close = difflib.get_close_matches(column.casefold(), list(folded), n=1, cutoff=0.75)
        if close:
            code = folded[close[0]]
            raise CutoffError(f"is not an analyte code; did you mean {code}? (the file has no "
                              f"{code} column)", file=_file(profiles, file), line=1,
                              field=column)
    return missing


def check_covariates(profiles: pd.DataFrame, *, file: str | None = None) -> list[str]:
    """The covariates (birth weight, gestational age, age at collection, sex, TPN,
    transfusion) the table has no column for.

    A column that names a missing one another way (``birthweight``, ``Birth Weight (g)``,
    ``gestational_age``) is an error naming the column: the strata and the scores would
    silently ignore it and every specimen would be evaluated as if its covariate were
    unknown.
    """
    columns = [str(c) for c in profiles.columns]
    missing = [c for c in COVARIATE_COLUMNS if c not in set(columns)]
    if not missing:
        return []
    catalogue = default_catalogue()
    known = {PROFILE_ID, *LINK_COLUMNS, *COVARIATE_COLUMNS}

    def folded(name: str) -> str:
        return re.sub(r"[^0-9a-z]", "", name.casefold())

    targets = {folded(c): c for c in missing}
    for column in columns:
        if column in known or catalogue.try_resolve(column) is not None:
            continue
        name = folded(column)
        close = [targets[name]] if name in targets else [
            targets[m] for m in difflib.get_close_matches(name, list(targets), n=1, cutoff=0.8)]
        if close:
            raise CutoffError(f"is not a covariate column; did you mean {close[0]}? (the file "
                              f"has no {close[0]} column)", file=_file(profiles, file), line=1,
                              field=column)
    return missing


def _file(profiles: pd.DataFrame, file: str | None) -> str | None:
    return file if file is not None else profiles.attrs.get("source_file")


def numeric_column(profiles: pd.DataFrame, column: str, *, file: str | None = None) -> np.ndarray:
    """One column as float64 (NaN for blanks); a value that is not a number is a CutoffError."""
    series = profiles[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float, na_value=np.nan)
    converted = pd.to_numeric(series, errors="coerce")
    text = series.astype("string").str.strip()
    present = (text.fillna("") != "").to_numpy(dtype=bool)
    bad = converted.isna().to_numpy() & present
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CutoffError(
            f"{series.iloc[row]!r} is not a number",
            file=_file(profiles, file), line=row + 2, field=column,
        )
    return converted.to_numpy(dtype=float, na_value=np.nan)


def covariate_frame(profiles: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """The covariates present (docs/architecture.md "Profiles"), validated: numbers,
    tpn/transfused 0|1, sex M|F|U.

    Missing columns are simply absent; blanks are NaN (``sex``: empty string).
    """
    out: dict[str, object] = {}
    for column in COVARIATE_COLUMNS:
        if column not in profiles.columns:
            continue
        if column == "sex":
            sex = profiles[column].astype("string").fillna("").str.strip().str.upper()
            bad = ~sex.isin(["", *SEXES])
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                raise CutoffError(
                    f"{profiles[column].iloc[row]!r} is not one of {', '.join(SEXES)}",
                    file=_file(profiles, file), line=row + 2, field=column,
                )
            out[column] = sex.to_numpy(dtype=object)
            continue
        values = numeric_column(profiles, column, file=file)
        if column in _FLAGS:
            bad = ~np.isnan(values) & (values != 0) & (values != 1)
        else:
            bad = ~np.isnan(values) & (~np.isfinite(values) | (values < 0))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            expected = "0 or 1" if column in _FLAGS else "a finite non-negative number"
            raise CutoffError(
                f"{values[row]!r} must be {expected}",
                file=_file(profiles, file), line=row + 2, field=column,
            )
        out[column] = values
    return pd.DataFrame(out, index=profiles.index)


def specimen_ids(profiles: pd.DataFrame, *, file: str | None = None) -> np.ndarray:
    """The specimen identifiers as an object array of strings (the column is required)."""
    if PROFILE_ID not in profiles.columns:
        raise CutoffError("the profiles lack the specimen_id column", file=_file(profiles, file),
                          field=PROFILE_ID)
    ids = profiles[PROFILE_ID]
    missing = ids.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise CutoffError("is empty", file=_file(profiles, file), line=row + 2, field=PROFILE_ID)
    return ids.astype(str).to_numpy(dtype=object)


def write_table(frame: pd.DataFrame, path: Path | str) -> None:
    """Write a table as Parquet (``.parquet``) or CSV (any other name; missing numbers empty,
    six significant digits, formula-like text neutralised: ``msms.csvsafe``)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            csvsafe.frame_to_csv(frame, path, lineterminator="\n", float_format="%.6g")
    except OSError as exc:
        raise CutoffError(f"cannot write: {exc.strerror}", file=str(path)) from None
