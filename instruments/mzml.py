"""mzML plates read with pyteomics: FIA-MS/MS SRM chromatograms and precursor-ion /
neutral-loss scan spectra, matched to a transition table by m/z, averaged over the flow-injection
plateau.

**What a plate is in mzML.** Instruments write one mzML per injection, so a plate is a
directory or a ``.zip`` holding one mzML file per well plus ``samples.csv`` with the columns
``file, well, sample_id, sample_type`` (optionally ``plate_id``). A single mzML file is one
injection (one well). Without ``samples.csv`` an injection's well comes from a plate map with a
``file`` column (the same columns), else from the run id written ``<plate>_<well>``
(``PLATE0001_A01``), with the sample id from the mzML ``sampleList`` or the run id.

**Matching.** A chromatogram with a precursor and a product isolation target (SRM, MS:1001473, or
a selected-ion chromatogram with a product) is matched to the transition whose Q1 and Q3 are both
within ``mzml.mz_tolerance`` and whose polarity agrees (polarity from the chromatogram's
MS:1000130/MS:1000129; when absent a warning, or an error with ``mzml.require_polarity``).
Chromatogram ids are never read for meaning. Precursor-ion spectra (MS:1000341) match the
transitions whose Q3 is the scan's product m/z, neutral-loss spectra (MS:1000326 with
MS:1000336) those whose Q1 - Q3 is the loss; each transition's intensity in a scan is the highest
point within the tolerance (at least half the spectrum's point spacing) of its Q1.

**Plateau.** Time arrays are read in the unit the file states (second, minute, millisecond,
hour) and converted to minutes. The plateau is the contiguous run of points around the maximum of
the summed matched signal that stays at or above ``mzml.plateau_fraction`` of the way from its
minimum to its maximum (or the fixed window ``mzml.plateau_window_min``); each transition's value
(kind ``area``, or ``is_area`` for an internal standard) is its mean intensity over the plateau.

**Binary arrays** are decoded by cvParam accession, never by name: zlib, MS-Numpress linear,
positive-integer and short-logged-float (with or without zlib) are decoded; other compressions
are rejected with :class:`~instruments.errors.UnsupportedEncodingError`. A name that disagrees
with the PSI-MS vocabulary for its accession is reported as a warning. Each injection is read by
:class:`~instruments.mzml_elements.InjectionReader` (pyteomics over one lxml tree); the writer is
:mod:`instruments.mzml_writer`.

Public names: ``FORMAT``, ``DEFAULT_PROFILE``, ``SAMPLE_LIST``, ``detect``, ``parse``, ``read``,
``write``, ``plateau_mask``.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from lxml import etree

from instruments.archive import ArchiveLimits, PlateFiles, open_plate_files
from instruments.errors import InstrumentError, MalformedFileError
from instruments.formats import FormatSpec, Rendering, register
from instruments.issues import WARNINGS
from instruments.mzml_writer import DEFAULT_PROFILE, SAMPLE_LIST, write
from instruments.normalise import normalise
from instruments.platemap import PlateMap
from instruments.profiles import Profile, load_profile
from instruments.raw import COUNTS, RawRecord, RawRun
from instruments.run import PlateRun
from instruments.sources import Source, open_source
from instruments.transitions import Transition, TransitionTable, load_transitions
from msms.catalogue import Catalogue

__all__ = ["DEFAULT_PROFILE", "FORMAT", "SAMPLE_LIST", "detect", "parse", "plateau_mask",
           "read", "write"]

FORMAT = "mzml"

_RUN_ID = re.compile(rb"<run\b[^>]*?\bid=\"([^\"]*)\"")
_SAMPLE_NAME = re.compile(rb"<sample\b[^>]*?\bname=\"([^\"]*)\"")
_WELL_SUFFIX = re.compile(r"^(.*?)[_\-.]([A-Pa-p]\d{1,2})$")


# ------------------------------------------------------------------------ one injection ---

@dataclass
class _Trace:
    """A chromatogram or a per-transition series from scan spectra."""

    label: str
    index: int
    transition: Transition
    times_min: np.ndarray
    intensity: np.ndarray


@dataclass
class _Injection:
    name: str
    run_id: str
    sample_name: str
    traces: list[_Trace] = field(default_factory=list)
    tic: tuple[np.ndarray, np.ndarray] | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _has(item: dict, accession: str) -> bool:
    return accession in item["acc"]


def _polarity(item: dict) -> str | None:
    if _has(item, "MS:1000130"):
        return "+"
    if _has(item, "MS:1000129"):
        return "-"
    return None


def _times(item: dict, label: str, raw: RawRun, where: str, index: int) -> np.ndarray | None:
    times = item.get("time array")
    if times is None:
        raw.error(f"chromatogram {label!r} has no time array", file=where, line=index,
                  field="time array")
        return None
    from instruments.mzml_elements import TIME_TO_MIN

    unit = item.get("time array unit")
    factor = TIME_TO_MIN.get(unit or "")
    if factor is None:
        raw.warn(WARNINGS.text("time_unit", label=repr(label), unit=repr(unit)), file=where,
                 line=index, field="time array")
        factor = 1.0
    return times if factor == 1.0 else times * factor


def _parse_injection(data: bytes, where: str, raw: RawRun, table: TransitionTable,
                     prof: Profile) -> _Injection:
    if b"<mzML" not in data[:4096]:
        raise MalformedFileError("not an mzML document (no <mzML> element)", file=where, line=1)
    run_match = _RUN_ID.search(data)
    sample_match = _SAMPLE_NAME.search(data[: run_match.start()] if run_match else data)
    run_id = run_match.group(1).decode("utf-8", "replace") if run_match else ""
    sample_name = sample_match.group(1).decode("utf-8", "replace") if sample_match else ""
    injection = _Injection(where, run_id, sample_name)
    # pyteomics and psims (2 s of imports) load with the first mzML read, not with the package
    from instruments.mzml_elements import InjectionReader

    tol = prof.mz_tolerance
    reader = None
    try:
        reader = InjectionReader(data)
        chroms = reader.elements("chromatogram")
        spectra = reader.elements("spectrum")
    except InstrumentError as exc:
        raise type(exc)(exc.reason, file=where, line=exc.line, field=exc.field) from None
    except etree.XMLSyntaxError as exc:
        raise MalformedFileError(f"not well-formed XML: {exc.msg}", file=where,
                                 line=exc.lineno) from None
    finally:
        if reader is not None:
            notes = reader.array_notes
            reader.close()
    for note in dict.fromkeys(notes):
        raw.warn(note, file=where, field="binaryDataArray")
    matched: dict[str, str] = {}
    injection.counts = {"chromatograms": len(chroms), "spectra": len(spectra)}
    for number, item in enumerate(chroms, start=1):
        label = str(item.get("id", f"#{number}"))
        if _has(item, "MS:1000235"):
            times = _times(item, label, raw, where, number)
            if times is not None and "intensity array" in item:
                injection.tic = (times, np.asarray(item["intensity array"], dtype=np.float64))
            continue
        q1, q3 = item["precursor"], item["product"]
        if q1 is None or q3 is None:
            raw.info(f"chromatogram {label!r} has no precursor/product m/z; not read",
                     file=where, line=number, field="chromatogram")
            continue
        polarity = _polarity(item)
        if polarity is None:
            if prof.require_polarity:
                raw.error(f"chromatogram {label!r} states no polarity", file=where,
                          line=number, field="polarity")
                continue
            raw.warn(WARNINGS.text("no_polarity", label=repr(label)),
                     file=where, line=number, field="polarity")
        transition = table.match(q1, q3, polarity, tol)
        if transition is None:
            raw.info(f"chromatogram {label!r} (Q1={q1:g}, Q3={q3:g}, polarity "
                     f"{polarity or '?'}) matches no transition of {table.name}; not read",
                     file=where, line=number, field="chromatogram")
            continue
        if transition.name in matched:
            raw.error(f"chromatograms {matched[transition.name]!r} and {label!r} both match "
                      f"transition {transition.name}", file=where, line=number,
                      field="chromatogram")
            continue
        times = _times(item, label, raw, where, number)
        intensity = item.get("intensity array")
        if times is None or intensity is None:
            continue
        if len(times) != len(intensity) or len(times) == 0:
            raw.error(f"chromatogram {label!r} has {len(times)} times and {len(intensity)} "
                      f"intensities", file=where, line=number, field="intensity array")
            continue
        matched[transition.name] = label
        injection.traces.append(_Trace(label, number, transition, times,
                                       np.asarray(intensity, dtype=np.float64)))
    _scan_traces(spectra, injection, raw, where, table, prof, matched)
    return injection


def _scan_traces(spectra: list[dict], injection: _Injection, raw: RawRun, where: str,
                 table: TransitionTable, prof: Profile, matched: dict[str, str]) -> None:
    """Turn precursor-ion / neutral-loss scans into one series per matched transition."""
    groups: dict[tuple[str, float], list[tuple[int, dict]]] = {}
    for number, spec in enumerate(spectra, start=1):
        if _has(spec, "MS:1000341"):
            product = spec["product"]
            if product is None:
                raw.error("precursor ion spectrum without a product m/z", file=where,
                          line=number, field="productList")
                continue
            groups.setdefault(("precursor", round(product, 4)), []).append((number, spec))
        elif _has(spec, "MS:1000326"):
            loss_mz = spec["neutral_loss"]
            if loss_mz is None:
                raw.error("neutral loss spectrum without a 'neutral loss' (MS:1000336) value",
                          file=where, line=number, field="neutral loss")
                continue
            groups.setdefault(("loss", round(loss_mz, 4)), []).append((number, spec))
        else:
            raw.info(f"spectrum {spec.get('id', number)!r} is neither a precursor-ion nor a "
                     f"neutral-loss scan; not read", file=where, line=number, field="spectrum")
    tol = prof.mz_tolerance
    for (mode, mz), scans in groups.items():
        times, mzs, ints = [], [], []
        for number, spec in scans:
            t = spec["scan_time_min"]
            if t is None:
                raw.error("scan without a 'scan start time' in a known time unit", file=where,
                          line=number, field="scan start time")
                return
            times.append(t)
            mzs.append(np.asarray(spec.get("m/z array", []), dtype=np.float64))
            ints.append(np.asarray(spec.get("intensity array", []), dtype=np.float64))
        polarity = _polarity(scans[0][1])
        lo = min((a.min() for a in mzs if a.size), default=math.inf)
        hi = max((a.max() for a in mzs if a.size), default=-math.inf)
        candidates = [t for t in table.transitions
                      if (polarity is None or t.polarity == polarity) and lo - tol <= t.precursor_mz
                      <= hi + tol and (abs(t.product_mz - mz) <= tol if mode == "precursor"
                                       else abs(t.neutral_loss - mz) <= tol)]
        order = np.argsort(times)
        for t in candidates:
            if t.name in matched:
                raw.error(f"transition {t.name} is measured twice ({matched[t.name]!r} and a "
                          f"{mode} scan)", file=where, field="spectrum")
                continue
            series = []
            for i in order:
                a, y = mzs[i], ints[i]
                spacing = float(np.median(np.diff(a))) if a.size > 1 else 0.0
                window = max(tol, spacing / 2)
                hit = np.abs(a - t.precursor_mz) <= window
                series.append(float(y[hit].max()) if hit.any() else math.nan)
            if all(math.isnan(v) for v in series):
                raw.warn(WARNINGS.text(f"no_point_{mode}", tolerance=tol, transition=t.name,
                                       mz=f"{t.precursor_mz:g}", scan_mz=f"{mz:g}"),
                         file=where, field="m/z array")
            matched[t.name] = f"{mode} {mz:g}"
            injection.traces.append(_Trace(
                f"{mode} scan {mz:g}", scans[0][0], t, np.asarray(times)[order],
                np.asarray(series, dtype=np.float64)))
        if not candidates:
            raw.info(f"{mode} scans at {mz:g} match no transition of {table.name}", file=where,
                     field="spectrum")


def plateau_mask(times_min: np.ndarray, signal: np.ndarray, *, fraction: float = 0.5,
                 window_min: tuple[float, float] | None = None) -> np.ndarray:
    """Boolean mask of the flow-injection plateau points.

    With ``window_min`` the points inside that time window; otherwise the contiguous points
    around the maximum whose signal is at least ``min + fraction * (max - min)``.
    """
    if window_min is not None:
        return (times_min >= window_min[0]) & (times_min <= window_min[1])
    finite = np.where(np.isfinite(signal), signal, -np.inf)
    peak = int(np.argmax(finite))
    lo, hi = float(np.nanmin(signal)), float(np.nanmax(signal))
    if not hi > lo:
        return np.isfinite(signal)
    threshold = lo + fraction * (hi - lo)
    above = finite >= threshold
    start = peak
    while start > 0 and above[start - 1]:
        start -= 1
    end = peak
    while end < len(above) - 1 and above[end + 1]:
        end += 1
    mask = np.zeros(len(signal), dtype=bool)
    mask[start:end + 1] = True
    return mask


def _plateau_values(injection: _Injection, raw: RawRun, prof: Profile) -> dict[str, float]:
    """Mean intensity over the plateau per transition name (NaN points left out).

    Traces on the injection's common time axis (the usual case: every chromatogram of an FIA
    injection shares one time array) are summed and averaged as one matrix; any other trace is
    interpolated onto the axis for the sum and averaged over its own points in the plateau.
    """
    values: dict[str, float] = {}
    traces = injection.traces
    if not traces:
        return values
    axis = max(traces, key=lambda t: len(t.times_min)).times_min
    on_axis = [t for t in traces if t.times_min is axis or (
        len(t.times_min) == len(axis) and np.array_equal(t.times_min, axis))]
    others = [t for t in traces if not any(t is o for o in on_axis)] if len(on_axis) < len(
        traces) else []
    stack = np.vstack([t.intensity for t in on_axis])
    finite = np.isfinite(stack)
    total = np.where(finite, stack, 0.0).sum(axis=0)
    for trace in others:
        y = np.where(np.isfinite(trace.intensity), trace.intensity, 0.0)
        total += np.interp(axis, trace.times_min, y)
    mask = plateau_mask(axis, total, fraction=prof.plateau_fraction,
                        window_min=prof.plateau_window_min)
    if not mask.any():
        raw.error("no data points in the plateau window", file=injection.name,
                  field="mzml.plateau_window_min")
        return values
    start, end = float(axis[mask].min()), float(axis[mask].max())
    raw.metadata.setdefault("plateau_min", f"{start:.4g}-{end:.4g}")
    inside = (axis >= start) & (axis <= end)
    counts = finite[:, inside].sum(axis=1)
    sums = np.where(finite[:, inside], stack[:, inside], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), math.nan)
    for trace, mean in zip(on_axis, means.tolist(), strict=True):
        values[trace.transition.name] = mean
    for trace in others:
        points = trace.intensity[(trace.times_min >= start) & (trace.times_min <= end)]
        points = points[np.isfinite(points)]
        values[trace.transition.name] = float(points.mean()) if points.size else math.nan
    return values


# ---------------------------------------------------------------------------- plates ---

def detect(source: Source) -> bool:
    """An mzML file, a directory or .zip holding mzML files."""
    if source.is_directory:
        assert source.path is not None
        return any(p.suffix.lower() == ".mzml" for p in source.path.iterdir())
    if source.data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(source.data)) as archive:
                return any(n.lower().endswith(".mzml") for n in archive.namelist())
        except zipfile.BadZipFile:
            return False
    head = source.data[:4096]
    return b"<mzML" in head or b"<indexedmzML" in head


def _sample_list(text: str, where: str, raw: RawRun) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip() for f in (reader.fieldnames or [])]
    for needed in ("file", "well"):
        if needed not in fields:
            raise MalformedFileError(f"the sample list lacks a {needed!r} column", file=where,
                                     line=1, field=needed)
    rows: dict[str, dict[str, str]] = {}
    for number, row in enumerate(reader, start=2):
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not clean.get("file"):
            raw.error("row without a file name", file=where, line=number, field="file")
            continue
        if clean["file"] in rows:
            raw.error(f"file {clean['file']!r} listed twice", file=where, line=number,
                      field="file")
            continue
        clean["line"] = str(number)
        rows[clean["file"]] = clean
    return rows


def _map_rows(plate_map: PlateMap) -> dict[str, dict[str, str]]:
    """A plate map's ``file`` column as sample-list rows (file -> well, id, type, plate)."""
    return {name: {"file": name, "well": e.well, "sample_id": e.sample_id,
                   "sample_type": e.sample_type, "plate_id": e.plate_id, "line": str(e.line)}
            for name, e in plate_map.by_file().items()}


def parse(source: Any, *, profile: Profile | str | None = None, name: str | None = None,
          transitions: TransitionTable | str | Path | None = None,
          plate_map: PlateMap | None = None, limits: ArchiveLimits | None = None) -> RawRun:
    """Parse an mzML plate (directory, .zip) or one mzML file into raw records.

    Each injection's well comes from the plate's ``samples.csv``, else from a plate map that
    names files (its ``file`` column), else from a run id ``<plate>_<well>``. A directory or
    zip is read within ``limits`` (:mod:`instruments.archive`; default ``DEFAULT_LIMITS``).
    """
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    table = load_transitions(transitions or prof.transitions)
    table.check_resolvable(prof.mz_tolerance)
    src = open_source(source, name=name)
    raw = RawRun(format=FORMAT, source_file=src.name, run_id=src.stem, plate_id=src.stem)
    raw.metadata.update({"transitions": table.name, "mz_tolerance": str(prof.mz_tolerance)})
    with open_plate_files(src, limits) as files:
        return _parse_members(files, src, raw, table, prof, plate_map)


def _parse_members(files: PlateFiles, src: Source, raw: RawRun, table: TransitionTable,
                   prof: Profile, plate_map: PlateMap | None) -> RawRun:
    """Read the sample list, then each mzML member in turn (one in memory at a time)."""
    single = files.single
    sample_rows: dict[str, dict[str, str]] = {}
    list_name = f"{src.name}!{SAMPLE_LIST}"
    lists = [n for n in files.names if Path(n).name.lower() == SAMPLE_LIST]
    if lists:
        try:
            sample_rows = _sample_list(files.read(lists[0]).decode("utf-8-sig"), list_name, raw)
        except UnicodeDecodeError:
            raise MalformedFileError("the sample list is not UTF-8", file=list_name) from None
    listing = SAMPLE_LIST
    if not sample_rows and plate_map is not None and plate_map.by_file():
        sample_rows, listing = _map_rows(plate_map), f"the plate map {plate_map.file}"
    mzml_members = [n for n in files.names if single or n.lower().endswith(".mzml")]
    if not mzml_members:
        raise MalformedFileError("holds no mzML files", file=src.name)
    if not single and not sample_rows:
        raw.warn(WARNINGS.text("no_sample_list", sample_list=SAMPLE_LIST),
                 field=SAMPLE_LIST)
    plates: set[str] = set()
    chromatograms = spectra = 0
    for member in mzml_members:
        where = src.name if single else f"{src.name}!{member}"
        injection = _parse_injection(files.read(member), where, raw, table, prof)
        chromatograms += injection.counts["chromatograms"]
        spectra += injection.counts["spectra"]
        file_name = Path(src.name).name if single else Path(member).name
        row = sample_rows.get(file_name) or sample_rows.get(member)
        if row is not None:
            position, sample_id = row.get("well", ""), row.get("sample_id", "")
            vendor_type = row.get("sample_type", "")
            if row.get("plate_id"):
                plates.add(row["plate_id"])
        else:
            match = _WELL_SUFFIX.match(injection.run_id)
            if sample_rows:
                raw.error(f"{file_name!r} is not in {listing}", file=where, field="file")
                continue
            sample_id = injection.sample_name or injection.run_id
            vendor_type = ""
            if match:
                plates.add(match.group(1))
                position = match.group(2)
                raw.info(f"well {position} taken from run id {injection.run_id!r}",
                         file=where, field="run@id")
            else:
                position = ""
                how = (f"give a plate map naming the file (columns file, well, sample_id, "
                       f"sample_type; nbs read --plate-map MAP.csv, or plate_map=...), put it "
                       f"in a directory or .zip with {SAMPLE_LIST}, or name the run "
                       f"<plate>_<well>" if single else
                       f"list it in {SAMPLE_LIST} (file, well, sample_id, sample_type), give a "
                       f"plate map with a file column, or name the run <plate>_<well>")
                raw.error(f"cannot tell the well of run {injection.run_id!r}: {how}",
                          file=where, field="run@id")
        values = _plateau_values(injection, raw, prof)
        analytes_here = {t.transition.analytes[0] for t in injection.traces
                         if t.transition.role == "analyte"}
        for trace in injection.traces:
            t = trace.transition
            if t.role == "is":
                served = [a for a in t.analytes if a in analytes_here] or list(t.analytes)
                compound = "IS:" + ",".join(served)
            else:
                compound = t.analytes[0]
            raw.records.append(RawRecord(
                compound=compound, kind="area", value=values.get(t.name, math.nan),
                unit=COUNTS, sample_name=sample_id or injection.run_id, sample_id=sample_id,
                position=position, vendor_type=vendor_type, line=trace.index,
                source_row=trace.index, field=f"{trace.label}", source_file=where))
    if not raw.records and chromatograms + spectra and not any(
            i.severity == "error" for i in raw.issues):
        raw.error(f"no chromatogram or scan matches a transition of {table.name} (the notes "
                  f"give each one's Q1/Q3): give the laboratory's transition table (profile "
                  f"key mzml.transitions, or transitions=... in instruments.read)",
                  field="mzml.transitions")
    raw.metadata["injections"] = str(len(mzml_members))
    raw.metadata["chromatograms"] = str(chromatograms)
    if len(plates) == 1:
        raw.plate_id = raw.run_id = plates.pop()
    return raw


def read(source: Any, *, profile: Profile | str | None = None,
         plate_map: PlateMap | None = None, name: str | None = None,
         transitions: TransitionTable | str | Path | None = None,
         limits: ArchiveLimits | None = None, catalogue: Catalogue | None = None) -> PlateRun:
    """Parse and import an mzML plate (see :func:`instruments.read`)."""
    prof = load_profile(profile, default=DEFAULT_PROFILE)
    return normalise(parse(source, profile=prof, name=name, transitions=transitions,
                           plate_map=plate_map, limits=limits), prof, plate_map=plate_map,
                     catalogue=catalogue)


register(FormatSpec(
    FORMAT, detect, read, write, DEFAULT_PROFILE,
    "mzML plate: a directory or .zip of per-injection mzML files with a sample list, or one "
    "mzML file", detect_order=10, uses_transitions=True, reads_archives=True,
    renderings=(Rendering("mzml", ".zip"),),
))
