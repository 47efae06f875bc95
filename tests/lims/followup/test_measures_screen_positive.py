"""The programme measures count one cohort of screen positives: a case opened by hand on a card
the screen flagged for it counts in recall, PPV and the confirmed cases like a referral; a
confirmed case opened by hand on a card the screen did not flag is a case the screen missed
(``missed_cases``), not a confirmed screen positive, nor in the age at diagnosis. On SQLite
and PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session

from lims.followup.programme import computed_measures
from lims.models import utcnow
from tests.lims.followup.test_cases import _clinic
from tests.lims.followup.test_outcomes_missed import _confirm
from tests.lims.helpers import API, accession, card, flagged_card, upload
from tests.lims.plates import plate_csv


def test_cases_opened_by_hand_are_screen_positives_or_missed_cases(client, world, engine):
    flagged = flagged_card(client, world)  # MSUD flagged, not yet reviewed
    normal = accession(client, world, 2)[2]
    assert upload(client, world, "p-n.csv", plate_csv("P-N", {card(2): {}})).status_code == 201
    fu = world.auth("follow_up")
    for specimen, disorder in ((flagged, "MSUD"), (normal, "PKU")):
        opened = client.post(f"{API}/cases", json={"specimen_id": specimen["id"],
                                                   "suspected": [disorder]}, headers=fu)
        assert opened.status_code == 201, opened.text
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"])
    cases = {c["specimen_id"]: c["id"] for c in client.get(f"{API}/cases", headers=fu).json()}
    _confirm(client, world, cases[flagged["id"]], clinic_id, "MSUD")
    _confirm(client, world, cases[normal["id"]], clinic_id, "PKU")
    month = f"{utcnow():%Y-%m}"
    got = client.get(f"{API}/programme/measures", params={"month": month}, headers=fu)
    assert got.status_code == 200, got.text
    body = got.json()
    m = body["programme"]
    assert body["indicators_version"] == "2025.4"
    assert (m["confirmed_cases"]["value"], m["missed_cases"]["value"]) == (1.0, 1.0)
    assert (m["ppv"]["numerator"], m["ppv"]["n"], m["ppv"]["value"]) == (1, 1, 100.0)
    assert m["time_to_diagnosis"]["n"] == 1
    assert m["recall_rate"]["numerator"] == 1  # the flagged baby, recalled by hand
    assert m["false_positive_rate"]["numerator"] == 0
    with Session(engine) as session:
        assert computed_measures(session, utcnow().date()).confirmed_by_disorder == {"MSUD": 1}
    assert body["by_disorder"]["PKU"]["missed_cases"]["value"] == 1.0
    assert body["by_disorder"]["PKU"]["confirmed_cases"]["value"] == 0.0
