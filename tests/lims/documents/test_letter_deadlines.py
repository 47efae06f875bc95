"""The deadline and appointment a recall letter prints, through the API: a referral with an
appointment booked names it (date, time, clinic) in both languages and makes it the deadline;
a time-critical letter issued after treatment began gives today, not the next growth visit."""

from __future__ import annotations

import re
from datetime import timedelta

from lims.models import utcnow
from tests.lims.documents.test_documents import _listed, _referred
from tests.lims.helpers import API
from tests.reports.pdfcheck import page_texts, squash


def _move(client, world, case_id, role, **body):  # type: ignore[no-untyped-def]
    moved = client.post(f"{API}/cases/{case_id}/transitions", json=body,
                        headers=world.auth(role))
    assert moved.status_code == 200, moved.text
    return moved.json()


def _text(pdf: bytes) -> str:
    return squash("".join(page_texts(pdf)))


def _clinic(client, world):  # type: ignore[no-untyped-def]
    made = client.post(f"{API}/clinics", json={"code": "METAB", "name": "Metabolic clinic",
                                              "district": "Riverside", "phone": "+86 10 0000"},
                       headers=world.auth("follow_up"))
    assert made.status_code == 201, made.text
    return made.json()


def test_a_booked_appointment_is_named_and_is_the_deadline(client, world):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    case_id, fu = letter["case_id"], world.auth("follow_up")
    made = _clinic(client, world)
    client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached"}, headers=fu)
    booked = (utcnow() + timedelta(days=3)).replace(hour=9, minute=30, second=0,
                                                    microsecond=0, tzinfo=None)
    case = _move(client, world, case_id, "follow_up", transition="refer",
                 clinic_id=made["id"], appointment_at=booked.isoformat())
    assert case["due_action"] == "diagnosis"
    due = case["due_at"][:10]
    assert due != booked.date().isoformat()  # the diagnosis is due on another day
    english = client.post(f"{API}/documents/letters", json={
        "case_id": case_id, "audience": "family", "language": "en"}, headers=fu)
    assert english.status_code == 201, english.text
    text = _text(english.content)
    when = squash(booked.strftime("%Y-%m-%d %H:%M"))
    assert squash(f"Your baby has an appointment at Metabolic clinic on {when}") \
        in text.replace(squash("(+00:00)"), "")
    assert squash(f"Deadline: {when}") in text and squash("Appointment") in text
    assert "Riverside" in text
    assert squash("to arrange it") not in text and due not in text
    chinese = client.post(f"{API}/documents/letters", json={
        "case_id": case_id, "audience": "family", "language": "zh-CN"}, headers=fu)
    assert chinese.status_code == 201, chinese.text
    text = _text(chinese.content)
    when = squash(booked.strftime("%Y年%m月%d日 %H:%M"))
    assert squash(f"宝宝已预约于{when}") in text and squash("预约时间") in text
    assert "Metabolicclinic看专科医生" in text and "请今天拨打下方电话预约" not in text
    assert squash(f"截止时间：{when}") in text


def test_a_time_critical_letter_after_treatment_began_is_due_today(client, world):
    _referred(client, world)
    [letter] = _listed(client, world, "follow_up", kind="recall_letter")
    case_id, fu = letter["case_id"], world.auth("follow_up")
    client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached"}, headers=fu)
    _move(client, world, case_id, "follow_up", transition="refer",
          clinic_id=_clinic(client, world)["id"])
    _move(client, world, case_id, "follow_up", transition="diagnose", outcome="confirmed",
          disorder="MSUD", severity="severe", confirmatory_tests="plasma allo-isoleucine")
    case = _move(client, world, case_id, "follow_up", transition="start_treatment",
                 description="leucine-free formula")
    assert case["time_critical"] and case["due_at"][:10] > utcnow().date().isoformat()
    issued = client.post(f"{API}/documents/letters", json={
        "case_id": case_id, "audience": "family", "language": "en"}, headers=fu)
    assert issued.status_code == 201, issued.text
    text = _text(issued.content)
    assert squash("TIME-CRITICAL: ACT TODAY") in text
    deadline = re.search(r"Deadline:(\d{4}-\d\d-\d\d)", text)
    assert deadline is not None and deadline[1] == utcnow().date().isoformat(), deadline
    assert case["due_at"][:10] not in text
