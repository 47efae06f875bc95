"""The JSON of a recall letter (``GET /cases/{id}/letter``) quotes what the letter quotes: a
card nobody has reviewed gives neither its values nor its calls (the result is pending); once
the reviewer releases it, both; a card released as normal gives its values and no call. On
SQLite and PostgreSQL."""

from __future__ import annotations

from tests.lims.documents.test_letter_case_state import hand_opened_case
from tests.lims.helpers import API, decide, flagged_card


def _view(client, world, case_id):  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/cases/{case_id}/letter", headers=world.auth("follow_up"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_card_awaiting_review_is_not_quoted_until_it_is_released(client, world):
    flagged = flagged_card(client, world)  # Xle 900, nobody has reviewed it
    opened = client.post(f"{API}/cases", json={"specimen_id": flagged["id"],
                                               "suspected": ["MSUD"]},
                         headers=world.auth("follow_up"))
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    pending = _view(client, world, case_id)
    assert pending["values_umol_l"] == {}
    assert pending["calls"] == []
    assert pending["result_pending"] is True
    assert [d["code"] for d in pending["suspected"]] == ["MSUD"]
    decide(client, world, flagged["id"], "refer")
    released = _view(client, world, case_id)
    assert released["result_pending"] is False
    assert released["values_umol_l"]["Xle"] == 900.0
    assert [(c["disorder"], c["final"]) for c in released["calls"]] == [("MSUD", "positive")]


def test_a_card_released_as_normal_gives_its_values_and_no_call(client, world):
    case_id = hand_opened_case(client, world)
    view = _view(client, world, case_id)
    assert view["calls"] == []
    assert view["values_umol_l"]  # the card's values, against which the letter sets the rule
    assert view["result_pending"] is False
