"""A simulated year of a screening programme, for the follow-up tests and benchmark: cards with
their collection, receipt and release times, and follow-up cases driven through their states by
a seeded random process, written to the database in bulk (Core inserts, no ORM objects).

``simulate_year(n_cards, seed=...)`` returns the simulation's own records (``Year``);
``load_year(engine, year)`` writes them. The follow-up tests compute the programme measures
from these records directly and compare them with the service's.

Public names: ``Year``, ``simulate_year``, ``load_year``, ``YEAR``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from lims.followup.repository import rebuild_card_measures
from lims.followup.service import referral_group
from lims.models import FollowUpCase, Infant, Release, Specimen, Submitter, User
from lims.vocabulary import CaseReason, CaseState, OutcomeClass
from msms.catalogue import disorders

__all__ = ["YEAR", "Year", "load_year", "simulate_year"]

YEAR = 2025
_START = datetime(YEAR, 1, 1, tzinfo=UTC)
_SUBMITTERS = (("S1", "North"), ("S2", "North"), ("S3", "South"), ("S4", "South"),
               ("S5", "East"), ("S6", "East"))
_OUTCOMES = (OutcomeClass.confirmed, OutcomeClass.false_positive, OutcomeClass.carrier,
             OutcomeClass.transient_maternal, OutcomeClass.prematurity_tpn)
_OUTCOME_P = (0.25, 0.45, 0.1, 0.12, 0.08)


@dataclass
class Year:
    """The simulation's records, as the rows written (times aware UTC)."""

    submitters: list[dict[str, Any]] = field(default_factory=list)
    infants: list[dict[str, Any]] = field(default_factory=list)
    specimens: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)


def _hours(value: float) -> timedelta:
    return timedelta(hours=float(value))


def _cards(year: Year, n: int, rng: np.random.Generator, days: float = 365.0) -> None:
    births = np.sort(rng.uniform(0, days * 24, n))  # cards arrive, and get ids, in time order
    ages = np.where(rng.random(n) < 0.05, rng.uniform(6, 23.9, n), rng.gamma(9.0, 5.0, n))
    transit = rng.gamma(4.0, 12.0, n)
    unsat = rng.random(n) < 0.008
    release = rng.uniform(30, 100, n)
    for i in range(n):
        born = _START + _hours(births[i])
        submitter = 1 + i % len(_SUBMITTERS)
        collected = born + _hours(ages[i])
        received = collected + _hours(transit[i])
        year.infants.append({"id": i + 1, "submitter_id": submitter, "birth_at": born})
        year.specimens.append({
            "id": i + 1, "barcode": f"Y{i + 1:09d}", "infant_id": i + 1,
            "submitter_id": submitter, "kind": "initial", "collected_at": collected,
            "received_at": received, "unsatisfactory_code": "U01" if unsat[i] else None,
            "state": "unsatisfactory" if unsat[i] else "released"})
        if not unsat[i]:
            year.releases.append({"specimen_id": i + 1, "version": 1, "outcome": "normal",
                                  "released_at": received + _hours(release[i])})


def _case(i: int, specimen: dict[str, Any], opened: datetime, reason: str, disorder: str | None,
          rng: np.random.Generator) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": i, "infant_id": specimen["infant_id"], "submitter_id": specimen["submitter_id"],
        "specimen_id": specimen["id"], "reason": reason,
        "referral_group": referral_group(disorder) if disorder else "unsatisfactory",
        "suspected": [disorder] if disorder else [], "time_critical": False,
        "state": CaseState.opened, "opened_at": opened, "outcome": None,
        "diagnosed_disorder": None}
    if rng.random() > 0.95:
        if rng.random() < 0.5:
            case.update(state=CaseState.diagnosed, outcome=OutcomeClass.lost_to_follow_up,
                        diagnosed_at=opened + timedelta(days=60))
        return case
    at = case["first_contact_at"] = opened + _hours(rng.exponential(20))
    case["state"] = CaseState.contacted
    if reason != CaseReason.referral:
        if rng.random() > 0.88:
            return case
        at = case["repeat_received_at"] = at + _hours(rng.exponential(6 * 24))
        case["state"] = CaseState.repeat_received
        if rng.random() < 0.9:
            case.update(state=CaseState.closed, outcome=OutcomeClass.normal_repeat,
                        closed_at=at + _hours(rng.uniform(24, 96)))
            return case
    _diagnosis(case, at, disorder, rng)
    return case


def _diagnosis(case: dict[str, Any], at: datetime, disorder: str | None,
               rng: np.random.Generator) -> None:
    if rng.random() > 0.95:
        return
    at = case["referred_at"] = at + _hours(rng.exponential(48))
    case["state"] = CaseState.referred
    if rng.random() > 0.93:
        return
    outcome = str(rng.choice(_OUTCOMES, p=_OUTCOME_P))
    at = case["diagnosed_at"] = at + _hours(rng.exponential(10 * 24))
    found = disorder if rng.random() < 0.9 else "PKU"
    case.update(state=CaseState.diagnosed, outcome=outcome,
                diagnosed_disorder=found if outcome == OutcomeClass.confirmed else None)
    if outcome != OutcomeClass.confirmed:
        if rng.random() < 0.8:
            case.update(state=CaseState.closed, closed_at=at + timedelta(days=7))
        return
    if rng.random() < 0.95:
        case["treatment_started_at"] = at + _hours(rng.exponential(36))
        case["state"] = (CaseState.long_term_follow_up if rng.random() < 0.7
                         else CaseState.treatment)


def _cases(year: Year, rng: np.random.Generator, case_rate: float) -> None:
    codes = [d.code for d in disorders() if d.category != "acquired"]
    releases = {r["specimen_id"]: r["released_at"] for r in year.releases}
    n = 0
    for specimen in year.specimens:
        if specimen["unsatisfactory_code"]:
            n += 1
            year.cases.append(_case(n, specimen, specimen["received_at"] + timedelta(hours=2),
                                    CaseReason.unsatisfactory, None, rng))
        elif rng.random() < case_rate:
            n += 1
            reason = (CaseReason.referral if rng.random() < 0.4
                      else CaseReason.repeat_specimen)
            year.cases.append(_case(n, specimen, releases[specimen["id"]], reason,
                                    str(rng.choice(codes)), rng))


def simulate_year(n_cards: int, *, seed: int = 2025, case_rate: float = 0.01,
                  days: float = 365.0) -> Year:
    """``n_cards`` first cards born over the year (over its first ``days`` days), ``case_rate``
    of them recalled (and every unsatisfactory one), each case driven through its states by a
    seeded random process."""
    rng = np.random.default_rng(seed)
    year = Year(submitters=[{"id": i + 1, "code": code, "name": f"Hospital {code}",
                             "district": district}
                            for i, (code, district) in enumerate(_SUBMITTERS)])
    _cards(year, n_cards, rng, days)
    _cases(year, rng, case_rate)
    return year


_DEFAULTS: dict[str, dict[str, Any]] = {
    "infant": {"medical_record_number": "", "mother_name": "", "mother_id": "", "sex": "U",
               "plurality": 1, "birth_order": 1},
    "specimen": {"feeding": "unknown", "tpn": False, "transfused": False, "nicu": False,
                 "flagged": False, "version": 1},
    "release": {"reason": ""},
    "case": {"due_action": "", "note": ""},
}
_CASE_DATES = ("first_contact_at", "repeat_received_at", "referred_at", "diagnosed_at",
               "treatment_started_at", "closed_at")


def _batches(engine: Engine, table: Any, rows: list[dict[str, Any]], size: int = 20_000) -> None:
    with engine.begin() as connection:
        for start in range(0, len(rows), size):
            connection.execute(insert(table), rows[start:start + size])


def load_year(engine: Engine, year: Year, *, now: datetime | None = None) -> None:
    """Write the year to a migrated, empty database in bulk (one release user added), then
    the cards' figures of the programme measures (``repository.rebuild_card_measures``)."""
    now = now or datetime.now(UTC)
    _batches(engine, Submitter.__table__, [{**s, "created_at": now} for s in year.submitters])
    with engine.begin() as connection:
        user_id = connection.execute(insert(User.__table__).values(
            username="year-reviewer", full_name="Year Reviewer", role="reviewer",
            password_hash="-", active=True, failed_logins=0, created_at=now)
        ).inserted_primary_key[0]
    _batches(engine, Infant.__table__, [{**_DEFAULTS["infant"], **r, "created_at": now}
                                        for r in year.infants])
    _batches(engine, Specimen.__table__, [
        {**_DEFAULTS["specimen"], **r, "created_at": now, "updated_at": now}
        for r in year.specimens])
    _batches(engine, Release.__table__, [{**_DEFAULTS["release"], **r, "released_by": user_id}
                                         for r in year.releases])
    _batches(engine, FollowUpCase.__table__, [
        {**_DEFAULTS["case"], **{d: None for d in _CASE_DATES}, **r, "updated_at": now,
         "due_at": (r["opened_at"] + timedelta(days=3)) if r["state"] != CaseState.closed
         else None} for r in year.cases])
    with engine.begin() as connection:
        rebuild_card_measures(connection)
