"""How the pages name cards and babies to a person: a card by its barcode, a baby by its
mother's name and medical record number, never by a database id (the templates' macros
``card_link`` and ``baby`` are in ``templates/_names.html``).

Public names: ``NamedRequest``, ``named_requests``, ``babies_of``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from lims.accession.repository import barcodes_by_ids, infants_by_ids
from lims.models import Infant, RepeatRequest
from lims.serial_screening import SerialCard

__all__ = ["NamedRequest", "babies_of", "named_requests"]


@dataclass(frozen=True, slots=True)
class NamedRequest:
    """A repeat-card request with its card's barcode and its baby; ``due``: the day a
    serial-screening card is asked for from (None for other requests)."""

    request: RepeatRequest
    barcode: str
    infant: Infant | None
    due: date | None = None


def named_requests(session: Session, requests: Sequence[RepeatRequest]) -> list[NamedRequest]:
    """The requests with their cards' barcodes and babies (two queries in all), and when a
    serial-screening request's card is due (``SerialCard.due_of``, as the API says)."""
    barcodes = barcodes_by_ids(session, [r.specimen_id for r in requests])
    infants = infants_by_ids(session, [r.infant_id for r in requests])
    return [
        NamedRequest(r, barcodes.get(r.specimen_id, ""), infants.get(r.infant_id),
                     SerialCard.due_of(r.reason))
        for r in requests
    ]


def babies_of(session: Session, rows: Iterable[Mapping[str, Any]]) -> dict[int, Infant]:
    """The babies of rows that hold an ``infant_id`` (one query)."""
    return infants_by_ids(session, [int(r["infant_id"]) for r in rows])
