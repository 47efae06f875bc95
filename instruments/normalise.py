"""The importing step: a parsed file (:class:`~instruments.raw.RawRun`) becomes a
:class:`~instruments.run.PlateRun` with canonical analytes, normalised wells, sample ids and
types, after validation.

Validation (every problem is an :class:`~instruments.run.Issue` naming file, line and field;
any error makes :func:`normalise` raise :class:`~instruments.errors.ValidationError`):

- every compound maps to a catalogue code (profile alias, catalogue alias, or ``IS:<code>`` for
  an internal standard); ``ignore`` drops a compound on purpose (info);
- every position is a well on the plate (``A01``..``H12`` or ``P24``), one sample per well;
- no (plate, well, analyte, kind) twice with different values;
- concentrations are in µmol/L; empty values are warnings (no peak), never numbers;
- a plate without a blank or a required control (profile ``[validation]``) is a warning, not an
  error: the plate is read, and plate QC (``msms.qc.plate``) judges its composition;
- a plate map, when given, agrees with the file (barcodes) and fills what the file lacks.

Public names: ``normalise``, ``reader``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from instruments.errors import ProfileError, ValidationError
from instruments.issues import READER_ERRORS, WARNINGS
from instruments.platemap import PlateMap
from instruments.profiles import IGNORE, IS_PREFIX, Profile, load_profile
from instruments.raw import COUNTS, UNIT_SYNONYMS, RawRecord, RawRun
from instruments.run import Issue, PlateRun, measurements_frame
from instruments.wells import parse_well, well_sort_key
from msms.catalogue import Catalogue, default_catalogue

__all__ = ["normalise", "reader"]

def _targets(compound: str, profile: Profile, catalogue: Catalogue
             ) -> tuple[str, tuple[str, ...]] | None:
    """('analyte'|'is'|'ignore', codes) for a compound name, or None when nothing maps it."""
    target = profile.analytes.get(compound)
    if target is None:
        folded = {k.casefold(): v for k, v in profile.analytes.items()}
        target = folded.get(compound.strip().casefold())
    if target is None:
        if compound.startswith(IS_PREFIX):
            target = compound
        else:
            code = catalogue.try_resolve(compound)
            return ("analyte", (code,)) if code else None
    if target.strip().casefold() == IGNORE:
        return "ignore", ()
    role = "analyte"
    if target.startswith(IS_PREFIX):
        role, target = "is", target[len(IS_PREFIX):]
    codes = []
    for name in (t.strip() for t in target.split(",")):
        code = catalogue.try_resolve(name)
        if code is None:
            raise ProfileError(f"{name!r} (target of {compound!r}) is no catalogue analyte",
                               file=profile.path, field=f"analytes.{compound}")
        codes.append(code)
    if role == "analyte" and len(codes) != 1:
        raise ProfileError("an analyte alias names exactly one analyte (IS:a,b for an internal "
                           "standard serving several)", file=profile.path,
                           field=f"analytes.{compound}")
    return role, tuple(codes)


def _unit(unit: str) -> str | None:
    if unit in ("umol/L", COUNTS):
        return unit
    return UNIT_SYNONYMS.get(unit.strip().casefold())


def normalise(raw: RawRun, profile: Profile, *, plate_map: PlateMap | None = None,
              catalogue: Catalogue | None = None) -> PlateRun:
    """Map, validate and build the plate run; raise ValidationError when any error is found.

    Names, positions, units and samples are resolved once per distinct value (a plate repeats
    each of them hundreds of times), then one pass over the records builds the table's columns.
    """
    catalogue = catalogue or default_catalogue()
    issues: list[Issue] = list(raw.issues)
    src = raw.source_file
    records = raw.records
    by_order = profile.well_from_row_order

    def add(severity: str, message: str, line: int | None = None, field: str | None = None,
            file: str | None = None) -> None:
        issues.append(Issue(severity, file or src, line, field, message))

    # first record of each compound and of each position (or, placed by order, each sample)
    first_compound: dict[str, RawRecord] = {}
    first_key: dict[str, RawRecord] = {}
    for rec in records:
        if rec.compound not in first_compound:
            first_compound[rec.compound] = rec
        key = rec.sample_name if by_order else rec.position
        if key not in first_key:
            first_key[key] = rec

    # 1. compounds -> analytes
    mapping: dict[str, tuple[str, tuple[str, ...]] | None] = {}
    for compound, rec in first_compound.items():
        target = mapping[compound] = _targets(compound, profile, catalogue)
        line, field, file = rec.line, rec.field, rec.source_file or src
        if target is None:
            if profile.unmapped_analytes == "ignore":
                add("warning", WARNINGS.text("unmapped_ignored", compound=repr(compound)), line,
                    field, file)
                continue
            add("error", READER_ERRORS.text("unmapped", compound=repr(compound)), line, field,
                file)
        elif target[0] == "ignore":
            add("info", f"compound {compound!r} ignored as the profile says", line, field, file)

    # 2. wells and trays
    positions: dict[str, tuple[str | None, str] | None] = {}
    for number, (key, rec) in enumerate(first_key.items(), start=1):
        positions[key] = None
        if by_order:
            try:
                positions[key] = parse_well(str(number), fmt=profile.well_order,
                                            plate_size=profile.plate_size)
            except ValueError as exc:
                add("error", f"sample {rec.sample_name!r} is row {number}: {exc}", rec.line,
                    rec.field, rec.source_file or None)
            continue
        if not rec.position.strip():
            add("error", READER_ERRORS.text("no_position", sample=repr(rec.sample_name)),
                rec.line, "well", rec.source_file or None)
            continue
        try:
            positions[key] = parse_well(rec.position, fmt=profile.well_format,
                                        plate_size=profile.plate_size)
        except ValueError as exc:
            add("error", str(exc), rec.line, "well", rec.source_file or None)
    trays = sorted({p[0] for p in positions.values() if p and p[0] is not None})
    base_plate = (profile.default_plate_id or raw.plate_id or raw.run_id or "plate")
    if plate_map is not None:
        map_plates = {e.plate_id for e in plate_map.entries.values() if e.plate_id}
        if len(map_plates) == 1 and not profile.default_plate_id:
            base_plate = map_plates.pop()
    if len(trays) > 1:
        add("warning", WARNINGS.text("trays", trays=", ".join(trays), plate=base_plate), None,
            "well")
    # position key -> (plate, well)
    placed: dict[str, tuple[str, str]] = {
        key: (f"{base_plate}-{pos[0]}" if len(trays) > 1 and pos[0] is not None
              else base_plate, pos[1])
        for key, pos in positions.items() if pos is not None}

    # 3. samples per well: id and type (a well without an id in the file takes the plate
    # map's barcode; neither is an error naming the well's first line)
    id_field = (profile.columns.get("sample_id") or profile.columns.get("sample_name")
                or "sample_id")
    samples: dict[tuple[str, str], dict[str, Any]] = {}
    idents: dict[tuple[str, str], str] = {}  # (position key, sample) pairs already checked
    for rec in records:
        key = rec.sample_name if by_order else rec.position
        ident = rec.sample_id or rec.sample_name
        if idents.get((key, ident)) is not None:
            continue
        idents[(key, ident)] = ident
        place = placed.get(key)
        if place is None:
            continue
        sample = samples.get(place)
        if sample is None:
            samples[place] = {"name": rec.sample_name, "id": rec.sample_id,
                              "vendor_type": rec.vendor_type, "line": rec.line,
                              "file": rec.source_file or src}
        elif (sample["id"] or sample["name"]) != ident:
            add("error", READER_ERRORS.text(
                "two_samples", well=place[1], first=repr(sample["id"] or sample["name"]),
                line=sample["line"], second=repr(ident)), rec.line, "well",
                rec.source_file or None)
    for (_plate, well), sample in samples.items():
        _identify(sample, well, profile, plate_map, id_field, add)
    if plate_map is not None and len(trays) <= 1:
        _check_mapped_wells_present(plate_map, {well for _plate, well in samples}, add)

    # 4. values, into the table's columns
    units: dict[str, str | None] = {}
    well_number = {place: n for n, place in enumerate(samples)}
    well_col: list[int] = []  # the row's well, as its number in ``samples``
    analyte_col: list[str] = []
    value_col: list[float] = []
    unit_col: list[str] = []
    kind_col: list[str] = []
    file_col: list[str] = []
    row_col: list[int] = []
    seen: dict[tuple[tuple[str, str], str, str], tuple[float, int]] = {}
    empty: dict[tuple[str, str], list[tuple[str, int, str]]] = defaultdict(list)
    for rec in records:
        target = mapping[rec.compound]
        place = placed.get(rec.sample_name if by_order else rec.position)
        if target is None or place is None or target[0] == "ignore":
            continue
        role, codes = target
        kind = rec.kind
        if role == "is":
            if kind == "concentration":
                add("info", f"concentration reported for internal standard {rec.compound!r} "
                            f"is not a measurement; skipped", rec.line, rec.field,
                    rec.source_file or None)
                continue
            kind = "is_area"
        unit = units.get(rec.unit, "")
        if unit == "":
            unit = units[rec.unit] = _unit(rec.unit)
        if unit is None:
            add("error", READER_ERRORS.text("unit", unit=repr(rec.unit)), rec.line, rec.field,
                rec.source_file or None)
            continue
        value = rec.value
        file = rec.source_file or src
        if value != value:  # NaN: no peak
            empty[(rec.compound, rec.field)].append((place[1], rec.line, file))
        for code in codes:
            dup_key = (place, code, kind)
            prev = seen.get(dup_key)
            if prev is not None:
                prev_value, prev_line = prev
                if prev_value == value or (prev_value != prev_value and value != value):
                    add("info", f"{code} {kind} for well {place[1]} given twice (line "
                                f"{prev_line}); kept once", rec.line, rec.field,
                        rec.source_file or None)
                else:
                    add("error", READER_ERRORS.text(
                        "given_twice", analyte=code, kind=kind, well=place[1],
                        first=f"{prev_value:g}", line=prev_line, second=f"{value:g}"),
                        rec.line, rec.field, rec.source_file or None)
                continue
            seen[dup_key] = (value, rec.line)
            well_col.append(well_number[place])
            analyte_col.append(code)
            value_col.append(value)
            unit_col.append(unit)
            kind_col.append(kind)
            file_col.append(file)
            row_col.append(rec.source_row)

    for (compound, field), where in empty.items():
        wells = ", ".join(w for w, _, _ in where[:6]) + (" ..." if len(where) > 6 else "")
        add("warning", WARNINGS.text("no_peak", compound=repr(compound), n=len(where),
                                     wells=wells), where[0][1], field, where[0][2])

    # 5. plate-level checks
    if not value_col and not any(i.severity == "error" for i in issues):
        add("error", READER_ERRORS.text("no_measurements"))
    plates = sorted({p for p, _ in samples})
    for plate in plates:
        types = {s["sample_type"] for (p, _), s in samples.items() if p == plate}
        own = {"plate": plate} if len(plates) > 1 else {}
        suffix = "_of_plate" if own else ""
        # the plate's composition is plate QC's to judge (it rejects a plate without a
        # required control level): the reader reads the plate and warns
        if profile.require_blank and "blank" not in types:
            add("warning", WARNINGS.text("no_blank" + suffix, **own), None, "sample_type")
        for control in profile.require_controls:
            if control not in types:
                add("warning", WARNINGS.text("no_control" + suffix, control=control, **own),
                    None, "sample_type")
    if any(i.severity == "error" for i in issues):
        raise ValidationError(issues)
    metadata = dict(raw.metadata)
    if len(trays) > 1:
        metadata["trays"] = ",".join(trays)
    metadata.setdefault("profile", profile.name)
    rows = np.asarray(well_col, dtype=np.intp)

    def per_well(values: list[str]) -> np.ndarray:
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column[rows]

    measurements = measurements_frame({
        "run_id": [raw.run_id] * len(value_col),
        "plate_id": per_well([p for p, _ in samples]), "well": per_well([w for _, w in samples]),
        "sample_id": per_well([s["sample_id"] for s in samples.values()]),
        "sample_type": per_well([s["sample_type"] for s in samples.values()]),
        "analyte": analyte_col,
        "value": value_col, "unit": unit_col, "kind": kind_col, "source_file": file_col,
        "source_row": row_col})
    return PlateRun(run_id=raw.run_id, plate_id=base_plate, format=raw.format,
                    source_file=src, metadata=metadata, measurements=measurements,
                    issues=tuple(issues))


def reader(parse: Callable[..., RawRun], default_profile: str) -> Callable[..., PlateRun]:
    """A format's ``read``: ``parse(source, profile=, name=)`` with the profile named (the
    packaged ``default_profile`` when none is), then :func:`normalise` (see
    :func:`instruments.read`)."""
    def read(source: Any, *, profile: Profile | str | None = None,
             plate_map: PlateMap | None = None, name: str | None = None,
             catalogue: Catalogue | None = None) -> PlateRun:
        prof = load_profile(profile, default=default_profile)
        return normalise(parse(source, profile=prof, name=name), prof, plate_map=plate_map,
                         catalogue=catalogue)
    return read


def _check_mapped_wells_present(plate_map: PlateMap, wells: set[str], add: Any) -> None:
    """Every well the plate map puts a sample in must be in the file: a file cut between two
    wells otherwise reads as a smaller, complete plate (nothing partial is stored)."""
    absent = [e for e in plate_map.entries.values()
              if (e.sample_id or e.sample_type) and e.well not in wells]
    if not absent:
        return
    absent.sort(key=lambda e: well_sort_key(e.well))
    listed = ", ".join(e.well for e in absent[:12])
    more = f" and {len(absent) - 12} more" if len(absent) > 12 else ""
    add("error", READER_ERRORS.text("map_lacks_wells", n=len(absent), wells=listed + more),
        absent[0].line, "well", plate_map.file)


def _identify(sample: dict[str, Any], well: str, profile: Profile, plate_map: PlateMap | None,
              id_field: str, add: Any) -> None:
    """Set ``sample_id`` and ``sample_type`` of one well from the file and the plate map."""
    entry = plate_map.get(well) if plate_map is not None else None
    sample_id = sample["id"]
    sample_type = profile.sample_type_for(sample["vendor_type"], sample["name"], sample["id"])
    if entry is not None:
        if entry.sample_id:
            if sample_id and sample_id != entry.sample_id:
                add("error", READER_ERRORS.text("sample_differs", well=well,
                                                file_sample=repr(sample_id),
                                                map_sample=repr(entry.sample_id)),
                    entry.line, "sample_id", plate_map.file if plate_map else None)
            sample_id = entry.sample_id
        if entry.sample_type:
            if sample_type not in (None, "unknown", entry.sample_type):
                add("warning", WARNINGS.text("sample_type_differs", well=well,
                                             file_type=repr(sample_type),
                                             map_type=repr(entry.sample_type)),
                    entry.line, "sample_type",
                    plate_map.file if plate_map else None)
            sample_type = entry.sample_type
    elif plate_map is not None:
        add("warning", WARNINGS.text("not_in_plate_map", well=well), sample["line"], "well",
            sample["file"])
    if not sample_id:
        sample_id = sample["name"]
    if not sample_id:
        code = ("no_sample_id_in_map" if entry is not None else
                "no_sample_id_not_in_map" if plate_map is not None else "no_sample_id")
        add("error", READER_ERRORS.text(code, well=well), sample["line"], id_field,
            sample["file"])
        sample["sample_id"], sample["sample_type"] = "", sample_type or "unknown"
        return
    if sample_type is None:
        add("warning", WARNINGS.text("sample_type_unmapped", well=well,
                                     sample_id=repr(sample_id),
                                     vendor_type=repr(sample["vendor_type"])),
            sample["line"], "sample_type", sample["file"])
        sample_type = "unknown"
    sample["sample_id"], sample["sample_type"] = sample_id, sample_type
