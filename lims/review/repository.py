"""Queries of review: the queue, a specimen's current calls, the values of its latest run,
releases, the corrections that reopened specimens.

Public names: ``queue``, ``releasable``, ``releasable_ids``, ``held_back_counts``,
``unsigned_plates``, ``current_calls``, ``latest_results``, ``latest_releases``, ``releases``,
``corrections``, ``specimens_of_infant``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import String, and_, case, cast, exists, func, not_, or_
from sqlmodel import Session, col, select

from lims.alerts.rule import alerting_calls
from lims.models import AuditEvent, Evaluation, FollowUpCase, Release, Result, Run, Specimen
from lims.vocabulary import CaseState, FirstTier, QcDecision, SpecimenState, Transition

__all__ = ["corrections", "current_calls", "held_back_counts", "latest_releases",
           "latest_results", "queue", "releasable", "releasable_ids", "releases",
           "specimens_of_infant", "unsigned_plates"]


def _first_tier_flag() -> Any:
    """SQL: the specimen has a current call out of range in the first tier."""
    return exists().where(and_(col(Evaluation.specimen_id) == col(Specimen.id),
                               col(Evaluation.current),
                               col(Evaluation.first_tier) != FirstTier.normal))


def _time_critical() -> Any:
    """SQL: the specimen has a current call that opens a time-critical alert
    (``lims.alerts.rule``)."""
    return exists().where(and_(col(Evaluation.specimen_id) == col(Specimen.id),
                               col(Evaluation.current),
                               alerting_calls(col(Evaluation.time_critical),
                                              col(Evaluation.final))))


def _corrected() -> Any:
    """SQL: the specimen was reopened by a correction (only a correction adds a version)."""
    return col(Specimen.version) > 1


def queue(session: Session, *, flagged_only: bool, limit: int) -> list[Specimen]:
    """Specimens awaiting review: time-critical first, then corrections, then flagged, then the
    others, each in arrival order; with ``flagged_only``, only flagged ones (the stored flag, or
    a first-tier call: rows stored before second-tier negatives were flagged), corrections and
    the cards of babies with an open follow-up case (which the bulk release holds back)."""
    query = select(Specimen).where(Specimen.state == SpecimenState.awaiting_review)
    if flagged_only:
        query = query.where(or_(col(Specimen.flagged), _first_tier_flag(), _corrected(),
                                _open_case()))
    critical = case((_time_critical(), 0), else_=1)
    corrected = case((_corrected(), 0), else_=1)
    return list(session.exec(query.order_by(critical, corrected, col(Specimen.flagged).desc(),
                                            col(Specimen.id)).limit(limit)))


def _unflagged() -> Any:
    """SQL: awaiting review with no flag, no first-tier call and no correction."""
    return and_(col(Specimen.state) == SpecimenState.awaiting_review,
                col(Specimen.flagged).is_(False), not_(_first_tier_flag()), not_(_corrected()))


def _open_case() -> Any:
    """SQL: the specimen's baby has a follow-up case that is not closed."""
    return exists().where(and_(col(FollowUpCase.infant_id) == col(Specimen.infant_id),
                               col(FollowUpCase.state) != CaseState.closed))


def _plate_signed_off() -> Any:
    """SQL: the plate of the specimen's latest results (its latest run not rejected) has the
    technician's QC sign-off (a ``qc_accept`` audit event on the run). A run whose patient
    results are stored cannot be rejected by a sign-off afterwards, only withdrawn, so an
    accepting sign-off is the plate's last word while its results count."""
    latest = (select(func.max(Result.run_id)).join(Run, col(Run.id) == col(Result.run_id))
              .where(col(Result.specimen_id) == col(Specimen.id),
                     Run.qc_decision != QcDecision.reject)
              .correlate(Specimen).scalar_subquery())
    return exists().where(and_(col(AuditEvent.entity) == "run",
                               col(AuditEvent.entity_id) == cast(latest, String),
                               col(AuditEvent.action) == "qc_accept"))


def _releasable() -> Any:
    """SQL: what the bulk release takes: unflagged (``_unflagged``), the baby with no open
    follow-up case, the plate signed off by its technician."""
    return and_(_unflagged(), not_(_open_case()), _plate_signed_off())


def releasable(session: Session, *, limit: int) -> list[Specimen]:
    """Specimens awaiting review with no flag, no first-tier call and no correction, whose baby
    has no open follow-up case and whose plate its technician signed off: the bulk release's
    (the others are released only by a reviewer deciding on each)."""
    return list(session.exec(select(Specimen).where(_releasable())
                             .order_by(col(Specimen.id)).limit(limit)))


def held_back_counts(session: Session) -> dict[str, int]:
    """The unflagged specimens awaiting review the bulk release does not take, by why (a
    specimen may count under both): ``open_case``, ``not_signed_off``."""
    counts = {}
    for name, condition in (("open_case", _open_case()),
                            ("not_signed_off", not_(_plate_signed_off()))):
        counts[name] = session.exec(select(func.count()).select_from(Specimen).where(
            _unflagged(), condition)).one()
    return counts


def unsigned_plates(session: Session, *, limit: int = 5000) -> list[dict[str, Any]]:
    """The plates whose technician's sign-off holds unflagged specimens back from the bulk
    release: ``run_id``, ``plate_id`` and how many (``cards``), by run."""
    ids = [i for i in session.exec(select(Specimen.id).where(
        _unflagged(), not_(_plate_signed_off())).limit(limit)) if i is not None]
    if not ids:
        return []
    latest = (select(Result.specimen_id, func.max(Result.run_id).label("run_id"))
              .join(Run, col(Run.id) == col(Result.run_id))
              .where(col(Result.specimen_id).in_(ids), Run.qc_decision != QcDecision.reject)
              .group_by(col(Result.specimen_id)).subquery())
    rows = session.exec(select(Run.id, Run.plate_id, func.count())
                        .join(latest, latest.c.run_id == col(Run.id))
                        .group_by(col(Run.id), col(Run.plate_id)).order_by(col(Run.id))).all()
    return [{"run_id": r, "plate_id": p, "cards": n} for r, p, n in rows]


def releasable_ids(session: Session, *, limit: int) -> list[int]:
    """The ids of ``releasable``, without loading the rows (the queue page's count)."""
    return [i for i in session.exec(select(Specimen.id).where(_releasable())
                                    .order_by(col(Specimen.id)).limit(limit)) if i is not None]


def current_calls(session: Session, specimen_ids: Sequence[int]) -> dict[
        int, list[Evaluation]]:
    """The current calls of each specimen, in the order they were stored."""
    calls: dict[int, list[Evaluation]] = {}
    if specimen_ids:
        for e in session.exec(select(Evaluation).where(
                col(Evaluation.specimen_id).in_(list(specimen_ids)), col(Evaluation.current))
                .order_by(col(Evaluation.id))):
            calls.setdefault(e.specimen_id, []).append(e)
    return calls


def latest_results(session: Session, specimen_ids: Sequence[int]) -> pd.DataFrame:
    """The result rows of each specimen's latest run that is not rejected (a withdrawn plate's
    results are kept with it, no longer the card's): ``sample_id`` (the specimen id),
    ``analyte``, ``conc_umol_l``."""
    latest = (select(Result.specimen_id, func.max(Result.run_id).label("run_id"))
              .join(Run, col(Run.id) == col(Result.run_id))
              .where(col(Result.specimen_id).in_(list(specimen_ids)),
                     Run.qc_decision != QcDecision.reject)
              .group_by(col(Result.specimen_id)).subquery())
    rows = session.exec(
        select(Result.specimen_id, Result.analyte, Result.conc_umol_l)
        .join(latest, (col(Result.specimen_id) == latest.c.specimen_id)
              & (col(Result.run_id) == latest.c.run_id))).all()
    return pd.DataFrame(rows, columns=["sample_id", "analyte", "conc_umol_l"]).astype(
        {"conc_umol_l": "float64"})


def latest_releases(session: Session, specimen_ids: Sequence[int]) -> dict[int, Release]:
    """The latest release of each of these specimens that has one (one query)."""
    out: dict[int, Release] = {}
    if specimen_ids:
        for release in session.exec(select(Release).where(
                col(Release.specimen_id).in_(list(specimen_ids)))
                .order_by(col(Release.version))):
            out[release.specimen_id] = release
    return out


def releases(session: Session, specimen_id: int) -> list[Release]:
    """Every released version of a specimen's result, oldest first."""
    return list(session.exec(select(Release).where(Release.specimen_id == specimen_id)
                             .order_by(col(Release.version))))


def corrections(session: Session, specimen_ids: Sequence[int]) -> dict[int, AuditEvent]:
    """The latest correction of each specimen (its ``correct`` audit event: who, when, why,
    the version it opened)."""
    out: dict[int, AuditEvent] = {}
    if specimen_ids:
        for event in session.exec(select(AuditEvent).where(
                AuditEvent.action == Transition.correct, AuditEvent.entity == "specimen",
                col(AuditEvent.entity_id).in_([str(i) for i in specimen_ids]))
                .order_by(col(AuditEvent.id))):
            out[int(event.entity_id)] = event
    return out


def specimens_of_infant(session: Session, infant_id: int, *,
                        submitter_id: int | None = None) -> list[Specimen]:
    """A baby's specimens, oldest collection first (``submitter_id``'s only when given)."""
    query = select(Specimen).where(col(Specimen.infant_id) == infant_id)
    if submitter_id is not None:
        query = query.where(col(Specimen.submitter_id) == submitter_id)
    return list(session.exec(query.order_by(col(Specimen.collected_at), col(Specimen.id))))
