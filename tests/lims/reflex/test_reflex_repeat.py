"""A repeat specimen in the LIMS's reflex second tier: a card whose earlier card was sent back
for a repeat is decided in that group by ``decide_repeat`` through the real plate ingest (and,
where the group's assays are missing, on the second-tier run): cleared with its reason code,
or referred (flagged for review, audited with the values used, shown on the specimen page).
docs/second_tier.md "In the LIMS". On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from lims.app import create_app
from lims.models import Alert, AuditEvent
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, sign_off_plates, specimen_body
from tests.lims.reflex.plates import ReflexCsvPipeline, second_tier_export
from tests.lims.reflex.repeats import decisions, plate, repeat_of, specimen
from tests.lims.web.conftest import sign_in_page


@pytest.fixture
def reflex_web(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


_decisions, _specimen, _repeat_of = decisions, specimen, repeat_of


def _plate(client, world, plate_id: str, cards: dict[int, dict[str, float]]) -> None:  # type: ignore[no-untyped-def]
    plate(client, world, plate_id, cards)


def test_a_repeat_card_is_cleared_or_referred_as_the_second_tier_says(reflex_client, world,
                                                                      engine):
    accession(reflex_client, world, 11, 12, 13)
    # MCAD positive on both first cards: the FAO group has no reflex assay -> repeat specimen
    _plate(reflex_client, world, "P-FIRST", {11: {"C8": 0.5}, 12: {"C8": 0.5}, 13: {}})
    assert _decisions(engine, card(11)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    assert _decisions(engine, card(12)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    _repeat_of(reflex_client, world, 21, 11)
    _repeat_of(reflex_client, world, 22, 12)
    _repeat_of(reflex_client, world, 23, 13)   # a repeat of a card not sent back: no decision
    _plate(reflex_client, world, "P-REPEAT", {21: {}, 22: {"C8": 0.6}, 23: {}})

    # the normal repeat is cleared, the one still raised referred; the earlier cards keep theirs
    assert _decisions(engine, card(21)) == {"FAO": ("clear", "REPEAT_NORMAL")}
    assert _decisions(engine, card(22)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    assert _decisions(engine, card(23)) == {}
    assert _decisions(engine, card(11)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    cleared, referred = _specimen(engine, card(21)), _specimen(engine, card(22))
    assert cleared.state == referred.state == "awaiting_review"
    assert referred.flagged and not cleared.flagged

    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "reflex_decision",
            AuditEvent.entity_id == str(referred.id))).one()
        alerts = session.exec(select(Alert).where(Alert.specimen_id == referred.id)).all()
        on_cleared = session.exec(select(AuditEvent).where(
            AuditEvent.action == "reflex_decision",
            AuditEvent.entity_id == str(cleared.id))).one()
    repeat = event.after["repeat"]
    assert repeat["first_barcode"] == card(12)
    assert repeat["groups"]["FAO"]["decision"] == "referral"
    assert repeat["groups"]["FAO"]["reason_code"] == "REPEAT_STILL_ABNORMAL"
    assert repeat["groups"]["FAO"]["repeat_level"] == 0.0
    assert repeat["groups"]["FAO"]["calls"]["MCAD"]["first_tier"] == "positive"
    assert on_cleared.after["repeat"]["groups"]["FAO"]["calls"]["MCAD"]["first_tier"] == "normal"
    assert on_cleared.after["decisions"] == [{"group": "FAO", "decision": "clear",
                                              "reason_code": "REPEAT_NORMAL"}]
    # MCAD is time-critical: the repeat's positive result opened its alert, and only one
    assert [a.disorder for a in alerts] == ["MCAD"]

    shown = reflex_client.get(f"{API}/specimens/{referred.id}/reflex",
                              headers=world.auth("reviewer")).json()
    assert [(d["group_code"], d["reason_code"]) for d in shown["decisions"]] == [
        ("FAO", "REPEAT_STILL_ABNORMAL")]
    assert shown["decisions"][0]["reason"]


def test_a_repeat_waiting_for_its_assay_is_decided_as_a_repeat_on_the_run(
        reflex_client, world, engine, tmp_path):
    accession(reflex_client, world, 31, 32)
    # TYR1 and TYR2 flagged: a normal succinylacetone clears neither -> repeat specimen
    _plate(reflex_client, world, "P-TYR", {31: {"Tyr": 700.0}, 32: {"Tyr": 700.0}})
    export = second_tier_export(tmp_path, {card(31): {"SUAC-2T": 0.4},
                                           card(32): {"SUAC-2T": 0.4}}, plate_id="ST-TYR")
    response = reflex_client.post(f"{API}/second-tier-runs",
                                  files={"file": ("ST-TYR.txt", export, "text/plain")},
                                  headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    assert _decisions(engine, card(31))["TYR"][0] == "repeat_specimen"
    _repeat_of(reflex_client, world, 41, 31)
    _repeat_of(reflex_client, world, 42, 32)
    _plate(reflex_client, world, "P-TYR-REPEAT", {41: {"Tyr": 700.0}, 42: {}})
    # the normal repeat is cleared at once; the raised one waits for its succinylacetone
    assert _decisions(engine, card(42)) == {"TYR": ("clear", "REPEAT_NORMAL")}
    assert _decisions(engine, card(41)) == {"TYR": ("awaiting_second_tier", "NO_RESULT")}
    assert _specimen(engine, card(41)).state == "awaiting_second_tier"

    export = second_tier_export(tmp_path, {card(41): {"SUAC-2T": 0.4}}, plate_id="ST-TYR-2",
                                seed=6)
    response = reflex_client.post(f"{API}/second-tier-runs",
                                  files={"file": ("ST-TYR-2.txt", export, "text/plain")},
                                  headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    # on a repeat, "repeat specimen" becomes a referral
    assert _decisions(engine, card(41)) == {"TYR": ("referral", "REPEAT_STILL_ABNORMAL")}
    waited = _specimen(engine, card(41))
    assert waited.state == "awaiting_review" and waited.flagged
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "second_tier_decision",
            AuditEvent.entity_id == str(waited.id))).one()
    assert event.after["repeat"]["first_barcode"] == card(31)
    assert 0.2 < event.after["second_tier"]["SUAC-2T"] < 0.6


def _case_and_its_repeat(client, world, n: int, values: dict[str, float],  # type: ignore[no-untyped-def]
                         suspected: str) -> tuple[dict, dict]:
    """Card ``n`` read on plate ``P-<n>`` with ``values``, a follow-up case opened on it, and
    the baby's next card ``n + 1`` accessioned naming no earlier card (the case records it as
    its repeat). Returns the case and the repeat card."""
    first = accession(client, world, n)[n]
    _plate(client, world, f"P-{n}", {n: values})
    case = client.post(f"{API}/cases", json={"specimen_id": first["id"],
                                             "suspected": [suspected]},
                       headers=world.auth("follow_up"))
    assert case.status_code == 201, case.text
    body = specimen_body(card(n + 1), world.submitter_ids[0], infant_id=first["infant_id"])
    response = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    assert response.json()["previous_specimen_id"] is None
    return case.json(), response.json()


def test_a_card_a_follow_up_case_records_as_its_repeat_is_decided_as_one(reflex_client, world,
                                                                         engine):
    case, repeat = _case_and_its_repeat(reflex_client, world, 51, {"C8": 0.5}, "MCAD")
    shown = reflex_client.get(f"{API}/cases/{case['id']}",
                              headers=world.auth("follow_up")).json()
    assert shown["repeat_specimen_id"] == repeat["id"]
    _plate(reflex_client, world, "P-CASE-REPEAT", {52: {"C8": 0.5}})
    assert _decisions(engine, card(52)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}


def test_the_specimen_page_shows_a_repeat_decision(reflex_web, world, engine):
    accession(reflex_web, world, 61)
    _plate(reflex_web, world, "P-PAGE", {61: {"C8": 0.5}})
    _repeat_of(reflex_web, world, 62, 61)
    _plate(reflex_web, world, "P-PAGE-REPEAT", {62: {}})
    sign_in_page(reflex_web, "reviewer")
    page = reflex_web.get(f"/lab/specimens/{_specimen(engine, card(62)).id}")
    assert page.status_code == 200
    decisions = page.text.split('id="second-tier-decisions"')[1].split("</table>")[0]
    assert 'data-decision="clear"' in decisions and "REPEAT_NORMAL" in decisions
    assert "repeat specimen normal" in decisions
    repeat = page.text.split('id="second-tier-repeat"')[1].split("</p>")[0]
    assert f"Repeat of card {card(61)}" in repeat and "FAO +0.00" in repeat
    assert 'id="second-tier-assays"' not in page.text  # FAO has no reflex assay: no table
    form = page.text.split('id="decision-form"')[1].split("</form>")[0]
    assert "> Release as normal</label>" in form and "> Refer</label>" in form
    assert "release_normal</label>" not in form
    chinese = reflex_web.get(f"/lab/specimens/{_specimen(engine, card(62)).id}",
                             headers={"Accept-Language": "zh-CN"})
    assert f"卡片 {card(61)} 的复采标本" in chinese.text and "复采标本正常" in chinese.text


def test_a_time_critical_repeat_still_abnormal_opens_an_alert(reflex_client, world, engine):
    accession(reflex_client, world, 71)
    _plate(reflex_client, world, "P-BORDER", {71: {"C8": 0.35}})
    assert _decisions(engine, card(71)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    _repeat_of(reflex_client, world, 72, 71)
    # still borderline: a borderline result opens no alert, the referral of the repeat does
    _plate(reflex_client, world, "P-BORDER-REPEAT", {72: {"C8": 0.35}})
    assert _decisions(engine, card(72)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    first, repeat = _specimen(engine, card(71)), _specimen(engine, card(72))
    with Session(engine) as session:
        on_first = session.exec(select(Alert).where(Alert.specimen_id == first.id)).all()
        alerts = session.exec(select(Alert).where(Alert.specimen_id == repeat.id)).all()
    assert on_first == []
    assert [(a.disorder, a.status) for a in alerts] == [("MCAD", "open")]
    assert f"repeat of card {card(71)}: referral (REPEAT_STILL_ABNORMAL)" in alerts[0].message
    assert alerts[0].evaluation_id is not None


def test_a_repeat_that_arrived_before_the_second_tier_sent_its_card_back_is_decided_then(
        reflex_client, world, engine, tmp_path):
    accession(reflex_client, world, 81, 82)
    _plate(reflex_client, world, "P-LATE", {81: {"Tyr": 700.0}, 82: {"Tyr": 700.0}})
    assert _decisions(engine, card(81)) == {"TYR": ("awaiting_second_tier", "NO_RESULT")}
    # the repeats arrive while their earlier cards still wait for succinylacetone
    _repeat_of(reflex_client, world, 91, 81)
    _repeat_of(reflex_client, world, 92, 82)
    _plate(reflex_client, world, "P-LATE-REPEAT", {91: {"C8": 0.5}, 92: {}})
    assert _decisions(engine, card(91)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    assert _decisions(engine, card(92)) == {}
    sign_off_plates(reflex_client, world.auth("technician"))
    released = reflex_client.post(f"{API}/review/release-normals", json={"password": PASSWORD},
                                  headers=world.auth("reviewer"))
    assert released.status_code == 200, released.text
    assert _specimen(engine, card(92)).state == "released"
    export = second_tier_export(tmp_path, {card(81): {"SUAC-2T": 0.4},
                                           card(82): {"SUAC-2T": 0.4}}, plate_id="ST-LATE")
    response = reflex_client.post(f"{API}/second-tier-runs",
                                  files={"file": ("ST-LATE.txt", export, "text/plain")},
                                  headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    assert _decisions(engine, card(81))["TYR"][0] == "repeat_specimen"
    # the run sent the earlier cards back for a repeat: the repeats already in are decided now
    assert _decisions(engine, card(91)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER"),
                                            "TYR": ("clear", "REPEAT_NORMAL")}
    assert _specimen(engine, card(91)).state == "awaiting_review"
    assert _decisions(engine, card(92)) == {"TYR": ("clear", "REPEAT_NORMAL")}
    repeat = _specimen(engine, card(92))
    assert repeat.state == "released" and not repeat.flagged
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "second_tier_decision",
            AuditEvent.entity_id == str(repeat.id))).one()
    assert event.before["decisions"] == [] and event.before["state"] == "released"
    assert event.after["decisions"] == [{"group": "TYR", "decision": "clear",
                                         "reason_code": "REPEAT_NORMAL"}]
    assert event.after["repeat"]["first_barcode"] == card(82)
    assert event.after["sent_back_by"]["second_tier_run_id"] == response.json()["id"]
    assert event.after["repeat"]["groups"]["TYR"]["calls"]["TYR1"]["first_tier"] == "normal"
    assert event.reason == (f"card {card(82)} sent back for a repeat: second-tier run ST-LATE "
                            "(ST-LATE.txt)")


def test_a_repeat_in_before_its_earlier_card_is_referred_when_that_card_is_sent_back(
        reflex_client, world, engine):
    accession(reflex_client, world, 75)
    _repeat_of(reflex_client, world, 76, 75)
    # the repeat's plate is read first: on its own card a borderline C8 asks for a repeat
    _plate(reflex_client, world, "P-EARLY-REPEAT", {76: {"C8": 0.35}})
    assert _decisions(engine, card(76)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    released = reflex_client.post(f"{API}/specimens/{_specimen(engine, card(76)).id}/decisions",
                                  json={"decision": "request_repeat_specimen",
                                        "reason": "borderline C8", "password": PASSWORD},
                                  headers=world.auth("reviewer"))
    assert released.status_code == 201, released.text
    before = _specimen(engine, card(76))
    _plate(reflex_client, world, "P-LATE-FIRST", {75: {"C8": 0.5}})
    # the earlier card is sent back for a repeat: its repeat, still raised, is referred; its
    # release stays as it was, the card is flagged and the time-critical referral alerted
    assert _decisions(engine, card(76)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    after = _specimen(engine, card(76))
    assert after.state == before.state == "repeat_requested" and after.flagged
    assert after.version == before.version
    with Session(engine) as session:
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "reflex_decision",
            AuditEvent.entity_id == str(after.id)).order_by(col(AuditEvent.id))).all()[-1]
        alerts = session.exec(select(Alert).where(Alert.specimen_id == after.id)).all()
    assert event.after["repeat"]["first_barcode"] == card(75)
    assert event.after["released"] is True and event.after["flagged"] is True
    assert event.reason.startswith(f"card {card(75)} sent back for a repeat: its first tier")
    assert [(a.disorder, a.status) for a in alerts] == [("MCAD", "open")]
    assert f"repeat of card {card(75)}: referral (REPEAT_STILL_ABNORMAL)" in alerts[0].message


def test_a_case_s_repeat_read_before_the_second_tier_sent_its_card_back_is_decided_then(
        reflex_client, world, engine, tmp_path):
    _case_and_its_repeat(reflex_client, world, 101, {"Tyr": 700.0}, "TYR1")
    _plate(reflex_client, world, "P-CASE-LATE-REPEAT", {102: {}})
    assert _decisions(engine, card(102)) == {}
    export = second_tier_export(tmp_path, {card(101): {"SUAC-2T": 0.4}}, plate_id="ST-CASE")
    run = reflex_client.post(f"{API}/second-tier-runs",
                             files={"file": ("ST-CASE.txt", export, "text/plain")},
                             headers=world.auth("technician"))
    assert run.status_code == 201, run.text
    assert _decisions(engine, card(101))["TYR"][0] == "repeat_specimen"
    assert _decisions(engine, card(102)) == {"TYR": ("clear", "REPEAT_NORMAL")}
