"""The laboratory's outcomes as a reflex calibration population, end to end on SQLite and
PostgreSQL: simulated babies' first cards are accessioned and read as MassLynx plates by the
screening pipeline (a derived cutoff table with scores, the reflex second tier on), the cards
waiting for the second tier get a second-tier run, a reviewer releases every card (normal,
a repeat request or a referral), repeat cards are read and released (a normal one closes its
case), the clinic diagnoses the referred babies with the simulation's disorder and severity;
``nbs outcomes export-calibration`` writes the two files and ``nbs second-tier
calibrate-reflex`` calibrates on them as they are. A confirmed diagnosis without a severity is
refused; a diagnosis recorded before severities were leaves its baby out, counted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from cutoffs.reflex.calibrate import read_calibration
from cutoffs.tables import read_cutoff_table
from lims.audit import SYSTEM
from lims.demo import accession_cohort, simulated_plate_file
from lims.errors import InvalidInputError
from lims.followup import service as followup
from lims.followup.schemas import ClinicCreate, ContactIn, TransitionIn
from lims.models import AuditEvent, Diagnosis, FollowUpCase, Specimen, User, utcnow
from lims.pipeline import ScreeningPipeline
from lims.reflex.service import import_run
from lims.review.repository import current_calls
from lims.review.service import decide
from lims.runs.service import ingest_bytes
from lims.settings import Settings
from lims.vocabulary import (
    CaseState,
    CaseTransition,
    ContactMethod,
    ContactResult,
    Decision,
    OutcomeClass,
    Severity,
    SpecimenState,
)
from msms.population.screening import simulate_screening
from msms.second_tier_panel import second_tier_method
from msms.tables import PROFILE_ID
from tests.cutoffs.builders import scored_table
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import nbs_here
from tests.lims.reflex.plates import accession_repeat, second_tier_export

N = 89  # one plate of patients


@pytest.fixture(scope="module")
def cutoffs(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    return scored_table(tmp_path_factory.mktemp("calibration") / "cutoffs.toml")


def _second_tier(engine, pipeline, sim: pd.DataFrame, barcode_of: dict[str, str],  # type: ignore[no-untyped-def]
                 folder: Path, plate_id: str) -> int:
    """A second-tier run of the cards waiting for one, with their simulated assay values."""
    codes = set(second_tier_method().codes)
    with Session(engine) as session:
        waiting = set(session.exec(select(Specimen.barcode).where(
            Specimen.state == SpecimenState.awaiting_second_tier)))
    values = {barcode_of[str(r[PROFILE_ID])]: {a: float(v) for a, v in r.items()
                                               if a in codes and pd.notna(v)}
              for r in sim.to_dict("records") if barcode_of.get(str(r[PROFILE_ID])) in waiting}
    if values:
        data = second_tier_export(folder, values, plate_id=plate_id)
        with Session(engine) as session:
            import_run(session, SYSTEM, data, f"{plate_id}.txt", pipeline)
            session.commit()
    return len(values)


def _duplicates(engine, pipeline, cohort: pd.DataFrame, filler: pd.DataFrame,  # type: ignore[no-untyped-def]
                folder: Path, plate_id: str) -> int:
    """A plate of the cards waiting for their duplicates (``cohort``: their simulated
    profiles by barcode), filled up with cards the LIMS does not know."""
    with Session(engine) as session:
        waiting = set(session.exec(select(Specimen.barcode).where(
            Specimen.state == SpecimenState.awaiting_duplicate)))
    rows = cohort[cohort[PROFILE_ID].isin(waiting)]
    if len(rows):
        others = filler.head(N - len(rows)).copy()
        others[PROFILE_ID] = [f"{plate_id}-X{i:03d}" for i in range(len(others))]
        plate = simulated_plate_file(pd.concat([rows, others], ignore_index=True), seed=7,
                                     fmt="masslynx", plate_id=plate_id, folder=folder)
        ingest_bytes(engine, SYSTEM, plate.read_bytes(), plate.name, pipeline)
    return len(rows)


def _awaiting_review(engine) -> dict[str, tuple[int, bool]]:  # type: ignore[no-untyped-def]
    """Barcode -> id and whether a call stands, of the cards awaiting review."""
    with Session(engine) as session:
        cards = {c.id: c.barcode for c in session.exec(select(Specimen).where(
            Specimen.state == SpecimenState.awaiting_review).order_by(col(Specimen.id)))
            if c.id is not None}
        calls = current_calls(session, list(cards))
    return {b: (i, any(c.final != "negative" for c in calls.get(i, [])))
            for i, b in cards.items()}


def _review(engine, reviewer: User, refer: set[str]) -> dict[str, Decision]:  # type: ignore[no-untyped-def]
    """Release every card awaiting review: referred when named in ``refer``, else a repeat
    request when a call stands, else normal."""
    decided: dict[str, Decision] = {}
    for barcode, (card_id, standing) in _awaiting_review(engine).items():
        decision = (Decision.refer if barcode in refer and standing
                    else Decision.request_repeat_specimen if standing
                    else Decision.release_normal)
        with Session(engine) as session:  # each decision signed and committed on its own
            decide(session, reviewer, card_id, decision, password=PASSWORD,
                   reason="" if decision == Decision.release_normal else "calls reviewed")
            session.commit()
        decided[barcode] = decision
    return decided


def _to_clinic(session: Session, case: FollowUpCase, clinic_id: int) -> None:
    """The family reached, the baby referred to the clinic."""
    assert case.id is not None
    if case.state == CaseState.opened:
        followup.record_contact(session, SYSTEM, case.id, ContactIn(
            method=ContactMethod.phone, contacted="mother", result=ContactResult.reached))
    if case.state in (CaseState.contacted, CaseState.repeat_received):
        followup.transition(session, SYSTEM, case.id, TransitionIn(
            transition=CaseTransition.refer, clinic_id=clinic_id))


def _diagnose(session: Session, case: FollowUpCase, clinic_id: int, outcome: OutcomeClass,
              disorder: str | None = None, severity: Severity | None = None) -> None:
    assert case.id is not None
    _to_clinic(session, case, clinic_id)
    followup.transition(session, SYSTEM, case.id, TransitionIn(
        transition=CaseTransition.diagnose, outcome=outcome, disorder=disorder,
        severity=severity))


def test_outcomes_calibrate_the_reflex_second_tier(cutoffs, engine, world, settings, tmp_path):
    pipeline = ScreeningPipeline.from_settings(Settings(environment="test", reflex=True),
                                               cutoffs=cutoffs)
    first, repeat = simulate_screening(N, seed=21, disorder_rate=0.3)
    # one unaffected baby with a mother's vitamin B12 deficiency: C3 raised, methionine low,
    # methylmalonic acid and homocysteine raised, methylcitrate normal on the second tier
    b12 = int(first.index[first["true_disorder"].eq("")][0])
    first.loc[b12, ["C3", "Met", "MMA", "tHcy", "MCA"]] = [9.0, 8.0, 9.0, 30.0, 0.2]
    with Session(engine) as session:
        cards = accession_cohort(session, SYSTEM, first.drop(columns=["previous_specimen_id"]),
                                 world.submitter_ids, first_card=30_000_000,
                                 born=utcnow() - timedelta(days=40))
        clinic = followup.create_clinic(session, SYSTEM, ClinicCreate(code="METAB",
                                                                      name="Metabolic"))
        session.commit()
        clinic_id = clinic.id
    assert clinic_id is not None
    barcode_of = dict(zip(first[PROFILE_ID].astype(str), cards[PROFILE_ID], strict=True))
    truth = {barcode_of[str(r[PROFILE_ID])]: r for r in first.to_dict("records")}
    plate = simulated_plate_file(cards, seed=3, fmt="masslynx", plate_id="CAL-1",
                                 folder=tmp_path)
    ingest_bytes(engine, SYSTEM, plate.read_bytes(), plate.name, pipeline)
    filler = repeat.drop(columns=["previous_specimen_id"])
    assert _duplicates(engine, pipeline, cards, filler, tmp_path, "CAL-1D") > 0
    assert _second_tier(engine, pipeline, first, barcode_of, tmp_path, "ST-1") > 0

    affected = {b for b, r in truth.items() if r["true_disorder"]}
    maternal = barcode_of[str(first.at[b12, PROFILE_ID])]
    assert _awaiting_review(engine)[maternal][1]  # flagged
    # half the affected babies are referred at once, the other flagged babies give a repeat
    decided = _review(engine, world.users["reviewer"], set(sorted(affected)[::2]) | {maternal})
    asked = {b for b, d in decided.items() if d == Decision.request_repeat_specimen}
    referred = {b for b, d in decided.items() if d == Decision.refer}
    assert asked and referred & affected and len(decided) == N

    # the repeat cards of the babies asked for one, read on a second plate
    rows = repeat[repeat["previous_specimen_id"].astype(str).map(barcode_of).isin(asked)].copy()
    with Session(engine) as session:
        by_barcode = {s.barcode: s for s in session.exec(select(Specimen))}
        repeats = {}
        for i, row in enumerate(rows.to_dict("records")):
            earlier = by_barcode[barcode_of[str(row["previous_specimen_id"])]]
            repeats[str(row[PROFILE_ID])] = accession_repeat(
                session, earlier, float(row["age_at_collection_hours"]), i)
        session.commit()
    rows[PROFILE_ID] = rows[PROFILE_ID].astype(str).map(repeats)
    others = repeat[~repeat.index.isin(rows.index)].head(N - len(rows)).copy()
    others[PROFILE_ID] = [f"UNKNOWN{i:03d}" for i in range(len(others))]
    plate = simulated_plate_file(
        pd.concat([rows, others], ignore_index=True).drop(columns=["previous_specimen_id"]),
        seed=4, fmt="masslynx", plate_id="CAL-2", folder=tmp_path)
    ingest_bytes(engine, SYSTEM, plate.read_bytes(), plate.name, pipeline)
    _duplicates(engine, pipeline, rows, filler, tmp_path, "CAL-2D")
    repeat_sim = repeat.assign(**{PROFILE_ID: repeat[PROFILE_ID].astype(str).map(repeats)})
    _second_tier(engine, pipeline, repeat_sim.dropna(subset=[PROFILE_ID]),
                 {b: b for b in repeats.values()}, tmp_path, "ST-2")
    # a repeat still abnormal is referred (its baby's case becomes a referral)
    _review(engine, world.users["reviewer"], set(repeats.values()))

    # the clinic: each referred affected baby confirmed with its disorder and severity, the
    # B12 baby a maternal deficiency, the others false positives; one case left open, one
    # family lost to follow-up
    lost: str | None = None
    still_open: str | None = None
    confirmed: dict[str, tuple[str, str]] = {}
    with Session(engine) as session:
        firsts = {s.infant_id: s.barcode for s in session.exec(select(Specimen).where(
            Specimen.kind == "initial"))}
        cases = list(session.exec(select(FollowUpCase).order_by(col(FollowUpCase.id))))
        assert cases
        for case in cases:
            baby_card = firsts[case.infant_id]
            baby = truth[baby_card]
            if case.state == CaseState.closed:
                continue
            if baby_card == maternal:
                _diagnose(session, case, clinic_id, OutcomeClass.transient_maternal, "B12D")
            elif not baby["true_disorder"]:
                _diagnose(session, case, clinic_id, OutcomeClass.false_positive)
            elif still_open in (None, baby_card):
                # referred, then a confirmed diagnosis without a severity: refused, so the
                # case stays open
                still_open = baby_card
                assert case.id is not None
                _to_clinic(session, case, clinic_id)
                with pytest.raises(InvalidInputError) as refused:
                    followup.transition(session, SYSTEM, case.id, TransitionIn(
                        transition=CaseTransition.diagnose, outcome=OutcomeClass.confirmed,
                        disorder=str(baby["true_disorder"])))
                assert refused.value.field == "severity"
                assert case.state == CaseState.referred and case.outcome is None
            elif lost in (None, baby_card):
                lost = baby_card
                assert case.id is not None
                followup.transition(session, SYSTEM, case.id, TransitionIn(
                    transition=CaseTransition.diagnose, outcome=OutcomeClass.lost_to_follow_up))
            else:
                _diagnose(session, case, clinic_id, OutcomeClass.confirmed,
                          str(baby["true_disorder"]), Severity(str(baby["severity"])))
                confirmed[baby_card] = (str(baby["true_disorder"]), str(baby["severity"]))
        session.commit()
    assert still_open and lost and confirmed

    with Session(engine) as session:
        open_ids = [c.id for c in session.exec(select(FollowUpCase)) if c.outcome is None]
        assert open_ids and not session.exec(select(Diagnosis).where(
            col(Diagnosis.case_id).in_(open_ids))).first()

    env = {"NBS_DATABASE_URL": settings.database_url}
    first_csv, repeat_csv = tmp_path / "out" / "first.csv", tmp_path / "out" / "repeat.csv"
    exported = nbs_here("outcomes", "export-calibration", str(first_csv), str(repeat_csv),
                        "--actor", "epidemiologist", env=env)
    assert exported.returncode == 0, exported.stderr
    out_first = pd.read_csv(first_csv, dtype={PROFILE_ID: str}, keep_default_na=False)
    out_repeat = pd.read_csv(repeat_csv, dtype={PROFILE_ID: str, "previous_specimen_id": str},
                             keep_default_na=False)
    # every baby but the two without a closed outcome, once, with the simulation's labels
    assert sorted(out_first[PROFILE_ID]) == sorted(set(truth) - {still_open, lost})
    assert "2 babies left out" in exported.stdout
    assert "1: a case not resolved yet" in exported.stdout
    assert "1: a case ended without a diagnosis" in exported.stdout
    labels = out_first.set_index(PROFILE_ID)
    for barcode in labels.index:
        disorder, severity = confirmed.get(barcode, ("", ""))
        assert labels.at[barcode, "true_disorder"] == disorder, barcode
        assert labels.at[barcode, "severity"] == severity, barcode
    assert labels.at[maternal, "fp_mechanism"] == "maternal_b12_deficiency"
    assert (labels["fp_mechanism"] != "").sum() == 1
    # the profile as stored: covariates, context, first-tier analytes, second-tier results
    for column in ("birth_weight_g", "age_at_collection_hours", "sex", "tpn",
                   "maternal_b12_low", "C3", "C8", "Phe"):
        assert column in out_first.columns, column
    assert set(second_tier_method().codes) & set(out_first.columns)
    c8 = pd.to_numeric(labels["C8"])
    simulated = pd.Series({b: float(truth[b]["C8"]) for b in labels.index})
    assert (c8 / simulated).median() == pytest.approx(1.0, abs=0.25)
    # the repeats of the babies kept, each naming its first card
    assert len(out_repeat) > 0
    with Session(engine) as session:
        (read,) = session.exec(select(AuditEvent).where(
            AuditEvent.username == "epidemiologist")).all()
        written = {s.id for s in session.exec(select(Specimen).where(col(Specimen.barcode).in_(
            [*out_first[PROFILE_ID], *out_repeat[PROFILE_ID]])))}
    assert read.action == "read_list" and set(read.after["ids"]) == written
    assert read.after["filters"] == {"export": "calibration"}
    assert set(out_repeat["previous_specimen_id"]) <= set(out_first[PROFILE_ID])
    assert set(out_repeat[PROFILE_ID]) <= set(repeats.values())
    assert out_repeat["previous_specimen_id"].is_unique

    # the period: first cards received in it (days inclusive)
    today = utcnow().date()
    period = nbs_here("outcomes", "export-calibration", str(tmp_path / "p1.csv"),
                      str(tmp_path / "p2.csv"), "--from", f"{today - timedelta(days=60)}",
                      "--to", f"{today}", env=env)
    assert period.returncode == 0 and len(pd.read_csv(tmp_path / "p1.csv")) == len(out_first)
    before = nbs_here("outcomes", "export-calibration", str(tmp_path / "p1.csv"),
                      str(tmp_path / "p2.csv"), "--to", f"{today - timedelta(days=45)}",
                      env=env)
    assert before.returncode == 0 and before.stdout.startswith("0 babies' first cards")
    assert len(pd.read_csv(tmp_path / "p1.csv")) == 0
    backwards = nbs_here("outcomes", "export-calibration", str(tmp_path / "p1.csv"),
                         str(tmp_path / "p2.csv"), "--from", f"{today}", "--to",
                         f"{today - timedelta(days=1)}", env=env)
    assert backwards.returncode == 3
    assert "field --to: the period ends" in backwards.stderr, backwards.stderr

    calibration = tmp_path / "reflex.json"
    calibrated = nbs_here("second-tier", "calibrate-reflex", str(first_csv), str(repeat_csv),
                          "--cutoffs", str(cutoffs), "--out", str(calibration))
    assert calibrated.returncode == 0, calibrated.stderr
    written = read_calibration(calibration)
    assert f"on {len(out_first):,} babies" in calibrated.stdout
    assert written.n_calibration == len(out_first)
    assert written.cutoff_version == read_cutoff_table(cutoffs).version
    assert set(written.calibration.scale) | set(written.calibration.repeat_clear_below)
    assert any(line.startswith("all ") for line in calibrated.stdout.splitlines())

    # a confirmed diagnosis recorded before severities were: its baby is left out, counted
    with Session(engine) as session:
        session.execute(update(Diagnosis).where(col(Diagnosis.outcome) == "confirmed")
                        .values(severity=""))
        session.commit()
    again = nbs_here("outcomes", "export-calibration", str(first_csv), str(repeat_csv),
                     env=env)
    assert again.returncode == 0, again.stderr
    n_confirmed = int((out_first["true_disorder"] != "").sum())
    assert f"{n_confirmed}: a confirmed diagnosis without a severity" in again.stdout
    assert len(pd.read_csv(first_csv)) == len(out_first) - n_confirmed
