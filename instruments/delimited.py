"""Delimited text (CSV/TSV/semicolon) exports, wide or long, driven by a profile.

- **wide**: one row per well; the profile's ``[columns]`` name the well, sample id, sample type
  and plate columns; every other column (not in ``columns.ignore``) is an analyte, named by a
  catalogue code or alias or the profile's ``[analytes]`` table. A header ``Phe [is_area]``
  states the kind of its values explicitly; otherwise the kind is ``values.kind``.
- **long**: one row per well and analyte, with ``columns.analyte`` and ``columns.value`` (and
  optionally ``columns.kind`` and ``columns.unit``).

Cells: the profile's null tokens are empty values (reported), censored tokens (``<LOD``) and
``<number``/``>number`` follow ``values.censored`` (reported), ``decimal = ","`` reads decimal
commas; anything else that is not a number is an error naming line and column.

Without a profile, :func:`instruments.read` takes the packaged profile whose header fits
(:func:`~instruments.profile_choice.choose_profile`: long, wide, RUSP_RF).

Public names: ``FORMAT``, ``DEFAULT_PROFILE``, ``choose_profile``, ``detect``, ``parse``,
``read``, ``write``.
"""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Any

from instruments.errors import MalformedFileError, ProfileError, WriteError
from instruments.formats import FormatSpec, Rendering, register
from instruments.issues import READER_ERRORS, WARNINGS
from instruments.normalise import reader
from instruments.profile_choice import choose_profile, delimiter_for
from instruments.profiles import Profile, load_profile
from instruments.raw import COUNTS, RawRecord, RawRun, parse_number
from instruments.run import PlateRun
from instruments.sources import Source, decode_text, open_source, write_bytes
from instruments.wells import format_well
from msms import csvsafe
from msms.tables import MEASUREMENT_KINDS

__all__ = ["DEFAULT_PROFILE", "FORMAT", "choose_profile", "detect", "parse", "read", "write"]

FORMAT = "delimited"
DEFAULT_PROFILE = "generic_wide"
_KIND_SUFFIX = re.compile(r"^(.*?)\s*\[(\w+)\]\s*$")
_CENSORED_NUMBER = re.compile(r"^\s*([<>])\s*(.+?)\s*$")


def detect(source: Source) -> bool:
    """True for text whose first line splits into two or more fields on , ; tab or |."""
    if source.is_directory or not source.data or b"\x00" in source.data[:4096]:
        return False
    head = source.data[:4096]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = head.decode("cp1252", errors="strict")
    first = text.splitlines()[0] if text.splitlines() else ""
    if first.lstrip().startswith("<"):
        return False
    return any(len(first.split(d)) >= 2 for d in (",", ";", "\t", "|"))


def parse(source: Any, *, profile: Profile | str | None = None, name: str | None = None
          ) -> RawRun:
    """Parse a delimited export into raw records, as the profile describes it."""
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    src = open_source(source, name=name)
    text, encoding = decode_text(src, prof.encodings)
    raw = RawRun(format=FORMAT, source_file=src.name, run_id=src.stem, plate_id=src.stem)
    raw.metadata.update({"encoding": encoding, "profile": prof.name})
    lines = text.splitlines(keepends=True)
    if len(lines) <= prof.skip_rows:
        raise MalformedFileError(READER_ERRORS.text("no_header"), file=src.name, line=1)
    body = "".join(lines[prof.skip_rows:])
    delimiter = delimiter_for(lines[prof.skip_rows], prof)
    reader = csv.reader(io.StringIO(body), delimiter=delimiter, strict=True)
    offset = prof.skip_rows
    try:
        header = [h.strip() for h in next(reader)]
    except (csv.Error, StopIteration) as exc:
        raise MalformedFileError(f"cannot read the header: {exc}", file=src.name,
                                 line=offset + 1) from None
    header_line = offset + 1
    folded = {h.casefold(): i for i, h in enumerate(header) if h}
    if len(folded) != len([h for h in header if h]):
        dupes = sorted({h for h in header if h and header.count(h) > 1})
        raise MalformedFileError(READER_ERRORS.text("named_twice", columns=", ".join(dupes)),
                                 file=src.name,
                                 line=header_line, field=dupes[0] if dupes else None)
    roles: dict[str, int] = {}
    for role, column in prof.columns.items():
        index = folded.get(column.casefold())
        if index is None:
            if role in ("well",) and prof.well_from_row_order:
                continue
            if role in ("well", "analyte", "value"):
                raise ProfileError(READER_ERRORS.text(
                    "no_required_column", column=repr(column), setting=role,
                    header=", ".join(h for h in header if h)), file=src.name,
                    line=header_line, field=column)
            if role in ("sample_id", "sample_name") and prof.well_from_row_order:
                raise ProfileError(
                    f"the file has no column {column!r} (profile columns.{role}): rows placed "
                    f"by order (wells.from_row_order) need their sample ids", file=src.name,
                    line=header_line, field=column)
            code = ("no_column_sample_ids" if role == "sample_id"
                    and "sample_name" not in prof.columns else "no_column")
            raw.warn(WARNINGS.text(code, column=repr(column), role=role), line=header_line,
                     field=column)
            continue
        roles[role] = index
    if "well" not in roles and not prof.well_from_row_order:
        raise ProfileError("the profile names no well column (columns.well) and does not place "
                           "rows by order (wells.from_row_order)", file=prof.path,
                           field="columns.well")
    ignored = {c.casefold() for c in prof.ignore_columns}
    role_indexes = set(roles.values())
    analyte_cols: list[tuple[int, str, str]] = []
    if prof.layout == "wide":
        for i, h in enumerate(header):
            if i in role_indexes or not h or h.casefold() in ignored:
                continue
            match = _KIND_SUFFIX.match(h)
            compound, kind = (match.group(1), match.group(2)) if match else (h, prof.value_kind)
            if kind not in MEASUREMENT_KINDS:
                raw.error(f"kind {kind!r} in header {h!r} is not one of "
                          f"{', '.join(MEASUREMENT_KINDS)}", line=header_line, field=h)
                continue
            analyte_cols.append((i, compound, kind))
        if not analyte_cols:
            raw.error("no analyte columns", line=header_line)
    else:
        unmapped = [h for i, h in enumerate(header)
                    if h and i not in role_indexes and h.casefold() not in ignored]
        if unmapped:
            raw.error(f"unmapped column(s) {', '.join(unmapped)}: name them in the profile's "
                      f"[columns] or columns.ignore", line=header_line, field=unmapped[0])
    nulls = {t.strip().casefold() for t in prof.null_tokens}
    censored_tokens = {t.strip().casefold() for t in prof.censored_tokens}
    censored_seen: dict[str, list[int]] = {}
    plates: set[str] = set()
    row_number = 0
    by_order = prof.well_from_row_order

    def value_of(cell: str, line: int, field: str) -> float | None:
        token = cell.strip()
        if token.casefold() in nulls:
            return math.nan
        number = parse_number(token, decimal=prof.decimal)
        if number is not None:
            return number
        limit: float | None = None
        if token.casefold() in censored_tokens:
            pass
        else:
            match = _CENSORED_NUMBER.match(token)
            limit = parse_number(match.group(2), decimal=prof.decimal) if match else None
            if limit is None:
                raw.error(f"{token!r} is not a number", line=line, field=field)
                return None
        censored_seen.setdefault(f"{field}: {token}", []).append(line)
        if prof.censored == "zero":
            return 0.0
        if prof.censored in ("limit", "half-limit"):
            if limit is None:
                raw.error(f"{token!r} is censored without a number, and values.censored = "
                          f"{prof.censored!r} needs one", line=line, field=field)
                return None
            return limit if prof.censored == "limit" else limit / 2
        return math.nan

    width = len(header)
    i_id, i_name, i_type, i_plate, i_well, i_analyte, i_kind, i_value, i_unit = (
        roles.get(r) for r in ("sample_id", "sample_name", "sample_type", "plate_id", "well",
                               "analyte", "kind", "value", "unit"))
    id_field = prof.columns.get("sample_id") or prof.columns.get("sample_name")
    wide = prof.layout == "wide"
    wide_cols = [(i, compound, kind, header[i],
                  prof.value_unit if kind == "concentration" else COUNTS)
                 for i, compound, kind in analyte_cols]
    decimal = prof.decimal
    records = raw.records
    try:
        for row in reader:
            line = offset + reader.line_num
            if len(row) != width:
                if "".join(row).strip():
                    raw.error(f"has {len(row)} fields, the header has {width}", line=line)
                continue
            if not "".join(row).strip():
                continue
            row_number += 1
            s_id = row[i_id].strip() if i_id is not None else ""
            s_name = row[i_name].strip() if i_name is not None else ""
            if not (s_id or s_name) and by_order:
                # rows placed by order are told apart by their ids; a barcode from a plate map
                # is joined later (normalise), so an empty id is only an error here
                raw.error("row without a sample id (rows are placed on the plate by order: "
                          "wells.from_row_order)", line=line, field=id_field)
                continue
            plate = row[i_plate].strip() if i_plate is not None else ""
            if plate:
                plates.add(plate)
            position = row[i_well].strip() if i_well is not None else ""
            vendor_type = row[i_type].strip() if i_type is not None else ""
            s_name = s_name or s_id
            if wide:
                for index, compound, kind, field, unit in wide_cols:
                    cell = row[index].strip()
                    value = (parse_number(cell, decimal=decimal)
                             if cell.casefold() not in nulls else math.nan)
                    if value is None:
                        value = value_of(cell, line, field)
                        if value is None:
                            continue
                    records.append(RawRecord(compound, kind, value, unit, s_name, s_id,
                                             position, vendor_type, line, line, field, plate))
                continue
            compound = row[i_analyte].strip() if i_analyte is not None else ""
            if not compound:
                raw.error("row without an analyte", line=line, field=prof.columns["analyte"])
                continue
            kind = (row[i_kind].strip() if i_kind is not None else "") or prof.value_kind
            if kind not in MEASUREMENT_KINDS:
                raw.error(f"kind {kind!r} is not one of {', '.join(MEASUREMENT_KINDS)}",
                          line=line, field=prof.columns.get("kind"))
                continue
            value = value_of(row[i_value] if i_value is not None else "", line,
                             prof.columns["value"])
            if value is None:
                continue
            unit = (row[i_unit].strip() if i_unit is not None else "") or (
                prof.value_unit if kind == "concentration" else COUNTS)
            records.append(RawRecord(compound, kind, value, unit, s_name, s_id, position,
                                     vendor_type, line, line, prof.columns["value"], plate))
    except csv.Error as exc:
        raise MalformedFileError(f"bad CSV: {exc}", file=src.name,
                                 line=offset + reader.line_num) from None
    for where, lines_seen in censored_seen.items():
        raw.warn(WARNINGS.text("censored", value=repr(where.split(": ", 1)[1]),
                               n=len(lines_seen), read_as=prof.censored),
                 line=lines_seen[0], field=where.split(": ", 1)[0])
    if len(plates) > 1:
        raw.error(f"the file holds {len(plates)} plates ({', '.join(sorted(plates))}); "
                  f"give one plate per file", field=prof.columns.get("plate_id"))
    elif plates:
        raw.plate_id = plates.pop()
    if row_number == 0:
        raw.error("the file holds no data rows", line=header_line + 1)
    return raw


read = reader(parse, DEFAULT_PROFILE)


def _num(value: float, decimal: str) -> str:
    if math.isnan(value):
        return ""
    text = repr(float(value))
    return text.replace(".", ",") if decimal == "," else text


def write(run: PlateRun, dest: Any, *, profile: Profile | str | None = None,
          encoding: str = "utf-8") -> None:
    """Write a plate run as the profile lays it out (default ``generic_wide``).

    Wide files get one column per analyte for the profile's value kind and ``Code [kind]``
    columns for other kinds (``Phe [is_area]``).
    """
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    if prof.well_from_row_order:
        raise WriteError(f"profile {prof.name!r} places rows by order and cannot carry wells; "
                         f"use generic_wide or generic_long", field="profile")
    m = run.measurements
    if m.empty:
        raise WriteError("the run holds no measurements", file=str(dest))
    cols = prof.columns
    delimiter = "," if prof.delimiter == "auto" and prof.decimal == "." else (
        ";" if prof.delimiter == "auto" else prof.delimiter)
    fmt = prof.well_format if prof.well_format not in ("auto", "vial") else "A01"
    if prof.well_format == "vial":
        fmt = "vial"
    out = io.StringIO()
    writer = csvsafe.writer(out, delimiter=delimiter, lineterminator="\n")
    id_cols = [c for c in ("plate_id", "well", "sample_id", "sample_type") if c in cols]
    samples = m[["plate_id", "well", "sample_id", "sample_type"]].drop_duplicates()
    samples = samples.sort_values(["plate_id", "well"],
                                  key=lambda s: s.map(lambda w: (w[0], int(w[1:])))
                                  if s.name == "well" else s)

    def ident(s: Any, role: str) -> str:
        if role == "well":
            return format_well(s.well, fmt, plate_size=prof.plate_size)
        if role == "sample_type":
            return prof.vendor_sample_type(s.sample_type)
        return str(getattr(s, role))

    if prof.layout == "wide":
        keys = list(dict.fromkeys(zip(m["analyte"], m["kind"], strict=True)))
        headers = [a if k == prof.value_kind else f"{a} [{k}]" for a, k in keys]
        units = {k: u for k, u in zip(m["kind"], m["unit"], strict=True)}
        if units.get("concentration", "umol/L") != "umol/L":
            raise WriteError("concentrations must be in umol/L", field="unit")
        values = {(r.plate_id, r.well, r.analyte, r.kind): r.value for r in
                  m[["plate_id", "well", "analyte", "kind", "value"]].itertuples(index=False)}
        writer.writerow([cols[c] for c in id_cols] + headers)
        for s in samples.itertuples(index=False):
            row = [ident(s, c) for c in id_cols]
            row += [_num(values.get((s.plate_id, s.well, a, k), math.nan), prof.decimal)
                    for a, k in keys]
            writer.writerow(row)
    else:
        long_cols = [c for c in ("analyte", "kind", "value", "unit") if c in cols]
        writer.writerow([cols[c] for c in id_cols + long_cols])
        info = {(s.plate_id, s.well): s for s in samples.itertuples(index=False)}
        for r in m.itertuples(index=False):
            s = info[(r.plate_id, r.well)]
            row = [ident(s, c) for c in id_cols]
            extra = {"analyte": r.analyte, "kind": r.kind,
                     "value": _num(r.value, prof.decimal), "unit": r.unit}
            writer.writerow(row + [extra[c] for c in long_cols])
    data = out.getvalue().encode(encoding)
    write_bytes(dest, data)


register(FormatSpec(
    FORMAT, detect, read, write, DEFAULT_PROFILE, "CSV/TSV (wide or long) driven by a profile",
    detect_order=90, choose_profile=choose_profile,
    renderings=(Rendering("csv-wide", ".csv", {"profile": "generic_wide"}),
                Rendering("csv-long", ".csv", {"profile": "generic_long"})),
))
