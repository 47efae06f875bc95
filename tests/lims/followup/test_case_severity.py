"""A diagnosis records the case's severity, on SQLite and PostgreSQL: ``nbs cases move ...
diagnose`` refuses a confirmed disorder without a severity and a severity with any other
outcome (exit 3 naming ``severity``, nothing stored), and records it when given; the API
returns it with the diagnosis."""

from __future__ import annotations

from sqlmodel import Session, select

from lims.models import Diagnosis, FollowUpCase
from tests.lims.followup.test_cases import _clinic, _move
from tests.lims.helpers import API, decide, flagged_card, nbs_here


def test_a_confirmed_diagnosis_records_its_severity(client, world, engine, settings):
    specimen = flagged_card(client, world)
    decide(client, world, specimen["id"], "refer")
    fu = world.auth("follow_up")
    case_id = client.get(f"{API}/cases", headers=fu).json()[0]["id"]
    assert client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached"},
        headers=fu).status_code == 201
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"])
    assert _move(client, world, case_id, "follow_up", transition="refer",
                 clinic_id=clinic_id).status_code == 200
    env = {"NBS_DATABASE_URL": settings.database_url}

    def move(*args: str):  # type: ignore[no-untyped-def]
        return nbs_here("cases", "move", str(case_id), "diagnose", *args, "--actor", "clinician",
                        env=env)

    for args, why in ((("--outcome", "confirmed", "--disorder", "MSUD"),
                       "a confirmed diagnosis gives the case's severity: mild, moderate, severe"),
                      (("--outcome", "false_positive", "--severity", "mild"),
                       "a severity is given only with a confirmed disorder")):
        refused = move(*args)
        assert refused.returncode == 3 and "field severity" in refused.stderr, refused.stderr
        assert why in refused.stderr
    assert move("--outcome", "confirmed", "--disorder", "MSUD", "--severity", "grave") \
        .returncode != 0
    with Session(engine) as session:
        assert session.exec(select(Diagnosis)).all() == []
        case = session.get(FollowUpCase, case_id)
        assert case is not None and case.state == "referred"

    done = move("--outcome", "confirmed", "--disorder", "MSUD", "--severity", "mild")
    assert done.returncode == 0, done.stderr
    with Session(engine) as session:
        (diagnosis,) = session.exec(select(Diagnosis)).all()
    assert (diagnosis.outcome, diagnosis.disorder, diagnosis.severity) == (
        "confirmed", "MSUD", "mild")
    detail = client.get(f"{API}/cases/{case_id}", headers=fu).json()
    assert detail["state"] == "diagnosed"
    assert [(d["outcome"], d["severity"]) for d in detail["diagnoses"]] == [("confirmed", "mild")]
    # a severity with another transition is refused too
    treated = _move(client, world, case_id, "clinic", transition="start_treatment",
                    description="leucine-free formula", severity="mild")
    assert treated.status_code == 422 and "severity" in treated.text
