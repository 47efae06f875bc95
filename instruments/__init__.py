"""Instrument adapters: vendor exports and mzML -> the measurements table (docs/architecture.md
"Measurements"), one module per format with ``parse``/``read`` and ``write`` (used by the virtual
instrument).

Public names: ``read``, ``write``, ``formats``, ``rendering_names``, ``detect``, ``PlateRun``,
``Issue``, ``InstrumentError``, ``UnknownFormatError``, ``MalformedFileError``,
``UnsupportedEncodingError``, ``ProfileError``, ``PlateMapError``, ``ValidationError``,
``WriteError``, ``ArchiveTooLargeError``, ``ArchiveLimits``, ``load_profile``,
``read_plate_map``, ``Source``.
"""

from instruments.archive import ArchiveLimits
from instruments.errors import (
    ArchiveTooLargeError,
    InstrumentError,
    MalformedFileError,
    PlateMapError,
    ProfileError,
    UnknownFormatError,
    UnsupportedEncodingError,
    ValidationError,
    WriteError,
)
from instruments.formats import rendering_names
from instruments.platemap import read_plate_map
from instruments.profiles import load_profile
from instruments.registry import detect, formats, read, write
from instruments.run import Issue, PlateRun
from instruments.sources import Source

__all__ = [
    "ArchiveLimits",
    "ArchiveTooLargeError",
    "InstrumentError",
    "Issue",
    "MalformedFileError",
    "PlateMapError",
    "PlateRun",
    "ProfileError",
    "Source",
    "UnknownFormatError",
    "UnsupportedEncodingError",
    "ValidationError",
    "WriteError",
    "detect",
    "formats",
    "load_profile",
    "read",
    "read_plate_map",
    "rendering_names",
    "write",
]
