"""Serial screening of small and preterm babies: the further cards the laboratory asks for
(docs/lims.md "Serial screening").

A first card of a baby born under a birth weight, or before a gestational age, is read with the
effects of immaturity, parenteral nutrition and the treatments of intensive care; programmes ask
for further cards at set ages (the workflow file's ``[serial_screening]`` section, cited there).
Each card accessioned for such a baby asks for the next card of the protocol: the first age
that the card was not collected within ``early_days`` of, due from the laboratory's day (its
time zone, ``NBS_TIME_ZONE``: ``lims.settings.lab_day``) on which the baby reaches that age.

The request's wording is written with phrases (``SERIAL_CARDS``, its criterion with
``SERIAL_CRITERIA``), so that the pages read it back and show it in their own language.

Public names: ``SerialScreening``, ``SerialScreeningFile``, ``SerialCard``, ``SERIAL_CARDS``,
``SERIAL_CRITERIA``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated

from pydantic import Field, model_validator

from msms.datafiles import Count, Range, Schema, Text
from msms.phrases import Phrasebook

__all__ = ["SERIAL_CARDS", "SERIAL_CRITERIA", "SerialCard", "SerialScreening",
           "SerialScreeningFile"]

#: The serial-screening request (stored as the repeat request's reason); ``criterion`` is a
#: ``SERIAL_CRITERIA`` phrase; the accession adds the workflow file's version.
SERIAL_CARDS = Phrasebook((
    ("serial_card_of_workflow",
     "serial screening ({criterion}): a card at {age_days} days of age, from {due}, or on the day "
     "of discharge if earlier [workflow {version}]"),
    ("serial_card",
     "serial screening ({criterion}): a card at {age_days} days of age, from {due}, or on the day "
     "of discharge if earlier"),
), fields={"age_days": r"\d+", "due": r"\d{4}-\d\d-\d\d", "version": r"[^\]]+"})
#: The criterion a baby screened serially meets.
SERIAL_CRITERIA = Phrasebook((
    ("birth_weight", "birth weight {weight} g, under {limit} g"),
    ("gestational_age", "born at {weeks} weeks, before {limit} weeks"),
), fields={"weight": r"\d+", "weeks": r"[\d.]+", "limit": r"[\d.]+"})

#: ``SerialCard.reason``'s wording, read back (``SerialCard.of_reason``).
_REASON = re.compile(r"serial screening \((?P<why>.+?)\): a card at (?P<age>\d+) days of age, "
                     r"from (?P<due>\d{4}-\d{2}-\d{2})")


class SerialScreeningFile(Schema):
    """The ``[serial_screening]`` section of a workflow file."""

    birth_weight_below_g: Annotated[int, Range(1, math.inf)]
    gestational_age_below_weeks: Annotated[float, Range(20, 45)]
    ages_days: Annotated[list[Annotated[int, Range(1, 366)]], Field(min_length=1)]
    early_days: Count = 3
    source: Text

    @model_validator(mode="after")
    def _ascending(self) -> SerialScreeningFile:
        ages = self.ages_days
        if any(b <= a for a, b in zip(ages, ages[1:], strict=False)):
            raise ValueError(f"ages_days must rise: {ages}")
        if ages[0] <= self.early_days:
            raise ValueError(f"early_days ({self.early_days}) must be below the first age "
                             f"({ages[0]} days)")
        return self


@dataclass(frozen=True, slots=True)
class SerialCard:
    """The next card the protocol asks for: at ``age_days`` of age, from ``due``; ``why``
    names the criterion the baby meets."""

    age_days: int
    due: date
    why: str

    def reason(self) -> str:
        """The request's wording (stored with the repeat request and shown to the submitter)."""
        return SERIAL_CARDS.text("serial_card", criterion=self.why, age_days=self.age_days,
                                 due=self.due.isoformat())

    def reason_of_workflow(self, version: str) -> str:
        """The request's wording with the workflow file's version it follows."""
        return SERIAL_CARDS.text("serial_card_of_workflow", criterion=self.why,
                                 age_days=self.age_days, due=self.due.isoformat(),
                                 version=version)

    @classmethod
    def of_reason(cls, reason: str) -> SerialCard | None:
        """The card a repeat request asks for, read back from the request's wording as
        ``reason`` wrote it (the date asked for, whatever the protocol in force now); None for
        a request of any other kind."""
        found = _REASON.match(reason)
        if found is None:
            return None
        try:
            due = date.fromisoformat(found["due"])
        except ValueError:
            return None
        return cls(int(found["age"]), due, found["why"])

    @classmethod
    def due_of(cls, reason: str) -> date | None:
        """The day a serial-screening request's card is due from (``of_reason``), None for a
        request of any other kind: what the pages and the API show."""
        card = cls.of_reason(reason)
        return card.due if card is not None else None


@dataclass(frozen=True, slots=True)
class SerialScreening:
    """Who is screened serially and at which ages (``SerialScreeningFile``)."""

    birth_weight_below_g: int
    gestational_age_below_weeks: float
    ages_days: tuple[int, ...]
    early_days: int
    source: str

    @classmethod
    def of(cls, doc: SerialScreeningFile) -> SerialScreening:
        return cls(doc.birth_weight_below_g, doc.gestational_age_below_weeks,
                   tuple(doc.ages_days), doc.early_days, doc.source)

    def why(self, birth_weight_g: int | None, gestational_age_weeks: float | None
            ) -> str | None:
        """The criterion this baby meets, or None when the protocol does not apply."""
        if birth_weight_g is not None and birth_weight_g < self.birth_weight_below_g:
            return SERIAL_CRITERIA.text("birth_weight", weight=birth_weight_g,
                                        limit=self.birth_weight_below_g)
        if (gestational_age_weeks is not None
                and gestational_age_weeks < self.gestational_age_below_weeks):
            return SERIAL_CRITERIA.text("gestational_age", weeks=f"{gestational_age_weeks:g}",
                                        limit=f"{self.gestational_age_below_weeks:g}")
        return None

    def next_card(self, birth_weight_g: int | None, gestational_age_weeks: float | None,
                  birth_at: datetime, collected_at: datetime, *,
                  day_of: Callable[[datetime], date]) -> SerialCard | None:
        """The card to ask for after a card collected at ``collected_at``: the first age of
        the protocol that card was not collected within ``early_days`` of, due from
        ``day_of`` the moment the baby reaches that age (the laboratory's day:
        ``lims.settings.lab_day``); None when the protocol does not apply or the card
        completes it."""
        why = self.why(birth_weight_g, gestational_age_weeks)
        if why is None:
            return None
        age = (collected_at - birth_at) / timedelta(days=1)
        for days in self.ages_days:
            if age < days - self.early_days:
                return SerialCard(days, day_of(birth_at + timedelta(days=days)), why)
        return None
