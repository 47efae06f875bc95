"""Waters MassLynx / TargetLynx text reports: "Quantify Compound Summary Report" (a block per
compound, a row per sample) and "Quantify Sample Summary Report" (a block per sample, a row per
compound).

The files are tab-separated with CRLF line ends, often with trailing tabs on every line, in
UTF-8 or Windows-1252 (``µ``, ``º``), with dates in the PC's locale (``17-sept-19``), vial
positions ``tray:row,column`` (``1:A,3``) and rows in any order. Which columns hold values is the
profile's ``[values.columns]`` table (default profile ``masslynx``: ``Area``, ``Height``,
``IS Area``, ``Conc.``, ``uM``); other columns are read into nothing and reported once (info).

Public names: ``FORMAT``, ``detect``, ``parse``, ``read``, ``write``, ``REPORT_TYPES``.
"""

from __future__ import annotations

import io
import math
import re
from datetime import datetime
from typing import Any

from instruments.dates import iso, parse_datetime
from instruments.errors import MalformedFileError, WriteError
from instruments.formats import FormatSpec, Rendering, register
from instruments.issues import WARNINGS
from instruments.normalise import reader
from instruments.profiles import Profile, load_profile
from instruments.raw import COUNTS, RawRecord, RawRun, parse_number
from instruments.run import PlateRun
from instruments.sources import Source, decode_text, open_source, write_bytes
from instruments.wells import format_well

__all__ = ["FORMAT", "REPORT_TYPES", "detect", "parse", "read", "write"]

FORMAT = "masslynx"
DEFAULT_PROFILE = "masslynx"
REPORT_TYPES = {"compound": "Quantify Compound Summary Report",
                "sample": "Quantify Sample Summary Report"}
_COMPOUND = re.compile(r"^Compound\s+(\d+):\s*(.*?)\s*$")
_SAMPLE = re.compile(r"^Sample Name:\s*(.*?)\s+Sample ID:\s*(.*?)\s*$")
_PLATE_WELL = re.compile(r"^(.+)_([A-P]\d{2})$")
_PRINTED = re.compile(r"^Printed\s+(.*?)\s*$")
_CONC_UNITS = {"um": "umol/L", "µm": "umol/L", "umol/l": "umol/L", "µmol/l": "umol/L"}
_KIND_HEADERS = {"area": "Area", "height": "Height", "is_area": "IS Area",
                 "concentration": "Conc.", "response": "Response"}


def _first_line(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip().strip("\t").strip()
        if stripped:
            return stripped
    return ""


def detect(source: Source) -> bool:
    """True when the bytes start like a Quantify summary report."""
    head = source.data[:4096]
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = head.decode("cp1252", errors="replace")
    first = _first_line(text)
    return any(first.startswith(title) for title in REPORT_TYPES.values())


def _cells(line: str) -> list[str]:
    return line.split("\t")


def parse(source: Any, *, profile: Profile | str | None = None, name: str | None = None
          ) -> RawRun:
    """Parse a Compound or Sample Summary Report into raw records (no names mapped).

    Raises :class:`MalformedFileError` when the text is not such a report.
    """
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    src = open_source(source, name=name)
    text, encoding = decode_text(src, prof.encodings)
    lines = text.splitlines()
    first = _first_line(text)
    report = next((k for k, title in REPORT_TYPES.items() if first.startswith(title)), None)
    if report is None:
        raise MalformedFileError(
            "not a MassLynx Quantify Compound or Sample Summary Report (the first line should "
            "name the report)", file=src.name, line=1)
    raw = RawRun(format=FORMAT, source_file=src.name, run_id=src.stem, plate_id=src.stem)
    raw.metadata.update({"report": REPORT_TYPES[report], "encoding": encoding})
    value_columns = prof.value_columns or {h: k for k, h in _KIND_HEADERS.items()}
    header: list[str] | None = None
    block: str | None = None
    block_line = 0
    sample_name, sample_id = "", ""
    block_rows: list[tuple[int, list[str]]] = []
    unused: set[str] = set()
    acquired: list[datetime] = []
    names: dict[str, None] = {}  # sample names with a value, in order of appearance

    def flush() -> None:
        if header is not None and block is not None:
            _emit(raw, report, header, block, block_line, block_rows, value_columns, prof,
                  sample_name, sample_id, unused, acquired, names)
        block_rows.clear()

    for number, line in enumerate(lines, start=1):
        stripped = line.strip().strip("\t").strip()
        if not stripped:
            continue
        if number == 1 or stripped.startswith(REPORT_TYPES[report]):
            continue
        printed = _PRINTED.match(stripped)
        if printed and block is None:
            moment = parse_datetime(printed.group(1))
            raw.metadata["printed_at"] = iso(moment) if moment else printed.group(1)
            continue
        match = _COMPOUND.match(stripped) if report == "compound" else _SAMPLE.match(stripped)
        if match:
            flush()
            header = None
            block_line = number
            if report == "compound":
                block = match.group(2)
                if not block:
                    raw.error("compound block without a name", line=number, field="compound")
            else:
                block = match.group(1)
                sample_name, sample_id = match.group(1), match.group(2)
            continue
        cells = _cells(line)
        if block is None:
            raw.error(f"unexpected text before the first {report} block: {stripped[:40]!r}",
                      line=number)
            continue
        if header is None:
            if len(cells) > 1 and cells[0].strip() == "" and "Name" in [c.strip() for c in cells]:
                header = [c.strip() for c in cells]
                while header and header[-1] == "":
                    header.pop()
            else:
                raw.error(f"expected the column header line of {block!r}", line=number)
            continue
        block_rows.append((number, cells))
    flush()
    if not raw.records and not any(i.severity == "error" for i in raw.issues):
        raw.error("the report holds no data rows")
    if unused:
        unread = sorted(unused)
        more = f" and {len(unread) - 12} more" if len(unread) > 12 else ""
        raw.info(f"{len(unread)} column(s) not read: {', '.join(unread[:12])}{more}",
                 field="columns")
    if acquired:
        raw.metadata["acquired_at"] = iso(min(acquired))
        raw.metadata["acquired_until"] = iso(max(acquired))
    prefixes = {m.group(1) for m in (_PLATE_WELL.match(n) for n in names) if m}
    if len(prefixes) == 1 and all(_PLATE_WELL.match(n) for n in names):
        raw.plate_id = raw.run_id = prefixes.pop()
        raw.info(f"plate id {raw.plate_id!r} taken from the sample names (<plate>_<well>)",
                 field="Name")
    raw.metadata["compounds"] = str(len(dict.fromkeys(r.compound for r in raw.records)))
    raw.metadata["samples"] = str(len(names))
    return raw


def _emit(raw: RawRun, report: str, header: list[str], block: str, block_line: int,
          rows: list[tuple[int, list[str]]], value_columns: dict[str, str], prof: Profile,
          sample_name: str, sample_id: str, unused: set[str], acquired: list[datetime],
          names: dict[str, None]) -> None:
    index = {h: i for i, h in enumerate(header) if h}
    if "Name" not in index:
        raw.error("the header has no 'Name' column", line=block_line + 1)
        return
    present = [h for h in value_columns if h in index]
    unused.update(h for h in index if h not in value_columns and h not in (
        "Name", "Vial", "Type", "ID", "Acq.Date", "Acq.Time", "#"))
    # a value column that is empty in every row of a block was not calculated: skip it
    # (intensities stay: an empty Area everywhere is a compound never detected)
    filled = {h for h in present
              if value_columns[h] in ("area", "height")
              or any(index[h] < len(c) and c[index[h]].strip() for _, c in rows)}
    width = len(header)
    # the columns each row needs, by position ("" when the report has no such column)
    where = [index.get(h) for h in ("Name", "ID", "Vial", "Type", "Acq.Date", "Acq.Time")]
    i_name, i_id, i_vial, i_type, i_date, i_time = (i if i is not None else width
                                                    for i in where)
    values_at = [(column, index[column], value_columns[column],
                  _CONC_UNITS.get(column.casefold(), prof.value_unit)
                  if value_columns[column] == "concentration" else COUNTS)
                 for column in present if column in filled]
    decimal = prof.decimal
    records = raw.records
    for number, cells in rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            raw.error(f"has {len(cells)} fields, the header has {width}", line=number)
            continue
        if len(cells) <= width:
            cells = cells + [""] * (width + 1 - len(cells))
        name, s_id, vial = cells[i_name].strip(), cells[i_id].strip(), cells[i_vial].strip()
        vendor_type, day = cells[i_type].strip(), cells[i_date].strip()
        if report == "compound":
            compound, s_name = block, name
        else:
            compound, s_name, s_id = name, sample_name, sample_id or s_id
        if not compound:
            raw.error("row without a compound name", line=number, field="Name")
            continue
        if not s_name:
            raw.error("row without a sample name", line=number, field="Name")
            continue
        if day:
            moment = parse_datetime(day, cells[i_time].strip())
            if moment is not None:
                acquired.append(moment)
            else:
                raw.warn(WARNINGS.text("acquisition_date", day=repr(day)), line=number,
                         field="Acq.Date")
        for column, i, kind, unit in values_at:
            text = cells[i].strip()
            if text == "":
                value = math.nan
            else:
                parsed = parse_number(text, decimal=decimal)
                if parsed is None:
                    raw.error(f"{text!r} is not a number", line=number, field=column)
                    continue
                value = parsed
            records.append(RawRecord(compound, kind, value, unit, s_name, s_id, vial,
                                     vendor_type, number, number, column))
        names[s_name] = None


read = reader(parse, DEFAULT_PROFILE)


def _num(value: float) -> str:
    return "" if math.isnan(value) else repr(float(value))


def write(run: PlateRun, dest: Any, *, report: str = "compound",
          profile: Profile | str | None = None, encoding: str = "utf-8",
          printed_at: datetime | None = None) -> None:
    """Write a plate run as a Compound (default) or Sample Summary Report.

    One column per measurement kind present (``Area``, ``Height``, ``IS Area``, ``Conc.``,
    ``Response``); positions as vials ``1:A,3``; sample types through the profile's
    ``[sample_types]`` table; values with full precision (read back exactly).
    """
    if report not in REPORT_TYPES:
        raise WriteError(f"report must be one of {', '.join(REPORT_TYPES)}", field="report")
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    m = run.measurements
    if m.empty:
        raise WriteError("the run holds no measurements", file=str(dest))
    kinds = [k for k in _KIND_HEADERS if k in set(m["kind"])]
    analytes = list(dict.fromkeys(m["analyte"]))
    samples = m[["plate_id", "well", "sample_id", "sample_type"]].drop_duplicates()
    if samples["well"].duplicated().any():
        raise WriteError("a MassLynx report holds one plate: wells repeat across plates",
                         file=str(dest))
    samples = samples.sort_values("well", key=lambda s: s.map(lambda w: (w[0], int(w[1:]))))
    values = {(r.well, r.analyte, r.kind): r.value
              for r in m[["well", "analyte", "kind", "value"]].itertuples(index=False)}
    stamp = (printed_at or datetime(2000, 1, 1)).strftime("%a %b %d %H:%M:%S %Y")
    acq = run.metadata.get("acquired_at", "")
    acq_date, acq_time = "", ""
    if acq:
        try:
            moment = datetime.fromisoformat(acq)
            acq_date, acq_time = moment.strftime("%d-%b-%y"), moment.strftime("%H:%M:%S")
        except ValueError:
            pass
    out = io.StringIO()
    nl = "\r\n"
    out.write(f"{REPORT_TYPES[report]} {nl}{nl}Printed {stamp}{nl}{nl}")
    kind_headers = [_KIND_HEADERS[k] for k in kinds]
    if report == "compound":
        header = ["", "Name", "ID", "Type", "Vial", "Acq.Date", "Acq.Time", *kind_headers]
        for n, analyte in enumerate(analytes, start=1):
            out.write(f"Compound {n}:  {analyte}{nl}{nl}")
            out.write("\t".join(header) + nl)
            for i, s in enumerate(samples.itertuples(index=False), start=1):
                cells = [values.get((s.well, analyte, k), math.nan) for k in kinds]
                if not any((s.well, analyte, k) in values for k in kinds):
                    continue
                row = [str(i), f"{s.plate_id}_{s.well}", s.sample_id,
                       prof.vendor_sample_type(s.sample_type), format_well(s.well, "vial"),
                       acq_date, acq_time]
                row += [_num(v) for v in cells]
                out.write("\t".join(row) + nl)
            out.write(nl)
    else:
        header = ["", "#", "Name", "Vial", "Type", *kind_headers]
        for s in samples.itertuples(index=False):
            out.write(f"Sample Name: {s.plate_id}_{s.well}   Sample ID: {s.sample_id}{nl}{nl}")
            out.write("\t".join(header) + nl)
            for n, analyte in enumerate(analytes, start=1):
                if not any((s.well, analyte, k) in values for k in kinds):
                    continue
                row = [str(n), str(n), analyte, format_well(s.well, "vial"),
                       prof.vendor_sample_type(s.sample_type)]
                row += [_num(values.get((s.well, analyte, k), math.nan)) for k in kinds]
                out.write("\t".join(row) + nl)
            out.write(nl)
    data = out.getvalue().encode(encoding)
    write_bytes(dest, data)


register(FormatSpec(
    FORMAT, detect, read, write, DEFAULT_PROFILE,
    "MassLynx Quantify Compound/Sample Summary Report (text)", detect_order=30,
    renderings=(Rendering("masslynx", ".txt", {"report": "compound"}),
                Rendering("masslynx-sample", ".txt", {"report": "sample"})),
))
