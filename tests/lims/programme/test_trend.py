"""The bulletin page's trend: ``programme_trend`` reads the cases of several months in one
query and gives each month the programme's measures ``programme_measures`` gives it, over a
simulated year (cases opened long before a month, diagnosed or treated in it, included);
once the months are stored, the trend gives the stored ones, the same."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from bench.followup_year import YEAR, load_year, simulate_year
from lims.audit import Actor
from lims.followup.births import record_births
from lims.followup.programme import programme_measures, programme_trend


def test_the_trend_is_each_months_programme_measures(engine):
    year = simulate_year(3_000, seed=7, case_rate=0.05)
    load_year(engine, year)
    months = [date(YEAR, m, 1) for m in (3, 4, 5, 6, 7, 8)]
    with Session(engine) as session:
        record_births(session, Actor(None, "t", "admin"), 1, date(YEAR, 5, 1), 120)
        session.commit()
        trend = programme_trend(session, months)
        for month in months:
            assert trend[month] == programme_measures(session, month).programme, month
        assert programme_trend(session, months) == trend
    assert trend[date(YEAR, 5, 1)]["coverage"].n == 120
    assert "coverage" not in trend[date(YEAR, 6, 1)]
    assert sum(m["confirmed_cases"].n for m in trend.values()) > 0
