"""Errors raised by the instrument readers and writers.

Every error names the file, line and field it is about (any may be None) and says what to fix.

Public names: ``InstrumentError`` (base), ``UnknownFormatError`` (no reader recognises the file, or
an unknown format name), ``MalformedFileError`` (the bytes are not a well-formed file of the
format), ``UnsupportedEncodingError`` (a binary encoding or compression the reader will not guess
at, such as an unknown MS-Numpress variant), ``ProfileError`` (a profile TOML or transition table
is wrong), ``PlateMapError`` (a plate map is wrong), ``ValidationError`` (the file was read but
the plate cannot be accepted; ``issues`` holds every problem found), ``WriteError`` (a plate run
cannot be written in the requested format), ``ArchiveTooLargeError`` (a plate archive inflates
beyond a size limit: refused before it is read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from msms.errors import DataError

if TYPE_CHECKING:
    from instruments.run import Issue

__all__ = [
    "ArchiveTooLargeError",
    "InstrumentError",
    "MalformedFileError",
    "PlateMapError",
    "ProfileError",
    "UnknownFormatError",
    "UnsupportedEncodingError",
    "ValidationError",
    "WriteError",
]


class InstrumentError(DataError):
    """An instrument file cannot be read; ``file``, ``line`` and ``field`` say where."""


class UnknownFormatError(InstrumentError):
    """No registered reader recognises the file, or the format name is not registered."""


class MalformedFileError(InstrumentError):
    """The bytes are not a well-formed file of the format (truncated, wrong structure, bad XML)."""


class ArchiveTooLargeError(MalformedFileError):
    """A plate archive (or one of its files) inflates beyond a size limit, or is compressed
    more than a real export is (a zip bomb); refused before the excess is inflated."""


class UnsupportedEncodingError(InstrumentError):
    """A binary array uses an encoding or compression that is rejected rather than guessed."""


class ProfileError(InstrumentError):
    """A profile (TOML) or a transition table is invalid."""


class PlateMapError(InstrumentError):
    """A plate map (well -> sample id, sample type) is invalid or does not fit the run."""


class WriteError(InstrumentError):
    """A plate run cannot be written in the requested format."""


class ValidationError(InstrumentError):
    """The file was parsed but the plate is not acceptable.

    The message names the first error; ``issues`` holds every issue found (errors and warnings),
    each with its file, line and field.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        errors = [i for i in self.issues if i.severity == "error"]
        first = errors[0] if errors else self.issues[0]
        from instruments.issues import READER_ERRORS  # issues names errors' messages

        message = first.message
        if len(errors) > 1:
            message = READER_ERRORS.text("more_errors", message=message, n=len(errors) - 1)
        super().__init__(message, file=first.file, line=first.line, field=first.field)
