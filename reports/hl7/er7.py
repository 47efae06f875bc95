"""HL7 v2 encoding rules (ER7): escaping, timestamps, numbers, and splitting a received message.

Writing: :func:`escape` for one-line values (names, identifiers: ``|^~\\&`` become ``\\F\\``,
``\\S\\``, ``\\R\\``, ``\\E\\``, ``\\T\\``; a carriage return, line feed or other control
character becomes a hex escape such as ``\\X0D\\``, so nothing is lost and nothing can break the
framing), :func:`escape_text` for TX and FT values (a line break of any kind becomes
``\\.br\\``), :func:`format_dtm` (an aware datetime as ``YYYYMMDDHHMMSS+ZZZZ``) and
:func:`format_number` (an NM value: plain decimal, at most six significant digits, never an
exponent).

Reading: :func:`split_message` cuts a received message into segments and fields with the encoding
characters its MSH declares; :func:`repetitions`, :func:`components` and :func:`unescape` take a
field apart; :func:`parse_dtm` reads a DTM. The reader is a plain splitter on purpose: hl7apy's
tolerant parser (used in the tests to validate what we build) rewrites escape sequences it does
not know (``\\X0D\\`` comes back as ``\\E\\X0D\\E\\``) and drops components beyond its data type,
so it cannot be trusted to read values back exactly.

Public names: ``Encoding``, ``RawSegment``, ``escape``, ``escape_text``, ``unescape``,
``format_dtm``, ``parse_dtm``, ``format_number``, ``split_message``, ``repetitions``,
``components``, ``SEGMENT_END``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import numpy as np

__all__ = [
    "SEGMENT_END",
    "Encoding",
    "RawSegment",
    "components",
    "escape",
    "escape_text",
    "format_dtm",
    "format_number",
    "parse_dtm",
    "repetitions",
    "split_message",
    "unescape",
]

SEGMENT_END = "\r"

#: Control characters (C0 and DEL) travel as hex escapes: a raw VT or FS would break MLLP framing.
_CONTROLS = {chr(c): f"\\X{c:02X}\\" for c in [*range(0x20), 0x7F]}
_DELIMITERS = {"\\": "\\E\\", "|": "\\F\\", "^": "\\S\\", "&": "\\T\\", "~": "\\R\\"}
_ONE_LINE = str.maketrans({**_CONTROLS, **_DELIMITERS})
_TEXT = str.maketrans({**_CONTROLS, **_DELIMITERS, "\n": "\\.br\\"})
_NEWLINES = re.compile(r"\r\n?|\n")
_DTM = re.compile(
    r"(?P<year>\d{4})(?:(?P<month>\d{2})(?:(?P<day>\d{2})(?:(?P<hour>\d{2})(?:(?P<minute>\d{2})"
    r"(?:(?P<second>\d{2})(?:\.(?P<fraction>\d{1,4}))?)?)?)?)?)?"
    r"(?P<offset>[+-]\d{4})?"
)


@dataclass(frozen=True, slots=True)
class Encoding:
    """The separators a message declares in MSH-1 and MSH-2 (the defaults are ``|^~\\&``)."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


@dataclass(frozen=True, slots=True)
class RawSegment:
    """One received segment: its id, its place among segments of the same id (1-based), and its
    fields as written (``fields[n]`` is field *n*; for MSH, ``fields[1]`` is the field
    separator and ``fields[2]`` the encoding characters, as HL7 numbers them)."""

    name: str
    occurrence: int
    line: int
    fields: tuple[str, ...]

    def field(self, number: int) -> str:
        """Field ``number`` as written ("" when the segment is shorter)."""
        return self.fields[number] if number < len(self.fields) else ""


def escape(value: str) -> str:
    """A one-line value with the HL7 delimiters and line breaks escaped."""
    return value.translate(_ONE_LINE)


def escape_text(value: str) -> str:
    """A TX/FT value: delimiters escaped, every line break (CR LF, CR or LF) as ``\\.br\\``."""
    return _NEWLINES.sub("\n", value).translate(_TEXT)


def _hex(data: str) -> str:
    try:
        return bytes.fromhex(data).decode("utf-8")
    except ValueError:
        return ""


def unescape(value: str, encoding: Encoding = Encoding()) -> str:
    """Undo the HL7 escape sequences of a value (one component or subcomponent).

    ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` give the delimiters, ``\\.br\\`` a line feed, ``\\Xhh..\\``
    the UTF-8 text of its hex digits; highlighting (``\\H\\``, ``\\N\\``) and other formatting
    sequences are dropped. A lone escape character is kept as it is.
    """
    esc = encoding.escape
    if esc not in value:
        return value
    plain = {"F": encoding.field, "S": encoding.component, "T": encoding.subcomponent,
             "R": encoding.repetition, "E": esc}
    out: list[str] = []
    i = 0
    while i < len(value):
        char = value[i]
        end = value.find(esc, i + 1) if char == esc else -1
        if end < 0:
            out.append(char)
            i += 1
            continue
        body = value[i + 1:end]
        if body in plain:
            out.append(plain[body])
        elif body == ".br":
            out.append("\n")
        elif body[:1] == "X" and len(body) > 1:
            out.append(_hex(body[1:]))
        elif not (body in ("H", "N") or body[:1] == "."):
            out.append(value[i:end + 1])
        i = end + 1
    return "".join(out)


def format_dtm(value: datetime) -> str:
    """An aware datetime as a DTM with seconds and its UTC offset: ``20240102091500+0000``.

    Raises ValueError for a naive datetime (a DTM without an offset means the sender's local
    time, which the receiver cannot know).
    """
    offset = value.utcoffset()
    if offset is None:
        raise ValueError(f"{value.isoformat()} has no time zone")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{value:%Y%m%d%H%M%S}{sign}{hours:02d}{mins:02d}"


def parse_dtm(text: str, default_tz: tzinfo = UTC) -> datetime:
    """A DTM (``YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]``) as an aware datetime.

    Missing parts are the start of the period; a value without an offset is taken to be in
    ``default_tz``. Raises ValueError when the text is not a DTM or names no real time.
    """
    match = _DTM.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an HL7 date/time (YYYYMMDDHHMMSS[+ZZZZ])")
    part = match.groupdict()
    fraction = part["fraction"] or ""
    tz = default_tz
    if part["offset"]:
        sign = -1 if part["offset"][0] == "-" else 1
        hours, minutes = int(part["offset"][1:3]), int(part["offset"][3:5])
        if hours > 23 or minutes > 59:
            raise ValueError(f"{text!r} has an impossible UTC offset")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return datetime(
        int(part["year"]), int(part["month"] or 1), int(part["day"] or 1),
        int(part["hour"] or 0), int(part["minute"] or 0), int(part["second"] or 0),
        int(fraction.ljust(6, "0")) if fraction else 0, tzinfo=tz,
    )


def format_number(value: float) -> str:
    """An NM value: plain decimal with at most six significant digits (``0.00645``, ``77.5``,
    ``1200``), never an exponent. Raises ValueError for NaN or infinity."""
    text = f"{value:.6g}"
    if "e" in text or "n" in text:  # an exponent, or nan / inf
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a number HL7 can carry")
        text = np.format_float_positional(value, precision=6, unique=True, fractional=False,
                                          trim="-")
    return text


def _encoding(header: str) -> Encoding:
    if len(header) < 8 or not header.startswith("MSH"):
        raise ValueError("the message does not start with an MSH segment")
    chars = header[3:8]
    if len(set(chars)) != 5 or any(c.isalnum() or c in " \r\n" for c in chars):
        raise ValueError("MSH-1 and MSH-2 do not declare five distinct separators")
    return Encoding(chars[0], chars[1], chars[2], chars[3], chars[4])


def split_message(text: str) -> tuple[Encoding, list[RawSegment]]:
    """The encoding characters and the segments of a received message.

    Segments end with CR (a CR LF or LF written by a careless sender is accepted too); empty
    lines are skipped. Raises ValueError when the message does not start with a usable MSH.
    """
    lines = [line for line in _NEWLINES.split(text.strip("\r\n\x0b\x1c ")) if line.strip()]
    if not lines:
        raise ValueError("the message is empty")
    encoding = _encoding(lines[0])
    seen: dict[str, int] = {}
    segments: list[RawSegment] = []
    for number, line in enumerate(lines, start=1):
        parts = line.split(encoding.field)
        name = parts[0].strip()
        fields = ("MSH", encoding.field, *parts[1:]) if name == "MSH" else (name, *parts[1:])
        seen[name] = seen.get(name, 0) + 1
        segments.append(RawSegment(name, seen[name], number, tuple(fields)))
    return encoding, segments


def repetitions(raw: str, encoding: Encoding = Encoding()) -> list[str]:
    """The repetitions of a field as written (an empty field has none)."""
    return raw.split(encoding.repetition) if raw else []


def components(raw: str, encoding: Encoding = Encoding()) -> list[str]:
    """The components of one repetition, unescaped (subcomponents are kept joined)."""
    return [unescape(part, encoding) for part in raw.split(encoding.component)]
