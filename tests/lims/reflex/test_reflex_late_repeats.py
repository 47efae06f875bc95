"""Repeats decided late (``lims.reflex.late``), and repeats read with their earlier card: every
decision reaches a person, the alerts name the run the decision was made from, a repeat read
on the same plate or second-tier run as its earlier card is decided as a repeat, once.
docs/second_tier.md "In the LIMS". On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from cutoffs.reflex.decide import Calibration
from lims.app import create_app
from lims.models import Alert, AuditEvent, Evaluation
from lims.pipeline import EvaluatedCalls, Reflex
from lims.vocabulary import Stage
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card
from tests.lims.reflex.plates import ReflexCsvPipeline, ScoredReflexCsvPipeline
from tests.lims.reflex.repeats import decisions, plate, repeat_of, second_tier_run, specimen
from tests.lims.web.conftest import sign_in_page


@pytest.fixture
def reflex_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The reflex tests' client, over https so that the pages sign in."""
    app = create_app(settings, engine, pipeline=ReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def scored_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=ScoredReflexCsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def _alerts(engine, barcode: str) -> list[Alert]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(Alert).where(
            Alert.specimen_id == specimen(engine, barcode).id).order_by(col(Alert.id))))


def test_a_released_repeat_referred_later_opens_an_alert_naming_it(reflex_client, world,
                                                                   engine, tmp_path):
    accession(reflex_client, world, 111)
    repeat_of(reflex_client, world, 112, 111)
    plate(reflex_client, world, "P-111", {111: {"Tyr": 700.0}})
    # the repeat is read while its earlier card waits for succinylacetone: decided on its own
    repeat_run = plate(reflex_client, world, "P-112", {112: {"Tyr": 700.0}})
    second_tier_run(reflex_client, world, tmp_path, "ST-112", {112: {"SUAC-2T": 0.4}})
    assert decisions(engine, card(112)) == {"TYR": ("repeat_specimen", "TYR_SUAC_NORMAL")}
    released = reflex_client.post(
        f"{API}/specimens/{specimen(engine, card(112)).id}/decisions",
        json={"decision": "request_repeat_specimen", "reason": "tyrosine raised",
              "password": PASSWORD}, headers=world.auth("reviewer"))
    assert released.status_code == 201, released.text

    second_tier_run(reflex_client, world, tmp_path, "ST-111", {111: {"SUAC-2T": 0.4}}, seed=6)
    assert decisions(engine, card(111))["TYR"][0] == "repeat_specimen"
    # decided again as the repeat of card 111: referred; TYR1 is not time-critical, and the
    # card stays released (no queue shows it): an alert names the card and the decision
    assert decisions(engine, card(112)) == {"TYR": ("referral", "REPEAT_STILL_ABNORMAL")}
    repeat = specimen(engine, card(112))
    assert repeat.state == "repeat_requested" and repeat.flagged
    alerts = _alerts(engine, card(112))
    assert [(a.disorder, a.status, a.run_id) for a in alerts] == [
        ("TYR1", "open", repeat_run["id"])]
    assert alerts[0].message == (f"released card {card(112)}, the repeat of card {card(111)}, "
                                 "is decided again: TYR referral (REPEAT_STILL_ABNORMAL)")
    listed = reflex_client.get(f"{API}/alerts", params={"status": "open"},
                               headers=world.auth("reviewer")).json()
    assert [a["id"] for a in listed if a["specimen_id"] == repeat.id] == [alerts[0].id]
    sign_in_page(reflex_client, "reviewer")
    page = reflex_client.get("/lab/alerts", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
    assert (f"已发布的卡片 {card(112)}（卡片 {card(111)} 的复采标本）重新判定：TYR 转诊"
            in page.text)


def test_withdrawing_the_repeat_s_plate_withdraws_the_alert_of_its_late_referral(
        scored_client, world, engine):
    accession(scored_client, world, 121)
    repeat_of(scored_client, world, 122, 121)
    # C8 0.25 is below the first tier's cutoff: no call, no reflex decision
    repeat_run = plate(scored_client, world, "P-122", {122: {"C8": 0.25}})
    assert decisions(engine, card(122)) == {}
    plate(scored_client, world, "P-121", {121: {"C8": 0.5}})
    assert decisions(engine, card(121)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    # the repeat's MCAD score 2.5 is 1.5 SD below the cutoff, not below the FAO repeat level -2
    assert decisions(engine, card(122)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    alerts = _alerts(engine, card(122))
    assert [(a.disorder, a.evaluation_id, a.run_id) for a in alerts] == [
        ("MCAD", None, repeat_run["id"])]

    done = scored_client.post(f"{API}/runs/{repeat_run['id']}/withdrawal",
                              json={"reason": "wrong plate map"},
                              headers=world.auth("technician"))
    assert done.status_code == 200, done.text
    assert done.json()["alerts_withdrawn"] == [alerts[0].id]
    assert [a.status for a in _alerts(engine, card(122))] == ["withdrawn"]


def _events(engine, action: str, barcode: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent).where(
            AuditEvent.action == action,
            AuditEvent.entity_id == str(specimen(engine, barcode).id))
            .order_by(col(AuditEvent.id))))


def test_a_repeat_on_its_earlier_card_s_plate_is_decided_as_its_repeat(reflex_client, world,
                                                                       engine):
    accession(reflex_client, world, 131)
    repeat_of(reflex_client, world, 132, 131)
    plate(reflex_client, world, "P-131", {132: {"C8": 0.35}, 131: {"C8": 0.5}})
    assert decisions(engine, card(131)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    # as an ordinary card its borderline C8 would ask for a repeat; as the repeat it is referred
    assert decisions(engine, card(132)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    repeat = specimen(engine, card(132))
    assert repeat.state == "awaiting_review" and repeat.flagged
    events = _events(engine, "reflex_decision", card(132))
    assert len(events) == 1 and events[0].after["repeat"]["first_barcode"] == card(131)
    assert [(a.disorder, a.status) for a in _alerts(engine, card(132))] == [("MCAD", "open")]


def test_a_repeat_on_its_earlier_card_s_second_tier_run_is_decided_once(reflex_client, world,
                                                                        engine, tmp_path):
    accession(reflex_client, world, 141)
    repeat_of(reflex_client, world, 142, 141)
    plate(reflex_client, world, "P-141", {141: {"Tyr": 700.0}, 142: {"Tyr": 700.0}})
    assert decisions(engine, card(142)) == {"TYR": ("awaiting_second_tier", "NO_RESULT")}
    second_tier_run(reflex_client, world, tmp_path, "ST-141",
                    {141: {"SUAC-2T": 0.4}, 142: {"SUAC-2T": 0.4}})
    assert decisions(engine, card(141)) == {"TYR": ("repeat_specimen", "TYR_SUAC_NORMAL")}
    assert decisions(engine, card(142)) == {"TYR": ("referral", "REPEAT_STILL_ABNORMAL")}
    events = _events(engine, "second_tier_decision", card(142))
    assert len(events) == 1
    assert events[0].before["decisions"] == [{"group": "TYR", "decision": "awaiting_second_tier",
                                              "reason_code": "NO_RESULT"}]
    assert events[0].after["repeat"]["first_barcode"] == card(141)
    repeat = specimen(engine, card(142))
    assert repeat.state == "awaiting_review" and repeat.flagged


def test_a_repeat_of_a_late_decided_repeat_is_decided_again(settings, engine, world, tmp_path):
    # before the laboratory recalibrated, FAO was cleared below a score excess of 2 SD
    earlier = ScoredReflexCsvPipeline()
    earlier.reflex = Reflex(earlier.reflex.rules,
                            Calibration(clear_below={"FAO": 2.0}, repeat_clear_below={"FAO": -2.0}),
                            "reflex test with FAO clearing")
    with TestClient(create_app(settings, engine, pipeline=earlier)) as before:
        accession(before, world, 151)
        repeat_of(before, world, 152, 151)
        repeat_of(before, world, 153, 152)
        plate(before, world, "P-151", {151: {"Tyr": 700.0}})
        plate(before, world, "P-152", {152: {"C8": 0.35}})
        plate(before, world, "P-153", {153: {"C8": 0.35}})
    assert decisions(engine, card(152)) == {"FAO": ("clear", "SCORE_BELOW_CLEAR")}
    assert decisions(engine, card(153)) == {"FAO": ("clear", "SCORE_BELOW_CLEAR")}

    with TestClient(create_app(settings, engine, pipeline=ScoredReflexCsvPipeline())) as now:
        run = second_tier_run(now, world, tmp_path, "ST-151", {151: {"SUAC-2T": 0.4}})
    assert decisions(engine, card(151)) == {"TYR": ("repeat_specimen", "TYR_SUAC_NORMAL")}
    # card 152, the repeat of 151, is decided again: with today's levels its FAO asks for a
    # repeat, so card 153, its repeat, is decided again as one and referred
    assert decisions(engine, card(152)) == {"TYR": ("clear", "REPEAT_NORMAL"),
                                            "FAO": ("repeat_specimen", "NO_SECOND_TIER")}
    assert decisions(engine, card(153)) == {"FAO": ("referral", "REPEAT_STILL_ABNORMAL")}
    assert specimen(engine, card(153)).flagged
    events = _events(engine, "second_tier_decision", card(153))
    assert len(events) == 1 and events[0].after["repeat"]["first_barcode"] == card(152)
    assert events[0].after["sent_back_by"]["second_tier_run_id"] == run["id"]
    assert [(a.disorder, a.status) for a in _alerts(engine, card(153))] == [("MCAD", "open")]


class _Recording(ReflexCsvPipeline):
    """``ReflexCsvPipeline`` that records each card it evaluates, with ``include_normal``."""

    def __init__(self) -> None:
        super().__init__()
        self.evaluated: list[tuple[str, bool]] = []

    def evaluate(self, profiles: pd.DataFrame, *, stage: Stage = Stage.initial,
                 include_normal: bool = False) -> EvaluatedCalls:
        self.evaluated += [(str(b), include_normal) for b in profiles["specimen_id"]]
        return super().evaluate(profiles, stage=stage, include_normal=include_normal)


def test_a_repeat_card_is_evaluated_once_at_ingest(settings, engine, world):
    pipeline = _Recording()
    with TestClient(create_app(settings, engine, pipeline=pipeline)) as client:
        accession(client, world, 161, 163)
        plate(client, world, "P-161", {161: {"C8": 0.5}})
        repeat_of(client, world, 162, 161)
        pipeline.evaluated.clear()
        plate(client, world, "P-162", {162: {}, 163: {}})
    # the repeat with its normal calls (its repeat decision reads them), the other card without
    assert sorted(pipeline.evaluated) == [(card(162), True), (card(163), False)]
    assert decisions(engine, card(162)) == {"FAO": ("clear", "REPEAT_NORMAL")}
    assert decisions(engine, card(163)) == {}
    with Session(engine) as session:  # the normal calls are not stored
        stored = session.exec(select(Evaluation.disorder).where(
            Evaluation.specimen_id == specimen(engine, card(162)).id)).all()
    assert stored == []
