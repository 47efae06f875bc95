"""A run's Westgard verdicts, judged once at ingest and stored (SQLite and PostgreSQL): per
control lot x analyte the rules broken with their action, or an accept, and the run's value
furthest from target; the plate's flags are read from them, also after its history changed; a
run stored before verdicts were kept is judged from the history; the charts' history is one
query."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, event
from sqlmodel import Session, select

from lims.models import ControlResult, WestgardVerdict
from lims.runs.levey_jennings import run_charts, series_charts
from lims.runs.westgard_verdicts import ACCEPT, judge, ranked_series, run_verdicts
from lims.web.lab_pages import westgard_flags
from tests.lims.runs.test_qc_charts import plates


def _stored(engine, run_id: int) -> list[WestgardVerdict]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(WestgardVerdict).where(
            WestgardVerdict.run_id == run_id).order_by(WestgardVerdict.id)))


def test_ingest_stores_each_lot_and_analytes_verdict(client, world, engine):
    first, _, third = plates(client, world, 0.1, 2.3, 2.1)
    stored = _stored(engine, third)
    low = [v for v in stored if v.lot == "VQC-L-2501" and v.analyte == "Phe"]
    assert sorted((v.rule, v.decision) for v in low) == [("1-2s", "warning"),
                                                          ("2-2s", "reject")]
    assert all(v.z == pytest.approx(2.1) for v in low)
    two = next(v for v in low if v.rule == "2-2s")
    assert two.observations.startswith("+2.30 (RUN-") and two.observations.endswith(
        "+2.10 (A01)")
    high = [v for v in stored if v.lot == "VQC-H-2501" and v.analyte == "Phe"]
    assert [(v.rule, v.decision) for v in high] == [("", ACCEPT)]
    assert abs(high[0].z) < 0.01
    # every series the run has a value for has a verdict; the first run broke nothing
    with Session(engine) as session:
        series = {(s.lot, s.analyte) for s in run_charts(session, third).current}
    assert {(v.lot, v.analyte) for v in stored} == series and len(series) == 2
    assert {v.decision for v in _stored(engine, first)} == {ACCEPT}
    # what ingest stored is what judging the same history now gives
    with Session(engine) as session:
        again = judge(session, third)
    key = lambda v: (v.lot, v.analyte, v.rule, v.decision, round(v.z, 9),  # noqa: E731
                     v.across_materials, v.observations)
    assert sorted(map(key, again)) == sorted(map(key, stored))


def test_the_flags_are_the_ingest_verdicts_after_the_history_changed(client, world, engine):
    _, second, third = plates(client, world, 0.1, 2.3, 2.1)
    with Session(engine) as session:
        before = westgard_flags(run_verdicts(session, third))
        # the second plate's controls are gone from history (as if it were never accepted)
        session.execute(delete(WestgardVerdict).where(WestgardVerdict.run_id == second))
        session.execute(delete(ControlResult).where(ControlResult.run_id == second))
        session.commit()
    with Session(engine) as session:
        after = westgard_flags(run_verdicts(session, third))
        judged_now = westgard_flags(judge(session, third))
    assert after == before
    assert any(f["rule"] == "2-2s" and f["severity"] == "reject" for f in after)
    assert not any(f["rule"] == "2-2s" for f in judged_now)   # the history alone no longer


def test_a_run_stored_before_verdicts_is_judged_from_its_history(client, world, engine):
    *_, third = plates(client, world, 0.1, 2.3, 2.1)
    with Session(engine) as session:
        stored = westgard_flags(run_verdicts(session, third))
        session.execute(delete(WestgardVerdict).where(WestgardVerdict.run_id == third))
        session.commit()
    with Session(engine) as session:
        assert westgard_flags(run_verdicts(session, third)) == stored
    assert _stored(engine, third) == []                          # a read stores nothing


def test_the_series_charted_first_and_their_history_in_one_query(client, world, engine):
    first, second, third = plates(client, world, 0.1, 2.3, 2.1)
    with Session(engine) as session:
        ranked = ranked_series(run_verdicts(session, third))
        assert ranked[0] == ("VQC-L-2501", "Phe")              # flagged first
        statements: list[str] = []
        listen = lambda *args: statements.append(args[2])      # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            charts = series_charts(session, third, ranked[:3])
        finally:
            event.remove(engine, "before_cursor_execute", listen)
    assert len(statements) == 1, statements
    assert [(s.lot, s.analyte) for s in charts] == ranked[:3]
    low = charts[0]
    assert [int(p.run_id) for p in low.points] == [first, second, third]
    assert low.flags_of(str(third)) == ("1-2s", "2-2s")
    assert low.flags_of(str(second)) == ("1-2s",)
