"""A withdrawn alert records its withdrawal in columns of its own, on SQLite and PostgreSQL:
who withdrew it, when and why, with the acknowledgement columns left to a person's
acknowledgement; the API and the alerts page (English and Chinese) show each as what it is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.app import create_app
from lims.models import Alert
from tests.lims.helpers import API, accession, card, upload
from tests.lims.plates import CsvPipeline, plate_csv
from tests.lims.web.conftest import sign_in_page


@pytest.fixture
def web(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=CsvPipeline())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


def withdrawn_and_acknowledged(client, world, engine) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Two time-critical alerts from plate P-W: the first acknowledged by Dr Zhou, the second
    withdrawn with the plate; their ids."""
    cards = accession(client, world, 21, 22)
    run = upload(client, world, "w.csv", plate_csv("P-W", {card(21): {"Xle": 900},
                                                           card(22): {"Xle": 800}})).json()
    with Session(engine) as session:
        ids = {a.specimen_id: a.id for a in session.exec(select(Alert))}
    first, second = ids[cards[21]["id"]], ids[cards[22]["id"]]
    taken = client.post(f"{API}/alerts/{first}/acknowledge",
                        json={"full_name": "Dr Zhou", "note": "called the ward"},
                        headers=world.auth("reviewer"))
    assert taken.status_code == 200, taken.text
    done = client.post(f"{API}/runs/{run['id']}/withdrawal", json={"reason": "plate swapped"},
                       headers=world.auth("technician"))
    assert done.status_code == 200, done.text
    assert done.json()["alerts_withdrawn"] == [second]
    return first, second


def test_a_withdrawal_is_recorded_apart_from_acknowledgements(web, world, engine):
    first, second = withdrawn_and_acknowledged(web, world, engine)
    with Session(engine) as session:
        acknowledged, withdrawn = session.get(Alert, first), session.get(Alert, second)
    assert acknowledged is not None and withdrawn is not None
    assert (acknowledged.status, acknowledged.acknowledged_by_name,
            acknowledged.acknowledgement_note, acknowledged.withdrawn_by_name,
            acknowledged.withdrawn_at) == ("acknowledged", "Dr Zhou", "called the ward", "",
                                           None)
    assert (withdrawn.status, withdrawn.withdrawn_by, withdrawn.withdrawn_by_name,
            withdrawn.withdrawal_reason) == ("withdrawn", world.users["technician"].id,
                                             "technician", "plate P-W withdrawn: plate swapped")
    assert withdrawn.withdrawn_at is not None
    assert (withdrawn.acknowledged_by, withdrawn.acknowledged_by_name, withdrawn.acknowledged_at,
            withdrawn.acknowledgement_note) == (None, "", None, "")

    shown = {a["id"]: a for status in ("acknowledged", "withdrawn") for a in web.get(
        f"{API}/alerts", params={"status": status}, headers=world.auth("reviewer")).json()}
    assert (shown[second]["withdrawn_by_name"], shown[second]["withdrawal_reason"],
            shown[second]["acknowledged_by_name"], shown[second]["acknowledged_at"]) == (
        "technician", "plate P-W withdrawn: plate swapped", "", None)
    assert shown[second]["withdrawn_at"] is not None
    assert (shown[first]["acknowledged_by_name"], shown[first]["withdrawn_by_name"],
            shown[first]["withdrawn_at"]) == ("Dr Zhou", "", None)
    refused = web.post(f"{API}/alerts/{second}/acknowledge", json={"full_name": "Dr Wang"},
                       headers=world.auth("reviewer"))
    assert refused.status_code == 409
    assert refused.json()["detail"] == (f"alert {second} was withdrawn with its plate: "
                                        "plate P-W withdrawn: plate swapped")


def test_the_alerts_page_shows_a_withdrawal_as_one(web, world, engine):
    withdrawn_and_acknowledged(web, world, engine)
    sign_in_page(web, "reviewer")
    english = web.get("/lab/alerts")
    assert english.status_code == 200
    assert "Acknowledged or withdrawn by" in english.text
    assert "withdrawn by technician, " in english.text
    assert ": plate P-W withdrawn: plate swapped</span>" in english.text
    assert "acknowledged by Dr Zhou, " in english.text
    chinese = web.get("/lab/alerts", headers={"Accept-Language": "zh-CN"})
    assert "确认或撤回人" in chinese.text
    assert "由 technician 于 " in chinese.text and " 撤回：plate P-W withdrawn" in chinese.text
