"""``nbs simulate plate --lims-cards FILE --submitter CODE``: a new user can take a simulated
plate through the LIMS: the card CSV imports (each baby with a mother's name, so that pages name
it), and every patient well of the uploaded plate is attached to its card (none held for an
unknown barcode)."""

from __future__ import annotations

import pandas as pd
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from lims.app import create_app
from lims.models import Infant
from lims.pipeline import ScreeningPipeline
from lims.reference import barcode_rule
from tests.lims.helpers import API, nbs_here


def test_a_simulated_plate_with_its_card_csv_goes_through_the_lims(settings, engine, world,
                                                                   tmp_path):
    plate, cards = tmp_path / "plate.txt", tmp_path / "cards.csv"
    made = nbs_here("simulate", "plate", "--format", "masslynx", "--seed", "12", "--out",
                    str(plate), "--lims-cards", str(cards), "--submitter", "NORTH")
    assert made.returncode == 0, made.stderr
    rows = pd.read_csv(cards, dtype=str, keep_default_na=False)
    assert len(rows) == 89 and rows["barcode"].is_unique and set(rows["submitter"]) == {"NORTH"}
    rule = barcode_rule()
    assert all(rule.validate(b) == b for b in rows["barcode"])
    text = plate.read_text(encoding="utf-8")
    assert all(barcode in text for barcode in rows["barcode"])  # the wells carry them
    app = create_app(settings, engine, pipeline=ScreeningPipeline())
    with TestClient(app) as client:
        imported = client.post(f"{API}/hl7/cards", files={"file": ("cards.csv", cards.read_bytes(),
                                                                   "text/csv")},
                               headers=world.auth("technician"))
        assert imported.status_code == 201, imported.text
        assert imported.json()["created"] == 89
        with Session(engine) as session:
            mothers = set(session.exec(select(Infant.mother_name)).all())
        assert {f"Mother {int(n)}" for n in rows["mother_given_name"]} <= mothers
        run = client.post(f"{API}/runs", files={"file": (plate.name, plate.read_bytes())},
                          headers=world.auth("technician"))
        assert run.status_code == 201, run.text
        assert run.json()["n_held"] == 0 and run.json()["n_results"] > 89 * 30


def test_cards_need_a_submitter(tmp_path):
    made = nbs_here("simulate", "plate", "--format", "masslynx", "--seed", "12", "--out",
                    str(tmp_path / "p.txt"), "--lims-cards", str(tmp_path / "c.csv"))
    assert made.returncode == 2 and "--submitter" in made.stderr
    assert not (tmp_path / "c.csv").exists()
