"""Instrument adapters: vendor exports and mzML -> the measurements table (docs/architecture.md
"Measurements"), one module per format with ``parse``/``read`` and ``write`` (used by the virtual
instrument).

Public names: ``read``, ``write``, ``formats``, ``detect``, ``PlateRun``, ``Issue``,
``InstrumentError``, ``UnknownFormatError``, ``MalformedFileError``,
``UnsupportedEncodingError``, ``ProfileError``, ``PlateMapError``, ``ValidationError``,
``WriteError``, ``ArchiveTooLargeError``, ``ArchiveLimits``, ``load_profile``,
``read_plate_map``, ``Source``.

The readers (``read``, ``write``, ``detect``: :mod:`instruments.registry`, with lxml, pyteomics
and psims for mzML) load on first use, so that code needing only the errors or the types (the
screening pipeline evaluating profiles, ``nbs evaluate``) does not import them.
"""

from typing import TYPE_CHECKING, Any

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
from instruments.formats import formats
from instruments.platemap import read_plate_map
from instruments.profiles import load_profile
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
    "write",
]

if TYPE_CHECKING:
    from instruments.registry import detect, read, write
else:
    def __getattr__(name: str) -> Any:
        """``read``, ``write`` and ``detect`` from :mod:`instruments.registry`, imported on
        first use."""
        if name in ("detect", "read", "write"):
            from instruments import registry
            value = getattr(registry, name)
            globals()[name] = value
            return value
        raise AttributeError(f"module 'instruments' has no attribute {name!r}")

