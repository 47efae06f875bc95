"""Labelled outcomes are the screen positives: a case opened by hand on a card the first
tier read as normal, confirmed, is a case the first tier missed; ``nbs outcomes export``
leaves it out of the labelled table and counts it. On SQLite and PostgreSQL."""

from __future__ import annotations

import pandas as pd
from sqlmodel import Session

from lims.followup.outcomes import labelled_and_missed
from tests.lims.followup.test_cases import _clinic, _move
from tests.lims.helpers import API, accession, card, decide, flagged_card, nbs_here, upload
from tests.lims.plates import plate_csv


def _confirm(client, world, case_id, clinic_id, disorder):  # type: ignore[no-untyped-def]
    contact = client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached"},
        headers=world.auth("follow_up"))
    assert contact.status_code == 201, contact.text
    assert _move(client, world, case_id, "follow_up", transition="refer",
                 clinic_id=clinic_id).status_code == 200
    done = _move(client, world, case_id, "clinic", transition="diagnose", outcome="confirmed",
                 disorder=disorder, severity="moderate", confirmatory_tests="plasma amino acids")
    assert done.status_code == 200, done.text


def found_and_missed(client, world) -> None:  # type: ignore[no-untyped-def]
    """Two confirmed cases: MSUD on a flagged card referred by the reviewer (a screen
    positive), PKU found clinically on a card the first tier read as normal (a missed case)."""
    flagged = flagged_card(client, world)
    decide(client, world, flagged["id"], "refer")
    normal = accession(client, world, 2)[2]
    assert upload(client, world, "p-n.csv", plate_csv("P-N", {card(2): {}})).status_code == 201
    by_hand = client.post(f"{API}/cases", json={"specimen_id": normal["id"],
                                                "suspected": ["PKU"], "note": "clinical"},
                          headers=world.auth("follow_up"))
    assert by_hand.status_code == 201, by_hand.text
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"])
    cases = {c["specimen_id"]: c["id"]
             for c in client.get(f"{API}/cases", headers=world.auth("follow_up")).json()}
    _confirm(client, world, cases[flagged["id"]], clinic_id, "MSUD")
    _confirm(client, world, cases[normal["id"]], clinic_id, "PKU")


def test_a_confirmed_case_the_first_tier_missed_is_counted_not_labelled(
        client, world, engine, settings, tmp_path):
    found_and_missed(client, world)
    with Session(engine) as session:
        table, missed = labelled_and_missed(session)
    assert missed == 1
    assert list(zip(table["specimen_id"], table["disorder"], table["outcome"],
                    table["first_tier"], strict=True)) == [
        (card(1), "MSUD", "true_positive", "critical")]
    out = tmp_path / "labelled.csv"
    exported = nbs_here("outcomes", "export", "--out", str(out),
                        env={"NBS_DATABASE_URL": settings.database_url})
    assert exported.returncode == 0, exported.stderr
    assert "1 suspected disorder(s) of cases whose card was not flagged" in exported.stderr
    assert pd.read_csv(out, dtype=str)["disorder"].tolist() == ["MSUD"]
