"""Reading and writing through the format registry (:mod:`instruments.formats`): one module per
format, each registering itself, with automatic detection.

``read(source, *, format="auto", profile=None, plate_map=None)`` dispatches to the registered
reader (pandas ``read_*`` style: a path or binary buffer first, options as keywords);
``write(run, dest, *, format, **options)`` to its writer. Detection asks every format in
detection order whether it recognises the bytes and fails with
:class:`~instruments.errors.UnknownFormatError` naming the file when none does.

Public names: ``FormatSpec``, ``register``, ``formats``, ``detect``, ``read``, ``write``,
``get_format``.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from lxml import etree

# the built-in formats register themselves when imported (instruments.formats)
from instruments import delimited, masslynx, mzml, quandata  # noqa: F401
from instruments.archive import ArchiveLimits
from instruments.errors import InstrumentError, MalformedFileError, UnknownFormatError
from instruments.formats import FormatSpec, formats, get_format, register, specs
from instruments.platemap import PlateMap, read_plate_map
from instruments.profiles import Profile, load_profile
from instruments.run import PlateRun
from instruments.sources import Source, open_source
from msms.catalogue import Catalogue
from msms.errors import MsmsError

__all__ = ["FormatSpec", "detect", "formats", "get_format", "read", "register", "write"]


#: Low-level failures that arbitrary bytes can provoke in parsers; reported as malformed files.
_LOW_LEVEL = (ValueError, KeyError, IndexError, TypeError, UnicodeError, zlib.error,
              struct.error, zipfile.BadZipFile, EOFError, OverflowError, etree.LxmlError,
              RecursionError, AttributeError)


def detect(source: Any, *, name: str | None = None) -> str:
    """The name of the format that recognises the file; UnknownFormatError when none does."""
    src = open_source(source, name=name)
    for spec in specs():
        try:
            if spec.detect(src):
                return spec.name
        except _LOW_LEVEL:
            continue
    kind = "directory" if src.is_directory else f"{len(src.data)} bytes"
    raise UnknownFormatError(
        f"no reader recognises this file ({kind}); registered formats: "
        f"{', '.join(formats())}; name its format (--format on the command line) and, for a "
        f"delimited file, its profile (--profile)",
        file=src.name)


def read(source: Any, *, format: str = "auto", profile: str | Path | Profile | None = None,
         plate_map: str | Path | PlateMap | Source | None = None, name: str | None = None,
         transitions: Any = None, limits: ArchiveLimits | None = None,
         catalogue: Catalogue | None = None) -> PlateRun:
    """Read an instrument file into a :class:`~instruments.run.PlateRun`.

    Parameters
    ----------
    source : path, bytes or binary file object
        The export (a directory or ``.zip`` for an mzML plate).
    format : str
        A registered format name, or ``"auto"`` to detect it (a profile that names its format
        decides first).
    profile : str, path or Profile, optional
        A packaged profile name (``generic_wide``, ``rusp_rf``, ...) or a TOML path; default:
        the format's own profile (for delimited files the packaged profile whose header fits:
        ``generic_long``, ``generic_wide`` or ``rusp_rf``).
    plate_map : path, Source or PlateMap, optional
        A puncher/LIMS map (well -> sample id, sample type) joined to the file; a path or a
        ``Source`` (name and bytes) is read with the profile's plate size.
    name : str, optional
        The file name to report for a buffer.
    transitions : Method, TransitionTable, str or path, optional
        For formats that identify compounds by m/z (mzML): the quantitation method (or a
        transition table) whose transitions the file is matched against; default: the profile's.
        Formats that name their compounds ignore it.
    limits : ArchiveLimits, optional
        For formats read from a directory or zip (mzML): the size limits of its files
        (:mod:`instruments.archive`; default ``DEFAULT_LIMITS``). Others ignore it.
    catalogue : Catalogue, optional
        The analyte catalogue compound names are mapped through (default: the packaged one;
        for a second-tier run the panel's, :func:`msms.second_tier_panel.second_tier_catalogue`).

    Raises
    ------
    InstrumentError
        ``UnknownFormatError``, ``MalformedFileError``, ``UnsupportedEncodingError``,
        ``ProfileError``, ``PlateMapError``, ``ValidationError`` or ``ArchiveTooLargeError``,
        naming file, line and field.
    """
    src = open_source(source, name=name)
    rendering = _rendering(format)
    if rendering is not None:  # a writer's name (csv-wide): its format, read with its profile
        format = rendering[0]
        if profile is None:
            profile = rendering[1]
    prof = load_profile(profile) if profile is not None else None
    if format == "auto":
        try:
            fmt = detect(src)
        except UnknownFormatError:
            if prof is None:
                raise
            fmt = prof.format  # the profile says what the file is
    else:
        fmt = format
    spec = get_format(fmt)
    if prof is None:
        chosen = spec.choose_profile(src) if spec.choose_profile is not None else None
        prof = load_profile(chosen, default=spec.default_profile)
    pm = None
    if plate_map is not None:
        pm = read_plate_map(plate_map, plate_size=prof.plate_size)
    options: dict[str, Any] = (
        {"transitions": transitions} if spec.uses_transitions and transitions else {})
    if spec.reads_archives and limits is not None:
        options["limits"] = limits
    if catalogue is not None:
        options["catalogue"] = catalogue
    try:
        return spec.read(src, profile=prof, plate_map=pm, **options)
    except MsmsError:
        raise
    except _LOW_LEVEL as exc:
        raise MalformedFileError(f"cannot be read as {fmt}: {type(exc).__name__}: {exc}",
                                 file=src.name) from exc


def _rendering(name: str) -> tuple[str, str | None] | None:
    """The format and profile of a rendering the virtual instrument writes (``csv-wide`` is a
    delimited file read with ``generic_wide``), so that ``nbs read`` takes the names ``nbs
    simulate plate`` writes; None for a format's own name or an unknown one."""
    if name == "auto" or name in formats():
        return None
    for spec in specs():
        for rendering in spec.renderings:
            if rendering.name == name:
                chosen = rendering.options.get("profile")
                return spec.name, str(chosen) if chosen is not None else None
    return None


def write(run: PlateRun, dest: Any, *, format: str, **options: Any) -> None:
    """Write a plate run in a registered format (``options`` go to the format's writer)."""
    spec = get_format(format)
    if spec.write is None:
        raise InstrumentError(f"format {format!r} has no writer", field="format")
    spec.write(run, dest, **options)
