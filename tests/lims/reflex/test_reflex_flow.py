"""The reflex second tier in the LIMS: a flagged card waits on the reflex worklist, the
second-tier run is read by the instrument readers and decides it again (stored, audited),
re-import is idempotent, a bad file stores nothing, and results past a bypass level never
wait (docs/second_tier.md "In the LIMS"). On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session, col, select

from lims.models import (
    AuditEvent,
    ReflexDecisionRecord,
    ReflexRequest,
    SecondTierResult,
    SecondTierRun,
    Specimen,
)
from tests.conftest import ROOT
from tests.lims.helpers import API, accession, card, count, upload
from tests.lims.reflex.plates import first_tier_plate, second_tier_export

FIXTURE = ROOT / "tests" / "data" / "instruments" / "synthetic" / "second_tier_panel_masslynx.txt"
#: what the fixture was simulated from (``second_tier_export(dir, FIXTURE_VALUES)``): card ->
#: second-tier true values, the other assays at their reference median
FIXTURE_VALUES = {
    card(1): {"SUAC-2T": 0.4},                 # normal: clears a TYR1-only flag
    card(2): {"aIle": 6.0},                    # MSUD: referral
    card(6): {},                               # C3 assays normal: clear
    card(7): {"MMA": 9.0, "tHcy": 22.0},       # maternal B12 pattern
    card(3): {},                               # not waiting: not stored
}
#: card number -> first-tier values (the other markers normal)
CARDS = {
    1: {"Tyr": 420.0},            # TYR1 positive: waits for succinylacetone
    2: {"Xle": 300.0},            # MSUD positive, time-critical: in review at once, its
                                  # allo-isoleucine still run
    3: {},                        # normal
    4: {"Xle": 520.0},            # MSUD critical: referred at once, never waits
    5: {"C5": 6.0},               # IVA positive with C5 >= 5 (bypass level): never waits
    6: {"C3": 8.0},               # PA positive: waits for MCA, MMA, tHcy
    7: {"C3": 8.0},               # PA positive: waits (maternal B12 pattern on the second tier)
}


def _states(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return {s.barcode: s.state for s in session.exec(select(Specimen))}


def _decisions(engine, barcode: str) -> dict[str, tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == barcode)).one()
        rows = session.exec(select(ReflexDecisionRecord).where(
            ReflexDecisionRecord.specimen_id == specimen.id,
            col(ReflexDecisionRecord.current).is_(True)))
        return {r.group_code: (r.decision, r.reason_code, r.second_tier_run_id) for r in rows}


def _first_tier(client, world, engine) -> None:  # type: ignore[no-untyped-def]
    accession(client, world, *CARDS)
    plate = first_tier_plate("P-REFLEX", {card(n): v for n, v in CARDS.items()})
    response = upload(client, world, "p-reflex.csv", plate)
    assert response.status_code == 201, response.text


def test_flagged_cards_wait_and_bypass_levels_never_do(reflex_client, world, engine):
    _first_tier(reflex_client, world, engine)
    states = _states(engine)
    assert {n: states[card(n)] for n in CARDS} == {
        1: "awaiting_second_tier", 2: "awaiting_review", 3: "awaiting_review",
        4: "awaiting_review", 5: "awaiting_review", 6: "awaiting_second_tier",
        7: "awaiting_second_tier"}
    assert _decisions(engine, card(4)) == {"BCAA": ("referral", "CRITICAL", None)}
    assert _decisions(engine, card(5)) == {"C5": ("referral", "BYPASS", None)}
    assert _decisions(engine, card(1)) == {"TYR": ("awaiting_second_tier", "NO_RESULT", None)}

    listed = reflex_client.get(f"{API}/worklists/reflex", headers=world.auth("technician"))
    assert listed.status_code == 200, listed.text
    rows = listed.json()
    # time-critical first (MSUD: in review already, its assay still to run), then the oldest
    # request (the rest share one plate: card order)
    assert [r["barcode"] for r in rows][0] == card(2)
    assert {r["barcode"]: r["assays"] for r in rows} == {
        card(2): "aIle", card(1): "SUAC-2T", card(6): "MCA, MMA, tHcy",
        card(7): "MCA, MMA, tHcy"}
    assert [r["time_critical"] for r in rows] == [True, False, False, False]
    # reviewers do not run the bench: the worklist is the laboratory's
    assert reflex_client.get(f"{API}/worklists/reflex",
                             headers=world.auth("reviewer")).status_code == 403
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(
            AuditEvent.action == "request_second_tier")).all()
    assert len(events) == 3  # the time-critical card never waited
    # the reviewer has the time-critical card at once, its decision form with it
    queue = reflex_client.get(f"{API}/review/queue", headers=world.auth("reviewer")).json()
    assert [item["barcode"] for item in queue][0] == card(2)


def test_second_tier_run_decides_stores_and_audits(reflex_client, world, engine):
    _first_tier(reflex_client, world, engine)
    # the virtual instrument's MassLynx export of the panel (tests/data/instruments/PROVENANCE.md)
    export = FIXTURE.read_bytes()
    response = reflex_client.post(f"{API}/second-tier-runs",
                                  files={"file": ("ST-1.txt", export, "text/plain")},
                                  headers=world.auth("technician"))
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["format"] == "masslynx"
    assert run["n_specimens"] == 4 and run["n_results"] == 4 * 11
    assert run["unmatched"] == {card(3): "card is awaiting_review, not on the reflex worklist"}

    assert _decisions(engine, card(1)) == {"TYR": ("clear", "TYR_SUAC_EXCLUDES_TYR1", run["id"])}
    assert _decisions(engine, card(2)) == {"BCAA": ("referral", "BCAA_AILE_HIGH", run["id"])}
    assert _decisions(engine, card(6)) == {"C3": ("clear", "C3_SECOND_TIER_NORMAL", run["id"])}
    assert _decisions(engine, card(7)) == {"C3": ("maternal_b12", "C3_B12_PATTERN", run["id"])}
    states = _states(engine)
    assert {states[card(n)] for n in (1, 2, 6, 7)} == {"awaiting_review"}
    assert reflex_client.get(f"{API}/worklists/reflex",
                             headers=world.auth("technician")).json() == []

    with Session(engine) as session:
        specimen = session.exec(select(Specimen).where(Specimen.barcode == card(2))).one()
        event = session.exec(select(AuditEvent).where(
            AuditEvent.action == "second_tier_decision",
            AuditEvent.entity_id == str(specimen.id))).one()
        request = session.exec(select(ReflexRequest).where(
            ReflexRequest.specimen_id == specimen.id)).one()
    assert event.username == "technician"
    assert event.before["decisions"] == [{"group": "BCAA", "decision": "awaiting_second_tier",
                                          "reason_code": "NO_RESULT"}]
    assert event.after["decisions"] == [{"group": "BCAA", "decision": "referral",
                                         "reason_code": "BCAA_AILE_HIGH"}]
    assert 5.0 < event.after["second_tier"]["aIle"] < 7.0
    assert request.status == "completed" and request.completed_run_id == run["id"]

    shown = reflex_client.get(f"{API}/specimens/{specimen.id}/reflex",
                              headers=world.auth("reviewer")).json()
    assert shown["decisions"][0]["reason"].startswith("allo-isoleucine above cutoff")
    assert len(shown["results"]) == 11

    # the same bytes again: the earlier run, nothing added
    before = (count(engine, SecondTierResult), count(engine, ReflexDecisionRecord),
              count(engine, AuditEvent))
    again = reflex_client.post(f"{API}/second-tier-runs",
                               files={"file": ("ST-1-copy.txt", export, "text/plain")},
                               headers=world.auth("technician"))
    assert again.status_code == 200 and again.json()["id"] == run["id"]
    assert (count(engine, SecondTierResult), count(engine, ReflexDecisionRecord),
            count(engine, AuditEvent)) == before


def test_a_bad_file_stores_nothing(reflex_client, world, engine, tmp_path):
    _first_tier(reflex_client, world, engine)
    export = second_tier_export(tmp_path, {card(1): {"SUAC-2T": 0.4}})
    text = export.decode()
    # a compound the panel does not know: the reader names file and line
    broken = text.replace("Compound 8:  SUAC-2T", "Compound 8:  Succinylacetone-X", 1)
    assert broken != text
    headers = world.auth("technician")
    response = reflex_client.post(f"{API}/second-tier-runs",
                                  files={"file": ("broken.txt", broken.encode(), "text/plain")},
                                  headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["file"] == "broken.txt"
    assert "Succinylacetone-X" in response.json()["detail"]
    # a first-tier plate uploaded as a second-tier run
    first = first_tier_plate("P-2", {card(1): {}})
    response = reflex_client.post(f"{API}/second-tier-runs",
                                  files={"file": ("p-2.csv", first, "text/csv")},
                                  headers=headers)
    assert response.status_code == 422, response.text
    assert count(engine, SecondTierRun) == 0
    assert count(engine, SecondTierResult) == 0
    assert _states(engine)[card(1)] == "awaiting_second_tier"
    assert _decisions(engine, card(1)) == {"TYR": ("awaiting_second_tier", "NO_RESULT", None)}
    # and the role check
    assert reflex_client.post(f"{API}/second-tier-runs",
                              files={"file": ("ST-1.txt", export, "text/plain")},
                              headers=world.auth("reviewer")).status_code == 403


def test_wells_of_a_card_accessioned_later_are_attached_when_the_run_is_uploaded_again(
        reflex_client, world, engine):
    early = {n: v for n, v in CARDS.items() if n != 2}
    accession(reflex_client, world, *early)
    plate = first_tier_plate("P-EARLY", {card(n): v for n, v in early.items()})
    assert upload(reflex_client, world, "p-early.csv", plate).status_code == 201
    export = FIXTURE.read_bytes()

    def send():  # type: ignore[no-untyped-def]
        return reflex_client.post(f"{API}/second-tier-runs",
                                  files={"file": ("ST-1.txt", export, "text/plain")},
                                  headers=world.auth("technician"))

    first = send()
    assert first.status_code == 201, first.text
    assert first.json()["unmatched"][card(2)] == "unknown barcode: no accessioned card"
    assert first.json()["n_specimens"] == 3
    # the card arrives, is read on its own plate and, time-critical, goes to review at once
    # with its allo-isoleucine on the reflex worklist
    accession(reflex_client, world, 2)
    late = first_tier_plate("P-LATE", {card(2): CARDS[2]})
    assert upload(reflex_client, world, "p-late.csv", late).status_code == 201
    assert _states(engine)[card(2)] == "awaiting_review"
    assert [r["barcode"] for r in reflex_client.get(
        f"{API}/worklists/reflex", headers=world.auth("technician")).json()] == [card(2)]

    again = send()
    assert again.status_code == 200, again.text
    run = again.json()
    assert run["id"] == first.json()["id"]
    assert run["unmatched"] == {card(3): "card is awaiting_review, not on the reflex worklist"}
    assert run["n_specimens"] == 4 and run["n_results"] == 4 * 11
    assert _decisions(engine, card(2)) == {"BCAA": ("referral", "BCAA_AILE_HIGH", run["id"])}
    with Session(engine) as session:
        attached = session.exec(select(AuditEvent).where(
            AuditEvent.action == "second_tier_attach")).one()
    assert count(engine, SecondTierResult) == 4 * 11
    assert attached.after["attached"] == [card(2)]
    # a third upload changes nothing
    third = send()
    assert third.status_code == 200 and third.json() == run
