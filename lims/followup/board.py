"""What the follow-up coordinator's and the clinic's pages read: the case board (cases by
state, the overdue ones first) and a case's record (the case with its logs, the baby, the
baby's cards with their released results, the clinic).

Scope as everywhere in follow-up (``lims.followup.service``): a clinic user sees the cases
referred to its clinic only, a submitter user its own babies'. Every read is audited: the
board as one list read of the cases it shows, a case as a read of the case.

Public names: ``BOARD_STATES``, ``CaseBoard``, ``CaseRecord``, ``case_board``,
``case_record``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from lims.accession.repository import infants_by_ids
from lims.audit import Actor, record_list_read
from lims.errors import InvalidInputError, PermissionDeniedError
from lims.followup import repository
from lims.followup.schemas import CaseDetail
from lims.followup.service import case_detail, catalogue, clinic_scope, submitter_scope
from lims.models import Clinic, Infant, Release, utcnow
from lims.vocabulary import CaseState

__all__ = ["BOARD_STATES", "CaseBoard", "CaseRecord", "case_board", "case_record"]

#: The states of the board, in the order of the case's course.
BOARD_STATES: tuple[CaseState, ...] = tuple(CaseState)


def _utc(value: datetime | None) -> datetime | None:
    """An aware UTC time (SQLite gives naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class CaseBoard:
    """Per state its count and overdue count; the overdue cases (most overdue first); per
    state the first cases (overdue first); or, for one state, a page of its cases."""

    now: datetime
    counts: dict[str, tuple[int, int]]
    overdue: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    state: str | None = None
    offset: int = 0
    limit: int = 0

    @property
    def open_total(self) -> int:
        return sum(n for s, (n, _) in self.counts.items() if s != CaseState.closed)

    @property
    def overdue_total(self) -> int:
        return sum(late for _, late in self.counts.values())


def _shown(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    for row in rows:
        for key in ("due_at", "opened_at", "appointment_at", "closed_at"):
            row[key] = _utc(row[key])
        row["overdue"] = (row["state"] != CaseState.closed and row["due_at"] is not None
                          and row["due_at"] < now)
    return rows


def case_board(session: Session, actor: Actor, *, state: str | None = None,
               per_state: int = 20, overdue_limit: int = 50, limit: int = 100,
               offset: int = 0, now: datetime | None = None) -> CaseBoard:
    """The board in the actor's scope: every state's count and overdue count; without
    ``state``, the ``overdue_limit`` most overdue open cases and each open state's first
    ``per_state`` cases (the most overdue first); with ``state``, ``limit`` cases of it from
    ``offset``. One audited list read of the cases shown."""
    if state is not None and state not in tuple(CaseState):
        raise InvalidInputError(f"{state!r} is not a case state; one of "
                                f"{', '.join(CaseState)}", field="state")
    now = now or utcnow()
    submitter, clinic = submitter_scope(actor), clinic_scope(session, actor)
    board = CaseBoard(now=now, counts=repository.board_counts(
        session, now, submitter_id=submitter, clinic_id=clinic), state=state, offset=offset,
        limit=limit)

    def rows(state: str | None = None, *, overdue_only: bool = False, limit: int,
             offset: int = 0) -> list[dict[str, Any]]:
        return _shown(repository.board_rows(
            session, now, state=state, overdue_only=overdue_only, submitter_id=submitter,
            clinic_id=clinic, limit=limit, offset=offset), now)

    if state is None:
        board.overdue = rows(overdue_only=True, limit=overdue_limit)
        for each in BOARD_STATES:
            if each != CaseState.closed and board.counts.get(each, (0, 0))[0]:
                board.columns[each] = rows(each, limit=per_state)
    else:
        board.columns[state] = rows(state, limit=limit, offset=offset)
    shown = {r["id"]: r["infant_id"] for rows in (board.overdue, *board.columns.values())
             for r in rows}
    record_list_read(session, actor, "followup_case", list(shown), shown.values(),
                     filters={"board": state or "all", "offset": offset or None})
    return board


@dataclass
class CaseRecord:
    """A case as its page shows it."""

    detail: CaseDetail
    infant: Infant
    cards: list[dict[str, Any]]
    releases: list[Release]
    clinic: Clinic | None
    disorder_names: dict[str, str]
    repeat_barcode: str | None = None


def case_record(session: Session, actor: Actor, case_id: int) -> CaseRecord:
    """A case in the actor's scope with its logs, the baby, the baby's cards with every
    released version of their results, and its clinic (the read is audited)."""
    detail = case_detail(session, actor, case_id)
    if not isinstance(detail, CaseDetail):  # a submitter sees a case's status only
        raise PermissionDeniedError("a case's record is for follow-up staff and its clinic")
    infant = infants_by_ids(session, [detail.infant_id])[detail.infant_id]
    cards = repository.infant_cards(session, detail.infant_id)
    releases = repository.releases_of(session, [c["id"] for c in cards])
    clinic = session.get(Clinic, detail.clinic_id) if detail.clinic_id else None
    known = catalogue()
    codes = [*(detail.suspected or []), *([detail.diagnosed_disorder]
                                          if detail.diagnosed_disorder else [])]
    repeat = next((c["barcode"] for c in cards if c["id"] == detail.repeat_specimen_id), None)
    return CaseRecord(detail=detail, infant=infant, cards=cards, releases=releases,
                      clinic=clinic, disorder_names={c: known[c].name for c in codes
                                                     if c in known},
                      repeat_barcode=repeat)
