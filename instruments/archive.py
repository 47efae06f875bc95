"""The files of a plate that comes as several files (a directory or a ``.zip``), listed without
reading them and read one at a time within size limits, so a zip bomb is refused before it is
inflated and memory holds one member at a time.

**Limits** (:class:`ArchiveLimits`, defaults in ``DEFAULT_LIMITS``): the uncompressed size of
one member, the uncompressed size of all members, and a member's compression ratio
(uncompressed / compressed, checked for members over ``ratio_floor_bytes``: a small file may
compress well). The sizes a zip declares are checked when it is opened, before anything is
inflated; while a member is read its bytes are counted in chunks, so a member that inflates to
more than it declares is stopped at the limit too (Python's ``zipfile`` also stops at the
declared size and refuses the member's checksum). A directory's files are checked by their size
on disk. A refusal is an :class:`~instruments.errors.ArchiveTooLargeError` naming the file, the
member and the limit.

Public names: ``ArchiveLimits``, ``DEFAULT_LIMITS``, ``PlateFiles``, ``open_plate_files``.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from instruments.errors import ArchiveTooLargeError, MalformedFileError
from instruments.sources import Source

__all__ = ["DEFAULT_LIMITS", "ArchiveLimits", "PlateFiles", "open_plate_files"]

MIB = 1024 * 1024
_CHUNK = MIB


@dataclass(frozen=True)
class ArchiveLimits:
    """Size limits on the members of a plate archive (bytes, uncompressed)."""

    max_member_bytes: int = 64 * MIB
    max_total_bytes: int = 1024 * MIB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = MIB

    def __post_init__(self) -> None:
        if self.max_member_bytes <= 0 or self.max_total_bytes <= 0 or self.max_ratio <= 1:
            raise ValueError("archive limits must be positive (and the ratio above 1)")


DEFAULT_LIMITS = ArchiveLimits()


def _mib(n: float) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{int(n)} bytes"


class PlateFiles:
    """The member names of a plate source and a way to read each one within the limits.

    A single file (not a directory, not a zip) is one member named ``""``.
    """

    def __init__(self, src: Source, limits: ArchiveLimits) -> None:
        self.src = src
        self.limits = limits
        self._zip: zipfile.ZipFile | None = None
        self._sizes: dict[str, int] = {}
        self._read_total = 0
        if src.is_directory:
            assert src.path is not None
            for p in sorted(src.path.iterdir()):
                if p.is_file():
                    self._sizes[p.name] = p.stat().st_size
            self._check_sizes({n: (s, 0) for n, s in self._sizes.items()})
        elif src.data[:4] == b"PK\x03\x04":
            try:
                self._zip = zipfile.ZipFile(io.BytesIO(src.data))
            except zipfile.BadZipFile as exc:
                raise MalformedFileError(f"not a readable zip: {exc}", file=src.name) from None
            declared = {i.filename: (i.file_size, i.compress_size)
                        for i in self._zip.infolist() if not i.is_dir()}
            self._check_sizes(declared)
            self._sizes = {n: s for n, (s, _c) in declared.items()}
        else:
            self._sizes[""] = len(src.data)

    # ---- checks before anything is inflated ----------------------------------------------

    def _refuse(self, member: str, message: str, field: str) -> ArchiveTooLargeError:
        where = f"{self.src.name}!{member}" if member else self.src.name
        return ArchiveTooLargeError(message, file=where, field=field)

    def _check_sizes(self, sizes: dict[str, tuple[int, int]]) -> None:
        lim = self.limits
        total = 0
        for name, (size, packed) in sizes.items():
            if size > lim.max_member_bytes:
                raise self._refuse(name, f"inflates to {_mib(size)}, more than the limit of "
                                         f"{_mib(lim.max_member_bytes)} per file",
                                   "uncompressed size")
            if packed and size > lim.ratio_floor_bytes and size / packed > lim.max_ratio:
                raise self._refuse(name, f"is compressed {size / packed:.0f} to 1 ({_mib(packed)}"
                                         f" inflating to {_mib(size)}), more than the limit of "
                                         f"{lim.max_ratio:g} to 1: refused as a zip bomb",
                                   "compression ratio")
            total += size
        if total > lim.max_total_bytes:
            raise self._refuse("", f"its {len(sizes)} files inflate to {_mib(total)}, more than "
                                   f"the limit of {_mib(lim.max_total_bytes)} in all",
                               "uncompressed size")

    # ---- reading -----------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self._sizes)

    @property
    def single(self) -> bool:
        return list(self._sizes) == [""]

    def read(self, name: str) -> bytes:
        """The bytes of one member, counted against the limits as they are inflated."""
        if name == "" and self.single:
            return self.src.data
        if self._zip is None:
            assert self.src.path is not None
            data = (self.src.path / name).read_bytes()
            self._count(name, len(data), len(data))
            return data
        out = io.BytesIO()
        with self._zip.open(name) as member:
            while chunk := member.read(_CHUNK):
                out.write(chunk)
                self._count(name, out.tell(), len(chunk))
        return out.getvalue()

    def _count(self, name: str, member_bytes: int, added: int) -> None:
        lim = self.limits
        self._read_total += added
        if member_bytes > lim.max_member_bytes:
            raise self._refuse(name, f"inflates to more than the limit of "
                                     f"{_mib(lim.max_member_bytes)} per file",
                               "uncompressed size")
        if self._read_total > lim.max_total_bytes:
            raise self._refuse("", f"its files inflate to more than the limit of "
                                   f"{_mib(lim.max_total_bytes)} in all", "uncompressed size")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> PlateFiles:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[str]:
        return iter(self._sizes)


def open_plate_files(src: Source, limits: ArchiveLimits | None = None) -> PlateFiles:
    """The files of ``src`` (a directory, a zip or one file) under ``limits``."""
    return PlateFiles(src, limits or DEFAULT_LIMITS)

