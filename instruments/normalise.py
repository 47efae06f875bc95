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
- the plate has a blank and the required controls (profile ``[validation]``);
- a plate map, when given, agrees with the file (barcodes) and fills what the file lacks.

Public names: ``normalise``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from instruments.errors import ProfileError, ValidationError
from instruments.platemap import PlateMap
from instruments.profiles import IGNORE, IS_PREFIX, Profile
from instruments.raw import COUNTS, UNIT_SYNONYMS, RawRun
from instruments.run import Issue, PlateRun, measurements_frame
from instruments.wells import parse_well
from msms.catalogue import Catalogue, default_catalogue

__all__ = ["normalise"]

_INTENSITY_KINDS = ("area", "height", "response")


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
    """Map, validate and build the plate run; raise ValidationError when any error is found."""
    catalogue = catalogue or default_catalogue()
    issues: list[Issue] = list(raw.issues)
    src = raw.source_file

    def add(severity: str, message: str, line: int | None = None, field: str | None = None,
            file: str | None = None) -> None:
        issues.append(Issue(severity, file or src, line, field, message))

    # 1. compounds -> analytes
    mapping: dict[str, tuple[str, tuple[str, ...]] | None] = {}
    first_seen: dict[str, tuple[int, str, str]] = {}
    for rec in raw.records:
        if rec.compound not in mapping:
            mapping[rec.compound] = _targets(rec.compound, profile, catalogue)
            first_seen[rec.compound] = (rec.line, rec.field, rec.source_file or src)
    for compound, target in mapping.items():
        line, field, file = first_seen[compound]
        if target is None:
            if profile.unmapped_analytes == "ignore":
                add("warning", f"unmapped analyte {compound!r} ignored "
                               f"(validation.unmapped_analytes = \"ignore\")", line, field, file)
                continue
            add("error", f"unmapped analyte {compound!r}: not a catalogue code or alias; map it "
                         f"in the profile's [analytes] table (or to \"ignore\")", line, field, file)
        elif target[0] == "ignore":
            add("info", f"compound {compound!r} ignored as the profile says", line, field, file)

    # 2. wells and trays
    positions: dict[str, tuple[str | None, str] | None] = {}
    order: list[str] = []
    for rec in raw.records:
        key = rec.position if not profile.well_from_row_order else rec.sample_name
        if key in positions:
            continue
        order.append(key)
        if profile.well_from_row_order:
            number = len(order)
            try:
                well = parse_well(str(number), fmt=profile.well_order,
                                  plate_size=profile.plate_size)
            except ValueError as exc:
                add("error", f"sample {rec.sample_name!r} is row {number}: {exc}", rec.line,
                    rec.field, rec.source_file or None)
                positions[key] = None
                continue
            positions[key] = well
            continue
        if not rec.position.strip():
            add("error", f"sample {rec.sample_name!r} has no well position", rec.line,
                "well", rec.source_file or None)
            positions[key] = None
            continue
        try:
            positions[key] = parse_well(rec.position, fmt=profile.well_format,
                                        plate_size=profile.plate_size)
        except ValueError as exc:
            add("error", str(exc), rec.line, "well", rec.source_file or None)
            positions[key] = None
    trays = sorted({p[0] for p in positions.values() if p and p[0] is not None})
    base_plate = (profile.default_plate_id or raw.plate_id or raw.run_id or "plate")
    if plate_map is not None:
        map_plates = {e.plate_id for e in plate_map.entries.values() if e.plate_id}
        if len(map_plates) == 1 and not profile.default_plate_id:
            base_plate = map_plates.pop()
    if len(trays) > 1:
        add("warning", f"positions span autosampler trays {', '.join(trays)}: each tray is a "
                       f"plate of its own (plate ids {base_plate}-<tray>)", None, "well")

    def plate_for(tray: str | None) -> str:
        return f"{base_plate}-{tray}" if len(trays) > 1 and tray is not None else base_plate

    # 3. samples per well: id and type (a well without an id in the file takes the plate
    # map's barcode; neither is an error naming the well's first line)
    id_field = (profile.columns.get("sample_id") or profile.columns.get("sample_name")
                or "sample_id")
    samples: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in raw.records:
        key = rec.position if not profile.well_from_row_order else rec.sample_name
        pos = positions.get(key)
        if pos is None:
            continue
        plate, well = plate_for(pos[0]), pos[1]
        sample = samples.get((plate, well))
        ident = rec.sample_id or rec.sample_name
        if sample is None:
            samples[(plate, well)] = {"name": rec.sample_name, "id": rec.sample_id,
                                      "vendor_type": rec.vendor_type, "line": rec.line,
                                      "file": rec.source_file or src}
        elif (sample["id"] or sample["name"]) != ident:
            add("error", f"well {well} holds two samples: {sample['id'] or sample['name']!r} "
                         f"(line {sample['line']}) and {ident!r}", rec.line, "well",
                rec.source_file or None)
    for (_plate, well), sample in samples.items():
        entry = plate_map.get(well) if plate_map is not None else None
        sample_id = sample["id"]
        sample_type = profile.sample_type_for(sample["vendor_type"], sample["name"])
        if entry is not None:
            if entry.sample_id:
                if sample_id and sample_id != entry.sample_id:
                    add("error", f"well {well}: the file says sample {sample_id!r}, the plate "
                                 f"map says {entry.sample_id!r}", entry.line, "sample_id",
                        plate_map.file if plate_map else None)
                sample_id = entry.sample_id
            if entry.sample_type:
                if sample_type not in (None, "unknown", entry.sample_type):
                    add("warning", f"well {well}: the file's sample type {sample_type!r} "
                                   f"differs from the plate map's {entry.sample_type!r}; the "
                                   f"plate map is used", entry.line, "sample_type",
                        plate_map.file if plate_map else None)
                sample_type = entry.sample_type
        elif plate_map is not None:
            add("warning", f"well {well} is not in the plate map", sample["line"], "well",
                sample["file"])
        if not sample_id:
            sample_id = sample["name"]
        if not sample_id:
            why = ("and the plate map has no barcode for it" if entry is not None else
                   "and the plate map does not list the well" if plate_map is not None else
                   "and no plate map gives one (--plate-map MAP.csv: well, barcode)")
            add("error", f"well {well} has no sample id: the file gives none {why}",
                sample["line"], id_field, sample["file"])
            sample["sample_id"], sample["sample_type"] = "", sample_type or "unknown"
            continue
        if sample_type is None:
            add("warning", f"well {well} ({sample_id!r}): sample type "
                           f"{sample['vendor_type']!r} is not mapped; set to 'unknown'",
                sample["line"], "sample_type", sample["file"])
            sample_type = "unknown"
        sample["sample_id"], sample["sample_type"] = sample_id, sample_type

    # 4. values
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, str, str], tuple[float, int]] = {}
    empty: dict[tuple[str, str], list[tuple[str, int, str]]] = defaultdict(list)
    for rec in raw.records:
        target = mapping.get(rec.compound)
        key = rec.position if not profile.well_from_row_order else rec.sample_name
        pos = positions.get(key)
        if target is None or target[0] == "ignore" or pos is None:
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
        unit = _unit(rec.unit)
        if unit is None:
            add("error", f"unit {rec.unit!r} is not µmol/L; concentrations must be in µmol/L "
                         f"blood", rec.line, rec.field, rec.source_file or None)
            continue
        plate, well = plate_for(pos[0]), pos[1]
        sample = samples[(plate, well)]
        if math.isnan(rec.value):
            empty[(rec.compound, rec.field)].append((well, rec.line, rec.source_file or src))
        for code in codes:
            dup_key = (plate, well, code, kind)
            if dup_key in seen:
                prev_value, prev_line = seen[dup_key]
                same = (prev_value == rec.value
                        or (math.isnan(prev_value) and math.isnan(rec.value)))
                if same:
                    add("info", f"{code} {kind} for well {well} given twice (line {prev_line}); "
                                f"kept once", rec.line, rec.field, rec.source_file or None)
                else:
                    add("error", f"{code} {kind} for well {well} given twice with different "
                                 f"values ({prev_value:g} on line {prev_line}, {rec.value:g})",
                        rec.line, rec.field, rec.source_file or None)
                continue
            seen[dup_key] = (rec.value, rec.line)
            rows.append({
                "run_id": raw.run_id, "plate_id": plate, "well": well,
                "sample_id": sample["sample_id"], "sample_type": sample["sample_type"],
                "analyte": code, "value": rec.value, "unit": unit, "kind": kind,
                "source_file": rec.source_file or src, "source_row": rec.source_row,
            })

    for (compound, field), where in empty.items():
        wells = ", ".join(w for w, _, _ in where[:6]) + (" ..." if len(where) > 6 else "")
        add("warning", f"no value (no peak) for {compound!r} in {len(where)} well(s): {wells}",
            where[0][1], field, where[0][2])

    # 5. plate-level checks
    if not rows and not any(i.severity == "error" for i in issues):
        add("error", "no measurements: the file holds no value for any mapped analyte")
    plates = sorted({p for p, _ in samples})
    for plate in plates:
        types = {s["sample_type"] for (p, _), s in samples.items() if p == plate}
        label = f"plate {plate}" if len(plates) > 1 else "the plate"
        if profile.require_blank and "blank" not in types:
            add("error", f"{label} has no blank well (validation.require_blank)", None,
                "sample_type")
        for control in profile.require_controls:
            if control not in types:
                add("error", f"{label} has no {control} control well "
                             f"(validation.require_controls)", None, "sample_type")
    if any(i.severity == "error" for i in issues):
        raise ValidationError(issues)
    metadata = dict(raw.metadata)
    if len(trays) > 1:
        metadata["trays"] = ",".join(trays)
    metadata.setdefault("profile", profile.name)
    measurements = measurements_frame(rows)
    return PlateRun(run_id=raw.run_id, plate_id=base_plate, format=raw.format,
                    source_file=src, metadata=metadata, measurements=measurements,
                    issues=tuple(issues))

