"""Genotype results into the reflex second tier (docs/second_tier.md "Genotype results"): in a
laboratory that imports genotypes, a card flagged for MCAD deficiency alone waits on the reflex
worklist for ACADM and ACADVL; a molecular laboratory's CSV file decides it again as an
LC-MS/MS run does (two ACADM variants refer, none clears with the literature levels, one asks
for a repeat), stored, audited, the request completed, the card moved to review; rows of cards
not waiting for that gene are listed as not stored; the same bytes return the earlier import;
a malformed file is refused naming file, line and field, with nothing stored. Without the
setting, the FAO group does not wait (as before). On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from lims.app import create_app
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
from tests.lims.reflex.plates import GenotypingReflexCsvPipeline, first_tier_plate, genotype_csv

EXAMPLE = ROOT / "tests" / "data" / "genotypes" / "genotype_results_example.csv"
#: card number -> first-tier values (the other markers normal)
CARDS = {
    21: {"C8": 0.6},  # MCAD positive, below the C8 bypass: ACADM and ACADVL to run
    22: {"C8": 0.6},
    23: {"C8": 0.6},
    24: {"Tyr": 420.0},  # TYR1: waits for succinylacetone only
    25: {},  # normal: not on the worklist
}
HOMOZYGOUS = "NM_000016.6:c.985A>G; NM_000016.6:c.985A>G"
TECH = "technician"


@pytest.fixture
def genotype_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=GenotypingReflexCsvPipeline())
    with TestClient(app) as test_client:
        yield test_client


def _first_tier(client, world) -> None:  # type: ignore[no-untyped-def]
    accession(client, world, *CARDS)
    plate = first_tier_plate("P-GENO", {card(n): v for n, v in CARDS.items()})
    response = upload(client, world, "p-geno.csv", plate)
    assert response.status_code == 201, response.text


def _specimen(engine, barcode: str) -> Specimen:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return session.exec(select(Specimen).where(Specimen.barcode == barcode)).one()


def _decisions(engine, barcode: str) -> dict[str, tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    specimen = _specimen(engine, barcode)
    with Session(engine) as session:
        rows = session.exec(
            select(ReflexDecisionRecord).where(
                ReflexDecisionRecord.specimen_id == specimen.id,
                col(ReflexDecisionRecord.current).is_(True),
            )
        )
        return {r.group_code: (r.decision, r.reason_code, r.second_tier_run_id) for r in rows}


def _post(client, world, name: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"{API}/second-tier-genotypes",
        files={"file": (name, data, "text/csv")},
        headers=world.auth(TECH),
    )


def _stored(engine) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    return (
        count(engine, SecondTierRun),
        count(engine, SecondTierResult),
        count(engine, ReflexDecisionRecord),
        count(engine, AuditEvent),
        count(engine, ReflexRequest),
    )


def test_an_fao_card_waits_for_its_genotypes(genotype_client, world, engine):
    _first_tier(genotype_client, world)
    for n in (21, 22, 23):  # MCAD positive opens a time-critical alert: in review at once
        assert _specimen(engine, card(n)).state == "awaiting_review"
        assert _decisions(engine, card(n)) == {"FAO": ("awaiting_second_tier", "NO_RESULT", None)}
    rows = genotype_client.get(f"{API}/worklists/reflex", headers=world.auth(TECH)).json()
    assert {r["barcode"]: r["assays"] for r in rows} == {
        card(21): "ACADM, ACADVL",
        card(22): "ACADM, ACADVL",
        card(23): "ACADM, ACADVL",
        card(24): "SUAC-2T",
    }
    assert {r["barcode"]: r["time_critical"] for r in rows}[card(21)] is True  # MCAD


def test_without_the_setting_the_fao_group_is_decided_without_genotypes(
    reflex_client, world, engine
):
    """What a laboratory that does not import genotypes gets, as before: the FAO card goes to
    review with a repeat specimen asked for (``NO_SECOND_TIER``); a genotype file is refused
    (409, naming the setting) and nothing is stored."""
    _first_tier(reflex_client, world)
    assert _specimen(engine, card(21)).state == "awaiting_review"
    assert _decisions(engine, card(21)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER", None)}
    before = _stored(engine)
    response = _post(
        reflex_client, world, "g.csv", genotype_csv([(card(21), "ACADM", 2, HOMOZYGOUS)])
    )
    assert response.status_code == 409, response.text
    assert "NBS_REFLEX_GENOTYPES is off" in response.json()["detail"]
    assert "nothing was stored" in response.json()["detail"]
    assert _stored(engine) == before
    assert _decisions(engine, card(21)) == {"FAO": ("repeat_specimen", "NO_SECOND_TIER", None)}


def test_a_laboratory_without_the_reflex_second_tier_refuses_genotypes(client, world, engine):
    """Without any reflex second tier, even a malformed file is refused for the setting first,
    and nothing is stored."""
    before = _stored(engine)
    for data in (genotype_csv([(card(21), "ACADM", 2, HOMOZYGOUS)]), b"not,a genotype file\n"):
        response = _post(client, world, "g.csv", data)
        assert response.status_code == 409, response.text
        assert "NBS_REFLEX_GENOTYPES" in response.json()["detail"]
    assert _stored(engine) == before


def test_genotypes_refer_clear_or_ask_for_a_repeat(genotype_client, world, engine):
    _first_tier(genotype_client, world)
    data = EXAMPLE.read_bytes()
    response = _post(genotype_client, world, EXAMPLE.name, data)
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["format"] == "genotype_csv"
    assert run["n_specimens"] == 3 and run["n_results"] == 6
    assert run["unmatched"] == {
        card(24): "ACADM: the card is on the reflex worklist for SUAC-2T only",
        card(25): "card is awaiting_review, not on the reflex worklist",
        "000009999": "unknown barcode: no accessioned card",
    }

    assert _decisions(engine, card(21)) == {"FAO": ("referral", "FAO_ACADM_TWO", run["id"])}
    assert _decisions(engine, card(22)) == {"FAO": ("clear", "FAO_NO_VARIANT", run["id"])}
    assert _decisions(engine, card(23)) == {"FAO": ("repeat_specimen", "FAO_ACADM_ONE", run["id"])}
    assert {_specimen(engine, card(n)).state for n in (21, 22, 23)} == {"awaiting_review"}
    assert _specimen(engine, card(24)).state == "awaiting_second_tier"
    left = genotype_client.get(f"{API}/worklists/reflex", headers=world.auth(TECH)).json()
    assert [r["barcode"] for r in left] == [card(24)]

    referred = _specimen(engine, card(21))
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "second_tier_decision",
                AuditEvent.entity_id == str(referred.id),
            )
        ).one()
        request = session.exec(
            select(ReflexRequest).where(ReflexRequest.specimen_id == referred.id)
        ).one()
        imported = session.exec(
            select(AuditEvent).where(AuditEvent.action == "second_tier_import")
        ).one()
    assert event.username == TECH
    assert event.before["decisions"] == [
        {"group": "FAO", "decision": "awaiting_second_tier", "reason_code": "NO_RESULT"}
    ]
    assert event.after["decisions"] == [
        {"group": "FAO", "decision": "referral", "reason_code": "FAO_ACADM_TWO"}
    ]
    assert event.after["second_tier"] == {"ACADM": 2.0, "ACADVL": 0.0}
    assert event.after["version"].endswith("literature genotyped")
    assert request.status == "completed" and request.completed_run_id == run["id"]
    assert {
        (g["barcode"], g["gene"], g["variants_detected"]) for g in imported.after["genotypes"]
    } == {
        (card(21), "ACADM", 2),
        (card(21), "ACADVL", 0),
        (card(22), "ACADM", 0),
        (card(22), "ACADVL", 0),
        (card(23), "ACADM", 1),
        (card(23), "ACADVL", 0),
    }

    shown = genotype_client.get(
        f"{API}/specimens/{referred.id}/reflex", headers=world.auth("reviewer")
    ).json()
    results = {r["assay"]: r for r in shown["results"]}
    assert results["ACADM"]["conc_umol_l"] == 2.0
    assert results["ACADM"]["variants"] == HOMOZYGOUS
    assert results["ACADM"]["lab_reference"] == "MOL-2026-0311"
    assert results["ACADM"]["reported_at"].startswith("2026-03-05T09:30")
    assert results["ACADVL"]["variants"] is None

    # the same bytes again: the earlier import, nothing added
    before = _stored(engine)
    again = _post(genotype_client, world, "copy.csv", data)
    assert again.status_code == 200 and again.json()["id"] == run["id"]
    assert _stored(engine) == before
    # nor through the LC-MS/MS upload
    panel = genotype_client.post(
        f"{API}/second-tier-runs",
        files={"file": ("copy.csv", data, "text/csv")},
        headers=world.auth(TECH),
    )
    assert panel.status_code == 200 and panel.json()["id"] == run["id"]
    assert _stored(engine) == before


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        (
            b"barcode,gene,variants_detected,reported_at,lab_reference\n"
            b"000000216,ACADM,2,2026-03-05,M1\n000000224,ACADM,3,2026-03-05,M1\n",
            3,
            "variants_detected",
        ),
        (
            b"barcode,gene,variants_detected,reported_at,lab_reference\n"
            b"000000216,ACADM,2,2026-03-05,M1\n000000224,MCA,0,2026-03-05,M1\n",
            3,
            "gene",
        ),
        (
            b"barcode,gene,variants_detected,reported_at,lab_reference\n"
            b"000000216,ACADM,2,2026-03-05,M1\n000000216,ACADM,1,2026-03-05,M1\n",
            3,
            "variants_detected",
        ),
        (
            b"barcode,gene,variants_detected,reported_at,lab_reference\n"
            b"000000216,ACADM,2,2026-03-05,M1\n000000224,ACADM,0,,M1\n",
            3,
            "reported_at",
        ),
        (b"barcode,gene,variants_detected,lab_reference\n000000216,ACADM,2,M1\n", 1, "reported_at"),
    ],
)
def test_a_malformed_file_is_refused_and_stores_nothing(
    genotype_client, world, engine, body, line, field
):
    _first_tier(genotype_client, world)
    before = _stored(engine)
    response = _post(genotype_client, world, "bad.csv", body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert (error["file"], error["line"], error["field"]) == ("bad.csv", line, field)
    assert "bad.csv" in error["detail"]
    assert _stored(engine) == before
    assert _decisions(engine, card(21)) == {"FAO": ("awaiting_second_tier", "NO_RESULT", None)}


def test_the_same_file_again_attaches_the_rows_whose_cards_now_wait(
    genotype_client, world, engine
):
    """A row whose card was not accessioned yet is left unmatched; once the card is on the
    reflex worklist, the same bytes again attach it (and decide the card), not the rows stored
    the first time; a third upload changes nothing."""
    accession(genotype_client, world, 21)
    plate = first_tier_plate("P-EARLY", {card(21): CARDS[21]})
    assert upload(genotype_client, world, "p-early.csv", plate).status_code == 201
    data = genotype_csv([(card(21), "ACADM", 2, HOMOZYGOUS), (card(21), "ACADVL", 0, ""),
                         (card(26), "ACADM", 1, "NM_000016.6:c.985A>G"),
                         (card(26), "ACADVL", 0, "")], reference="MOL-LATE")
    first = _post(genotype_client, world, "late.csv", data)
    assert first.status_code == 201, first.text
    run = first.json()
    assert run["n_specimens"] == 1 and run["n_results"] == 2
    assert run["unmatched"] == {card(26): "unknown barcode: no accessioned card"}
    assert _decisions(engine, card(21)) == {"FAO": ("referral", "FAO_ACADM_TWO", run["id"])}
    same = _stored(engine)
    assert _post(genotype_client, world, "late.csv", data).status_code == 200
    assert _stored(engine) == same  # the card is still unknown: nothing to attach

    accession(genotype_client, world, 26)
    later = first_tier_plate("P-LATER", {card(26): {"C8": 0.6}})
    assert upload(genotype_client, world, "p-later.csv", later).status_code == 201
    assert _decisions(engine, card(26)) == {"FAO": ("awaiting_second_tier", "NO_RESULT", None)}
    results, decisions = count(engine, SecondTierResult), count(engine, ReflexDecisionRecord)
    again = _post(genotype_client, world, "late-again.csv", data)
    assert again.status_code == 200, again.text
    attached = again.json()
    assert attached["id"] == run["id"]
    assert attached["n_specimens"] == 2 and attached["n_results"] == 4
    assert attached["unmatched"] == {}
    assert count(engine, SecondTierResult) == results + 2  # card 21's rows not stored again
    assert count(engine, ReflexDecisionRecord) == decisions + 1  # card 26 alone decided again
    assert _decisions(engine, card(26)) == {"FAO": ("repeat_specimen", "FAO_ACADM_ONE",
                                                    run["id"])}
    assert _decisions(engine, card(21)) == {"FAO": ("referral", "FAO_ACADM_TWO", run["id"])}
    assert _specimen(engine, card(26)).state == "awaiting_review"
    with Session(engine) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "second_tier_attach")).one()
    assert event.username == TECH and event.after["attached"] == [card(26)]
    assert {(g["barcode"], g["gene"]) for g in event.after["genotypes"]} == {
        (card(26), "ACADM"), (card(26), "ACADVL")}

    settled = _stored(engine)
    third = _post(genotype_client, world, "late.csv", data)
    assert third.status_code == 200 and third.json()["n_results"] == 4
    assert _stored(engine) == settled
