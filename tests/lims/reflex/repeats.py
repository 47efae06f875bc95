"""Steps the repeat-specimen tests share: accession a repeat naming its earlier card, upload a
first-tier plate, run a second-tier run, read a card's current reflex decisions and state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from lims.models import ReflexDecisionRecord, Specimen
from tests.lims.helpers import API, card, specimen_body, upload
from tests.lims.reflex.plates import first_tier_plate, second_tier_export


def decisions(engine, barcode: str) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Group -> (decision, reason code) of the card's current reflex decisions."""
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == barcode)).one()
        rows = session.exec(select(ReflexDecisionRecord).where(
            ReflexDecisionRecord.specimen_id == specimen.id,
            col(ReflexDecisionRecord.current).is_(True)))
        return {r.group_code: (r.decision, r.reason_code) for r in rows}


def specimen(engine, barcode: str) -> Specimen:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(Specimen).where(Specimen.barcode == barcode)).one()


def repeat_of(client, world, n: int, first: int) -> None:  # type: ignore[no-untyped-def]
    """Accession card ``n`` naming card ``first`` as its earlier card."""
    body = specimen_body(card(n), world.submitter_ids[0], previous_barcode=card(first))
    response = client.post(f"{API}/specimens", json=body, headers=world.auth("technician"))
    assert response.status_code == 201, response.text


def plate(client, world, plate_id: str, cards: dict[int, dict[str, float]]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Upload first-tier plate ``plate_id`` with these cards (number -> values); its run."""
    data = first_tier_plate(plate_id, {card(n): v for n, v in cards.items()})
    response = upload(client, world, f"{plate_id}.csv", data)
    assert response.status_code == 201, response.text
    return dict(response.json())


def second_tier_run(client, world, directory: Path, plate_id: str,  # type: ignore[no-untyped-def]
                    values: dict[int, dict[str, float]], seed: int = 5) -> dict[str, Any]:
    """Import a second-tier run of these cards (number -> assay -> µmol/L); its run."""
    export = second_tier_export(directory, {card(n): v for n, v in values.items()},
                                plate_id=plate_id, seed=seed)
    response = client.post(f"{API}/second-tier-runs",
                           files={"file": (f"{plate_id}.txt", export, "text/plain")},
                           headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    return dict(response.json())
