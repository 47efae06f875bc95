"""The one declaration of the instrument formats: each format module registers a
:class:`FormatSpec` when it is imported, and everything that lists formats loops over
:func:`specs` (the reader's dispatch and detection, the writers, the virtual instrument's plate
renderings, the formats a profile may name, the command line's help, the tests).

Public names: ``FormatSpec``, ``Rendering``, ``register``, ``specs``, ``formats``,
``rendering_names``, ``get_format``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from instruments.errors import UnknownFormatError

if TYPE_CHECKING:  # the plate table (pandas) is imported by the format modules that read one
    from instruments.run import PlateRun
    from instruments.sources import Source

__all__ = ["FormatSpec", "Rendering", "formats", "get_format", "register", "specs"]


@dataclass(frozen=True)
class Rendering:
    """One way the format's writer renders a plate, offered by name by the virtual instrument.

    ``options`` go to the writer; a ``profile`` among them is also what the file is read with.
    """

    name: str
    suffix: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class FormatSpec:
    """A registered format: its name, detector, reader, writer and default profile."""

    name: str
    detect: Callable[[Source], bool]
    read: Callable[..., PlateRun]
    write: Callable[..., None] | None
    default_profile: str | None
    description: str = ""
    #: detection asks the formats in ascending order (the most specific first)
    detect_order: int = 50
    #: True for formats that identify compounds by m/z (they take a ``transitions`` table)
    uses_transitions: bool = False
    #: True for formats read from a directory or zip of files (they take archive ``limits``)
    reads_archives: bool = False
    #: the name of the packaged profile the file fits, when the caller gives none (delimited:
    #: chosen by its header); None: ``default_profile``
    choose_profile: Callable[[Source], str] | None = None
    #: the plates the virtual instrument renders in this format
    renderings: tuple[Rendering, ...] = ()


_REGISTRY: dict[str, FormatSpec] = {}


def register(spec: FormatSpec) -> None:
    """Add (or replace) a format."""
    _REGISTRY[spec.name] = spec


def specs() -> list[FormatSpec]:
    """The registered formats in detection order."""
    return sorted(_REGISTRY.values(), key=lambda spec: spec.detect_order)


def formats() -> list[str]:
    """Names of the registered formats, in detection order."""
    return [spec.name for spec in specs()]


def rendering_names() -> list[str]:
    """Names of the renderings the formats' writers offer (``csv-wide``, ``masslynx-sample``)
    other than the formats' own names; a reader takes them too."""
    names = set(formats())
    return [r.name for spec in specs() for r in spec.renderings if r.name not in names]


def get_format(name: str) -> FormatSpec:
    """The registered format ``name``; UnknownFormatError naming the registered ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownFormatError(
            f"unknown format {name!r}; registered formats: {', '.join(formats())} (or a "
            f"rendering of one: {', '.join(rendering_names())})",
            field="format") from None
