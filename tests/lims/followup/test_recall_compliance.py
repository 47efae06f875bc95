"""Recall compliance as its definition reads (reports/data/indicators.toml): the babies
recalled (a repeat specimen, an unsatisfactory card's repeat, a referral) whose due date fell
in the month and has passed, and of them those re-sampled or seen by the due date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lims.followup.measures import CaseRow, case_cohorts, case_measures, month_of

MARCH = month_of(date(2026, 3, 1))
BIRTH = datetime(2026, 2, 1, tzinfo=UTC)


def _case(i: int, reason: str, opened: datetime, **steps: datetime) -> CaseRow:
    return CaseRow(i, i, 1, reason, ("PKU",), opened, BIRTH, **steps)  # type: ignore[arg-type]


def _compliance(cases: list[CaseRow], now: datetime) -> tuple[float | None, int, list[int]]:
    measures = case_measures(
        cases, MARCH, screened=100, recall_window_days=14, follow_up_limit_days=180, now=now
    )
    rows, _ = case_cohorts(cases, MARCH, recall_window_days=14, follow_up_limit_days=180, now=now)[
        "recall_compliance"
    ]
    m = measures["recall_compliance"]
    return m.value, m.n, sorted(c.id for c in rows)


def test_recalls_due_in_the_month_count_referrals_too_and_not_those_not_yet_due() -> None:
    cases = [
        # opened in February, due 5 March: in March's cohort, re-sampled on time
        _case(
            1,
            "repeat_specimen",
            datetime(2026, 2, 19, tzinfo=UTC),
            repeat_received_at=datetime(2026, 3, 1, tzinfo=UTC),
        ),
        # a referral due 15 March, seen (diagnosed) on 10 March
        _case(
            2,
            "referral",
            datetime(2026, 3, 1, tzinfo=UTC),
            diagnosed_at=datetime(2026, 3, 10, tzinfo=UTC),
        ),
        # an unsatisfactory card's repeat due 16 March, received late
        _case(
            3,
            "unsatisfactory",
            datetime(2026, 3, 2, tzinfo=UTC),
            repeat_received_at=datetime(2026, 3, 20, tzinfo=UTC),
        ),
        # opened 25 March: due 8 April, not March's
        _case(4, "repeat_specimen", datetime(2026, 3, 25, tzinfo=UTC)),
        # due 29 March, nothing yet
        _case(5, "repeat_specimen", datetime(2026, 3, 15, tzinfo=UTC)),
        # a case opened by hand recalls nobody
        _case(6, "manual", datetime(2026, 3, 3, tzinfo=UTC)),
    ]
    value, n, ids = _compliance(cases, now=datetime(2026, 5, 1, tzinfo=UTC))
    assert ids == [1, 2, 3, 5] and n == 4 and value == 50.0
    # on 20 March, the recall due on 29 March is not yet a failure: it is not counted
    value, n, ids = _compliance(cases, now=datetime(2026, 3, 20, tzinfo=UTC))
    assert ids == [1, 2, 3] and value is not None and round(value, 4) == round(200 / 3, 4)
