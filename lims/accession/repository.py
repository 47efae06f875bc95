"""Queries of accessioning: submitters, infants, specimens, repeat requests.

Public names: ``submitter_by_code``, ``list_submitters``, ``specimen_by_barcode``,
``specimens_by_barcodes``, ``specimen_rows``, ``SPECIMEN_PUBLIC_COLUMNS``, ``list_infants``,
``infants_by_ids``, ``barcodes_by_ids``, ``list_repeat_requests``, ``open_repeat_requests``,
``candidate_infants``, ``search_specimen_rows``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, or_, select

from lims.models import Infant, RepeatRequest, Specimen, Submitter
from lims.vocabulary import RepeatRequestStatus

__all__ = [
    "SPECIMEN_PUBLIC_COLUMNS",
    "barcodes_by_ids",
    "candidate_infants",
    "infants_by_ids",
    "infants_named",
    "list_infants",
    "list_repeat_requests",
    "list_submitters",
    "open_repeat_requests",
    "search_specimen_rows",
    "specimen_by_barcode",
    "specimen_rows",
    "specimens_by_barcodes",
    "submitter_by_code",
]


def submitter_by_code(session: Session, code: str) -> Submitter | None:
    return session.exec(select(Submitter).where(Submitter.code == code)).first()


def list_submitters(session: Session, *, submitter_id: int | None) -> list[Submitter]:
    """Every submitter, or only ``submitter_id`` when given."""
    query = select(Submitter).order_by(col(Submitter.id))
    if submitter_id is not None:
        query = query.where(Submitter.id == submitter_id)
    return list(session.exec(query))


def specimen_by_barcode(session: Session, barcode: str, *,
                        for_update: bool = False) -> Specimen | None:
    """The card with ``barcode``; ``for_update`` locks its row until the transaction ends."""
    query = select(Specimen).where(Specimen.barcode == barcode)
    return session.exec(query.with_for_update() if for_update else query).first()


def specimens_by_barcodes(session: Session, barcodes: Sequence[str]) -> dict[str, Specimen]:
    if not barcodes:
        return {}
    rows = session.exec(select(Specimen).where(col(Specimen.barcode).in_(list(barcodes))))
    return {s.barcode: s for s in rows}


#: The columns a specimen is shown with (``SpecimenPublic``).
SPECIMEN_PUBLIC_COLUMNS: tuple[str, ...] = (
    "id", "barcode", "infant_id", "submitter_id", "kind", "previous_specimen_id",
    "collected_at", "received_at", "birth_weight_g", "gestational_age_weeks", "feeding", "tpn",
    "transfused", "nicu", "unsatisfactory_code", "state", "flagged", "version",
)
_SPECIMEN = Specimen.__table__  # type: ignore[attr-defined]


def specimen_rows(session: Session, *, specimen_id: int | None = None,
                  submitter_id: int | None = None, state: str | None = None,
                  infant_id: int | None = None, barcode: str | None = None,
                  limit: int = 100, offset: int = 0,
                  newest_first: bool = False) -> list[dict[str, Any]]:
    """Specimens as plain rows of ``SPECIMEN_PUBLIC_COLUMNS`` (one Core query, no ORM), by
    id (the newest first when asked)."""
    query = core_select(*(_SPECIMEN.c[c] for c in SPECIMEN_PUBLIC_COLUMNS))
    if specimen_id is not None:
        query = query.where(_SPECIMEN.c.id == specimen_id)
    if submitter_id is not None:
        query = query.where(_SPECIMEN.c.submitter_id == submitter_id)
    if state is not None:
        query = query.where(_SPECIMEN.c.state == state)
    if infant_id is not None:
        query = query.where(_SPECIMEN.c.infant_id == infant_id)
    if barcode is not None:
        query = query.where(_SPECIMEN.c.barcode == barcode)
    order = _SPECIMEN.c.id.desc() if newest_first else _SPECIMEN.c.id
    query = query.order_by(order).offset(offset).limit(limit)
    return [dict(r._mapping) for r in session.execute(query)]


def list_infants(session: Session, *, submitter_id: int | None, limit: int = 100,
                 offset: int = 0) -> list[Infant]:
    query = select(Infant).order_by(col(Infant.id))
    if submitter_id is not None:
        query = query.where(Infant.submitter_id == submitter_id)
    return list(session.exec(query.offset(offset).limit(limit)))


def infants_by_ids(session: Session, infant_ids: Sequence[int]) -> dict[int, Infant]:
    """The infants with these ids, in one query."""
    if not infant_ids:
        return {}
    return {i.id: i for i in session.exec(select(Infant).where(col(Infant.id).in_(
        sorted(set(infant_ids))))) if i.id is not None}


def infants_named(session: Session, text: str, *, limit: int = 20) -> list[Infant]:
    """The babies a person names by what the pages show of them: whose medical record number
    is ``text``, or whose mother's name is ``text`` (any case); the newest first."""
    needle = text.strip()
    if not needle:
        return []
    return list(session.exec(select(Infant).where(or_(
        Infant.medical_record_number == needle,
        func.lower(Infant.mother_name) == needle.lower())).order_by(
        col(Infant.id).desc()).limit(limit)))


def barcodes_by_ids(session: Session, specimen_ids: Sequence[int]) -> dict[int, str]:
    """The barcodes of the cards with these ids, in one query (how the pages name a card)."""
    if not specimen_ids:
        return {}
    query = core_select(col(Specimen.id), col(Specimen.barcode)).where(
        col(Specimen.id).in_(sorted(set(specimen_ids))))
    return {int(i): str(b) for i, b in session.execute(query)}


def list_repeat_requests(session: Session, *, submitter_id: int | None, status: str | None,
                         limit: int = 500) -> list[RepeatRequest]:
    query = select(RepeatRequest).order_by(col(RepeatRequest.id))
    if status is not None:
        query = query.where(RepeatRequest.status == status)
    if submitter_id is not None:
        query = query.join(Infant, col(Infant.id) == RepeatRequest.infant_id).where(
            Infant.submitter_id == submitter_id)
    return list(session.exec(query.limit(limit)))


def open_repeat_requests(session: Session, infant_id: int) -> list[RepeatRequest]:
    return list(session.exec(select(RepeatRequest).where(
        RepeatRequest.infant_id == infant_id,
        RepeatRequest.status == RepeatRequestStatus.open)))


def candidate_infants(session: Session, infant: Infant, *, window: timedelta) -> list[Infant]:
    """Other infants born within ``window`` that share the mother or the record number."""
    born: datetime = infant.birth_at
    conditions = []
    if infant.mother_id:
        conditions.append(Infant.mother_id == infant.mother_id)
    if infant.mother_name:
        conditions.append(Infant.mother_name == infant.mother_name)
    if infant.medical_record_number:
        conditions.append(Infant.medical_record_number == infant.medical_record_number)
    if not conditions:
        return []
    return list(session.exec(select(Infant).where(
        Infant.id != infant.id, or_(*conditions),
        col(Infant.birth_at) >= born - window, col(Infant.birth_at) <= born + window)))


_INFANT = Infant.__table__  # type: ignore[attr-defined]


def search_specimen_rows(session: Session, text: str, *, submitter_id: int | None,
                         limit: int = 50) -> list[dict[str, Any]]:
    """Specimens whose barcode starts with ``text``, or whose baby's record number or mother's
    id is ``text``, or whose mother's name contains it (any case); newest first, as rows of
    ``SPECIMEN_PUBLIC_COLUMNS`` with the baby's ``mother_name``, ``mother_id``,
    ``medical_record_number`` and ``birth_at``.

    Two queries, each on its own table's terms: the barcode prefix as a range on the unique
    barcode index, the babies' fields on the infant table alone, then their specimens by the
    infant index (an ``OR`` across the join would read every specimen)."""
    needle = text.strip()
    if not needle:
        return []
    like = needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    after = needle[:-1] + chr(ord(needle[-1]) + 1)
    columns = (*(_SPECIMEN.c[c] for c in SPECIMEN_PUBLIC_COLUMNS), _INFANT.c.mother_name,
               _INFANT.c.mother_id, _INFANT.c.medical_record_number, _INFANT.c.birth_at)
    babies = core_select(_INFANT.c.id).where(or_(
        _INFANT.c.medical_record_number == needle, _INFANT.c.mother_id == needle,
        func.lower(_INFANT.c.mother_name).like(f"%{like}%", escape="\\")))
    if submitter_id is not None:
        babies = babies.where(_INFANT.c.submitter_id == submitter_id)
    by_baby = _SPECIMEN.c.infant_id.in_(
        babies.order_by(_INFANT.c.id.desc()).limit(limit).scalar_subquery())
    by_barcode = (_SPECIMEN.c.barcode >= needle) & (_SPECIMEN.c.barcode < after)
    rows: dict[int, dict[str, Any]] = {}
    for condition in (by_barcode, by_baby):
        query = (core_select(*columns).join(_INFANT, _INFANT.c.id == _SPECIMEN.c.infant_id)
                 .where(condition))
        if submitter_id is not None:
            query = query.where(_SPECIMEN.c.submitter_id == submitter_id)
        for r in session.execute(query.order_by(_SPECIMEN.c.id.desc()).limit(limit)):
            rows[r.id] = dict(r._mapping)
    return [rows[k] for k in sorted(rows, reverse=True)[:limit]]
