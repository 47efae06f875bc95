"""Queries of follow-up: cases and their logs, the overdue worklist, reminders, clinics and
directors, the rows the programme measures and the labelled outcomes read, the model registry.

Public names: ``CASE_PUBLIC_COLUMNS``, ``OPEN_STATES``, ``open_cases_of_infant``,
``cases_awaiting_repeat``, ``cases_of_repeat_specimens``, ``case_rows``, ``overdue_rows``,
``mark_reminded``, ``contacts``, ``diagnoses``, ``treatments``, ``visits``, ``last_visits``,
``clinic_of_user``, ``is_director``, ``clinic_by_code``, ``list_clinics``,
``CASE_MEASURE_COLUMNS``, ``case_measure_rows``, ``flagged_disorders``,
``cases_of_specimens``, ``suspected_codes``, ``submitters``,
``labelled_case_rows``,
``specimens_by_ids``, ``models``, ``model_by_version``, ``active_model``, ``retire_active``;
the case board and a case's record: ``BOARD_COLUMNS``, ``board_counts``, ``board_rows``,
``infant_cards``, ``releases_of``, ``released_normal_card``, ``clinic_has_infant``,
``clinic_has_card``;
the per-card figures: ``card_rows``, ``refresh_card_measures``, ``rebuild_card_measures``,
``specimen_ids_of_infants``, ``card_hour_counts``, ``card_figures_at``; live births and the
rows behind a measure: ``live_births_of_month``, ``satisfactory_first_cards``,
``card_drill_rows``, ``cards_of_cases``; the stored measures of a month: ``months_changed``,
``every_month_changed``, ``case_openings_of_infants``, ``stored_month``,
``store_month``, ``months_with_data``, ``latest_card_month``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    CursorResult,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    true,
    update,
)
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, exists, select

from lims.models import (
    CardHourCount,
    CardMeasure,
    Clinic,
    ClinicUser,
    ContactAttempt,
    Diagnosis,
    Director,
    Evaluation,
    FollowUpCase,
    FollowUpVisit,
    Infant,
    LiveBirths,
    ModelRecord,
    ProgrammeMonth,
    Release,
    Specimen,
    Submitter,
    Treatment,
)
from lims.vocabulary import CaseState, FirstTier, ModelStatus, ReleaseOutcome, SpecimenKind

__all__ = ["BOARD_COLUMNS", "CASE_MEASURE_COLUMNS", "CASE_PUBLIC_COLUMNS", "OPEN_STATES",
           "active_model", "latest_card_month", "board_counts", "board_rows",
           "clinic_has_card", "clinic_has_infant", "infant_cards",
           "releases_of", "released_first_cards", "released_normal_card", "cases_of_infants",
           "diagnoses_of_cases",
           "card_figures_at",
           "card_hour_counts", "card_rows", "case_measure_rows", "cases_of_specimens",
           "flagged_disorders", "rebuild_card_measures",
           "refresh_card_measures", "specimen_ids_of_infants", "suspected_codes",
           "case_rows", "cases_awaiting_repeat", "cases_of_repeat_specimens", "clinic_by_code",
           "clinic_of_user", "contacts", "diagnoses", "is_director", "labelled_case_rows",
           "last_visits", "list_clinics", "mark_reminded", "model_by_version", "models",
           "open_cases_of_infant", "overdue_rows", "retire_active",
           "specimens_by_ids", "submitters", "treatments", "visits",
           "card_drill_rows", "cards_of_cases", "live_births_of_month",
           "satisfactory_first_cards", "case_openings_of_infants",
           "every_month_changed", "months_changed", "months_with_data", "store_month",
           "stored_month"]

_CASE = FollowUpCase.__table__  # type: ignore[attr-defined]
_SPECIMEN = Specimen.__table__  # type: ignore[attr-defined]
_INFANT = Infant.__table__  # type: ignore[attr-defined]
_RELEASE = Release.__table__  # type: ignore[attr-defined]
_CARD = CardMeasure.__table__  # type: ignore[attr-defined]
_HOURS = CardHourCount.__table__  # type: ignore[attr-defined]
_SUBMITTER = Submitter.__table__  # type: ignore[attr-defined]
_CLINIC = Clinic.__table__  # type: ignore[attr-defined]
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


#: The columns of a case on the case board: the case's, its card's barcode, the baby's mother
#: and record number, the submitter's code and the clinic's name.
BOARD_COLUMNS: tuple[str, ...] = (
    *CASE_PUBLIC_COLUMNS, "barcode", "mother_name", "medical_record_number", "submitter_code",
    "clinic_name")


def board_counts(session: Session, now: datetime, *, submitter_id: int | None = None,
                 clinic_id: int | None = None) -> dict[str, tuple[int, int]]:
    """Per state: the cases in it and how many of them are past their due date (one grouped
    query over the index ``ix_case_state_due``; a closed case is never overdue)."""
    overdue = func.sum(case((_CASE.c.due_at < now, 1), else_=0))
    query = _scoped(core_select(_CASE.c.state, func.count(), overdue), submitter_id, clinic_id)
    return {state: (int(n), 0 if state == CaseState.closed else int(late or 0))
            for state, n, late in session.execute(query.group_by(_CASE.c.state))}


def _ids(session: Session, query: Select[Any], limit: int, offset: int) -> list[int]:
    return [i for (i,) in session.execute(query.limit(limit).offset(offset))]


def board_rows(session: Session, now: datetime, *, state: str | None = None,
               overdue_only: bool = False, submitter_id: int | None = None,
               clinic_id: int | None = None, limit: int = 20,
               offset: int = 0) -> list[dict[str, Any]]:
    """Cases as rows of ``BOARD_COLUMNS``: of one state (else every open state), or only those
    past their due date; the most overdue first (cases with nothing due last), closed cases
    the most recently closed first. The page of cases is chosen on the case table alone (the
    index ``ix_case_state_due``), then joined to its card, baby, submitter and clinic."""
    c = _CASE.c
    chosen = _scoped(core_select(c.id), submitter_id, clinic_id)
    chosen = chosen.where(c.state == state if state is not None else c.state.in_(OPEN_STATES))
    if overdue_only:
        chosen = chosen.where(c.due_at < now)
    if state == CaseState.closed:
        ids = _ids(session, chosen.order_by(c.closed_at.desc(), c.id.desc()), limit, offset)
    else:
        # the dated cases in the index's order, then those with nothing due
        dated = chosen.where(c.due_at.is_not(None))
        ids = _ids(session, dated.order_by(c.due_at, c.id), limit, offset)
        if len(ids) < limit and not overdue_only:
            before = offset + len(ids) if ids else int(session.execute(
                core_select(func.count()).select_from(dated.subquery())).scalar_one())
            ids += _ids(session, chosen.where(c.due_at.is_(None)).order_by(c.id),
                        limit - len(ids), max(0, offset - before))
    if not ids:
        return []
    query = (core_select(*(c[n] for n in CASE_PUBLIC_COLUMNS), _SPECIMEN.c.barcode,
                         _INFANT.c.mother_name, _INFANT.c.medical_record_number,
                         _SUBMITTER.c.code.label("submitter_code"),
                         _CLINIC.c.name.label("clinic_name"))
             .select_from(_CASE.join(_SPECIMEN, _SPECIMEN.c.id == c.specimen_id)
                          .join(_INFANT, _INFANT.c.id == c.infant_id)
                          .join(_SUBMITTER, _SUBMITTER.c.id == c.submitter_id)
                          .outerjoin(_CLINIC, _CLINIC.c.id == c.clinic_id))
             .where(c.id.in_(ids)))
    rows = {r.id: dict(r._mapping) for r in session.execute(query)}
    return [rows[i] for i in ids]


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


def infant_cards(session: Session, infant_id: int) -> list[dict[str, Any]]:
    """The baby's cards, oldest first: id, barcode, kind, collection and receipt, state,
    unsatisfactory code."""
    s = _SPECIMEN.c
    return [dict(r._mapping) for r in session.execute(
        core_select(s.id, s.barcode, s.kind, s.collected_at, s.received_at, s.state,
                    s.unsatisfactory_code)
        .where(s.infant_id == infant_id).order_by(s.received_at, s.id))]


def releases_of(session: Session, specimen_ids: Sequence[int]) -> list[Release]:
    """Every released version of these cards, oldest first."""
    if not specimen_ids:
        return []
    return list(session.exec(select(Release).where(
        col(Release.specimen_id).in_(list(specimen_ids)))
        .order_by(col(Release.released_at), col(Release.id))))


def released_normal_card(session: Session, case: FollowUpCase) -> Specimen | None:
    """A later card of the case's baby whose latest release is normal (by the reviewer or an
    override): the case's repeat card first, else the earliest other card received after the
    case's own. None when no such card was released normal."""
    own = session.get(Specimen, case.specimen_id)
    cards = [c for c in session.exec(select(Specimen).where(
        Specimen.infant_id == case.infant_id, col(Specimen.id) != case.specimen_id)
        .order_by(col(Specimen.received_at), col(Specimen.id)))
        if own is None or c.received_at >= own.received_at]
    cards.sort(key=lambda c: c.id != case.repeat_specimen_id)
    latest: dict[int, Release] = {}
    for release in releases_of(session, [c.id for c in cards if c.id is not None]):
        if release.specimen_id not in latest or (
                release.version > latest[release.specimen_id].version):
            latest[release.specimen_id] = release
    normal = (ReleaseOutcome.normal, ReleaseOutcome.normal_by_override)
    return next((c for c in cards if c.id in latest and latest[c.id].outcome in normal), None)


def released_first_cards(session: Session, since: datetime | None,
                         until: datetime | None) -> list[Specimen]:
    """The released first cards (kind ``initial``) received from ``since`` (inclusive) to
    ``until`` (exclusive; None: no bound), by receipt."""
    released = exists().where(col(Release.specimen_id) == col(Specimen.id))
    query = select(Specimen).where(Specimen.kind == SpecimenKind.initial, released)
    if since is not None:
        query = query.where(col(Specimen.received_at) >= since)
    if until is not None:
        query = query.where(col(Specimen.received_at) < until)
    return list(session.exec(query.order_by(col(Specimen.received_at), col(Specimen.id))))


def cases_of_infants(session: Session, infant_ids: Sequence[int]) -> list[FollowUpCase]:
    """Every case of these babies, oldest first."""
    if not infant_ids:
        return []
    return list(session.exec(select(FollowUpCase).where(
        col(FollowUpCase.infant_id).in_(list(infant_ids))).order_by(col(FollowUpCase.id))))


def diagnoses_of_cases(session: Session, case_ids: Sequence[int]) -> list[Diagnosis]:
    """Every diagnosis of these cases, oldest first."""
    if not case_ids:
        return []
    return list(session.exec(select(Diagnosis).where(
        col(Diagnosis.case_id).in_(list(case_ids))).order_by(col(Diagnosis.id))))


def clinic_has_infant(session: Session, clinic_id: int, infant_id: int) -> bool:
    """Whether one of the baby's cases is referred to the clinic."""
    return session.execute(core_select(_CASE.c.id).where(
        _CASE.c.clinic_id == clinic_id, _CASE.c.infant_id == infant_id).limit(1)).first() \
        is not None


def clinic_has_card(session: Session, clinic_id: int, specimen_id: int) -> bool:
    """Whether the card is the card, or the repeat card, of a case referred to the clinic."""
    c = _CASE.c
    return session.execute(core_select(c.id).where(
        c.clinic_id == clinic_id,
        (c.specimen_id == specimen_id) | (c.repeat_specimen_id == specimen_id)).limit(1)
    ).first() is not None


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


#: The case columns the programme measures read, in the order of ``measures.CaseRow``'s fields
#: (with the baby's birth after ``opened_at``).
CASE_MEASURE_COLUMNS: tuple[str, ...] = (
    "id", "infant_id", "submitter_id", "reason", "suspected", "opened_at", "birth_at",
    "first_contact_at", "repeat_received_at", "diagnosed_at", "treatment_started_at",
    "closed_at", "outcome", "diagnosed_disorder", "specimen_id")


def case_measure_rows(session: Session, start: datetime, end: datetime, limit: timedelta,
                      screen_positive: Sequence[str],
                      recall_window: timedelta = timedelta(0)) -> list[tuple[Any, ...]]:
    """The cases a month ``[start, end)``'s measures read (``CASE_MEASURE_COLUMNS``): opened in
    the month or within ``recall_window`` before it (their recall is due in the month), or
    opened ``limit`` before it for one of the ``screen_positive`` reasons (their follow-up
    limit falls in the month), or opened within ``limit`` before its end and diagnosed or
    treated in it."""
    c = _CASE.c

    def within(column: Any) -> ColumnElement[bool]:
        return and_(column >= start, column < end)

    query = (core_select(*(_INFANT.c.birth_at if n == "birth_at" else c[n]
                           for n in CASE_MEASURE_COLUMNS))
             .join(_INFANT, _INFANT.c.id == c.infant_id)
             .where(c.opened_at >= start - limit, c.opened_at < end,
                    or_(c.opened_at >= start - recall_window,
                        and_(c.opened_at < end - limit, c.reason.in_(list(screen_positive))),
                        within(c.diagnosed_at), within(c.treatment_started_at))))
    return [tuple(r) for r in session.execute(query).all()]


def flagged_disorders(session: Session, specimen_ids: Collection[int]) -> dict[int, set[str]]:
    """The disorders each card's current calls flag (a call not read as normal), by card."""
    out: dict[int, set[str]] = {}
    ids = sorted(set(specimen_ids))
    e = Evaluation.__table__.c  # type: ignore[attr-defined]
    for start in range(0, len(ids), _CHUNK):
        for specimen_id, disorder in session.execute(core_select(e.specimen_id, e.disorder).where(
                e.specimen_id.in_(ids[start:start + _CHUNK]), e.current.is_(True),
                e.first_tier != FirstTier.normal)):
            out.setdefault(specimen_id, set()).add(disorder)
    return out


def cases_of_specimens(connection: Connection, specimen_ids: Collection[int]) -> list[datetime]:
    """When the cases opened on these cards were opened."""
    ids = sorted(set(specimen_ids))
    out: list[datetime] = []
    for start in range(0, len(ids), _CHUNK):
        out += connection.execute(core_select(_CASE.c.opened_at).where(
            _CASE.c.specimen_id.in_(ids[start:start + _CHUNK]))).scalars().all()
    return out


def suspected_codes(session: Session, opened_from: datetime, end: datetime) -> set[str]:
    """The disorders suspected by the cases opened in ``[opened_from, end)``."""
    lists = session.execute(core_select(cast(_CASE.c.suspected, String)).distinct().where(
        _CASE.c.opened_at >= opened_from, _CASE.c.opened_at < end)).scalars()
    return {code for text in lists if text for code in json.loads(text) or ()}


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


#: Per figure: its column, its whole-hour column, whether it is of first cards only, and the
#: extra count each hour carries (early collection, unsatisfactory cards).
_FIGURES: dict[str, tuple[Any, Any, bool, Any]] = {
    "age_at_collection": (_CARD.c.age_at_collection_h, _CARD.c.age_bin, True,
                          case((_CARD.c.age_at_collection_h < 24, 1), else_=0)),
    "transit": (_CARD.c.transit_h, _CARD.c.transit_bin, False,
                case((_CARD.c.unsatisfactory, 1), else_=0)),
    "age_at_result": (_CARD.c.age_at_result_h, _CARD.c.result_bin, True, literal(0)),
}


HourKey = tuple[int, str, int, int]


def _card_months(connection: Connection, chunk: Sequence[int]) -> set[int]:
    """The months of the ``card_measure`` rows of these specimens."""
    return {m for m in connection.execute(core_select(_CARD.c.month).distinct().where(
        _CARD.c.specimen_id.in_(chunk))).scalars() if m is not None}


def _hour_counts(connection: Connection, chunk: Sequence[int]) -> dict[HourKey, tuple[int, int]]:
    """Per (month, figure, submitter, hour): the cards of these specimens and the extra count."""
    counts: dict[HourKey, tuple[int, int]] = {}
    for figure, (_, hour, first_only, extra) in _FIGURES.items():
        where = [_CARD.c.specimen_id.in_(chunk), hour.is_not(None)]
        query = (core_select(_CARD.c.month, _CARD.c.submitter_id, hour, func.count(),
                             func.sum(extra))
                 .where(*where, *([_CARD.c.initial == true()] if first_only else []))
                 .group_by(_CARD.c.month, _CARD.c.submitter_id, hour))
        for month, submitter_id, h, n, k in connection.execute(query):
            counts[(month, figure, submitter_id, h)] = (int(n), int(k or 0))
    return counts


def _add_hour_counts(connection: Connection,
                     deltas: dict[HourKey, tuple[int, int]]) -> None:
    """Add to ``card_hour_count`` (an upsert, so concurrent writers add up)."""
    rows = [{"month": m, "figure": f, "submitter_id": s, "hour": h, "cards": n, "extra": k}
            for (m, f, s, h), (n, k) in sorted(deltas.items()) if n or k]
    if not rows:
        return
    make = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    statement = make(_HOURS)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["month", "figure", "submitter_id", "hour"],
        set_={"cards": _HOURS.c.cards + statement.excluded.cards,
              "extra": _HOURS.c.extra + statement.excluded.extra}), rows)


def refresh_card_measures(connection: Connection, specimen_ids: Iterable[int]) -> set[int]:
    """Compute again the ``card_measure`` rows of these specimens (a specimen no longer there
    loses its row) and move their counts in ``card_hour_count``; the months (``yyyymm``) of
    their rows before and after."""
    ids = sorted(set(specimen_ids))
    dialect = connection.dialect.name
    months: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        months |= _card_months(connection, chunk)
        before = _hour_counts(connection, chunk)
        connection.execute(delete(_CARD).where(_CARD.c.specimen_id.in_(chunk)))
        connection.execute(insert(_CARD).from_select(list(_CARD_COLUMNS),
                                                     card_rows(dialect, chunk)))
        months |= _card_months(connection, chunk)
        deltas = {key: (n, k) for key, (n, k) in _hour_counts(connection, chunk).items()}
        for key, (n, k) in before.items():
            n_new, k_new = deltas.get(key, (0, 0))
            deltas[key] = (n_new - n, k_new - k)
        _add_hour_counts(connection, deltas)
    return months


def rebuild_card_measures(connection: Connection) -> None:
    """Compute every ``card_measure`` row and hour count again (after cards were written in
    bulk with Core), and count a change to every month's data, whose stored measures are
    then computed again (``lims.followup.stored_measures``)."""
    connection.execute(delete(_CARD))
    connection.execute(insert(_CARD).from_select(list(_CARD_COLUMNS),
                                                 card_rows(connection.dialect.name)))
    connection.execute(delete(_HOURS))
    for figure, (_, hour, first_only, extra) in _FIGURES.items():
        connection.execute(insert(_HOURS).from_select(
            ["month", "figure", "submitter_id", "hour", "cards", "extra"],
            core_select(_CARD.c.month, literal(figure), _CARD.c.submitter_id, hour,
                        func.count(), func.coalesce(func.sum(extra), 0))
            .where(hour.is_not(None), *([_CARD.c.initial == true()] if first_only else []))
            .group_by(_CARD.c.month, _CARD.c.submitter_id, hour)))
    every_month_changed(connection)


def specimen_ids_of_infants(connection: Connection, infant_ids: Collection[int]) -> list[int]:
    return list(connection.execute(core_select(_SPECIMEN.c.id).where(
        _SPECIMEN.c.infant_id.in_(sorted(infant_ids)))).scalars())


def card_hour_counts(session: Session, month: int) -> list[tuple[str, int, int, int, int]]:
    """Figure, submitter, whole hour, cards and extra count of ``month`` (``yyyymm``)."""
    h = _HOURS.c
    return [tuple(r) for r in session.execute(
        core_select(h.figure, h.submitter_id, h.hour, h.cards, h.extra)
        .where(h.month == month, h.cards > 0)).all()]


def _figure_at(figure: str) -> Select[Any]:
    """SQL: the value of ``figure`` at place ``:place`` among the sorted values of the cards of
    submitters ``:submitters`` received in ``:month``, in whole hour ``:hour``."""
    value, hour, first_only, _ = _FIGURES[figure]
    return (core_select(value)
            .where(_CARD.c.month == bindparam("month"), hour == bindparam("hour"),
                   _CARD.c.submitter_id.in_(bindparam("submitters", expanding=True)),
                   *([_CARD.c.initial == true()] if first_only else []))
            .order_by(value).limit(1).offset(bindparam("place")))


_FIGURE_AT = {figure: _figure_at(figure) for figure in _FIGURES}


def card_figures_at(session: Session, month: int, figure: str,
                    places: Sequence[tuple[Collection[int], int, int]]) -> list[float]:
    """For each (submitters, whole hour, place): the value of ``figure`` (``_FIGURES``) that
    comes at ``place`` (from 0) among the sorted values of the submitters' cards of ``month``
    in that hour, read from the index."""
    return [float(session.execute(_FIGURE_AT[figure], {
        "month": month, "hour": h, "submitters": sorted(ids), "place": place}).scalar_one())
        for ids, h, place in places]


# ---- live births and the rows behind a measure (lims.followup.births, .drilldown) ----------

def live_births_of_month(session: Session, key: int) -> dict[int, int]:
    """The live births recorded for the month ``key`` (yyyymm), by submitter id."""
    rows = session.execute(select(col(LiveBirths.submitter_id), col(LiveBirths.births)).where(
        col(LiveBirths.month) == key))
    return {int(s): int(b) for s, b in rows}


def satisfactory_first_cards(session: Session, key: int) -> dict[int, int]:
    """Per submitter, the first cards received in the month ``key`` that were satisfactory."""
    query = (select(col(CardMeasure.submitter_id), func.count())
             .where(col(CardMeasure.month) == key, col(CardMeasure.initial).is_(True),
                    col(CardMeasure.unsatisfactory).is_(False))
             .group_by(col(CardMeasure.submitter_id)))
    return {int(s): int(n) for s, n in session.execute(query)}


def card_drill_rows(session: Session, key: int, submitters: Collection[int] | None, *,
                    first_only: bool, released_only: bool) -> list[tuple[Any, ...]]:
    """The ``card_measure`` rows of the month ``key`` (of the submitters; None: all) with the
    card's barcode, unit code and receipt: (specimen id, barcode, unit, received_at,
    unsatisfactory, age at collection h, transit h, age at result h)."""
    cm = CardMeasure
    where: list[ColumnElement[bool]] = [col(cm.month) == key]
    if submitters is not None:
        where.append(col(cm.submitter_id).in_(list(submitters)))
    if first_only:
        where.append(col(cm.initial).is_(True))
    if released_only:
        where.append(col(cm.age_at_result_h).is_not(None))
    query = (core_select(col(cm.specimen_id), col(Specimen.barcode), col(Submitter.code),
                    col(Specimen.received_at), col(cm.unsatisfactory),
                    col(cm.age_at_collection_h), col(cm.transit_h), col(cm.age_at_result_h))
             .join(Specimen, col(Specimen.id) == col(cm.specimen_id))
             .join(Submitter, col(Submitter.id) == col(cm.submitter_id))
             .where(*where))
    return [tuple(r) for r in session.execute(query)]


def cards_of_cases(session: Session, case_ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    """Per case, the card that opened it: (specimen id, barcode, unit code, received_at)."""
    if not case_ids:
        return {}
    query = (core_select(col(FollowUpCase.id), col(Specimen.id), col(Specimen.barcode),
                         col(Submitter.code), col(Specimen.received_at))
             .join(Specimen, col(Specimen.id) == col(FollowUpCase.specimen_id))
             .join(Submitter, col(Submitter.id) == col(FollowUpCase.submitter_id))
             .where(col(FollowUpCase.id).in_(list(case_ids))))
    return {int(i): (int(s), b, u, r) for i, s, b, u, r in session.execute(query)}


_PROGRAMME_MONTH = ProgrammeMonth.__table__  # type: ignore[attr-defined]


def months_changed(connection: Connection, months: Collection[int]) -> None:
    """Count a change to the data of each month (``yyyymm``) in ``programme_month`` (an
    upsert in month order, so concurrent writers add up and do not deadlock)."""
    rows = [{"month": m, "version": 1, "rules_version": ""} for m in sorted(set(months))]
    if not rows:
        return
    make = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    statement = make(_PROGRAMME_MONTH)
    connection.execute(statement.on_conflict_do_update(
        index_elements=["month"], set_={"version": _PROGRAMME_MONTH.c.version + 1}), rows)


def every_month_changed(connection: Connection) -> None:
    """Count a change to the data of every month stored (after writes in bulk, or a change
    to the submitting units)."""
    connection.execute(update(_PROGRAMME_MONTH).values(version=_PROGRAMME_MONTH.c.version + 1))


def case_openings_of_infants(connection: Connection, infant_ids: Collection[int]) -> list[
        datetime]:
    """When each case of the babies was opened."""
    return list(connection.execute(core_select(_CASE.c.opened_at).where(
        _CASE.c.infant_id.in_(sorted(infant_ids)))).scalars())


def stored_month(session: Session, month: int) -> tuple[int, int | None, str,
                                                        dict[str, Any] | None] | None:
    """A month's change count, the count and rules version its measures were computed at,
    and the measures stored (None: no row for the month)."""
    m = _PROGRAMME_MONTH.c
    row = session.execute(core_select(m.version, m.computed_version, m.rules_version,
                                      m.measures).where(m.month == month)).first()
    return None if row is None else (int(row[0]), row[1], str(row[2]), row[3])


def store_month(session: Session, month: int, seen: int | None, rules_version: str,
                measures: dict[str, Any], now: datetime) -> bool:
    """Store a month's measures computed from the data of change count ``seen`` (None: the
    month had no row), unless the month changed since (its count is no longer ``seen``);
    whether they were stored."""
    m = _PROGRAMME_MONTH.c
    values = {"computed_version": 0 if seen is None else seen, "rules_version": rules_version,
              "measures": measures, "computed_at": now}
    if seen is None:
        make = (sqlite_insert if session.get_bind().dialect.name == "sqlite"
                else postgresql_insert)
        done: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            make(_PROGRAMME_MONTH).values(month=month, version=0, **values)
            .on_conflict_do_nothing(index_elements=["month"]))
    else:
        done = session.execute(update(_PROGRAMME_MONTH).where(  # type: ignore[assignment]
            m.month == month, m.version == seen).values(**values))
    return bool(done.rowcount == 1)


def months_with_data(session: Session) -> list[int]:
    """The months with cards received, or with a change counted."""
    cards = set(session.execute(core_select(_CARD.c.month).distinct()).scalars())
    counted = set(session.execute(core_select(_PROGRAMME_MONTH.c.month)).scalars())
    return sorted(m for m in cards | counted if m is not None)


def latest_card_month(session: Session, submitter_id: int | None = None) -> int | None:
    """The latest month (``yyyymm``) with cards received (of one submitter), or None before
    the first card."""
    query = core_select(func.max(_CARD.c.month))
    if submitter_id is not None:
        query = query.where(_CARD.c.submitter_id == submitter_id)
    month: int | None = session.execute(query).scalar()
    return month
