"""Demo data for ``make run``: loaded once, into an empty database.

Submitters, one user per role (with a fresh random password, printed once), and several
simulated 96-well plates (``instruments.virtual``) whose 89 patients are accessioned as cards and
then ingested through the real pipeline, so the review queue holds flagged cases. The plates
are screened with the reflex second tier on (``lims.demo.reflex``): flagged cards wait on the
reflex worklist, and part of it is completed by a second-tier run and a genotype file imported
through the real imports.

Follow-up: a clinic (the demo clinic user tied to it, the demo reviewer a director) and cases
in every state (``seed_cases``); the case closed as not confirmed is closed as a real one is,
by its repeat card measured and released as normal (``lims.demo.repeats``).

Public names: ``seed_demo``, ``seed_cases``, ``case_states``, ``accession_cohort``,
``simulated_plate_file``, ``DEMO_PLATES``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from instruments.virtual import simulate_plate, suffix, write_plate
from lims.accession.repository import submitter_by_code
from lims.accession.schemas import InfantCreate, SpecimenCreate, SubmitterCreate
from lims.accession.service import accession, create_submitter
from lims.audit import SYSTEM, Actor
from lims.auth.service import create_user
from lims.demo.reflex import complete_worklist, with_reflex
from lims.demo.repeats import release_normal_repeats
from lims.followup import service as followup_service
from lims.followup.schemas import CaseCreate, ClinicCreate, ContactIn, TransitionIn, VisitIn
from lims.models import Director, FollowUpCase, Run, Specimen, SystemInfo, User, utcnow
from lims.pipeline import Screening, ScreeningPipeline
from lims.reference import barcode_rule
from lims.review import repository as review_repository
from lims.runs.plate import sign_off
from lims.runs.service import ingest_bytes
from lims.vocabulary import (
    CaseState,
    CaseTransition,
    ContactMethod,
    ContactResult,
    OutcomeClass,
    Role,
    Severity,
    SpecimenState,
    VisitKind,
)
from msms.population import simulate_cohort

__all__ = ["DEMO_PLATES", "accession_cohort", "case_states", "seed_cases", "seed_demo",
           "simulated_plate_file"]

_MARKER = "demo_loaded_at"
#: (seed, instrument format) of each demo plate; the disorder rate makes flagged cases likely.
DEMO_PLATES: tuple[tuple[int, str], ...] = ((101, "masslynx"), (102, "quandata"),
                                            (103, "csv-wide"))
DEMO_DISORDER_RATE = 0.06
_SUBMITTERS = (("CITY-MAT", "City Maternity Hospital", "Central"),
               ("NORTH-GEN", "North General Hospital NICU", "North"),
               ("RIVER-CHC", "Riverside Community Health Centre", "South"))


#: Days a simulated card takes from collection to the laboratory.
_TRANSIT = timedelta(days=2)


def accession_cohort(session: Session, actor: Actor, cohort: pd.DataFrame,
                     submitter_ids: list[int], *, first_card: int,
                     born: datetime, now: datetime | None = None) -> pd.DataFrame:
    """Accession one card per cohort row; returns the cohort with barcodes as specimen ids.

    Babies are born from ``born`` on, 37 minutes apart; a baby whose card (collected at its
    simulated age, received two days later) would arrive after ``now`` (default: the clock) is
    born earlier instead, so no collection or receipt time lies in the future.
    """
    rule = barcode_rule()
    cohort = cohort.copy()
    now = now or utcnow()
    barcodes = []
    for i, row in enumerate(cohort.itertuples(index=False)):
        barcode = rule.make(f"{first_card + i:08d}")
        submitter_id = submitter_ids[i % len(submitter_ids)]
        age_h = float(row.age_at_collection_hours) if pd.notna(
            row.age_at_collection_hours) else 48.0
        latest_birth = now - _TRANSIT - timedelta(hours=age_h + 1)
        birth_at = min(born + timedelta(minutes=37 * i), latest_birth)
        weight = int(row.birth_weight_g) if pd.notna(row.birth_weight_g) else None
        ga = float(row.gestational_age_weeks) if pd.notna(row.gestational_age_weeks) else None
        sex = str(row.sex) if str(row.sex) in {"M", "F"} else "U"
        collected = birth_at + timedelta(hours=age_h)
        nicu = weight is not None and weight < 2000
        weight = weight if weight is None or 200 <= weight <= 7000 else None
        ga = ga if ga is None or 20 <= ga <= 45 else None
        accession(session, actor, SpecimenCreate(
            barcode=barcode, submitter_id=submitter_id, collected_at=collected,
            received_at=collected + _TRANSIT, birth_weight_g=weight, gestational_age_weeks=ga,
            tpn=bool(row.tpn == 1), transfused=bool(row.transfused == 1),
            nicu=nicu,
            infant=InfantCreate(submitter_id=submitter_id, birth_at=birth_at, sex=sex,  # type: ignore[arg-type]
                                birth_weight_g=weight, gestational_age_weeks=ga,
                                mother_name=f"Mother {first_card + i}",
                                mother_id=f"M{first_card + i:08d}")))
        barcodes.append(barcode)
    cohort["specimen_id"] = barcodes
    return cohort


def simulated_plate_file(cohort: pd.DataFrame, *, seed: int, fmt: str, plate_id: str,
                         folder: Path) -> Path:
    """Render a simulated plate of ``cohort`` (89 patients) in ``fmt``; returns the file."""
    plate = simulate_plate(seed=seed, cohort=cohort, plate_id=plate_id)
    path = folder / f"{plate_id}{suffix(fmt)}"
    write_plate(plate, path, format=fmt)
    return path


def seed_demo(engine: Engine, *, force: bool = False,
              pipeline: Screening | None = None) -> str:
    """Load the demo data unless it is already there; returns a summary with the passwords.

    The plates go through ``pipeline`` (default: the screening pipeline with the packaged
    rules and literature levels) with the reflex second tier on (``with_reflex``: the
    pipeline's own, else the literature levels with genotypes), and part of the reflex
    worklist is then completed (``complete_worklist``)."""
    with Session(engine, expire_on_commit=False) as session:
        marker = session.get(SystemInfo, _MARKER)
        if marker is not None and not force:
            return f"demo data already loaded ({marker.value})"
        lines = []
        passwords: dict[str, tuple[str, str]] = {}  # role: (username, password)
        submitter_ids = []
        for code, name, district in _SUBMITTERS:
            existing = submitter_by_code(session, code)
            submitter = existing or create_submitter(
                session, SYSTEM, SubmitterCreate(code=code, name=name, district=district))
            assert submitter.id is not None
            submitter_ids.append(submitter.id)
        suffix_ = "" if marker is None else f"-{secrets.token_hex(2)}"
        for role in Role:
            password = secrets.token_urlsafe(12)
            username = f"demo-{role}{suffix_}".replace("_", "-")
            create_user(session, SYSTEM, username=username, password=password, role=role,
                        full_name=f"Demo {role.replace('_', ' ').title()}",
                        submitter_id=submitter_ids[0] if role == Role.submitter else None)
            lines.append(f"  {role:11} user {username:24} password {password}")
            passwords[role] = (username, password)
        session.commit()
    served = pipeline or ScreeningPipeline()
    pipeline = with_reflex(served)
    plates = []
    run_ids: list[int] = []
    stamp = datetime.now(UTC)
    with TemporaryDirectory() as tmp:
        for k, (seed, fmt) in enumerate(DEMO_PLATES):
            cohort = simulate_cohort(89, seed=seed, disorder_rate=DEMO_DISORDER_RATE)
            with Session(engine, expire_on_commit=False) as session:
                first_card = 10_000_000 + seed * 1000
                if marker is not None:  # forced again: fresh card numbers
                    first_card += (1 + secrets.randbelow(799)) * 100_000
                cohort = accession_cohort(session, SYSTEM, cohort, submitter_ids,
                                          first_card=first_card,
                                          born=stamp - timedelta(days=4 + k))
                session.commit()
            plate_id = f"DEMO-{seed}{suffix_}"
            path = simulated_plate_file(cohort, seed=seed, fmt=fmt, plate_id=plate_id,
                                        folder=Path(tmp))
            outcome = ingest_bytes(engine, SYSTEM, path.read_bytes(), path.name, pipeline)
            run = outcome.run
            run_ids.append(int(run.id or 0))
            plates.append(f"  plate {run.plate_id} ({fmt}): qc={run.qc_decision} "
                          f"results={run.n_results} held={run.n_held}")
        plates += complete_worklist(engine, pipeline, run_ids, tag=suffix_, folder=Path(tmp),
                                    keep_one=served.reflex is not None)
        with Session(engine, expire_on_commit=False) as session:
            plates += _sign_off_but_the_last(session, run_ids)
            to_close = seed_cases(session, first_card=10_900_000 + (
                0 if marker is None else secrets.randbelow(90_000) * 10))
            session.commit()
            username, password = passwords[Role.reviewer]
            reviewer = session.exec(select(User).where(User.username == username)).one()
        plates += release_normal_repeats(engine, pipeline, to_close, reviewer, password,
                                         tag=suffix_, folder=Path(tmp))
    with Session(engine, expire_on_commit=False) as session:
        cases = case_states(session)
        session.merge(SystemInfo(key=_MARKER, value=stamp.isoformat(timespec="seconds")))
        session.commit()
    return "\n".join(["demo data loaded", "users (passwords shown once):", *lines,
                      "plates:", *plates, f"follow-up cases: {cases}"])


#: The follow-up steps a demo case is taken through, one case per end state; ``normal``: its
#: repeat card is then released as normal (``release_normal_repeats``), which closes it.
_CASE_STEPS: tuple[tuple[str, ...], ...] = (
    (), ("contact",), ("contact", "repeat"), ("contact", "refer"),
    ("contact", "refer", "diagnose_fp"), ("contact", "refer", "diagnose", "treat"),
    ("contact", "refer", "diagnose", "treat", "visit"), ("contact", "repeat", "normal"))


def _demo_step(session: Session, case_id: int, step: str, clinic_id: int, barcode: str,
               disorder: str) -> None:
    fu = followup_service
    move = {"refer": TransitionIn(transition=CaseTransition.refer, clinic_id=clinic_id),
            "diagnose_fp": TransitionIn(transition=CaseTransition.diagnose,
                                        outcome=OutcomeClass.false_positive),
            "diagnose": TransitionIn(transition=CaseTransition.diagnose,
                                     outcome=OutcomeClass.confirmed, disorder=disorder,
                                     severity=Severity.moderate),
            "treat": TransitionIn(transition=CaseTransition.start_treatment,
                                  description=f"treatment of {disorder} started as the "
                                              "clinic's protocol says")}
    if step == "contact":
        fu.record_contact(session, SYSTEM, case_id, ContactIn(
            method=ContactMethod.phone, contacted="mother", result=ContactResult.reached))
    elif step == "repeat":
        case = fu.get_case(session, SYSTEM, case_id, audit=False)
        first = session.get(Specimen, case.specimen_id)
        assert first is not None
        now = utcnow()
        accession(session, SYSTEM, SpecimenCreate(
            barcode=barcode, submitter_id=first.submitter_id, infant_id=first.infant_id,
            collected_at=now - timedelta(days=1), received_at=now))
    elif step == "visit":
        fu.record_visit(session, SYSTEM, case_id, VisitIn(kind=VisitKind.metabolic_control,
                                                          findings="metabolic control stable"))
    else:
        fu.transition(session, SYSTEM, case_id, move[step])


def _sign_off_but_the_last(session: Session, run_ids: list[int]) -> list[str]:
    """The demo technician signs off every plate QC accepted but the last, so the review
    page shows the bulk release of normals and, for the last plate, why its cards are held
    back until a technician signs it off."""
    technician = Actor(None, "demo-technician", "technician")
    accepted = [i for i in run_ids
                if (run := session.get(Run, i)) is not None and run.qc_decision != "reject"]
    for run_id in accepted[:-1]:
        sign_off(session, technician, run_id, accept=True,
                 reason="controls within their limits (demo)")
    return [f"  signed off: {len(accepted[:-1])} plate(s); left for a technician: "
            f"{len(accepted[-1:])}"]


_TIER_ORDER = {"critical": 0, "positive": 1, "borderline": 2}


def _flagged_cards(session: Session, n: int) -> list[tuple[Specimen, list[str]]]:
    """The first ``n`` cards awaiting review (or their in-duplicate repeat) that the screen
    flagged and that have no case yet, each with the disorder of its most severe call: a demo
    case suspects what its card shows, so its letters and the programme's figures agree with
    the card."""
    waiting = session.exec(select(Specimen).where(col(Specimen.state).in_(
        [SpecimenState.awaiting_review, SpecimenState.awaiting_duplicate]))
        .order_by(col(Specimen.id))).all()
    with_case = {c.specimen_id for c in session.exec(select(FollowUpCase))}
    ids = [s.id for s in waiting if s.id is not None and s.id not in with_case]
    calls = review_repository.current_calls(session, ids)
    out = []
    for specimen in waiting:
        flags = sorted((c for c in calls.get(specimen.id or 0, [])
                        if c.first_tier in _TIER_ORDER), key=lambda c: _TIER_ORDER[c.first_tier])
        if flags:
            out.append((specimen, [flags[0].disorder]))  # a case is of one referral group
        if len(out) == n:
            break
    return out


def seed_cases(session: Session, *, first_card: int) -> list[int]:
    """Follow-up cases in every state on the demo's flagged cards (opened on their flags,
    then taken through the steps of ``_CASE_STEPS``), a clinic, the demo clinic user tied to
    it and the demo reviewer made a director. Returns the cases whose repeat card is to be
    released as normal (step ``normal``), which closes them."""
    clinic = followup_service.create_clinic(session, SYSTEM, ClinicCreate(
        code=f"METAB-{first_card % 100_000}", name="Children's Metabolic Clinic",
        district="Central", phone="+86 10 5555 0100"))
    assert clinic.id is not None
    for user in session.exec(select(User).where(col(User.username).like("demo-%"))):
        if user.role == Role.clinic and user.id is not None:
            followup_service.assign_clinic_user(session, SYSTEM, clinic.id, user.id)
        if user.role == Role.reviewer and user.id is not None and not session.get(
                Director, user.id):
            followup_service.grant_director(session, SYSTEM, user.id)
    rule = barcode_rule()
    flagged = _flagged_cards(session, len(_CASE_STEPS))
    to_close = []
    for k, ((specimen, disorders), steps) in enumerate(zip(flagged, _CASE_STEPS, strict=False)):
        assert specimen.id is not None
        case = followup_service.open_case(session, SYSTEM, CaseCreate(
            specimen_id=specimen.id, suspected=disorders,
            note="demo case: opened on the screen's flag"))
        assert case.id is not None
        for step in steps:
            if step == "normal":
                to_close.append(case.id)
            else:
                _demo_step(session, case.id, step, clinic.id,
                           rule.make(f"{first_card + k:08d}"), disorders[0])
    return to_close


def case_states(session: Session) -> str:
    """The follow-up cases by state, as the demo's summary gives them."""
    states = [c["state"] for c in followup_service.list_cases(session, SYSTEM, limit=500)]
    return ", ".join(f"{s} {states.count(s)}" for s in CaseState if s in states)
