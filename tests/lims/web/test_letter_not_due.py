"""The case page offers a new recall letter only while one is due: past the recall (the
diagnosis recorded) it says so instead of showing the form."""

from __future__ import annotations

from tests.lims.documents.test_letter_case_state import hand_opened_case
from tests.lims.followup.test_cases import _clinic
from tests.lims.followup.test_outcomes_missed import _confirm
from tests.lims.web.conftest import sign_in_page


def test_the_letter_form_is_offered_until_the_diagnosis(client, world, web):
    case_id = hand_opened_case(client, world)
    sign_in_page(web, "follow_up")
    before = web.get(f"/followup/cases/{case_id}")
    assert before.status_code == 200
    assert 'id="letter-form"' in before.text and 'id="letter-not-due"' not in before.text
    _confirm(client, world, case_id, _clinic(client, world, "METAB", world.users["clinic"]),
             "PKU")
    after = web.get(f"/followup/cases/{case_id}")
    assert 'id="letter-not-due"' in after.text and 'id="letter-form"' not in after.text
