"""Instrument adapters: vendor exports and mzML -> the measurements table (docs/architecture.md
"Measurements"), one module per format with ``parse``/``read`` and ``write`` (used by the virtual
instrument).

Public names: ``read``, ``write``, ``formats``, ``rendering_names``, ``detect``, ``PlateRun``,
``Issue``, ``InstrumentError``, ``UnknownFormatError``, ``MalformedFileError``,
``UnsupportedEncodingError``, ``ProfileError``, ``PlateMapError``, ``ValidationError``,
``WriteError``, ``ArchiveTooLargeError``, ``ArchiveLimits``, ``load_profile``,
``read_plate_map``, ``Source``.

The errors, archive limits and sources are imported with the package; the readers, writers and
plate tables (the format modules, pandas, lxml) when one of their names is first used, so that
the LIMS's errors and settings, which import ``instruments.errors`` and ``instruments.archive``,
do not load them (``nbs cases`` has no plate to read).
"""

from __future__ import annotations

import importlib
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
from instruments.formats import rendering_names as _rendering_names
from instruments.sources import Source

if TYPE_CHECKING:
    from instruments.platemap import read_plate_map
    from instruments.profiles import load_profile
    from instruments.registry import detect, read, write
    from instruments.run import Issue, PlateRun

#: The public names imported when first used, and the module of each.
_LAZY = {"detect": "instruments.registry", "read": "instruments.registry",
         "write": "instruments.registry", "load_profile": "instruments.profiles",
         "read_plate_map": "instruments.platemap", "Issue": "instruments.run",
         "PlateRun": "instruments.run"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def _registered() -> None:
    """The built-in formats, registered (each registers itself when its module is imported)."""
    importlib.import_module("instruments.registry")


def formats() -> list[str]:
    """Names of the registered formats, in detection order."""
    _registered()
    from instruments.formats import formats as names

    return names()


def rendering_names() -> list[str]:
    """Names of the renderings the formats' writers offer other than the formats' own names."""
    _registered()
    return _rendering_names()


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
