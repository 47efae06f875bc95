"""The labelled outcomes and the programme's measures tell a screen positive by one flag test
(``repository.flagged_disorders``): a case opened by hand is labelled for a disorder exactly
when the measures count it a screen positive, and a disorder its card was not flagged for is
a missed one in both. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from lims.followup.measures import month_of
from lims.followup.outcomes import labelled_and_missed
from lims.followup.programme import month_case_rows
from tests.lims.followup.test_cases import _clinic
from tests.lims.followup.test_outcomes_missed import _confirm
from tests.lims.helpers import API, accession, card, flagged_card, upload
from tests.lims.plates import plate_csv


def _open(client, world, specimen_id, suspected):  # type: ignore[no-untyped-def]
    opened = client.post(f"{API}/cases", json={"specimen_id": specimen_id,
                                                "suspected": suspected, "note": "by hand"},
                         headers=world.auth("follow_up"))
    assert opened.status_code == 201, opened.text
    return opened.json()["id"]


def test_labelled_outcomes_and_measures_flag_the_same_disorders(client, world, engine):
    flagged = flagged_card(client, world)  # flagged for MSUD, nobody has reviewed it
    on_flag = _open(client, world, flagged["id"], ["MSUD", "PKU"])  # PKU: not flagged
    normal = accession(client, world, 2)[2]
    assert upload(client, world, "p-n.csv", plate_csv("P-N", {card(2): {}})).status_code == 201
    on_normal = _open(client, world, normal["id"], ["PKU"])
    clinic_id = _clinic(client, world, "METAB", world.users["clinic"])
    _confirm(client, world, on_flag, clinic_id, "MSUD")
    _confirm(client, world, on_normal, clinic_id, "PKU")
    with Session(engine) as session:
        labelled, missed = labelled_and_missed(session)
        rows = {c.id: c for c in month_case_rows(session, month_of(datetime.now(UTC).date()),
                                                 365)}
    assert list(zip(labelled["case_id"], labelled["disorder"], strict=True)) == [
        (on_flag, "MSUD")]
    assert missed == 2  # PKU on the flagged card, PKU on the normal card
    assert (rows[on_flag].screen_positive, rows[on_normal].screen_positive) == (True, False)
    assert {c for c, row in rows.items() if row.screen_positive} == set(labelled["case_id"])
