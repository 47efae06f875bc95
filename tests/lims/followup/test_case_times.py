"""A step's time given by hand is bounded: not before the baby's birth, not before the case was
opened (422 naming the field and the bound, nothing stored); the ``contact`` transition by hand
is logged as the contact that reached the family (who, when, note). On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from lims.models import FollowUpCase, Infant, utcnow
from tests.lims.followup.test_cases import _move
from tests.lims.helpers import API, decide, flagged_card


def _opened_case(client, world, engine):  # type: ignore[no-untyped-def]
    specimen = flagged_card(client, world)
    decide(client, world, specimen["id"], "refer")
    with Session(engine) as session:
        case = session.exec(select(FollowUpCase)).one()
        infant = session.get(Infant, case.infant_id)
        assert infant is not None
        return case.id, case.opened_at, infant.birth_at, case.model_dump()


def test_times_before_the_birth_or_the_opening_are_refused(client, world, engine):
    case_id, opened_at, birth_at, before = _opened_case(client, world, engine)
    fu = world.auth("follow_up")
    bare = _move(client, world, case_id, "follow_up", transition="contact",
                 at="2020-01-01T00:00:00Z")  # the time is checked first
    assert bare.status_code == 422 and "field at" in bare.text, bare.text
    early = _move(client, world, case_id, "follow_up", transition="contact",
                  contacted="mother", at="2020-01-01T00:00:00Z")
    assert early.status_code == 422, early.text
    assert "field at" in early.text and "before the baby's birth" in early.text
    assert f"{birth_at:%Y-%m-%d %H:%M} UTC" in early.text
    between = birth_at + (opened_at - birth_at) / 2
    not_yet = client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached",
        "at": between.isoformat()}, headers=fu)
    assert not_yet.status_code == 422, not_yet.text
    assert f"before case {case_id} was opened ({opened_at:%Y-%m-%d %H:%M} UTC)" in not_yet.text
    diagnosed = _move(client, world, case_id, "follow_up", transition="diagnose",
                      outcome="lost_to_follow_up", at=between.isoformat())
    assert diagnosed.status_code == 422 and "field at" in diagnosed.text
    with Session(engine) as session:
        assert session.get(FollowUpCase, case_id).model_dump() == before
    detail = client.get(f"{API}/cases/{case_id}", headers=fu).json()
    assert detail["contacts"] == [] and detail["state"] == "opened"


def test_the_contact_transition_is_logged_as_a_contact(client, world, engine):
    case_id, opened_at, _, _ = _opened_case(client, world, engine)
    nobody = _move(client, world, case_id, "follow_up", transition="contact")
    assert nobody.status_code == 422 and "contacted" in nobody.text, nobody.text
    at = utcnow().replace(microsecond=0) + timedelta(seconds=1)  # within the clock skew
    moved = _move(client, world, case_id, "follow_up", transition="contact",
                  contacted="father", at=at.isoformat(), reason="called the ward")
    assert moved.status_code == 200, moved.text
    detail = moved.json()
    assert detail["state"] == "contacted"
    assert [(c["contacted"], c["method"], c["result"], c["note"], c["recorded_by_name"])
            for c in detail["contacts"]] == [
        ("father", "other", "reached", "called the ward", "follow_up")]
    assert detail["contacts"][0]["at"].startswith(at.replace(tzinfo=None).isoformat())
    assert detail["first_contact_at"] == detail["contacts"][0]["at"]
