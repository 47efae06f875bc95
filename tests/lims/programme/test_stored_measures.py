"""A month's programme measures are stored after they are computed and given again while they
stand for the month's data: over a simulated year (SQLite and PostgreSQL), what
``programme_measures`` gives is what ``computed_measures`` computes from the data, after each
kind of change (live births, a baby's birth time, a case, a unit's district); a change
committed while a month was being computed leaves it to be computed again; ``nbs programme
refresh`` computes the months whose data changed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from bench.followup_year import YEAR, load_year, simulate_year
from lims.audit import Actor
from lims.followup import stored_measures
from lims.followup.births import record_births
from lims.followup.measures import Measure
from lims.followup.programme import computed_measures, programme_measures, programme_trend
from lims.followup.rules import followup_rules
from lims.models import FollowUpCase, Infant, ProgrammeMonth, Submitter
from lims.vocabulary import OutcomeClass
from reports.indicators import indicators
from tests.lims.documents.test_commands import run  # noqa: F401  (the fixture)

MONTHS = [date(YEAR, m, 1) for m in range(3, 10)]
ACTOR = Actor(None, "registrar", "admin")
MARCH = datetime(YEAR, 3, 1, tzinfo=UTC)


def _all_as_computed(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        for month in MONTHS:
            assert programme_measures(session, month) == computed_measures(session, month), month
        session.commit()
        rows = {r.month: r for r in session.exec(select(ProgrammeMonth))}
    for month in MONTHS:
        row = rows[month.year * 100 + month.month]
        assert row.computed_version == row.version and row.measures is not None, month


def _version(engine, month: date) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        row = session.get(ProgrammeMonth, month.year * 100 + month.month)
        return -1 if row is None else row.version


def test_the_stored_measures_follow_every_kind_of_change(engine):
    load_year(engine, simulate_year(3_000, seed=5, case_rate=0.05))
    _all_as_computed(engine)
    before = {m: _version(engine, m) for m in MONTHS}
    with Session(engine) as session:
        record_births(session, ACTOR, 1, date(YEAR, 5, 1), 150)
        session.commit()
    assert {m for m in MONTHS if _version(engine, m) != before[m]} == {date(YEAR, 5, 1)}
    _all_as_computed(engine)
    with Session(engine) as session:
        assert programme_measures(session, date(YEAR, 5, 1)).programme["coverage"].n == 150
        case = session.exec(select(FollowUpCase).where(
            col(FollowUpCase.outcome) == OutcomeClass.confirmed).order_by(
            col(FollowUpCase.id)).offset(3).limit(1)).one()
        infant = session.get(Infant, case.infant_id)
        assert infant is not None
        infant.birth_at = infant.birth_at - timedelta(days=2)
        session.add(infant)
        session.commit()
    _all_as_computed(engine)
    limit = timedelta(days=followup_rules().follow_up_limit_days)
    before = {m: _version(engine, m) for m in MONTHS}
    with Session(engine) as session:
        case = session.exec(select(FollowUpCase).where(
            col(FollowUpCase.outcome).is_(None), col(FollowUpCase.opened_at) >= MARCH
        ).order_by(col(FollowUpCase.id)).limit(1)).one()
        case.outcome, case.diagnosed_disorder = OutcomeClass.false_positive, None
        case.diagnosed_at = case.opened_at + timedelta(days=40)
        cohorts = {m.replace(day=1) for m in (case.opened_at.date(), case.diagnosed_at.date(),
                                              (case.opened_at + limit).date())}
        session.add(case)
        session.commit()
    assert {m for m in MONTHS if _version(engine, m) != before[m]} == cohorts & set(MONTHS)
    _all_as_computed(engine)
    before = {m: _version(engine, m) for m in MONTHS}
    with Session(engine) as session:
        case = session.exec(select(FollowUpCase).where(
            col(FollowUpCase.opened_at) >= MARCH).order_by(col(FollowUpCase.id))
            .offset(5).limit(1)).one()
        case.suspected = [*(case.suspected or []), "MSUD"]
        session.add(case)
        session.commit()
        opened = case.opened_at
    span = {m for m in MONTHS if opened.date().replace(day=1) <= m <= (opened + limit).date()}
    assert {m for m in MONTHS if _version(engine, m) != before[m]} == span
    _all_as_computed(engine)
    with Session(engine) as session:
        unit = session.get(Submitter, 2)
        assert unit is not None
        unit.district = "West"
        session.add(unit)
        session.commit()
    assert all(_version(engine, m) > before[m] for m in MONTHS)
    with Session(engine) as session:
        assert "West" in programme_measures(session, date(YEAR, 6, 1)).by_district
    _all_as_computed(engine)


def test_a_change_committed_during_a_computation_leaves_the_month_to_compute_again(engine):
    load_year(engine, simulate_year(2_000, seed=9, case_rate=0.05))
    month, rules = date(YEAR, 4, 1), followup_rules().version
    with Session(engine) as reader:
        seen, kept = stored_measures.stored(reader, month, rules)
        assert kept is None
        early = computed_measures(reader, month)
        with Session(engine) as writer:
            record_births(writer, ACTOR, 1, month, 90)
            writer.commit()
        assert not stored_measures.store(reader, month, seen, rules, {"layout": 0})
        reader.commit()
    with Session(engine) as session:
        now = programme_measures(session, month)
        assert now == computed_measures(session, month) != early
        assert now.programme["coverage"].n == 90


def test_nbs_programme_refresh_computes_the_months_whose_data_changed(engine, run):  # noqa: F811
    load_year(engine, simulate_year(2_000, seed=4, case_rate=0.05))
    done = run("programme", "refresh", "--month", f"{YEAR}-05", "--month", f"{YEAR}-06")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"2 month(s) computed and stored: {YEAR}-05, {YEAR}-06"
    assert run("programme", "refresh", "--month", f"{YEAR}-05").stdout.startswith("0 month")
    with Session(engine) as session:
        record_births(session, ACTOR, 1, date(YEAR, 5, 1), 70)
        session.commit()
    again = run("programme", "refresh")
    assert again.exit_code == 0, again.output
    assert f"{YEAR}-05" in again.stdout and f"{YEAR}-06" not in again.stdout
    assert run("programme", "refresh", "--month", "May").exit_code != 0
    with Session(engine) as session:
        stored = session.get(ProgrammeMonth, YEAR * 100 + 5)
        assert stored is not None and stored.computed_version == stored.version
        assert programme_measures(session, date(YEAR, 5, 1)) == computed_measures(
            session, date(YEAR, 5, 1))


def test_measures_stored_under_other_indicator_definitions_are_computed_again(engine):
    """Measures stored before the indicator definitions changed (another version, or none:
    stored before the version was kept) are computed again, never shown under the new
    definitions; the stored row then holds the current version."""
    load_year(engine, simulate_year(2_000, seed=6, case_rate=0.05))
    month, key = date(YEAR, 5, 1), YEAR * 100 + 5
    current = indicators().version
    for stale in ("2024.1", None):
        with Session(engine) as session:
            computed = programme_measures(session, month)
            assert computed.indicators_version == current
            session.commit()
            row = session.get(ProgrammeMonth, key)
            assert row is not None and row.measures is not None
            old = {**row.measures, "programme": {**row.measures["programme"],
                                                 "recall_compliance": [12.5, 8, 1]}}
            if stale is None:
                del old["indicators_version"]
            else:
                old["indicators_version"] = stale
            row.measures = old
            session.add(row)
            session.commit()
        with Session(engine) as session:
            assert programme_trend(session, [month])[month] == computed.programme
            again = programme_measures(session, month)
            assert again == computed_measures(session, month) == computed
            assert again.programme["recall_compliance"] != Measure(12.5, 8, 1)
            session.commit()
            row = session.get(ProgrammeMonth, key)
            assert row is not None and row.measures["indicators_version"] == current
