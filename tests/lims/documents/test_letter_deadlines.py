"""The deadline and appointment a recall letter prints, through the API: a referral with an
appointment booked names it (date, time, clinic) in both languages and makes it the deadline;
a time-critical letter issued after treatment began gives today, not the next growth visit;
"today" is the laboratory's local day, only when enough of it is left, and a deadline is
never in the past."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lims.documents.views import letter_deadline
from lims.models import FollowUpCase, utcnow
from lims.settings import get_settings
from reports.wording import wording
from tests.lims.documents.test_documents import _listed, _referred
from tests.lims.helpers import API
from tests.reports.pdfcheck import page_texts, squash


def _move(client, world, case_id, role, **body):  # type: ignore[no-untyped-def]
    moved = client.post(f"{API}/cases/{case_id}/transitions", json=body, headers=world.auth(role))
    assert moved.status_code == 200, moved.text
    return moved.json()


def _text(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


def _clinic(client, world):  # type: ignore[no-untyped-def]
    made = client.post(
        f"{API}/clinics",
        json={
            "code": "METAB",
            "name": "Metabolic clinic",
            "district": "Riverside",
            "phone": "+86 10 0000",
        },
        headers=world.auth("follow_up"),
    )
    assert made.status_code == 201, made.text
    return made.json()


def test_a_booked_appointment_is_named_and_is_the_deadline(client, world):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    case_id, fu = letter["case_id"], world.auth("follow_up")
    made = _clinic(client, world)
    client.post(
        f"{API}/cases/{case_id}/contacts",
        json={"method": "phone", "contacted": "mother", "result": "reached"},
        headers=fu,
    )
    booked = (utcnow() + timedelta(days=3)).replace(
        hour=9, minute=30, second=0, microsecond=0, tzinfo=None
    )
    case = _move(
        client,
        world,
        case_id,
        "follow_up",
        transition="refer",
        clinic_id=made["id"],
        appointment_at=f"{booked.isoformat()}+00:00",
    )
    assert case["due_action"] == "diagnosis"
    due = case["due_at"][:10]
    assert due != booked.date().isoformat()  # the diagnosis is due on another day
    english = client.post(
        f"{API}/documents/letters",
        json={"case_id": case_id, "audience": "family", "language": "en"},
        headers=fu,
    )
    assert english.status_code == 201, english.text
    text = _text(english.content)
    when = squash(booked.strftime("%Y-%m-%d %H:%M"))
    assert squash(f"Your baby has an appointment at Metabolic clinic on {when}") in text.replace(
        squash("(+00:00)"), ""
    )
    assert squash(f"Deadline: {when}") in text and squash("Appointment") in text
    assert "Riverside" in text
    assert squash("to arrange it") not in text and due not in text
    chinese = client.post(
        f"{API}/documents/letters",
        json={"case_id": case_id, "audience": "family", "language": "zh-CN"},
        headers=fu,
    )
    assert chinese.status_code == 201, chinese.text
    text = _text(chinese.content)
    when = squash(booked.strftime("%Y年%m月%d日 %H:%M"))
    assert squash(f"宝宝已预约于{when}") in text and squash("预约时间") in text
    assert "Metabolicclinic看专科医生" in text and "请今天拨打下方电话预约" not in text
    assert squash(f"截止时间：{when}") in text


def test_after_treatment_began_no_new_recall_letter_is_issued(client, world):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    case_id, fu = letter["case_id"], world.auth("follow_up")
    client.post(
        f"{API}/cases/{case_id}/contacts",
        json={"method": "phone", "contacted": "mother", "result": "reached"},
        headers=fu,
    )
    _move(
        client,
        world,
        case_id,
        "follow_up",
        transition="refer",
        clinic_id=_clinic(client, world)["id"],
    )
    _move(
        client,
        world,
        case_id,
        "follow_up",
        transition="diagnose",
        outcome="confirmed",
        disorder="MSUD",
        severity="severe",
        confirmatory_tests="plasma allo-isoleucine",
    )
    case = _move(
        client,
        world,
        case_id,
        "follow_up",
        transition="start_treatment",
        description="leucine-free formula",
    )
    assert case["time_critical"] and case["due_at"][:10] > utcnow().date().isoformat()
    issued = client.post(
        f"{API}/documents/letters",
        json={"case_id": case_id, "audience": "family", "language": "en"},
        headers=fu,
    )
    # past the recall a new recall letter (a repeat card or a referral by a deadline) is not
    # due; the deadline of a time-critical letter against a far due time is
    # test_too_late_in_the_day_for_today_gives_the_due_time_never_the_past's
    assert issued.status_code == 409, issued.text
    assert "is treatment: a recall letter is no longer due" in issued.text
    before = client.post(f"{API}/documents/letters", json={"case_id": case_id}, headers=fu)
    assert before.status_code == 200, before.text  # the clinic letter of the release, again


def _case(due: datetime, *, time_critical: bool = True) -> FollowUpCase:
    return FollowUpCase(
        infant_id=1,
        submitter_id=1,
        specimen_id=1,
        referral_group="MSUD",
        reason="referral",
        state="open",
        time_critical=time_critical,
        opened_at=due - timedelta(hours=2),
        due_at=due,
    )


def _zone(monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[None]:
    monkeypatch.setenv("NBS_TIME_ZONE", name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def beijing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from _zone(monkeypatch, "Asia/Shanghai")


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from _zone(monkeypatch, "UTC")


HOURS = wording("en").letter.act_today_min_hours
LATE = datetime(2026, 3, 4, 23, 36, tzinfo=UTC)  # 07:36 on 5 March in Beijing


def test_act_today_is_the_end_of_the_laboratorys_local_day(beijing):
    deadline = letter_deadline(_case(LATE + timedelta(days=3)), LATE, HOURS)
    assert deadline == datetime(2026, 3, 5, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert deadline.utcoffset() == timedelta(hours=8)


def test_too_late_in_the_day_for_today_gives_the_due_time_never_the_past(utc):
    soon = letter_deadline(_case(LATE + timedelta(hours=10)), LATE, HOURS)
    assert soon == LATE + timedelta(hours=10)  # 23 minutes of the day left: the due time
    far = letter_deadline(_case(LATE + timedelta(days=60)), LATE, HOURS)
    assert far == datetime(2026, 3, 5, 23, 59, tzinfo=UTC)  # no later than the next day
    overdue = letter_deadline(_case(LATE - timedelta(hours=5)), LATE, HOURS)
    assert overdue == LATE + timedelta(hours=HOURS) and overdue > LATE
    for issued in (LATE, LATE.replace(hour=10), LATE.replace(hour=20, minute=1)):
        for due in (
            issued - timedelta(days=1),
            issued + timedelta(minutes=5),
            issued + timedelta(days=40),
        ):
            for critical in (True, False):
                got = letter_deadline(_case(due, time_critical=critical), issued, HOURS)
                assert got > issued, (issued, due, critical, got)


def test_early_in_the_day_a_due_time_today_stays_and_the_day_caps_a_later_one(utc):
    morning = LATE.replace(hour=9)
    assert letter_deadline(
        _case(morning + timedelta(hours=3)), morning, HOURS
    ) == morning + timedelta(hours=3)
    assert letter_deadline(_case(morning + timedelta(days=2)), morning, HOURS) == morning.replace(
        hour=23, minute=59
    )
