"""Which packaged profile a delimited file fits, when the caller names none.

A delimited export can be wide (a row per well) or long (a row per well and analyte), and only
its header tells which. :func:`choose_profile` reads the header as each profile of
``AUTO_PROFILES`` would (its encodings, delimiter and skipped rows) and takes the first that
fits:

- every column the profile cannot do without is there: the well (unless rows are placed by
  order), for a long layout the analyte and value columns, for rows placed by order the id;
- a wide layout also needs at least one other column that names an analyte (a catalogue code or
  alias, a name in the profile's ``[analytes]``, ``IS:<code>``, or ``Code [kind]``); unknown
  names among them are left for the reader to report.

When none fits, :class:`~instruments.errors.ProfileError` names the file and header line, lists
each profile tried with what it missed, and says how to pass one.

Public names: ``AUTO_PROFILES``, ``NoProfileFitsError``, ``choose_profile``, ``delimiter_for``,
``profile_misfit``.
"""

from __future__ import annotations

import csv
import io
import re

from instruments.errors import InstrumentError, ProfileError
from instruments.profiles import IS_PREFIX, Profile, load_profile
from instruments.sources import Source
from msms.catalogue import default_catalogue

__all__ = ["AUTO_PROFILES", "NoProfileFitsError", "choose_profile", "delimiter_for",
           "profile_misfit"]


class NoProfileFitsError(ProfileError):
    """No packaged profile fits a delimited file's header; ``tried`` says why, profile by
    profile (a caller other than the command line gives its own advice with it)."""

    def __init__(self, message: str, *, tried: list[str], file: str | None) -> None:
        super().__init__(message, file=file, line=1, field="profile")
        self.tried = tried

#: Tried in this order: the strictest layout first (a long header never fits a wide profile,
#: since none of its columns names an analyte, but the order keeps the choice obvious).
AUTO_PROFILES: tuple[str, ...] = ("generic_long", "generic_wide", "rusp_rf")
_KIND_SUFFIX = re.compile(r"^(.*?)\s*\[(\w+)\]\s*$")
_HEAD_BYTES = 65536


def delimiter_for(first_line: str, prof: Profile) -> str:
    """The profile's delimiter, or for ``auto`` the most frequent candidate on the header line
    (``;``, tab or ``|`` first when the decimal mark is a comma)."""
    if prof.delimiter != "auto":
        return prof.delimiter
    candidates = [";", "\t", "|"] if prof.decimal == "," else [",", "\t", ";", "|"]
    counts = {d: first_line.count(d) for d in candidates}
    best = max(candidates, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(source: Source, prof: Profile) -> list[str] | None:
    """The header cells as ``prof`` would read them, or None when the head is not its text."""
    head = source.data[:_HEAD_BYTES]
    text = None
    for encoding in prof.encodings:
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut at the end of the head
                text = head[: exc.start].decode(encoding, errors="strict")
                break
        except LookupError:
            return None
    if text is None:
        return None
    lines = text.splitlines()
    if len(lines) <= prof.skip_rows:
        return None
    first = lines[prof.skip_rows]
    try:
        row = next(csv.reader(io.StringIO(first), delimiter=delimiter_for(first, prof)))
    except (csv.Error, StopIteration):
        return None
    return [h.strip() for h in row]


def _names_analyte(header: str, prof: Profile) -> bool:
    match = _KIND_SUFFIX.match(header)
    name = (match.group(1) if match else header).strip()
    folded = {k.casefold() for k in prof.analytes}
    return (name.casefold() in folded or name.startswith(IS_PREFIX)
            or default_catalogue().try_resolve(name) is not None)


def _required(prof: Profile) -> list[str]:
    """The headers a file must have for the profile (see the module docstring)."""
    roles = [] if prof.well_from_row_order else ["well"]
    if prof.layout == "long":
        roles += ["analyte", "value"]
    if prof.well_from_row_order:
        roles.append("sample_id" if "sample_id" in prof.columns else "sample_name")
    return [prof.columns[r] for r in roles if r in prof.columns]


def profile_misfit(source: Source, prof: Profile) -> str | None:
    """None when the file's header fits the profile, else what it lacks (for the message)."""
    header = _header(source, prof)
    if not header:
        return "cannot read a header line"
    present = {h.casefold() for h in header if h}
    missing = [c for c in _required(prof) if c.casefold() not in present]
    if missing:
        return f"no column {', '.join(repr(m) for m in missing)}"
    if prof.layout == "wide":
        roles = {c.casefold() for c in prof.columns.values()}
        ignored = {c.casefold() for c in prof.ignore_columns}
        others = [h for h in header if h and h.casefold() not in roles | ignored]
        if not any(_names_analyte(h, prof) for h in others):
            return "no column names an analyte"
    return None


def choose_profile(source: Source) -> str:
    """The name of the first profile of ``AUTO_PROFILES`` whose header fits (see the module
    docstring)."""
    tried = []
    for name in AUTO_PROFILES:
        prof = load_profile(name)
        try:
            misfit = profile_misfit(source, prof)
        except InstrumentError:
            misfit = "cannot read a header line"
        if misfit is None:
            return name
        needs = ", ".join(repr(c) for c in _required(prof))
        extra = " and analyte columns" if prof.layout == "wide" else ""
        tried.append(f"{name} ({prof.layout}: needs {needs}{extra}; {misfit})")
    raise NoProfileFitsError(
        "no packaged profile fits this delimited file's header; tried "
        + ", ".join(tried) + ". Pass a profile that describes its columns: "
        "--profile PROFILE.toml (nbs) or profile=... (instruments.read); see "
        "docs/instruments.md, Profiles", tried=tried, file=source.name)
