"""The family letter of a case the follow-up service has referred to a clinic asks the family
to take the baby to the specialist, not for another heel-prick test, whatever opened the case
(here a repeat request); in English and in Chinese. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.lims.followup.test_cases import _clinic, _move
from tests.lims.helpers import API, decide, flagged_card
from tests.reports.pdfcheck import page_texts, squash


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_a_referred_case_asks_for_the_specialist_not_a_repeat_card(client, world, language):
    specimen = flagged_card(client, world, plate="P-R")
    decide(client, world, specimen["id"], "request_repeat_specimen")
    fu = world.auth("follow_up")
    case_id = client.get(f"{API}/cases", headers=fu).json()[0]["id"]
    reached = client.post(f"{API}/cases/{case_id}/contacts", json={
        "method": "phone", "contacted": "mother", "result": "reached"}, headers=fu)
    assert reached.status_code == 201, reached.text
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"])
    referred = _move(client, world, case_id, "follow_up", transition="refer",
                     clinic_id=clinic_id)
    assert referred.status_code == 200, referred.text
    letter = client.post(f"{API}/documents/letters", headers=fu,
                         json={"case_id": case_id, "audience": "family",
                               "language": language})
    assert letter.status_code == 201, letter.text
    text = squash(" ".join(page_texts(letter.content)))
    if language == "en":
        assert squash("to see a specialist doctor") in text, text
        assert squash("heel-prick") not in text
    else:
        assert squash("看专科医生") in text, text
        assert squash("足跟血") not in text
