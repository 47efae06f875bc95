"""Queries of follow-up: cases and their logs, the overdue worklist, reminders, clinics and
directors, the rows the programme measures and the labelled outcomes read, the model registry.

Public names: ``CASE_PUBLIC_COLUMNS``, ``OPEN_STATES``, ``open_cases_of_infant``,
``cases_awaiting_repeat``, ``cases_of_repeat_specimens``, ``case_rows``, ``overdue_rows``,
``mark_reminded``, ``contacts``, ``diagnoses``, ``treatments``, ``visits``, ``last_visits``,
``clinic_of_user``, ``is_director``, ``clinic_by_code``, ``list_clinics``,
``case_measure_rows``, ``submitters``, ``labelled_case_rows``,
``specimens_by_ids``, ``models``, ``model_by_version``, ``active_model``, ``retire_active``;
the per-card figures: ``card_rows``, ``refresh_card_measures``, ``rebuild_card_measures``,
``specimen_ids_of_infants``, ``card_hour_counts``, ``card_figures_in_hours``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CursorResult,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    true,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from lims.models import (
    CardMeasure,
    Clinic,
    ClinicUser,
    ContactAttempt,
    Diagnosis,
    Director,
    FollowUpCase,
    FollowUpVisit,
    Infant,
    ModelRecord,
    Release,
    Specimen,
    Submitter,
    Treatment,
)
from lims.vocabulary import CaseState, ModelStatus, SpecimenKind

__all__ = ["CASE_PUBLIC_COLUMNS", "OPEN_STATES", "active_model", "card_figures_in_hours",
           "card_hour_counts", "card_rows", "case_measure_rows", "rebuild_card_measures",
           "refresh_card_measures", "specimen_ids_of_infants",
           "case_rows", "cases_awaiting_repeat", "cases_of_repeat_specimens", "clinic_by_code",
           "clinic_of_user", "contacts", "diagnoses", "is_director", "labelled_case_rows",
           "last_visits", "list_clinics", "mark_reminded", "model_by_version", "models",
           "open_cases_of_infant", "overdue_rows", "retire_active",
           "specimens_by_ids", "submitters", "treatments", "visits"]

_CASE = FollowUpCase.__table__  # type: ignore[attr-defined]
_SPECIMEN = Specimen.__table__  # type: ignore[attr-defined]
_INFANT = Infant.__table__  # type: ignore[attr-defined]
_RELEASE = Release.__table__  # type: ignore[attr-defined]
_CARD = CardMeasure.__table__  # type: ignore[attr-defined]
#: Every state but closed.
OPEN_STATES: tuple[str, ...] = tuple(s for s in CaseState if s != CaseState.closed)
#: The columns a case is listed with (``CasePublic``).
CASE_PUBLIC_COLUMNS: tuple[str, ...] = (
    "id", "infant_id", "submitter_id", "specimen_id", "referral_group", "reason", "suspected",
    "time_critical", "state", "opened_at", "due_action", "due_at", "clinic_id",
    "appointment_at", "outcome", "diagnosed_disorder", "closed_at")


def open_cases_of_infant(session: Session, infant_id: int) -> list[FollowUpCase]:
    """The baby's cases that are not closed, oldest first."""
    return list(session.exec(select(FollowUpCase).where(
        FollowUpCase.infant_id == infant_id, col(FollowUpCase.state).in_(OPEN_STATES))
        .order_by(col(FollowUpCase.id))))


def cases_awaiting_repeat(session: Session, infant_id: int) -> list[FollowUpCase]:
    """The baby's cases a new card answers: opened or contacted, no repeat linked yet."""
    return list(session.exec(select(FollowUpCase).where(
        FollowUpCase.infant_id == infant_id,
        col(FollowUpCase.state).in_([CaseState.opened, CaseState.contacted]),
        col(FollowUpCase.repeat_specimen_id).is_(None)).order_by(col(FollowUpCase.id))))


def cases_of_repeat_specimens(session: Session, specimen_ids: Sequence[int]) -> list[
        FollowUpCase]:
    """Cases waiting on the result of one of these repeat cards."""
    if not specimen_ids:
        return []
    return list(session.exec(select(FollowUpCase).where(
        col(FollowUpCase.repeat_specimen_id).in_(list(specimen_ids)),
        FollowUpCase.state == CaseState.repeat_received).order_by(col(FollowUpCase.id))))


def _scoped(query: Any, submitter_id: int | None, clinic_id: int | None) -> Any:
    if submitter_id is not None:
        query = query.where(_CASE.c.submitter_id == submitter_id)
    if clinic_id is not None:
        query = query.where(_CASE.c.clinic_id == clinic_id)
    return query


def case_rows(session: Session, *, submitter_id: int | None = None,
              clinic_id: int | None = None, state: str | None = None,
              infant_id: int | None = None, limit: int = 100,
              offset: int = 0) -> list[dict[str, Any]]:
    """Cases as plain rows of ``CASE_PUBLIC_COLUMNS`` (one Core query), newest first."""
    query = core_select(*(_CASE.c[c] for c in CASE_PUBLIC_COLUMNS))
    query = _scoped(query, submitter_id, clinic_id)
    if state is not None:
        query = query.where(_CASE.c.state == state)
    if infant_id is not None:
        query = query.where(_CASE.c.infant_id == infant_id)
    query = query.order_by(_CASE.c.id.desc()).offset(offset).limit(limit)
    return [dict(r._mapping) for r in session.execute(query)]


def overdue_rows(session: Session, now: datetime, *, submitter_id: int | None = None,
                 clinic_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Open cases whose due date has passed, most overdue first (index ``ix_case_state_due``)."""
    query = (core_select(*(_CASE.c[c] for c in CASE_PUBLIC_COLUMNS))
             .where(_CASE.c.state.in_(OPEN_STATES), _CASE.c.due_at < now))
    query = _scoped(query, submitter_id, clinic_id)
    return [dict(r._mapping) for r in session.execute(
        query.order_by(_CASE.c.due_at, _CASE.c.id).limit(limit))]


def mark_reminded(session: Session, case_id: int, due_at: datetime) -> bool:
    """Record that the reminder for this due date is raised, unless someone did already."""
    done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(_CASE).where(_CASE.c.id == case_id, _CASE.c.due_at == due_at,
                            (_CASE.c.reminded_due_at.is_(None))
                            | (_CASE.c.reminded_due_at != due_at))
        .values(reminded_due_at=due_at))
    return done.rowcount == 1


def contacts(session: Session, case_id: int) -> list[ContactAttempt]:
    return list(session.exec(select(ContactAttempt).where(ContactAttempt.case_id == case_id)
                             .order_by(col(ContactAttempt.at), col(ContactAttempt.id))))


def diagnoses(session: Session, case_id: int) -> list[Diagnosis]:
    return list(session.exec(select(Diagnosis).where(Diagnosis.case_id == case_id)
                             .order_by(col(Diagnosis.id))))


def treatments(session: Session, case_id: int) -> list[Treatment]:
    return list(session.exec(select(Treatment).where(Treatment.case_id == case_id)
                             .order_by(col(Treatment.id))))


def visits(session: Session, case_id: int) -> list[FollowUpVisit]:
    return list(session.exec(select(FollowUpVisit).where(FollowUpVisit.case_id == case_id)
                             .order_by(col(FollowUpVisit.visit_at), col(FollowUpVisit.id))))


def last_visits(session: Session, case_id: int) -> dict[str, datetime]:
    """The latest visit of each kind."""
    return {kind: at for kind, at in session.exec(
        select(FollowUpVisit.kind, func.max(FollowUpVisit.visit_at))
        .where(FollowUpVisit.case_id == case_id).group_by(col(FollowUpVisit.kind)))}


def clinic_of_user(session: Session, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    row = session.get(ClinicUser, user_id)
    return None if row is None else row.clinic_id


def is_director(session: Session, user_id: int | None) -> bool:
    return user_id is not None and session.get(Director, user_id) is not None


def clinic_by_code(session: Session, code: str) -> Clinic | None:
    return session.exec(select(Clinic).where(Clinic.code == code)).first()


def list_clinics(session: Session) -> list[Clinic]:
    return list(session.exec(select(Clinic).order_by(col(Clinic.id))))


def submitters(session: Session) -> dict[int, tuple[str, str]]:
    """Every submitter's code and district, by id."""
    return {i: (code, district) for i, code, district in session.exec(
        select(Submitter.id, Submitter.code, Submitter.district)) if i is not None}


def case_measure_rows(session: Session, opened_from: datetime, end: datetime) -> list[
        dict[str, Any]]:
    """Cases opened in ``[opened_from, end)`` with their baby's birth and the dates of each
    step, as plain rows."""
    columns = ("id", "infant_id", "submitter_id", "reason", "suspected", "time_critical",
               "opened_at", "first_contact_at", "repeat_received_at", "referred_at",
               "diagnosed_at", "treatment_started_at", "closed_at", "outcome",
               "diagnosed_disorder")
    query = (core_select(*(_CASE.c[c] for c in columns), _INFANT.c.birth_at)
             .join(_INFANT, _INFANT.c.id == _CASE.c.infant_id)
             .where(_CASE.c.opened_at >= opened_from, _CASE.c.opened_at < end))
    return [dict(r._mapping) for r in session.execute(query)]


def labelled_case_rows(session: Session, outcomes: Sequence[str]) -> list[FollowUpCase]:
    """Cases with one of ``outcomes`` recorded, oldest first."""
    return list(session.exec(select(FollowUpCase).where(
        col(FollowUpCase.outcome).in_(list(outcomes))).order_by(col(FollowUpCase.id))))


def specimens_by_ids(session: Session, ids: Sequence[int]) -> dict[int, Specimen]:
    if not ids:
        return {}
    return {s.id: s for s in session.exec(select(Specimen).where(
        col(Specimen.id).in_(sorted(set(ids))))) if s.id is not None}


def models(session: Session) -> list[ModelRecord]:
    return list(session.exec(select(ModelRecord).order_by(col(ModelRecord.id))))


def model_by_version(session: Session, version: str) -> ModelRecord | None:
    return session.exec(select(ModelRecord).where(ModelRecord.version == version)).first()


def active_model(session: Session) -> ModelRecord | None:
    return session.exec(select(ModelRecord).where(
        ModelRecord.status == ModelStatus.active)).first()


def retire_active(session: Session, at: datetime) -> list[int]:
    """Retire the active model(s); their ids."""
    ids = [i for (i,) in session.execute(core_select(ModelRecord.__table__.c.id).where(  # type: ignore[attr-defined]
        ModelRecord.__table__.c.status == ModelStatus.active))]  # type: ignore[attr-defined]
    if ids:
        session.execute(update(ModelRecord.__table__).where(  # type: ignore[attr-defined]
            ModelRecord.__table__.c.id.in_(ids))  # type: ignore[attr-defined]
            .values(status=ModelStatus.retired, retired_at=at))
    return ids


# ---- the per-card figures of the programme measures (lims.followup.card_measures) ----------

def _hours(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """SQL: hours from ``earlier`` to ``later`` (numbers, so no datetime is parsed per row)."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24.0
    return func.extract("epoch", later - earlier) / 3600.0


def _hour(hours: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """SQL: the whole hour of a figure (any rounding that never decreases would do: the hours
    only have to be in the order of the figures)."""
    if dialect == "sqlite":
        return cast(hours, Integer)
    return cast(func.floor(hours), Integer)


def _month(moment: Any, dialect: str) -> ColumnElement[Any]:
    """SQL: ``yyyymm`` of a time, in UTC."""
    if dialect == "sqlite":
        return cast(func.strftime("%Y%m", moment), Integer)
    return cast(func.to_char(func.timezone("UTC", moment), "YYYYMM"), Integer)


def card_rows(dialect: str, specimen_ids: Collection[int] | None = None) -> Select[Any]:
    """The ``card_measure`` rows of the specimens (all when None), computed from the specimen,
    its baby and its first release."""
    age = _hours(_SPECIMEN.c.collected_at, _INFANT.c.birth_at, dialect)
    transit = _hours(_SPECIMEN.c.received_at, _SPECIMEN.c.collected_at, dialect)
    result = _hours(_RELEASE.c.released_at, _INFANT.c.birth_at, dialect)
    first = and_(_RELEASE.c.specimen_id == _SPECIMEN.c.id, _RELEASE.c.version == 1)
    query = (core_select(
        _SPECIMEN.c.id, _month(_SPECIMEN.c.received_at, dialect), _SPECIMEN.c.submitter_id,
        _SPECIMEN.c.kind == SpecimenKind.initial, _SPECIMEN.c.unsatisfactory_code.is_not(None),
        age, _hour(age, dialect), transit, _hour(transit, dialect), result,
        _hour(result, dialect))
        .select_from(_SPECIMEN.join(_INFANT, _INFANT.c.id == _SPECIMEN.c.infant_id)
                     .outerjoin(_RELEASE, first)))
    if specimen_ids is not None:
        query = query.where(_SPECIMEN.c.id.in_(list(specimen_ids)))
    return query


_CARD_COLUMNS = ("specimen_id", "month", "submitter_id", "initial", "unsatisfactory",
                 "age_at_collection_h", "age_bin", "transit_h", "transit_bin",
                 "age_at_result_h", "result_bin")
_CHUNK = 500


def refresh_card_measures(connection: Connection, specimen_ids: Iterable[int]) -> None:
    """Compute again the ``card_measure`` rows of these specimens (a specimen no longer there
    loses its row)."""
    ids = sorted(set(specimen_ids))
    dialect = connection.dialect.name
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        connection.execute(delete(_CARD).where(_CARD.c.specimen_id.in_(chunk)))
        connection.execute(insert(_CARD).from_select(list(_CARD_COLUMNS),
                                                     card_rows(dialect, chunk)))


def rebuild_card_measures(connection: Connection) -> None:
    """Compute every ``card_measure`` row again (after cards were written in bulk with Core)."""
    connection.execute(delete(_CARD))
    connection.execute(insert(_CARD).from_select(list(_CARD_COLUMNS),
                                                 card_rows(connection.dialect.name)))


def specimen_ids_of_infants(connection: Connection, infant_ids: Collection[int]) -> list[int]:
    return list(connection.execute(core_select(_SPECIMEN.c.id).where(
        _SPECIMEN.c.infant_id.in_(sorted(infant_ids)))).scalars())


#: Per figure: its column, its whole-hour column, whether it is of first cards only, and the
#: extra count each hour carries (early collection, unsatisfactory cards).
_FIGURES: dict[str, tuple[Any, Any, bool, Any]] = {
    "age_at_collection": (_CARD.c.age_at_collection_h, _CARD.c.age_bin, True,
                          case((_CARD.c.age_at_collection_h < 24, 1), else_=0)),
    "transit": (_CARD.c.transit_h, _CARD.c.transit_bin, False,
                case((_CARD.c.unsatisfactory, 1), else_=0)),
    "age_at_result": (_CARD.c.age_at_result_h, _CARD.c.result_bin, True, literal(0)),
}


def _figure_filter(figure: str, month: int) -> list[ColumnElement[Any]]:
    _, hour, first_only, _ = _FIGURES[figure]
    where = [_CARD.c.month == month, hour.is_not(None)]
    return where + ([_CARD.c.initial == true()] if first_only else [])


def card_hour_counts(session: Session, month: int, figure: str) -> list[tuple[int, int, int, int]]:
    """Per submitter and whole hour of ``figure`` (``_FIGURES``) in ``month`` (``yyyymm``): the
    cards and the extra count, read from the index alone."""
    _, hour, _, extra = _FIGURES[figure]
    query = (core_select(_CARD.c.submitter_id, hour, func.count(), func.sum(extra))
             .where(*_figure_filter(figure, month)).group_by(_CARD.c.submitter_id, hour))
    return [(s, h, int(n), int(k or 0)) for s, h, n, k in session.execute(query)]


def card_figures_in_hours(session: Session, month: int, figure: str,
                          submitter_ids: Collection[int], hours: Collection[int]) -> list[
        tuple[int, int, float]]:
    """Submitter, whole hour and value of ``figure`` of the month's cards in these hours."""
    value, hour, _, _ = _FIGURES[figure]
    query = (core_select(_CARD.c.submitter_id, hour, value)
             .where(*_figure_filter(figure, month),
                    _CARD.c.submitter_id.in_(sorted(submitter_ids)), hour.in_(sorted(hours))))
    return [(s, h, float(v)) for s, h, v in session.execute(query)]
