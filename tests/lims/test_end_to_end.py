"""End to end through HTTP, each role signing in with its password: accession cards, upload a
plate, re-test in duplicate, review, release, acknowledge the alert, the submitter reads the
result."""

from __future__ import annotations

from tests.lims.conftest import PASSWORD
from tests.lims.helpers import API, card, sign_in, sign_off_plates, specimen_body
from tests.lims.plates import plate_csv


def test_a_plate_from_card_to_released_result(client, world):
    admin = sign_in(client, "admin", PASSWORD)
    hospital = client.post(f"{API}/submitters", json={"code": "EAST", "name": "East Hospital",
                                                      "district": "East"}, headers=admin)
    east = hospital.json()["id"]
    for username, role in (("lab.wu", "technician"), ("dr.chen", "reviewer"),
                           ("nurse.lin", "follow_up"), ("east.clerk", "submitter")):
        body = {"username": username, "full_name": username.title(), "role": role,
                "password": f"{username}-long-password"}
        if role == "submitter":
            body["submitter_id"] = east
        assert client.post(f"{API}/users", json=body, headers=admin).status_code == 201
    tech = sign_in(client, "lab.wu", "lab.wu-long-password")
    reviewer_password = "dr.chen-long-password"
    reviewer = sign_in(client, "dr.chen", reviewer_password)
    follow_up = sign_in(client, "nurse.lin", "nurse.lin-long-password")
    clerk = sign_in(client, "east.clerk", "east.clerk-long-password")

    # technician: accession four cards, one of them unsatisfactory
    ids = {}
    for n in (1, 2, 3, 4):
        response = client.post(f"{API}/specimens", json=specimen_body(card(n), east),
                               headers=tech)
        assert response.status_code == 201, response.text
        ids[n] = response.json()["id"]
    assert client.post(f"{API}/specimens/{ids[4]}/unsatisfactory", json={"code": "U01"},
                       headers=tech).status_code == 200

    # technician: the first plate; card 2 is high (duplicates), card 3 time-critical
    first = client.post(f"{API}/runs", headers=tech, files={"file": ("plate-1.csv", plate_csv(
        "E-1", {card(1): {}, card(2): {"Phe": 180}, card(3): {"Xle": 950},
                card(4): {}}))})
    assert first.status_code == 201, first.text
    assert first.json()["n_held"] == 1  # the unsatisfactory card was punched by mistake
    worklist = client.get(f"{API}/worklists/duplicates", headers=tech).json()
    assert [w["barcode"] for w in worklist] == [card(2)]

    # follow-up: the time-critical alert is open; a named person acknowledges it
    [alert] = client.get(f"{API}/alerts?status=open", headers=follow_up).json()
    assert alert["disorder"] == "MSUD"
    ack = client.post(f"{API}/alerts/{alert['id']}/acknowledge", headers=follow_up,
                      json={"full_name": "Lin Hua, RN", "note": "clinic called"})
    assert ack.status_code == 200

    # technician: duplicates of card 2 (mean 175 stays positive)
    second = client.post(f"{API}/runs", headers=tech, files={"file": ("plate-2.csv", plate_csv(
        "E-2", [(card(2), {"Phe": 170}), (card(2), {"Phe": 180})]))})
    assert second.status_code == 201
    assert client.get(f"{API}/worklists/duplicates", headers=tech).json() == []

    # reviewer: the queue has cards 2 and 3 with their reasons; decide and release
    queue = client.get(f"{API}/review/queue", headers=reviewer).json()
    assert {(q["barcode"], q["calls"][0]["reasons"]) for q in queue} == {
        (card(2), "Phe=175>120"), (card(3), "Xle=950>400")}
    sign_off_plates(client, tech)
    released = client.post(f"{API}/review/release-normals", headers=reviewer,
                           json={"password": reviewer_password})
    assert released.json()["released_specimen_ids"] == [ids[1]]
    for n, decision in ((2, "refer"), (3, "refer")):
        response = client.post(f"{API}/specimens/{ids[n]}/decisions", headers=reviewer, json={
            "decision": decision, "reason": "confirmatory testing", "password":
            reviewer_password})
        assert response.status_code == 201, response.text

    # submitter: sees its own babies' released results, and nobody else's
    mine = client.get(f"{API}/specimens", headers=clerk).json()
    assert sorted(s["barcode"] for s in mine) == sorted(card(n) for n in (1, 2, 3, 4))
    outcomes = {n: [r["outcome"] for r in client.get(
        f"{API}/specimens/{ids[n]}/releases", headers=clerk).json()] for n in (1, 2, 3)}
    assert outcomes == {1: ["normal"], 2: ["referred"], 3: ["referred"]}
    assert client.get(f"{API}/review/queue", headers=clerk).status_code == 403
    repeat = client.get(f"{API}/repeat-requests", headers=clerk).json()
    assert [r["specimen_id"] for r in repeat] == [ids[4]]
