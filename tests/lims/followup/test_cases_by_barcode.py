"""The command line names cards by their barcode, as every page does: ``nbs cases open
--specimen`` takes the barcode (or the specimen id), and ``nbs alerts list`` prints the
card's barcode, not its database id."""

from __future__ import annotations

from tests.lims.helpers import API, accession, card, nbs_here, upload
from tests.lims.plates import plate_csv


def test_a_case_is_opened_by_barcode_and_alerts_name_their_card(client, world, settings):
    cards = accession(client, world, 1, 2)
    assert upload(client, world, "p.csv", plate_csv("BC-1", {card(1): {"Xle": 950},
                                                             card(2): {}})).status_code == 201
    env = {"NBS_DATABASE_URL": settings.database_url}
    listed = nbs_here("alerts", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert card(1) in listed.stdout and "card" in listed.stdout.splitlines()[0]
    opened = nbs_here("cases", "open", "--specimen", card(2), "--suspected", "PKU",
                      "--note", "clinical suspicion", "--actor", "coordinator", env=env)
    assert opened.returncode == 0, opened.stderr
    cases = client.get(f"{API}/cases", headers=world.auth("follow_up")).json()
    assert [(c["specimen_id"], c["suspected"]) for c in cases
            if c["specimen_id"] == cards[2]["id"]] == [(cards[2]["id"], ["PKU"])]
    unknown = nbs_here("cases", "open", "--specimen", "999999999", "--suspected", "PKU",
                       "--actor", "coordinator", env=env)
    assert unknown.returncode == 3 and "no card with barcode '999999999'" in unknown.stderr
