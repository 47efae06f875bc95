"""``nbs second-tier train --from-db`` on a database filled through the service, on SQLite and
PostgreSQL: a small population of cards accessioned and read on plates, the flagged babies
referred by a reviewer, their cases diagnosed by the clinic (confirmed or a false positive);
the command trains on those outcomes, writes a model file that loads and is the one it
registered, and registers it as a candidate with its check on the held-back cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from cutoffs.second_tier.model_file import load_model, read_metadata
from lims.followup.outcomes import file_sha256
from lims.models import AuditEvent, ModelRecord
from lims.pipeline import WELL_COLUMNS
from msms.catalogue import default_catalogue
from tests.cutoffs.builders import fast_policy_file
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, accession, card, nbs_here, upload

#: babies with MSUD (Xle far past 400) and false positives (just past it)
CONFIRMED, FALSE_POSITIVE = 10, 14


def _plate(plate_id: str, patients: dict[str, dict[str, float]],
           rng: np.random.Generator) -> bytes:
    """A plate in the tests' CSV format (``tests/lims/plates.py``) measuring every catalogue
    analyte, as a real panel does: each card's values scattered around the population
    medians, with ``patients``' overrides."""
    medians = {a.code: a.pop_median_umol_l for a in default_catalogue().analytes}
    lines = [f"# plate_id={plate_id}", ",".join(WELL_COLUMNS),
             "A01,QC-LOW,qc_low,Phe,60", "A02,QC-HIGH,qc_high,Phe,300"]
    wells = [f"{r}{c:02d}" for r in "ABCDEFGH" for c in range(1, 13)][2:]
    for well, (barcode, overrides) in zip(wells, patients.items(), strict=False):
        for analyte, median in medians.items():
            value = overrides.get(analyte, median * float(rng.lognormal(0.0, 0.2)))
            lines.append(f"{well},{barcode},patient,{analyte},{value:.5g}")
    return ("\n".join(lines) + "\n").encode()


def _population(client, world) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Accession and read the cards, refer the flagged ones, diagnose their cases; the number
    of cases per outcome."""
    rng = np.random.default_rng(7)
    n = CONFIRMED + FALSE_POSITIVE
    numbers = list(range(301, 301 + n + 10))
    accession(client, world, *numbers)
    xle = {**{m: float(rng.uniform(900, 1500)) for m in numbers[:CONFIRMED]},
           **{m: float(rng.uniform(410, 520)) for m in numbers[CONFIRMED:n]},
           **{m: float(rng.uniform(100, 200)) for m in numbers[n:]}}
    phe = {m: float(rng.uniform(40, 90)) for m in numbers}
    response = upload(client, world, "P-TRAIN.csv", _plate(
        "P-TRAIN", {card(m): {"Xle": xle[m], "Phe": phe[m]} for m in numbers}, rng))
    assert response.status_code == 201, response.text
    specimens = {s["barcode"]: s for s in client.get(
        f"{API}/specimens", params={"limit": 100}, headers=world.auth("reviewer")).json()}
    clinic = client.post(f"{API}/clinics", json={"code": "METAB", "name": "Metabolic clinic",
                                                 "phone": "+86 10 0000"},
                         headers=world.auth("follow_up")).json()
    outcomes: dict[str, int] = {}
    for m in numbers[:n]:
        specimen = specimens[card(m)]
        assert specimen["state"] == "awaiting_review", specimen
        referred = client.post(f"{API}/specimens/{specimen['id']}/decisions", json={
            "decision": "refer", "reason": "MSUD suspected", "password": PASSWORD},
            headers=world.auth("reviewer"))
        assert referred.status_code == 201, referred.text
        case = client.get(f"{API}/cases", params={"infant_id": specimen["infant_id"]},
                          headers=world.auth("follow_up")).json()[0]
        fu = world.auth("follow_up")
        assert client.post(f"{API}/cases/{case['id']}/contacts", json={
            "method": "phone", "contacted": "mother", "result": "reached"},
            headers=fu).status_code == 201
        moved = client.post(f"{API}/cases/{case['id']}/transitions", json={
            "transition": "refer", "clinic_id": clinic["id"]}, headers=fu)
        assert moved.status_code == 200, moved.text
        outcome = "confirmed" if m in numbers[:CONFIRMED] else "false_positive"
        diagnosed = client.post(f"{API}/cases/{case['id']}/transitions", json={
            "transition": "diagnose", "outcome": outcome,
            **({"disorder": "MSUD", "severity": "severe"} if outcome == "confirmed" else {})},
            headers=fu)
        assert diagnosed.status_code == 200, diagnosed.text
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def test_train_from_db_writes_and_registers_a_model_of_the_laboratory_s_outcomes(
        client, world, engine, settings, tmp_path):
    assert _population(client, world) == {"confirmed": CONFIRMED,
                                           "false_positive": FALSE_POSITIVE}
    out = tmp_path / "models" / "from-db.joblib"
    result = nbs_here("second-tier", "train", "--from-db", "--out", str(out),
                      "--policy", str(fast_policy_file(tmp_path)), "--holdout-fraction", "0.25",
                      "--actor", "lab.director", env={"NBS_DATABASE_URL": settings.database_url})
    assert result.returncode == 0, result.stderr

    meta = read_metadata(out)
    # one labelled row per suspected disorder of each diagnosed case; a quarter held back
    held = round(0.25 * (CONFIRMED + FALSE_POSITIVE))
    assert meta["training_rows"] == CONFIRMED + FALSE_POSITIVE - held
    assert (meta["training_true_positives"] + meta["training_false_positives"]
            == meta["training_rows"])
    assert meta["training_file"] == "database outcomes"
    assert meta["thresholds"]["MSUD"]["n_true_positive"] == meta["training_true_positives"]
    model = load_model(out)  # the file loads as the service would load it
    assert model.version == meta["model_version"]

    with Session(engine) as session:
        row = session.exec(select(ModelRecord)).one()
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "register_model")).one()
    assert (row.version, row.status, row.file_sha256) == (model.version, "candidate",
                                                          file_sha256(out))
    assert Path(row.file_path) == out.resolve()
    assert (row.training_rows, row.holdout_rows) == (meta["training_rows"], held)
    assert row.holdout_metrics is not None
    assert row.holdout_metrics["overall"]["true_positives"] + row.holdout_metrics["overall"][
        "false_positives"] == held
    assert event.username == "lab.director"
    assert f"registered as candidate {row.id}" in result.stdout
    assert row.check_note and row.check_note in result.stdout
    assert row.check_passed == row.check_note.startswith("kept all")


def test_train_from_db_without_outcomes_is_refused_and_writes_nothing(settings, engine,
                                                                     tmp_path):
    out = tmp_path / "model.joblib"
    result = nbs_here("second-tier", "train", "--from-db", "--out", str(out),
                      env={"NBS_DATABASE_URL": settings.database_url})
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "no case has a recorded diagnosis yet" in result.stderr
    assert not out.exists()
    with Session(engine) as session:
        assert session.exec(select(ModelRecord)).all() == []
