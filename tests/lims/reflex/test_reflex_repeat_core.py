"""A repeat specimen through the real screening core: simulated babies' first cards and their
repeat specimens (``simulate_screening``) are rendered as MassLynx plates, ingested by the
screening pipeline with a derived cutoff table (scores included) and the reflex second tier
on; every group a first card was sent back for is decided on its repeat from the repeat's
calls with the normal ones, their scores and the table's score cutoffs, and the audited values
bear the decision out. On SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import pytest
from sqlmodel import Session, col, select

from lims.audit import SYSTEM
from lims.demo import accession_cohort, simulated_plate_file
from lims.models import AuditEvent, ReflexDecisionRecord, Specimen, utcnow
from lims.pipeline import ScreeningPipeline
from lims.runs.service import ingest_bytes
from lims.settings import Settings
from msms.population.screening import simulate_screening
from msms.tables import PROFILE_ID
from tests.cutoffs.builders import scored_table
from tests.lims.reflex.plates import accession_repeat

N = 89  # one plate of patients


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory) -> ScreeningPipeline:  # type: ignore[no-untyped-def]
    path = scored_table(tmp_path_factory.mktemp("core") / "cutoffs.toml")
    return ScreeningPipeline.from_settings(Settings(environment="test", reflex=True),
                                           cutoffs=path)


def _current(session: Session, ids: list[int]) -> list[ReflexDecisionRecord]:
    return list(session.exec(select(ReflexDecisionRecord).where(
        col(ReflexDecisionRecord.specimen_id).in_(ids),
        col(ReflexDecisionRecord.current).is_(True))))


def test_repeats_are_decided_from_their_scores(pipeline, engine, world, tmp_path):
    first, repeat = simulate_screening(N, seed=21, disorder_rate=0.6)
    with Session(engine) as session:
        cards = accession_cohort(session, SYSTEM, first.drop(columns=["previous_specimen_id"]),
                                 world.submitter_ids, first_card=30_000_000,
                                 born=utcnow() - timedelta(days=30))
        session.commit()
    plate = simulated_plate_file(cards, seed=3, fmt="masslynx", plate_id="CORE-1",
                                 folder=tmp_path)
    ingest_bytes(engine, SYSTEM, plate.read_bytes(), plate.name, pipeline)

    barcode_of = dict(zip(first[PROFILE_ID].astype(str), cards[PROFILE_ID], strict=True))
    with Session(engine) as session:
        by_barcode = {s.barcode: s for s in session.exec(select(Specimen))}
        sent = {by_barcode[d_barcode].id for d_barcode in barcode_of.values()} & {
            d.specimen_id for d in _current(session, [s.id for s in by_barcode.values()
                                                      if s.id is not None])
            if d.decision == "repeat_specimen"}
        assert sent, "no first card was sent back for a repeat"
        # each baby sent back gives its repeat card, collected at the repeat's own age
        rows = repeat[repeat["previous_specimen_id"].map(barcode_of).map(
            lambda b: by_barcode[b].id in sent)].copy()
        repeats = {}
        for i, row in enumerate(rows.to_dict("records")):
            earlier = by_barcode[barcode_of[str(row["previous_specimen_id"])]]
            repeats[str(row[PROFILE_ID])] = accession_repeat(
                session, earlier, float(row["age_at_collection_hours"]), i)
        session.commit()
    rows[PROFILE_ID] = rows[PROFILE_ID].astype(str).map(repeats)
    # the rest of the plate: cards the LIMS does not know (held, not decided)
    others = repeat[~repeat.index.isin(rows.index)].head(N - len(rows)).copy()
    others[PROFILE_ID] = [f"UNKNOWN{i:03d}" for i in range(len(others))]
    rows = pd.concat([rows, others], ignore_index=True)
    plate = simulated_plate_file(rows.drop(columns=["previous_specimen_id"]), seed=4,
                                 fmt="masslynx", plate_id="CORE-2", folder=tmp_path)
    ingest_bytes(engine, SYSTEM, plate.read_bytes(), plate.name, pipeline)

    with Session(engine) as session:
        ids = {s.barcode: s.id for s in session.exec(select(Specimen).where(
            col(Specimen.barcode).in_(list(repeats.values()))))}
        events = {e.entity_id: e for e in session.exec(select(AuditEvent).where(
            AuditEvent.action == "reflex_decision",
            col(AuditEvent.entity_id).in_([str(i) for i in ids.values()])))}
        decided = _current(session, [i for i in ids.values() if i is not None])
    assert len(events) == len(ids)
    reasons = set()
    for event in events.values():
        for group, audit in event.after["repeat"]["groups"].items():
            reasons.add(audit["reason_code"])
            # the repeat's calls of the group, normal ones included, with their scores
            calls = audit["calls"]
            assert calls and any(c["first_tier"] == "normal" for c in calls.values()), group
            assert all(c["score_cutoff"] is not None for c in calls.values()), group
            if audit["reason_code"] == "REPEAT_NORMAL":
                assert audit["excess"] is not None and audit["excess"] < audit["repeat_level"]
            if audit["reason_code"] == "REPEAT_STILL_ABNORMAL":
                assert audit["excess"] is None or not math.isnan(audit["excess"])
                assert audit["excess"] is None or audit["excess"] >= audit["repeat_level"]
    assert reasons <= set(pipeline.reflex.rules.reason_codes)
    assert {d.reason_code for d in decided} & {"REPEAT_NORMAL", "REPEAT_STILL_ABNORMAL"}
