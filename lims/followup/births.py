"""Live births per submitting unit and month, the denominator of the coverage measure
(docs/followup.md "Measures"): recorded one at a time (the programme page) or from a CSV file
(``nbs programme births FILE``), and the coverage of a month read back for the programme
measures.

Coverage = babies whose first card received in the month was satisfactory (a ``card_measure``
row: ``initial`` and not ``unsatisfactory``) / the live births the unit reported for the month.
A group's coverage is over the units that reported their births for the month only; a month
with no births recorded has no coverage measure.

The CSV has a header line and the columns ``submitter`` (the unit's code), ``month``
(YYYY-MM) and ``live_births`` (a whole number >= 0). A file is stored whole or not at all: the
first bad line stops it, named by file, line and field.

Public names: ``BIRTHS_COLUMNS``, ``month_key``, ``parse_month``, ``record_births``,
``import_births``, ``births_of_month``, ``coverage``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from lims.accession.repository import submitter_by_code
from lims.audit import Actor, store
from lims.errors import InvalidInputError, found
from lims.followup import repository
from lims.followup.measures import Measure, proportion
from lims.models import LiveBirths, Submitter, utcnow

__all__ = ["BIRTHS_COLUMNS", "births_of_month", "coverage", "import_births", "month_key",
           "parse_month", "record_births"]

BIRTHS_COLUMNS: tuple[str, ...] = ("submitter", "month", "live_births")
#: More births than this in one unit's month is a typing error, not a maternity unit.
MAX_BIRTHS = 1_000_000


def month_key(day: date) -> int:
    """The ``yyyymm`` of the month holding ``day`` (as ``card_measure.month``)."""
    return day.year * 100 + day.month


def parse_month(text: str, **where: Any) -> date:
    """``YYYY-MM`` as the month's first day (``where``: the file and line it was read from)."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a month (YYYY-MM)", field="month",
                                **where) from None


def _births(text: str, **where: Any) -> int:
    try:
        births = int(text.strip())
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a whole number", field="live_births",
                                **where) from None
    if not 0 <= births <= MAX_BIRTHS:
        raise InvalidInputError(f"{births} is not between 0 and {MAX_BIRTHS:,}",
                                field="live_births", **where)
    return births


def record_births(session: Session, actor: Actor, submitter_id: int, month: date,
                  births: int) -> LiveBirths:
    """Record (or replace) a unit's live births of the month holding ``month`` (audited)."""
    found(session.get(Submitter, submitter_id), f"submitter {submitter_id}")
    births = _births(str(births))
    key = month_key(month)
    row = session.get(LiveBirths, (submitter_id, key))
    before = None if row is None else {"births": row.births}
    if row is None:
        row = LiveBirths(submitter_id=submitter_id, month=key, births=births,
                         recorded_by_name=actor.username[:64])
    else:
        row.births, row.recorded_by_name, row.recorded_at = births, actor.username[:64], utcnow()
    return store(session, actor, "record_live_births", "live_births", row,
                 entity_id=f"{submitter_id}:{key}", before=before,
                 after={"submitter_id": submitter_id, "month": key, "births": births})


def import_births(session: Session, actor: Actor, data: bytes, name: str) -> int:
    """Record every line of a live-births CSV (``BIRTHS_COLUMNS``); the number of lines."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError("not UTF-8 text", file=name) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in BIRTHS_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise InvalidInputError(f"missing column(s) {', '.join(missing)} (the header must "
                                f"name {', '.join(BIRTHS_COLUMNS)})", file=name, line=1)
    parsed: list[tuple[int, date, int]] = []
    seen: dict[tuple[int, int], int] = {}
    for line, row in enumerate(reader, start=2):
        where: dict[str, Any] = {"file": name, "line": line}
        code = (row.get("submitter") or "").strip()
        submitter = submitter_by_code(session, code) if code else None
        if submitter is None or submitter.id is None:
            raise InvalidInputError(f"no submitting unit with code {code!r}", field="submitter",
                                    **where)
        month = parse_month(row.get("month") or "", **where)
        births = _births(row.get("live_births") or "", **where)
        key = (submitter.id, month_key(month))
        if key in seen:
            raise InvalidInputError(f"{code} {month:%Y-%m} is also on line {seen[key]}",
                                    field="month", **where)
        seen[key] = line
        parsed.append((submitter.id, month, births))
    if not parsed:
        raise InvalidInputError("no line after the header", file=name)
    for submitter_id, month, births in parsed:
        record_births(session, actor, submitter_id, month, births)
    return len(parsed)


def births_of_month(session: Session, month: date) -> dict[int, int]:
    """The live births recorded for the month holding ``month``, by submitter id."""
    return repository.live_births_of_month(session, month_key(month))


def coverage(session: Session, month: date,
             groups: Mapping[str, Collection[int] | None]) -> dict[str, Measure] | None:
    """Each group's coverage of the month (None: no births recorded for the month); a group
    (submitter ids; None: all) is over its units that reported their births."""
    births = births_of_month(session, month)
    if not births:
        return None
    screened = repository.satisfactory_first_cards(session, month_key(month))
    out: dict[str, Measure] = {}
    for group, ids in groups.items():
        reported = [s for s in births if ids is None or s in ids]
        if not reported:
            out[group] = Measure(None, 0)
            continue
        out[group] = proportion(sum(screened.get(s, 0) for s in reported),
                                sum(births[s] for s in reported))
    return out
