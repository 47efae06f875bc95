"""Serial screening: a small or preterm baby's card asks the submitter for the next card of
the protocol (the workflow file's ``[serial_screening]``), at 14 and then 30 days of age; a
term baby's does not; each request is audited and fulfilled by the baby's next card."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from lims.errors import InvalidInputError
from lims.models import AuditEvent
from lims.reference import WORKFLOW_TOML, load_workflow_config
from lims.serial_screening import SerialCard
from lims.settings import get_settings
from tests.lims.helpers import API, BIRTH, card, specimen_body

LATE_BIRTH = datetime(2026, 3, 1, 18, 20, tzinfo=UTC)  # 2026-03-02 02:20 in Beijing


def _baby(submitter: int, weight: int, weeks: float) -> dict[str, object]:
    return {"submitter_id": submitter, "birth_at": BIRTH.isoformat(), "sex": "M",
            "birth_weight_g": weight, "gestational_age_weeks": weeks,
            "mother_name": "Zhao Min", "mother_id": f"M-{weight}"}


def _card(client, world, n: int, day: float, **link: object) -> dict[str, object]:
    body = specimen_body(card(n), world.submitter_ids[0], **link)
    body["collected_at"] = (BIRTH + timedelta(days=day)).isoformat()
    body["received_at"] = (BIRTH + timedelta(days=day + 1)).isoformat()
    response = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    return response.json()


def _requests(client, world, infant_id: int) -> list[dict[str, object]]:
    rows = client.get(f"{API}/repeat-requests", headers=world.auth("technician")).json()
    return [r for r in rows if r["infant_id"] == infant_id]


def test_a_small_baby_is_asked_for_cards_at_14_and_30_days(client, world, engine):
    north = world.submitter_ids[0]
    first = _card(client, world, 301, 1.5, infant=_baby(north, 1450, 31.0))
    infant = first["infant_id"]
    [asked] = _requests(client, world, infant)
    assert asked["status"] == "open" and asked["specimen_id"] == first["id"]
    assert asked["reason"].startswith(
        "serial screening (birth weight 1450 g, under 2000 g): a card at 14 days of age, "
        "from 2026-03-15, or on the day of discharge if earlier [workflow ")

    second = _card(client, world, 302, 13.0, infant_id=infant)
    done, next_ = _requests(client, world, infant)
    assert done["status"] == "fulfilled" and done["fulfilled_by_specimen_id"] == second["id"]
    assert next_["status"] == "open" and next_["specimen_id"] == second["id"]
    assert "a card at 30 days of age, from 2026-03-31" in next_["reason"]

    third = _card(client, world, 303, 29.0, infant_id=infant)
    assert [r["status"] for r in _requests(client, world, infant)] == ["fulfilled"] * 2
    assert _requests(client, world, infant)[1]["fulfilled_by_specimen_id"] == third["id"]
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "request_repeat", AuditEvent.infant_id == infant)).all()
    assert len(events) == 2 and all("serial screening" in e.reason for e in events)


def test_a_preterm_baby_is_asked_by_gestation_and_a_term_baby_is_not(client, world):
    north = world.submitter_ids[0]
    preterm = _card(client, world, 311, 2.0, infant=_baby(north, 2400, 33.0))
    [asked] = _requests(client, world, preterm["infant_id"])
    assert "(born at 33 weeks, before 34 weeks)" in asked["reason"]
    term = _card(client, world, 312, 2.0, infant=_baby(north, 2600, 38.0))
    assert _requests(client, world, term["infant_id"]) == []
    # a card collected late enough completes the protocol at once
    late = _card(client, world, 313, 28.0, infant=_baby(north, 1800, 30.0))
    assert _requests(client, world, late["infant_id"]) == []


def _workflow(tmp_path: Path, section: str, name: str) -> Path:
    text = WORKFLOW_TOML.read_text(encoding="utf-8")
    text = text[:text.index("[serial_screening]")] + section
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_protocol_is_the_laboratory_s_data(tmp_path: Path) -> None:
    packaged = load_workflow_config().serial_screening
    assert packaged is not None and packaged.ages_days == (14, 30)
    assert "health.state.mn.us" in packaged.source
    assert load_workflow_config(_workflow(tmp_path, "", "none.toml")).serial_screening is None
    with pytest.raises(InvalidInputError) as bad:
        load_workflow_config(_workflow(tmp_path, (
            "[serial_screening]\nbirth_weight_below_g = 2000\ngestational_age_below_weeks = 34\n"
            "ages_days = [30, 14]\nsource = \"x\"\n"), "bad.toml"))
    assert "bad.toml:" in str(bad.value) and "field serial_screening" in str(bad.value)
    assert "ages_days must rise" in str(bad.value)


def test_the_card_asked_for_is_read_back_from_the_request() -> None:
    protocol = load_workflow_config().serial_screening
    assert protocol is not None
    born = BIRTH
    asked = protocol.next_card(1450, 31.0, born, born + timedelta(days=13),
                               day_of=lambda moment: moment.date())
    assert asked is not None and asked.age_days == 30
    assert SerialCard.of_reason(f"{asked.reason()} [workflow 2026-01]") == asked
    assert SerialCard.of_reason("U01: quantity not sufficient") is None
    assert SerialCard.of_reason("serial screening (x): a card at 14 days of age, from "
                                "2026-02-30, or on the day of discharge if earlier") is None
    assert SerialCard.due_of(asked.reason()) == asked.due == BIRTH.date() + timedelta(days=30)
    assert SerialCard.due_of("U01: quantity not sufficient") is None


@pytest.fixture
def beijing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NBS_TIME_ZONE", "Asia/Shanghai")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_card_is_due_from_the_laboratory_s_day(beijing, client, world):
    """A baby born at 18:20 UTC on 1 March was born on 2 March in Beijing: its card at 14 days
    is due from 16 March there (15 March by UTC), in the request's wording, in the API's
    ``due`` and on the worklists page alike; a request of another kind has no ``due``."""
    north = world.submitter_ids[0]
    evening = {**_baby(north, 1450, 31.0), "birth_at": LATE_BIRTH.isoformat()}
    body = specimen_body(card(321), north, infant=evening)
    body["collected_at"] = (LATE_BIRTH + timedelta(days=1.5)).isoformat()
    body["received_at"] = (LATE_BIRTH + timedelta(days=2.5)).isoformat()
    made = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert made.status_code == 201, made.text
    unusable = client.post(f"{API}/specimens", headers=world.auth("technician"), json=specimen_body(
        card(322), north, unsatisfactory_code="U01"))
    assert unusable.status_code == 201, unusable.text
    [asked] = _requests(client, world, made.json()["infant_id"])
    assert "a card at 14 days of age, from 2026-03-16," in asked["reason"]
    assert asked["due"] == "2026-03-16"
    [other] = _requests(client, world, unusable.json()["infant_id"])
    assert other["due"] is None
    for role in ("technician", "submitter"):
        listed = client.get(f"{API}/repeat-requests", params={"status": "open"},
                            headers=world.auth(role)).json()
        assert {r["specimen_id"]: r["due"] for r in listed} == {
            made.json()["id"]: "2026-03-16", unusable.json()["id"]: None}
