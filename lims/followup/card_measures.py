"""The card measures of a month (docs/followup.md "Measures") from ``card_measure``, one row per
specimen with its figures, and the hook that keeps that table up to date.

Kept up to date: after every ORM flush that adds a specimen or a first release, changes a
card's receipt, collection, kind, submitter, baby or unsatisfactory code, or a baby's birth
time, the rows of the specimens touched are computed again from the specimen, its baby and its
first release (``repository.refresh_card_measures``), in the same transaction, and the
months of their rows before and after have a change counted (``lims.followup
.stored_measures``). Cards written in bulk with Core (the simulated year of the tests and
benchmark) are followed by
``repository.rebuild_card_measures``; migration 0008 fills the table from the cards already
there.

Read: counts and exact medians without reading every card of the month. ``card_hour_count``
holds, per month, figure, submitter and whole hour of the figure, the number of cards (kept
up to date with ``card_measure``); the hour that holds a group's middle card(s) and its place
in that hour are found from these counts, and only those values are read, from the index. The
figures are the SQL expressions the measures were computed with before, so the results are
the same, on SQLite and PostgreSQL.

Public names: ``CardMeasures``, ``month_card_measures``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from lims.followup import repository, stored_measures
from lims.followup.measures import Measure, Month, proportion
from lims.models import Infant, Release, Specimen

__all__ = ["CardMeasures", "month_card_measures"]

_HOURS_PER_DAY = 24.0
#: The specimen columns a card's figures depend on.
_CARD_FIELDS = ("received_at", "collected_at", "kind", "submitter_id", "infant_id",
                "unsatisfactory_code")


def _changed(obj: Any, fields: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields)


@event.listens_for(OrmSession, "after_flush")
def _refresh_touched(session: OrmSession, _context: Any) -> None:
    """After a flush, refresh the rows of the specimens whose figures it may have changed."""
    ids: set[int] = set()
    infants: set[int] = set()
    for obj in session.new:
        if isinstance(obj, Specimen) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, Release) and obj.version == 1:
            ids.add(obj.specimen_id)
    for obj in session.dirty:
        if isinstance(obj, Specimen) and obj.id is not None and _changed(obj, _CARD_FIELDS):
            ids.add(obj.id)
        elif isinstance(obj, Infant) and obj.id is not None and _changed(obj, ("birth_at",)):
            infants.add(obj.id)
    ids |= {o.id for o in session.deleted if isinstance(o, Specimen) and o.id is not None}
    if not ids and not infants:
        return
    connection = session.connection()
    if infants:
        ids |= set(repository.specimen_ids_of_infants(connection, infants))
    stored_measures.card_months_changed(connection,
                                        repository.refresh_card_measures(connection, ids))


@dataclass(frozen=True, slots=True)
class CardMeasures:
    """A group's card measures of a month (the names ``measures.specimen_measures`` gives)
    and the babies screened (its first cards)."""

    measures: dict[str, Measure]
    screened: int


#: Per submitter, per whole hour of a figure: (cards, the extra count).
_Counts = dict[int, dict[int, tuple[int, int]]]
Groups = Mapping[str, Collection[int] | None]


def _total(counts: _Counts, submitters: Collection[int] | None, which: int) -> int:
    """The cards (``which`` 0) or the extra count (1) of the submitters (None: all)."""
    return sum(c[which] for s, hours in counts.items()
               if submitters is None or s in submitters for c in hours.values())


def _middle(counts: _Counts, submitters: Collection[int]) -> tuple[int, list[tuple[int, int]]]:
    """The number of cards of the submitters and, for the middle card(s) of their sorted
    figures, the hour that holds each and its place among that hour's cards."""
    merged: dict[int, int] = {}
    for s, hours in counts.items():
        if s in submitters:
            for hour, (n, _) in hours.items():
                merged[hour] = merged.get(hour, 0) + n
    n = sum(merged.values())
    ranks = sorted({(n - 1) // 2, n // 2}) if n else []
    places, seen = [], 0
    for hour in sorted(merged):
        while ranks and ranks[0] < seen + merged[hour]:
            places.append((hour, ranks.pop(0) - seen))
        seen += merged[hour]
    return n, places


def _medians(session: Session, month: int, figure: str, counts: _Counts,
             groups: Mapping[str, Collection[int]], scale: float = 1.0) -> dict[str, Measure]:
    """Each group's median of the figure divided by ``scale`` (as pandas takes it: the mean of
    the two middle values of an even count), reading only the middle values."""
    wanted = {g: _middle(counts, ids) for g, ids in groups.items()}
    asked = [(groups[g], hour, place) for g, (_, places) in wanted.items()
             for hour, place in places]
    values = iter(repository.card_figures_at(session, month, figure, asked))
    medians: dict[str, Measure] = {}
    for group, (n, places) in wanted.items():
        middle = [next(values) / scale for _ in places]
        if len(middle) == 2:
            medians[group] = Measure((middle[0] + middle[1]) / 2, n)
        else:
            medians[group] = Measure(middle[0] if middle else None, n)
    return medians


def month_card_measures(session: Session, month: Month, groups: Groups) -> dict[
        str, CardMeasures]:
    """The card measures of ``month`` for each group of submitters (None: every card), as
    ``measures.specimen_measures`` computes them from the cards: the unsatisfactory rate (all
    cards), early collection (< 24 h) and median age at collection (h) of first cards, median
    transit (h) of all cards, median age at the first card's release (days)."""
    key = month.start.year * 100 + month.start.month
    counts: dict[str, _Counts] = {f: {} for f in ("age_at_collection", "transit",
                                                  "age_at_result")}
    for figure, submitter_id, hour, n, extra in repository.card_hour_counts(session, key):
        counts[figure].setdefault(submitter_id, {})[hour] = (n, extra)
    everyone = {s for by_submitter in counts.values() for s in by_submitter}
    chosen = {g: everyone if ids is None else ids for g, ids in groups.items()}
    age, transit = counts["age_at_collection"], counts["transit"]
    ages = _medians(session, key, "age_at_collection", age, chosen)
    transits = _medians(session, key, "transit", transit, chosen)
    results = _medians(session, key, "age_at_result", counts["age_at_result"], chosen,
                       _HOURS_PER_DAY)
    out: dict[str, CardMeasures] = {}
    for group, ids in groups.items():
        screened = _total(age, ids, 0)
        out[group] = CardMeasures({
            "unsatisfactory_rate": proportion(_total(transit, ids, 1), _total(transit, ids, 0)),
            "early_collection": proportion(_total(age, ids, 1), screened),
            "age_at_collection": ages[group],
            "transit_time": transits[group],
            "time_to_result": results[group],
        }, screened)
    return out
