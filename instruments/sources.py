"""The one file-opening helper every reader uses: a path or a binary buffer becomes a
``Source`` (display name + bytes), and text is decoded with an explicit list of encodings; and
its counterpart for the writers, ``write_bytes``.

Public names: ``Source``, ``open_source``, ``decode_text``, ``write_bytes``,
``DEFAULT_ENCODINGS``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instruments.errors import InstrumentError, MalformedFileError

__all__ = ["DEFAULT_ENCODINGS", "Source", "decode_text", "open_source", "write_bytes"]

#: Tried in order: UTF-8 (with or without a byte-order mark), then Windows-1252, the usual
#: encoding of exports from Windows instrument PCs (it is a superset of ISO-8859-1's printable
#: characters, e.g. ``µ`` and ``º``).
DEFAULT_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp1252")


@dataclass(frozen=True)
class Source:
    """Bytes to read and the name issues and measurements refer to.

    ``path`` is set when the source is a file or directory on disk (a directory is an mzML plate).
    """

    name: str
    data: bytes
    path: Path | None = None

    @property
    def is_directory(self) -> bool:
        return self.path is not None and self.path.is_dir()

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix.lower()

    @property
    def stem(self) -> str:
        name = Path(self.name).name
        for suffix in (".mzml.zip", ".zip", ".mzml", ".xml", ".txt", ".csv", ".tsv"):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return Path(name).stem


def open_source(source: Any, *, name: str | None = None) -> Source:
    """Turn a path, ``bytes`` or a binary file object into a :class:`Source`.

    Raises :class:`InstrumentError` naming the file when it cannot be read.
    """
    if isinstance(source, Source):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        display = name or str(path)
        if path.is_dir():
            return Source(display, b"", path)
        try:
            return Source(display, path.read_bytes(), path)
        except FileNotFoundError:
            raise InstrumentError("no such file", file=display) from None
        except OSError as exc:
            raise InstrumentError(f"cannot read: {exc.strerror}", file=display) from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Source(name or "<bytes>", bytes(source))
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            raise InstrumentError("open the file in binary mode ('rb'), not text mode",
                                  file=name or getattr(source, "name", "<buffer>"))
        display = name or str(getattr(source, "name", "<buffer>"))
        return Source(display, bytes(data))
    raise TypeError(f"source must be a path, bytes or a binary file object, not "
                    f"{type(source).__name__}")


def decode_text(source: Source, encodings: tuple[str, ...] | list[str] = DEFAULT_ENCODINGS
                ) -> tuple[str, str]:
    """Decode the bytes with the first encoding that fits; returns ``(text, encoding)``.

    NUL bytes mean the file is binary, not text: that is a :class:`MalformedFileError`.
    """
    if b"\x00" in source.data:
        line = source.data[: source.data.index(b"\x00")].count(b"\n") + 1
        raise MalformedFileError("holds NUL bytes: a binary file, not a text export",
                                 file=source.name, line=line)
    for encoding in encodings:
        try:
            return source.data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise InstrumentError(f"unknown text encoding {encoding!r}", file=source.name,
                                  field="encoding") from None
    raise MalformedFileError(f"is not text in any of {', '.join(encodings)}", file=source.name)


def write_bytes(dest: Any, data: bytes) -> None:
    """Write ``data`` to a binary file object, or to the file at the path ``dest``."""
    if hasattr(dest, "write"):
        dest.write(data)
    else:
        Path(dest).write_bytes(data)
