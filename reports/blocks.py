"""Blocks the recall letter and the result report share: the baby's and the card's identity,
markers against their cutoffs, and the sources line under the clinical texts.

Public names: ``identity_pairs``, ``marker_cutoff``, ``marker_finding``, ``marker_value``,
``sources_line``, ``age_text``.
"""

from __future__ import annotations

from collections.abc import Iterable

from reports.models import Baby, MarkerValue, Specimen
from reports.numbers import fmt_level
from reports.pdf.tables import fmt_number
from reports.wording import Wording, fill

__all__ = ["age_text", "identity_pairs", "marker_finding", "marker_value", "sources_line"]


def age_text(hours: float, words: Wording) -> str:
    """An age at collection in hours (under 4 days) or days."""
    c = words.common
    if hours < 96:
        return fill(c.hours, value=f"{hours:.0f}")
    return fill(c.days, value=f"{hours / 24:.1f}")


def identity_pairs(baby: Baby, specimen: Specimen, words: Wording) -> list[tuple[str, str]]:
    """``(label, value)`` pairs naming the baby and the card, in reading order."""
    c = words.common
    weight = (fill(c.grams, value=f"{baby.birth_weight_g:,}") if baby.birth_weight_g
              else c.not_recorded)
    age = (fill(c.weeks, value=f"{baby.gestational_age_weeks:g}")
           if baby.gestational_age_weeks else c.not_recorded)
    pairs = [
        (c.baby, baby.name),
        (c.card, specimen.card_barcode),
        (c.sex, getattr(c.sex_values, baby.sex)),
        (c.specimen, words.bracketed(specimen.specimen_id,
                                     getattr(c.specimen_kinds, specimen.kind))),
        (c.born, words.datetime(baby.birth_at)),
        (c.collected, words.datetime(specimen.collected_at)),
        (c.birth_weight, weight),
        (c.age_at_collection, age_text(specimen.age_at_collection_hours(baby), words)),
        (c.gestational_age, age),
        (c.received, words.datetime(specimen.received_at)),
        (c.mother, _mother(baby) or c.not_recorded),
        (c.submitter, specimen.submitter.name),
    ]
    if baby.infant_id or baby.medical_record_number:
        pairs += [(c.infant_id, baby.infant_id or c.not_recorded),
                  (c.medical_record_number, baby.medical_record_number or c.not_recorded)]
    return pairs


def _mother(baby: Baby) -> str:
    """``Li Na (M50000888)``, or the name or the identifier alone."""
    name, number = baby.mother_name.strip(), baby.mother_id.strip()
    return f"{name} ({number})" if name and number else name or number


def marker_value(marker: MarkerValue) -> str:
    """``0.61 µmol/L`` (a ratio has no unit)."""
    unit = "" if marker.is_ratio or not marker.unit else f" {marker.unit}"
    return f"{fmt_number(marker.value)}{unit}"


def marker_cutoff(marker: MarkerValue) -> str:
    """``3 µmol/L``, ``0.2 µmol/L``: the cutoff as the level it is (``fmt_level``)."""
    unit = "" if marker.is_ratio or not marker.unit else f" {marker.unit}"
    return f"{fmt_level(marker.cutoff)}{unit}"


def marker_finding(marker: MarkerValue, words: Wording) -> str:
    """Where the value stands against its cutoff, with the tier when known."""
    c = words.common
    if marker.direction == "high" and marker.value > marker.cutoff:
        where = c.above
    elif marker.direction == "low" and marker.value < marker.cutoff:
        where = c.below
    else:
        where = c.within
    return words.bracketed(where, getattr(c.tiers, marker.tier)) if marker.tier else where


def sources_line(ids: Iterable[str], words: Wording) -> str:
    """The titles of the cited sources, in first-cited order, for the small print."""
    seen = dict.fromkeys(ids)
    return "; ".join(words.source(i).title for i in seen)
