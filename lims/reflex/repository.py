"""Queries of the reflex second tier: the reflex worklist, second-tier runs and results, the
reflex decisions, and the first-tier calls and results a decision is made from.

Public names: ``open_request_rows``, ``open_requests_for``, ``insert_requests``,
``run_by_sha256``, ``list_runs``, ``insert_results``, ``results_of``, ``current_decisions``,
``insert_decisions``, ``retire_decisions``, ``current_calls``, ``first_tier_results``,
``specimens_by_ids``, ``withdraw_open_requests``, ``first_cards_of_repeats``, ``repeats_of``,
``has_open_alert``, ``latest_plate_runs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import exists, func, insert, or_, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from lims.alerts.rule import alerting_calls
from lims.models import (
    Alert,
    Evaluation,
    FollowUpCase,
    ReflexDecisionRecord,
    ReflexRequest,
    Result,
    SecondTierResult,
    SecondTierRun,
    Specimen,
)
from lims.vocabulary import AlertStatus, ReflexRequestStatus, SpecimenState

__all__ = ["current_calls", "current_decisions", "first_cards_of_repeats", "first_tier_results",
           "has_open_alert", "insert_decisions", "cards_awaiting_second_tier", "latest_plate_runs",
           "insert_requests", "insert_results", "list_runs", "open_request_rows",
           "open_requests_for", "repeats_of", "results_of", "retire_decisions", "run_by_sha256",
           "specimens_by_ids", "withdraw_open_requests"]

_REQUEST = ReflexRequest.__table__  # type: ignore[attr-defined]
_SPECIMEN = Specimen.__table__  # type: ignore[attr-defined]
_DECISION = ReflexDecisionRecord.__table__  # type: ignore[attr-defined]
_RESULT = SecondTierResult.__table__  # type: ignore[attr-defined]
_EVALUATION = Evaluation.__table__  # type: ignore[attr-defined]


def _alerting_card() -> Any:
    """SQL: the request's card has a current call that opens a time-critical alert
    (``lims.alerts.rule``), as the review queue and the plate map mark it."""
    return exists().where(_EVALUATION.c.specimen_id == _REQUEST.c.specimen_id,
                          _EVALUATION.c.current.is_(True),
                          alerting_calls(_EVALUATION.c.time_critical, _EVALUATION.c.final))


def open_request_rows(session: Session, *, limit: int = 1000) -> list[dict[str, Any]]:
    """The reflex worklist: open requests with their card, time-critical first (the card's
    current calls open a time-critical alert: ``lims.alerts.rule``, read now, so that a card
    decided again since its request follows), then the oldest request (then the earliest
    collected card)."""
    critical = _alerting_card()
    query = (core_select(_REQUEST.c.id, _REQUEST.c.specimen_id, _SPECIMEN.c.barcode,
                         _SPECIMEN.c.collected_at, _SPECIMEN.c.received_at,
                         _REQUEST.c.source_run_id, _REQUEST.c.groups, _REQUEST.c.assays,
                         critical.label("time_critical"), _REQUEST.c.status,
                         _REQUEST.c.requested_at)
             .join(_SPECIMEN, _SPECIMEN.c.id == _REQUEST.c.specimen_id)
             .where(_REQUEST.c.status == ReflexRequestStatus.open)
             .order_by(sql_case((critical, 0), else_=1), _REQUEST.c.requested_at,
                       _SPECIMEN.c.collected_at, _REQUEST.c.id)
             .limit(limit))
    return [{**r._mapping, "time_critical": bool(r.time_critical)}
            for r in session.execute(query)]


def open_requests_for(session: Session, specimen_ids: Sequence[int]) -> dict[int, ReflexRequest]:
    """The open reflex request of each of these cards."""
    if not specimen_ids:
        return {}
    rows = session.exec(select(ReflexRequest).where(
        col(ReflexRequest.specimen_id).in_(sorted(set(specimen_ids))),
        ReflexRequest.status == ReflexRequestStatus.open))
    return {r.specimen_id: r for r in rows}


def insert_requests(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(_REQUEST), rows)


def withdraw_open_requests(session: Session, run_id: int, specimen_ids: Sequence[int]) -> None:
    """The open reflex requests ``run_id`` made for these cards are withdrawn (the plate is
    withdrawn, ``lims.runs.withdrawal``)."""
    if specimen_ids:
        session.execute(update(_REQUEST).where(
            _REQUEST.c.source_run_id == run_id,
            _REQUEST.c.specimen_id.in_(sorted(set(specimen_ids))),
            _REQUEST.c.status == ReflexRequestStatus.open)
            .values(status=ReflexRequestStatus.withdrawn))


def run_by_sha256(session: Session, sha256: str) -> SecondTierRun | None:
    return session.exec(select(SecondTierRun).where(SecondTierRun.file_sha256 == sha256)).first()


def list_runs(session: Session, *, limit: int = 200) -> list[SecondTierRun]:
    return list(session.exec(select(SecondTierRun).order_by(
        col(SecondTierRun.id).desc()).limit(limit)))


def insert_results(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(_RESULT), rows)


def results_of(session: Session, specimen_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Second-tier results of these cards: specimen_id, run_id, well, assay, conc_umol_l, and
    a genotype's variants, lab_reference and reported_at (None for a concentration)."""
    if not specimen_ids:
        return []
    query = (core_select(_RESULT.c.specimen_id, _RESULT.c.run_id, _RESULT.c.well,
                         _RESULT.c.assay, _RESULT.c.conc_umol_l, _RESULT.c.variants,
                         _RESULT.c.lab_reference, _RESULT.c.reported_at)
             .where(_RESULT.c.specimen_id.in_(sorted(set(specimen_ids))))
             .order_by(_RESULT.c.run_id, _RESULT.c.well, _RESULT.c.id))
    return [dict(r._mapping) for r in session.execute(query)]


def current_decisions(session: Session, specimen_ids: Sequence[int]
                      ) -> list[ReflexDecisionRecord]:
    if not specimen_ids:
        return []
    return list(session.exec(select(ReflexDecisionRecord).where(
        col(ReflexDecisionRecord.specimen_id).in_(sorted(set(specimen_ids))),
        col(ReflexDecisionRecord.current).is_(True)).order_by(col(ReflexDecisionRecord.id))))


def insert_decisions(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(_DECISION), rows)


def retire_decisions(session: Session, specimen_ids: Sequence[int]) -> None:
    if specimen_ids:
        session.execute(update(_DECISION).where(
            _DECISION.c.specimen_id.in_(sorted(set(specimen_ids))),
            _DECISION.c.current.is_(True)).values(current=False))


def current_calls(session: Session, specimen_ids: Sequence[int]) -> list[Evaluation]:
    """The current first-tier calls (evaluations) of these cards."""
    if not specimen_ids:
        return []
    return list(session.exec(select(Evaluation).where(
        col(Evaluation.specimen_id).in_(sorted(set(specimen_ids))),
        col(Evaluation.current).is_(True)).order_by(col(Evaluation.id))))


def first_tier_results(session: Session, specimen_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Every stored first-tier well value of these cards: specimen_id, analyte, conc_umol_l."""
    if not specimen_ids:
        return []
    table = Result.__table__  # type: ignore[attr-defined]
    query = (core_select(table.c.specimen_id, table.c.analyte, table.c.conc_umol_l)
             .where(table.c.specimen_id.in_(sorted(set(specimen_ids)))))
    return [dict(r._mapping) for r in session.execute(query)]


def latest_plate_runs(session: Session, specimen_ids: Sequence[int]) -> dict[int, int]:
    """The plate run of each card's latest first-tier results (the run its current first-tier
    result comes from; ``lims.runs.repository.latest_on_run`` reads "latest" the same way)."""
    if not specimen_ids:
        return {}
    table = Result.__table__  # type: ignore[attr-defined]
    query = (core_select(table.c.specimen_id, func.max(table.c.run_id))
             .where(table.c.specimen_id.in_(sorted(set(specimen_ids))))
             .group_by(table.c.specimen_id))
    return {int(s): int(r) for s, r in session.execute(query)}


def specimens_by_ids(session: Session, specimen_ids: Sequence[int]) -> dict[int, Specimen]:
    if not specimen_ids:
        return {}
    return {s.id: s for s in session.exec(select(Specimen).where(
        col(Specimen.id).in_(sorted(set(specimen_ids))))) if s.id is not None}


def first_cards_of_repeats(session: Session, specimen_ids: Sequence[int]) -> dict[int, int]:
    """Repeat card id -> the card of the follow-up case that records it as its repeat (the
    earliest such case)."""
    if not specimen_ids:
        return {}
    out: dict[int, int] = {}
    for case in session.exec(select(FollowUpCase).where(
            col(FollowUpCase.repeat_specimen_id).in_(sorted(set(specimen_ids))))
            .order_by(col(FollowUpCase.id))):
        if case.repeat_specimen_id is not None and case.specimen_id != case.repeat_specimen_id:
            out.setdefault(case.repeat_specimen_id, case.specimen_id)
    return out


def repeats_of(session: Session, specimen_ids: Sequence[int]) -> list[Specimen]:
    """The cards that are a repeat of one of these: naming it (``previous_specimen_id``) or
    recorded as its repeat by a follow-up case opened on it."""
    if not specimen_ids:
        return []
    ids = sorted(set(specimen_ids))
    of_cases = select(FollowUpCase.repeat_specimen_id).where(
        col(FollowUpCase.specimen_id).in_(ids), col(FollowUpCase.repeat_specimen_id).is_not(None))
    return list(session.exec(select(Specimen).where(or_(
        col(Specimen.previous_specimen_id).in_(ids), col(Specimen.id).in_(of_cases)))
        .order_by(col(Specimen.id))))


def has_open_alert(session: Session, specimen_id: int, disorder: str) -> bool:
    """Whether the card has an open alert for ``disorder``."""
    return session.exec(select(Alert.id).where(
        Alert.specimen_id == specimen_id, Alert.disorder == disorder,
        Alert.status == AlertStatus.open)).first() is not None


def cards_awaiting_second_tier(session: Session, *, limit: int = 500) -> list[Specimen]:
    """The cards in ``awaiting_second_tier``, oldest received first."""
    return list(session.exec(select(Specimen).where(
        Specimen.state == SpecimenState.awaiting_second_tier)
        .order_by(col(Specimen.received_at), col(Specimen.id)).limit(limit)))
