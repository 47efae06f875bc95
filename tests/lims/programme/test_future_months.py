"""No month after the laboratory's current one is computed, on SQLite and PostgreSQL. A case
opened today counts a change in every month up to its follow-up limit (180 days on), so months
ahead have change counts: ``nbs programme refresh`` without ``--month`` computes the months up
to the current one only, and a month after it asked for by name (``refresh``, ``measures``,
the API) is refused naming it, nothing computed or stored. The current month is the
laboratory's (``NBS_TIME_ZONE``), not UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from lims.errors import InvalidInputError
from lims.followup import programme
from lims.followup.programme import current_month, refresh_measures
from lims.models import ProgrammeMonth
from lims.settings import get_settings
from tests.lims.documents.test_commands import run  # noqa: F401  (the fixture)
from tests.lims.helpers import API, decide, flagged_card


def _key(month: date) -> int:
    return month.year * 100 + month.month


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _stored(engine) -> dict[int, bool]:  # type: ignore[no-untyped-def]
    """Each month with a change counted: whether measures are stored for it."""
    with Session(engine) as session:
        return {r.month: r.measures is not None for r in session.exec(select(ProgrammeMonth))}


def _referral_today(client, world) -> None:  # type: ignore[no-untyped-def]
    decide(client, world, flagged_card(client, world)["id"], "refer")  # opens a case now


def test_a_refresh_stops_at_the_current_month_though_later_months_have_changes(  # type: ignore[no-untyped-def]
        client, world, engine, run):  # noqa: F811
    _referral_today(client, world)
    now = _key(current_month())
    ahead = sorted(m for m in _stored(engine) if m > now)
    assert len(ahead) >= 5, ahead  # up to the case's follow-up limit, 180 days on
    done = run("programme", "refresh")
    assert done.exit_code == 0, done.output
    computed = done.stdout.split(": ", 1)[1].split()
    assert computed and max(int(m.rstrip(",").replace("-", "")) for m in computed) == now
    stored = _stored(engine)
    assert stored[now] and not any(stored[m] for m in ahead)


def test_a_month_after_the_current_one_is_refused_naming_it(  # type: ignore[no-untyped-def]
        client, world, engine, run):  # noqa: F811
    _referral_today(client, world)
    now = current_month()
    later = _next(now)
    for command in (["programme", "refresh", "--month", f"{now:%Y-%m}", "--month",
                     f"{later:%Y-%m}"],
                    ["programme", "measures", "--month", f"{later:%Y-%m}"]):
        refused = run(*command)
        assert isinstance(refused.exception, InvalidInputError), refused.output
        assert str(refused.exception) == (
            f"field month: {later:%Y-%m} has not begun: the current month is {now:%Y-%m} "
            "(laboratory time, UTC); a month's measures are computed from its first day on")
    assert not any(_stored(engine).values())  # not even the current month of the refresh
    api = client.get(f"{API}/programme/measures", params={"month": f"{later:%Y-%m}"},
                     headers=world.auth("follow_up"))
    assert api.status_code == 422 and f"{later:%Y-%m} has not begun" in api.text
    assert client.get(f"{API}/programme/measures", params={"month": f"{now:%Y-%m}"},
                      headers=world.auth("follow_up")).status_code == 200


@pytest.mark.parametrize(("zone", "current"), [("UTC", date(2026, 12, 1)),
                                               ("Asia/Shanghai", date(2027, 1, 1))])
def test_the_current_month_is_the_laboratory_s(engine, monkeypatch, zone, current):  # type: ignore[no-untyped-def]
    """At 20:00 UTC on 31 December it is already January in Beijing."""
    monkeypatch.setattr(programme, "utcnow", lambda: datetime(2026, 12, 31, 20, tzinfo=UTC))
    monkeypatch.setenv("NBS_TIME_ZONE", zone)
    get_settings.cache_clear()
    try:
        assert current_month() == current
        with Session(engine) as session:
            assert refresh_measures(session, [current]) == [current]
            with pytest.raises(InvalidInputError, match=f"{_next(current):%Y-%m} has not "
                               f"begun: the current month is {current:%Y-%m} \\(laboratory "
                               f"time, {zone}\\)"):
                refresh_measures(session, [_next(current)])
    finally:
        get_settings.cache_clear()
