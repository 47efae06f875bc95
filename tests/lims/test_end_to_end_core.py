"""End to end through HTTP and the real screening core (instruments -> msms -> cutoffs), each
role signed in with its password: the technician accessions a cohort's cards and uploads a
simulated MassLynx plate, re-runs the out-of-range cards in duplicate on a quandata plate with
new cards, follow-up acknowledges the time-critical alerts, the reviewer releases the normals and
decides every flagged card, and the submitter reads its own babies' results only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
from fastapi.testclient import TestClient

from lims.app import create_app
from lims.demo import simulated_plate_file
from lims.pipeline import ScreeningPipeline
from msms.population import simulate_cohort
from tests.lims.conftest import PASSWORD
from tests.lims.helpers import card, sign_in, sign_off_plates

API = "/api/v1"
BORN = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _accession(client, tech, cohort: pd.DataFrame, first: int, submitters: list[int]
               ) -> pd.DataFrame:
    """One card per cohort row, through the API; returns the cohort with barcodes and ids."""
    cohort = cohort.copy()
    cohort["tpn"], cohort["transfused"] = 0, 0
    barcodes, ids = [], []
    for i, row in enumerate(cohort.itertuples(index=False)):
        birth = BORN + timedelta(minutes=41 * i)
        collected = birth + timedelta(hours=float(row.age_at_collection_hours))
        weight = int(row.birth_weight_g) if 200 <= row.birth_weight_g <= 7000 else None
        ga = float(row.gestational_age_weeks) if 20 <= row.gestational_age_weeks <= 45 else None
        submitter = submitters[i % len(submitters)]
        barcode = card(first + i)
        response = client.post(f"{API}/specimens", headers=tech, json={
            "barcode": barcode, "submitter_id": submitter,
            "collected_at": collected.isoformat(),
            "received_at": (collected + timedelta(days=2)).isoformat(),
            "birth_weight_g": weight, "gestational_age_weeks": ga,
            "infant": {"submitter_id": submitter, "birth_at": birth.isoformat(),
                       "sex": row.sex if row.sex in ("M", "F") else "U",
                       "birth_weight_g": weight, "gestational_age_weeks": ga,
                       "mother_name": f"Mother {first + i}", "mother_id": f"M{first + i}"}})
        assert response.status_code == 201, response.text
        barcodes.append(barcode)
        ids.append(response.json()["id"])
    cohort["specimen_id"], cohort["card_id"] = barcodes, ids
    return cohort


def _by_state(client, admin, state: str) -> set[str]:
    rows = client.get(f"{API}/specimens", params={"state": state, "limit": 500}, headers=admin)
    assert rows.status_code == 200, rows.text
    return {s["barcode"] for s in rows.json()}


def test_plates_from_cards_to_released_results_through_the_real_core(settings, engine, world,
                                                                      tmp_path):
    app = create_app(settings, engine, pipeline=ScreeningPipeline())
    with TestClient(app) as client:
        tech, reviewer, follow_up, clerk, admin = (
            sign_in(client, role, PASSWORD)
            for role in ("technician", "reviewer", "follow_up", "submitter", "admin"))
        north, south = world.submitter_ids

        # technician: 89 cards from two hospitals, then the first plate (MassLynx)
        first = _accession(client, tech, simulate_cohort(89, seed=5, disorder_rate=0.08),
                           1000, [north, south])
        plate = simulated_plate_file(first, seed=5, fmt="masslynx", plate_id="E2E-1",
                                     folder=tmp_path)
        run = client.post(f"{API}/runs", headers=tech,
                          files={"file": (plate.name, plate.read_bytes())})
        assert run.status_code == 201, run.text
        assert run.json()["qc_decision"] in {"accept", "accept_with_warnings"}
        assert (run.json()["n_results"], run.json()["n_held"]) == (89 * 48, 0)
        worklist = client.get(f"{API}/worklists/duplicates", headers=tech).json()
        duplicates = {w["barcode"] for w in worklist}
        assert duplicates and duplicates == _by_state(client, admin, "awaiting_duplicate")
        assert _by_state(client, admin, "accessioned") == set()

        # follow-up: every time-critical alert is open until a named person acknowledges it
        alerts = client.get(f"{API}/alerts", params={"status": "open"}, headers=follow_up).json()
        assert alerts, "this cohort has time-critical positives"
        for alert in alerts:
            ack = client.post(f"{API}/alerts/{alert['id']}/acknowledge", headers=follow_up,
                              json={"full_name": "Lin Hua, RN", "note": "clinic called"})
            assert ack.status_code == 200 and ack.json()["acknowledged_by_name"] == "Lin Hua, RN"
        assert client.get(f"{API}/alerts", params={"status": "open"},
                          headers=follow_up).json() == []

        # technician: the second plate (quandata): each out-of-range card twice, and new cards
        again = first[first["specimen_id"].isin(duplicates)]
        new = _accession(client, tech, simulate_cohort(89 - 2 * len(again), seed=105,
                                                       disorder_rate=0.0), 5000, [north])
        second = simulated_plate_file(pd.concat([again, again, new], ignore_index=True),
                                      seed=55, fmt="quandata", plate_id="E2E-2",
                                      folder=tmp_path)
        run2 = client.post(f"{API}/runs", headers=tech,
                           files={"file": (second.name, second.read_bytes())})
        assert run2.status_code == 201, run2.text
        assert run2.json()["n_held"] == 0
        # the duplicates are done; only new cards of this plate may be on the worklist now
        worklist = client.get(f"{API}/worklists/duplicates", headers=tech).json()
        assert {w["source_run_id"] for w in worklist} <= {run2.json()["id"]}
        assert duplicates <= _by_state(client, admin, "awaiting_review")
        assert {w["barcode"] for w in worklist} == _by_state(client, admin, "awaiting_duplicate")

        # reviewer: the flagged cards with their values, percentiles and calls
        queue = client.get(f"{API}/review/queue", params={"limit": 500}, headers=reviewer)
        assert queue.status_code == 200, queue.text
        flagged = queue.json()
        assert flagged
        for item in flagged:
            assert len(item["values_umol_l"]) == 48 and item["percentiles"]
            assert item["calls"] and all(c["reasons"] and c["cutoff_version"]
                                         for c in item["calls"])
            if item["barcode"] in duplicates:  # the mean of the duplicates decided
                assert {c["stage"] for c in item["calls"]} == {"duplicate"}
        waiting = _by_state(client, admin, "awaiting_review")
        sign_off_plates(client, tech)
        released = client.post(f"{API}/review/release-normals", headers=reviewer,
                               json={"password": PASSWORD})
        assert released.status_code == 200, released.text
        assert len(released.json()["released_specimen_ids"]) == len(waiting) - len(flagged)
        assert _by_state(client, admin, "awaiting_review") == {i["barcode"] for i in flagged}
        for item in flagged:
            critical = any(c["time_critical"] and c["final"] == "positive"
                           for c in item["calls"])
            decision = "refer" if critical else "request_repeat_specimen"
            assert decision in item["allowed_decisions"]
            response = client.post(f"{API}/specimens/{item['specimen_id']}/decisions",
                                   headers=reviewer, json={"decision": decision,
                                                           "reason": "reviewed",
                                                           "password": PASSWORD})
            assert response.status_code == 201, response.text
        assert client.get(f"{API}/review/queue", headers=reviewer).json() == []

        # submitter: its own babies only, with their released results
        mine = client.get(f"{API}/specimens", params={"limit": 500}, headers=clerk).json()
        north_cards = set(first["specimen_id"][::2]) | set(new["specimen_id"])
        assert {s["barcode"] for s in mine} == north_cards
        own = first.iloc[0]
        outcomes = client.get(f"{API}/specimens/{own['card_id']}/releases", headers=clerk)
        assert outcomes.status_code == 200 and len(outcomes.json()) == 1
        other = first.iloc[1]  # a South card
        assert client.get(f"{API}/specimens/{other['card_id']}/releases",
                          headers=clerk).status_code == 404
        assert client.get(f"{API}/review/queue", headers=clerk).status_code == 403
