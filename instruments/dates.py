"""Dates as instrument PCs print them, in the PC's locale: ``17-sept-19``, ``07-Jan-20``,
``13 May 2022``, ``Fri Sep 20 14:23:33 2019``.

Month names are accepted in English, French, German, Spanish, Italian, Portuguese and Dutch
(abbreviated with or without a trailing dot, or in full); a name outside these is not guessed.

Public names: ``parse_date``, ``parse_datetime``, ``iso``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

__all__ = ["iso", "parse_date", "parse_datetime"]

_MONTHS: dict[str, int] = {}
_NAMES = {
    1: "jan january janv janvier januar jänner enero ene gennaio gen janeiro januari",
    2: "feb february fev fevr févr février fevrier februar febrero febbraio fevereiro "
       "februari",
    3: "mar march mars märz maerz marzo março marco maart mrt",
    4: "apr april avr avril abril abr aprile",
    5: "may mai mayo maggio mag maio mei",
    6: "jun june juin juni junio giugno giu junho",
    7: "jul july juil juillet juli julio luglio lug julho",
    8: "aug august aou aoû août aout agosto ago augustus",
    9: "sep sept september septembre septiembre settembre set setembro",
    10: "oct october octobre okt oktober octubre ottobre ott outubro out",
    11: "nov november novembre noviembre novembro",
    12: "dec december déc décembre decembre dez dezember diciembre dic dicembre dezembro",
}
for _number, _words in _NAMES.items():
    for _word in _words.split():
        _MONTHS.setdefault(_word, _number)

_DMY = re.compile(r"^\s*(\d{1,2})[-/. ]([A-Za-zÀ-ÿ]+)\.?[-/. ](\d{2}|\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_CTIME = re.compile(
    r"^\s*[A-Za-z]+\s+([A-Za-z]+)\s+(\d{1,2})\s+(\d{1,2}:\d{2}:\d{2})\s+(\d{4})\s*$")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if year < 70 else (year + 1900 if year < 100 else year)


def parse_date(text: str) -> date | None:
    """The date, or None when the text is not a date in a known spelling."""
    match = _DMY.match(text)
    if match:
        day, month_name, year = match.groups()
        month = _MONTHS.get(month_name.casefold().rstrip("."))
        if month is None:
            return None
        try:
            return date(_year(year), month, int(day))
        except ValueError:
            return None
    match = _ISO.match(text)
    if match:
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            return None
    return None


@lru_cache(maxsize=4096)
def parse_datetime(day: str, clock: str = "") -> datetime | None:
    """Combine a date cell and a time cell (``10:38:48``), or parse a ctime-style stamp.

    Cached: a report repeats the same few acquisition stamps in every compound block."""
    match = _CTIME.match(day)
    if match and not clock:
        month = _MONTHS.get(match.group(1).casefold())
        if month is None:
            return None
        hh, mm, ss = (int(x) for x in match.group(3).split(":"))
        try:
            return datetime(int(match.group(4)), month, int(match.group(2)), hh, mm, ss)
        except ValueError:
            return None
    parsed = parse_date(day)
    if parsed is None:
        return None
    if not clock.strip():
        return datetime.combine(parsed, time())
    tmatch = _TIME.match(clock)
    if not tmatch:
        return None
    hh, mm, ss = int(tmatch.group(1)), int(tmatch.group(2)), int(tmatch.group(3) or 0)
    try:
        return datetime.combine(parsed, time(hh, mm, ss))
    except ValueError:
        return None


def iso(moment: datetime | date) -> str:
    """ISO 8601 text (seconds precision)."""
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="seconds")
    return moment.isoformat()
