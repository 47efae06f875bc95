"""Queries of the documents domain: issued documents (by document id, by id, listed in a
scope, inserted), and what the view models are built from (a submitter's releases of a day,
the specimens' latest releases, a run's wells and controls, control series of earlier runs).

Public names: ``latest_version``, ``versions``, ``insert_document``, ``list_documents``,
``latest_releases``, ``released_on``, ``run_wells``, ``held_wells``, ``run_controls``,
``control_series``, ``letters_of_cases``, ``submitters``, ``cases_of_clinic``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.models import (
    ControlResult,
    FollowUpCase,
    HeldWell,
    IssuedDocument,
    Release,
    Result,
    Run,
    Specimen,
    Submitter,
)
from lims.vocabulary import DocumentKind, QcDecision

__all__ = ["control_series", "held_wells", "insert_document", "latest_releases",
           "latest_version", "letters_of_cases", "list_documents", "released_on",
           "run_controls", "run_wells", "submitters", "versions", "cases_of_clinic"]

_DOC = IssuedDocument.__table__  # type: ignore[attr-defined]
#: Every column but the bytes, for listings.
_META = [c for c in _DOC.c if c.name != "content"]


def latest_version(session: Session, document_id: str) -> IssuedDocument | None:
    """The newest issued version of ``document_id``."""
    return session.exec(select(IssuedDocument).where(IssuedDocument.document_id == document_id)
                        .order_by(col(IssuedDocument.version).desc()).limit(1)).first()


def versions(session: Session, document_id: str) -> list[dict[str, Any]]:
    """Every version of ``document_id`` (without the bytes), oldest first."""
    rows = session.execute(core_select(*_META).where(_DOC.c.document_id == document_id)
                           .order_by(_DOC.c.version))
    return [dict(r._mapping) for r in rows]


def insert_document(session: Session, row: dict[str, Any]) -> int:
    """Store one issued version (a Core insert); its id."""
    result: Any = session.execute(insert(_DOC).values(**row))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def list_documents(session: Session, *, kind: str | None = None,
                   specimen_id: int | None = None, case_id: int | None = None,
                   submitter_id: int | None = None, run_id: int | None = None,
                   clinic_case_ids: Sequence[int] | None = None,
                   kinds: Sequence[str] | None = None, limit: int = 100,
                   offset: int = 0) -> list[dict[str, Any]]:
    """Issued versions (without the bytes), newest first, filtered; ``clinic_case_ids`` and
    ``kinds`` limit a scope (a clinic's cases, the kinds a role sees)."""
    query = core_select(*_META)
    for column, value in (("kind", kind), ("specimen_id", specimen_id), ("case_id", case_id),
                          ("submitter_id", submitter_id), ("run_id", run_id)):
        if value is not None:
            query = query.where(_DOC.c[column] == value)
    if clinic_case_ids is not None:
        query = query.where(_DOC.c.case_id.in_(list(clinic_case_ids)))
    if kinds is not None:
        query = query.where(_DOC.c.kind.in_(list(kinds)))
    query = query.order_by(_DOC.c.id.desc()).limit(limit).offset(offset)
    return [dict(r._mapping) for r in session.execute(query)]


def letters_of_cases(session: Session, case_ids: Sequence[int]) -> set[int]:
    """The cases among ``case_ids`` that have a recall letter already."""
    if not case_ids:
        return set()
    return {int(i) for i in session.exec(
        select(IssuedDocument.case_id).where(
            col(IssuedDocument.case_id).in_(list(case_ids)),
            IssuedDocument.kind == DocumentKind.recall_letter).distinct()) if i is not None}


def latest_releases(session: Session, specimen_ids: Sequence[int]) -> dict[int, Release]:
    """The newest release of each specimen (none for one never released)."""
    if not specimen_ids:
        return {}
    newest = (select(Release.specimen_id, func.max(Release.version).label("version"))
              .where(col(Release.specimen_id).in_(list(specimen_ids)))
              .group_by(col(Release.specimen_id)).subquery())
    rows = session.exec(select(Release).join(
        newest, (col(Release.specimen_id) == newest.c.specimen_id)
        & (col(Release.version) == newest.c.version)))
    return {r.specimen_id: r for r in rows}


def released_on(session: Session, submitter_id: int | None, start: datetime,
                end: datetime) -> list[Specimen]:
    """The specimens (of a submitter, or all) with a release in ``[start, end)``, by
    barcode."""
    ids = select(Release.specimen_id).where(col(Release.released_at) >= start,
                                            col(Release.released_at) < end)
    query = select(Specimen).where(col(Specimen.id).in_(ids))
    if submitter_id is not None:
        query = query.where(Specimen.submitter_id == submitter_id)
    return list(session.exec(query.order_by(col(Specimen.barcode))))


def run_wells(session: Session, run_id: int) -> list[tuple[str, str, int]]:
    """A run's patient wells: well, the card's barcode, the specimen id."""
    rows = session.exec(select(Result.well, Specimen.barcode, Specimen.id)
                        .join(Specimen, col(Specimen.id) == col(Result.specimen_id))
                        .where(Result.run_id == run_id).distinct())
    return [(w, b, int(i)) for w, b, i in rows if i is not None]


def held_wells(session: Session, run_id: int) -> list[HeldWell]:
    return list(session.exec(select(HeldWell).where(HeldWell.run_id == run_id)))


def run_controls(session: Session, run_id: int) -> list[ControlResult]:
    """A run's control (and blank) wells, one row per analyte."""
    return list(session.exec(select(ControlResult).where(ControlResult.run_id == run_id)
                             .order_by(col(ControlResult.id))))


def control_series(session: Session, run_id: int, analytes: Sequence[str],
                   runs: int = 20) -> list[tuple[int, str, str, str, float | None]]:
    """Control values of the ``runs`` accepted runs before ``run_id`` and of ``run_id`` itself
    for ``analytes``: run id, sample id, sample type, analyte, value; oldest first."""
    earlier = list(session.exec(select(Run.id).where(
        col(Run.id) < run_id, Run.qc_decision != QcDecision.reject)
        .order_by(col(Run.id).desc()).limit(runs)))
    chosen = [*earlier, run_id]
    table = ControlResult.__table__  # type: ignore[attr-defined]
    rows = session.execute(core_select(table.c.run_id, table.c.sample_id, table.c.sample_type,
                                       table.c.analyte, table.c.conc_umol_l)
                           .where(table.c.run_id.in_(chosen),
                                  table.c.analyte.in_(list(analytes)))
                           .order_by(table.c.run_id, table.c.id))
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), r[4]) for r in rows]


def submitters(session: Session) -> list[Submitter]:
    """Every submitter, by code."""
    return list(session.exec(select(Submitter).order_by(col(Submitter.code))))


def cases_of_clinic(session: Session, clinic_id: int) -> list[int]:
    """The cases referred to a clinic."""
    return [int(i) for i in session.exec(select(FollowUpCase.id).where(
        FollowUpCase.clinic_id == clinic_id)) if i is not None]


def first_card(session: Session, infant_id: int) -> Specimen | None:
    """The baby's first card (earliest collected, then earliest recorded)."""
    return session.exec(select(Specimen).where(Specimen.infant_id == infant_id)
                        .order_by(col(Specimen.collected_at), col(Specimen.id)).limit(1)).first()
