"""Documents print every time in the laboratory's time zone (``NBS_TIME_ZONE``), as the web
pages do: a baby born at 18:20 UTC was born the next day in Beijing, and the document says
so, with the +08:00 offset and never a UTC time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from lims.settings import get_settings
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, BIRTH, card, specimen_body, upload
from tests.lims.plates import plate_csv
from tests.reports.pdfcheck import page_texts, squash

LATE_BIRTH = datetime(2026, 3, 1, 18, 20, tzinfo=UTC)  # 2026-03-02 02:20 in Beijing


@pytest.fixture
def beijing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NBS_TIME_ZONE", "Asia/Shanghai")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _text(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


def _released(client, world):  # type: ignore[no-untyped-def]
    north = world.submitter_ids[0]
    body = specimen_body(
        card(1),
        north,
        infant={
            "submitter_id": north,
            "birth_at": LATE_BIRTH.isoformat(),
            "sex": "F",
            "birth_weight_g": 3300,
            "gestational_age_weeks": 39.5,
            "mother_name": "Li Na",
            "mother_id": "M-1",
        },
    )
    made = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert made.status_code == 201, made.text
    specimen = made.json()
    uploaded = upload(client, world, "P-TZ.csv", plate_csv("P-TZ", {card(1): {"Xle": 900}}))
    assert uploaded.status_code == 201, uploaded.text
    decided = client.post(
        f"{API}/specimens/{specimen['id']}/decisions",
        json={"decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
        headers=world.auth("reviewer"),
    )
    assert decided.status_code == 201, decided.text
    return specimen


def test_a_result_report_prints_the_laboratorys_local_times(beijing, client, world):
    specimen = _released(client, world)
    issued = client.post(
        f"{API}/documents/results",
        json={"specimen_id": specimen["id"]},
        headers=world.auth("reviewer"),
    )
    assert issued.status_code == 201, issued.text
    text = _text(issued.content)
    assert squash("2026-03-02 02:20 (+08:00)") in text  # born: the Beijing date and time
    collected = BIRTH + timedelta(hours=36)  # as specimen_body collects it: 20:00 UTC
    assert squash(f"{collected + timedelta(hours=8):%Y-%m-%d %H:%M} (+08:00)") in text
    assert "+00:00" not in text
    assert "2026-03-0118:20" not in text


def test_letters_and_qc_reports_print_no_utc_time(beijing, client, world):
    _released(client, world)
    letters = client.get(
        f"{API}/documents", params={"kind": "recall_letter"}, headers=world.auth("follow_up")
    ).json()
    letter = client.get(f"{API}/documents/{letters[0]['id']}", headers=world.auth("follow_up"))
    text = _text(letter.content)
    assert "(+08:00)" in text and "+00:00" not in text
    runs = client.get(f"{API}/runs", headers=world.auth("technician")).json()
    run_id = (runs["items"] if isinstance(runs, dict) else runs)[0]["id"]
    qc = client.post(
        f"{API}/documents/qc", json={"run_id": run_id}, headers=world.auth("technician")
    )
    assert qc.status_code == 201, qc.text
    text = _text(qc.content)
    assert "(+08:00)" in text and "+00:00" not in text


def test_a_batch_report_takes_the_release_day_in_the_laboratorys_time_zone(
        monkeypatch, client, world):
    """A release at 20:00 UTC is the next day in a lab 14 hours ahead, and one at 08:00 UTC
    the day before in a lab 12 hours behind: the zone is chosen from the clock so that the
    laboratory's day of the release is never the UTC day."""
    now = datetime.now(UTC)
    zone, shift = ("Etc/GMT-14", 1) if now.hour >= 12 else ("Etc/GMT+12", -1)
    monkeypatch.setenv("NBS_TIME_ZONE", zone)
    get_settings.cache_clear()
    try:
        _released(client, world)
        released = datetime.now(UTC)
        north = world.submitter_ids[0]
        utc_day = released.date()
        local_day = utc_day + timedelta(days=shift)
        if released.hour != now.hour and (released.hour == 12 or released.hour == 0):
            pytest.skip("the release crossed the hour the zone was chosen by")

        def batch(day):  # type: ignore[no-untyped-def]
            return client.post(f"{API}/documents/results/batch", json={
                "submitter_id": north, "released_on": day.isoformat(), "language": "en"},
                headers=world.auth("reviewer"))

        assert batch(utc_day).status_code == 404
        issued = batch(local_day)
        assert issued.status_code == 201, issued.text
        assert issued.headers["X-Document-Id"].endswith(f"-{local_day.isoformat()}-en")
        text = _text(issued.content)
        assert squash(f"Results released on {local_day.isoformat()}") in text
        assert card(1) in text
    finally:
        get_settings.cache_clear()
