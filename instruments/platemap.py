"""Plate maps: the puncher's or LIMS's list of what went into each well, joined to an export
that lacks barcodes or sample types.

A plate map is a CSV (UTF-8, optional byte-order mark, comma/semicolon/tab) with a header
naming ``well`` and at least one of ``sample_id`` (alias ``barcode``) and ``sample_type``, and
optionally ``plate_id`` and ``file`` (for mzML: the injection file measured in that well, so a
single mzML file, or a plate without ``samples.csv``, can be placed). Wells may be written
``A1``, ``A01`` or ``1:A,3``.

Public names: ``PlateMap``, ``PlateMapEntry``, ``read_plate_map``, ``write_plate_map``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instruments.errors import PlateMapError
from instruments.issues import READER_ERRORS
from instruments.sources import decode_text, open_source
from instruments.wells import parse_well, well_sort_key
from msms import csvsafe
from msms.tables import SAMPLE_TYPES

__all__ = ["PlateMap", "PlateMapEntry", "read_plate_map", "write_plate_map"]

_ALIASES = {"barcode": "sample_id", "specimen_id": "sample_id", "type": "sample_type",
            "position": "well", "plate": "plate_id", "filename": "file"}


@dataclass(frozen=True, slots=True)
class PlateMapEntry:
    """What the map says about one well (empty strings where it says nothing)."""

    well: str
    sample_id: str
    sample_type: str
    plate_id: str
    line: int
    #: the mzML injection file of the well (file name without folders), or ""
    file: str = ""


@dataclass(frozen=True)
class PlateMap:
    """Well -> entry, with the file it came from."""

    entries: Mapping[str, PlateMapEntry]
    file: str

    def get(self, well: str) -> PlateMapEntry | None:
        return self.entries.get(well)

    def by_file(self) -> dict[str, PlateMapEntry]:
        """Entries that name an injection file, by that file name (empty when none do)."""
        return {e.file: e for e in self.entries.values() if e.file}


def read_plate_map(source: Any, *, plate_size: int = 96, name: str | None = None) -> PlateMap:
    """Read and validate a plate map (a path, bytes or a binary file; ``name`` is what errors
    call it); errors name file, line and field."""
    if isinstance(source, PlateMap):
        return source
    src = open_source(source, name=name)
    text, _ = decode_text(src)
    lines = text.splitlines()
    if not lines:
        raise PlateMapError(READER_ERRORS.text("map_empty"), file=src.name, line=1)
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    names = [_ALIASES.get(h.casefold(), h.casefold()) for h in header]
    if "well" not in names:
        raise PlateMapError(READER_ERRORS.text("map_no_well"), file=src.name, line=1,
                            field="well")
    if "sample_id" not in names and "sample_type" not in names:
        raise PlateMapError(READER_ERRORS.text("map_no_sample"),
                            file=src.name, line=1)
    entries: dict[str, PlateMapEntry] = {}
    files: dict[str, int] = {}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise PlateMapError(READER_ERRORS.text("map_fields", n=len(row),
                                                   expected=len(header)),
                                file=src.name, line=number)
        values = {n: cell.strip() for n, cell in zip(names, row, strict=True)}
        try:
            _, well = parse_well(values["well"], plate_size=plate_size)
        except ValueError as exc:
            raise PlateMapError(str(exc), file=src.name, line=number, field="well") from None
        sample_type = values.get("sample_type", "")
        if sample_type and sample_type not in SAMPLE_TYPES:
            raise PlateMapError(READER_ERRORS.text("map_sample_type", value=repr(sample_type),
                                                   choices=", ".join(SAMPLE_TYPES)),
                                file=src.name, line=number, field="sample_type")
        if well in entries:
            raise PlateMapError(READER_ERRORS.text("map_well_twice", well=well,
                                                   line=entries[well].line),
                                file=src.name, line=number, field="well")
        injection = Path(values.get("file", "").replace("\\", "/")).name
        if injection and injection in files:
            raise PlateMapError(READER_ERRORS.text("map_file_twice", file=repr(injection),
                                                   line=files[injection]),
                                file=src.name, line=number, field="file")
        files[injection] = number
        entries[well] = PlateMapEntry(well, values.get("sample_id", ""), sample_type,
                                      values.get("plate_id", ""), number, injection)
    if not entries:
        raise PlateMapError(READER_ERRORS.text("map_no_wells"), file=src.name, line=2)
    return PlateMap(entries, src.name)


def write_plate_map(entries: list[PlateMapEntry] | PlateMap, dest: str | Path) -> None:
    """Write a plate map CSV that :func:`read_plate_map` reads back."""
    items = list(entries.entries.values()) if isinstance(entries, PlateMap) else list(entries)
    with open(dest, "w", newline="", encoding="utf-8") as handle:
        writer = csvsafe.writer(handle, lineterminator="\n")
        with_files = any(e.file for e in items)
        writer.writerow(["plate_id", "well", "sample_id", "sample_type"]
                        + (["file"] if with_files else []))
        for e in sorted(items, key=lambda e: well_sort_key(e.well)):
            writer.writerow([e.plate_id, e.well, e.sample_id, e.sample_type]
                            + ([e.file] if with_files else []))
