"""Errors of the HL7 package, and where in a message (or a file) a problem is.

``Location`` names a place the way HL7's ERL data type does: segment id, which occurrence of that
segment, field, repetition and component. ``str(Location("PID", 1, 7))`` is ``PID-7``; the third
OBX's value is ``OBX[3]-5``; the second repetition of PID-3 is ``PID-3(2)``. ``erl()`` gives the
ERR-2 encoding (``PID^1^7^1``).

Public names: ``Hl7Error``, ``CodeTableError``, ``MessageError``, ``Location``, ``ERROR_CODES``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports import ReportError

__all__ = ["ERROR_CODES", "CodeTableError", "Hl7Error", "Location", "MessageError"]

#: HL7 table 0357 (message error condition codes) as used in ERR-3.
ERROR_CODES: dict[int, str] = {
    0: "Message accepted",
    100: "Segment sequence error",
    101: "Required field missing",
    102: "Data type error",
    103: "Table value not found",
    200: "Unsupported message type",
    201: "Unsupported event code",
    202: "Unsupported processing id",
    203: "Unsupported version id",
    204: "Unknown key identifier",
    205: "Duplicate key identifier",
    206: "Application record locked",
    207: "Application internal error",
}


class Hl7Error(ReportError):
    """An HL7 message cannot be built or read."""


class CodeTableError(Hl7Error):
    """A code table in ``reports/hl7/data`` is malformed; names the file, line and column."""

    def __init__(self, message: str, *, file: str, line: int | None = None,
                 field: str | None = None) -> None:
        where = file + (f", line {line}" if line else "") + (f", field {field}" if field else "")
        super().__init__(f"{where}: {message}")
        self.file, self.line, self.field = file, line, field


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a message: ``segment`` id, its ``occurrence`` (1-based, among segments with
    the same id), and optionally the ``field``, ``repetition`` and ``component`` numbers."""

    segment: str
    occurrence: int = 1
    field: int | None = None
    repetition: int = 1
    component: int | None = None

    def __str__(self) -> str:
        text = self.segment + (f"[{self.occurrence}]" if self.occurrence > 1 else "")
        if self.field is not None:
            text += f"-{self.field}"
            if self.repetition > 1:
                text += f"({self.repetition})"
            if self.component is not None:
                text += f".{self.component}"
        return text

    def erl(self) -> str:
        """ERR-2 (ERL): ``segment^occurrence^field^repetition^component``."""
        parts = [self.segment, str(self.occurrence)]
        if self.field is not None:
            parts += [str(self.field), str(self.repetition)]
            if self.component is not None:
                parts.append(str(self.component))
        return "^".join(parts)


class MessageError(Hl7Error):
    """A received message is refused. ``location`` names the segment and field (None when the
    message as a whole is unusable), ``code`` is the HL7 table 0357 error code for ERR-3, and
    ``acknowledgment`` the ACK code to answer with: ``AR`` (rejected: unreadable, or a message
    type, version or processing id we do not take) or ``AE`` (an error in its content). Either
    way nothing from the message is used."""

    def __init__(self, message: str, location: Location | None = None, *, code: int = 102,
                 acknowledgment: str = "AE") -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.detail = message
        self.location = location
        self.code = code
        self.acknowledgment = acknowledgment
