"""``nbs second-tier import-genotypes``: the genotype file through the command line, by the
same service as the upload: a malformed file is refused naming file, line and field with
nothing stored; the example file decides the waiting cards as the upload does, audited as
``--actor``; the same file again stores nothing. On SQLite and PostgreSQL."""

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
from tests.lims.helpers import accession, card, count, nbs_here, upload
from tests.lims.reflex.plates import GenotypingReflexCsvPipeline, first_tier_plate
from tests.lims.reflex.test_genotype_import import CARDS, EXAMPLE


@pytest.fixture
def genotype_client(settings, engine) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    app = create_app(settings, engine, pipeline=GenotypingReflexCsvPipeline())
    with TestClient(app) as test_client:
        yield test_client


def _stored(engine) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    return tuple(count(engine, model) for model in (
        SecondTierRun, SecondTierResult, ReflexDecisionRecord, AuditEvent, ReflexRequest))


def _current(engine) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        rows = session.exec(select(Specimen.barcode, ReflexDecisionRecord.reason_code,
                                   Specimen.state)
                            .join(Specimen, col(Specimen.id) == ReflexDecisionRecord.specimen_id)
                            .where(col(ReflexDecisionRecord.current).is_(True))).all()
    return {barcode: (code, str(state)) for barcode, code, state in rows}


def test_nbs_imports_genotype_results(genotype_client, world, engine, settings, tmp_path):
    accession(genotype_client, world, *CARDS)
    plate = first_tier_plate("P-GENO", {card(n): v for n, v in CARDS.items()})
    assert upload(genotype_client, world, "p-geno.csv", plate).status_code == 201
    env = {"NBS_DATABASE_URL": settings.database_url, "NBS_REFLEX_GENOTYPES": "1"}
    waiting = _current(engine)
    before = _stored(engine)

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"barcode,gene,variants_detected,reported_at,lab_reference\n"
                    + f"{card(21)},ACADM,2,2026-03-05,M1\n{card(22)},ACADM,3,2026-03-05,M1\n"
                    .encode())
    refused = nbs_here("second-tier", "import-genotypes", str(bad), env=env)
    assert refused.returncode == 3, refused.stdout
    assert "bad.csv:3" in refused.stderr and "variants_detected" in refused.stderr
    assert _stored(engine) == before and _current(engine) == waiting
    missing = nbs_here("second-tier", "import-genotypes", str(tmp_path / "none.csv"), env=env)
    assert missing.returncode == 3 and "no such file" in missing.stderr

    path = tmp_path / EXAMPLE.name
    path.write_bytes(EXAMPLE.read_bytes())
    done = nbs_here("second-tier", "import-genotypes", str(path), "--actor", "mol-lab", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stored: genotype import")
    assert "cards=3 results=6" in done.stdout
    assert "not stored: 000009999: unknown barcode: no accessioned card" in done.stdout
    assert f"not stored: {card(24)}: ACADM: the card is on the reflex worklist for SUAC-2T only" \
        in done.stdout
    decided = _current(engine)
    assert decided[card(21)] == ("FAO_ACADM_TWO", "awaiting_review")
    assert decided[card(22)] == ("FAO_NO_VARIANT", "awaiting_review")
    assert decided[card(23)] == ("FAO_ACADM_ONE", "awaiting_review")
    assert decided[card(24)] == waiting[card(24)]
    with Session(engine) as session:
        events = session.exec(select(AuditEvent).where(col(AuditEvent.action).in_(
            ["second_tier_import", "second_tier_decision"]))).all()
        run = session.exec(select(SecondTierRun)).one()
    assert {e.username for e in events} == {"mol-lab"} and len(events) == 4
    assert run.format == "genotype_csv" and run.reflex_version.endswith("literature genotyped")

    after = _stored(engine)
    again = nbs_here("second-tier", "import-genotypes", str(path), env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"already stored: genotype import {run.id}")
    assert _stored(engine) == after


def test_nbs_refuses_genotypes_when_the_laboratory_does_not_genotype(
        genotype_client, world, engine, settings, tmp_path):
    """Without ``NBS_REFLEX_GENOTYPES`` (the reflex second tier on or off), the command says
    so, exits 3 and stores nothing: the cards waiting for genotypes stay as they are."""
    accession(genotype_client, world, *CARDS)
    plate = first_tier_plate("P-GENO", {card(n): v for n, v in CARDS.items()})
    assert upload(genotype_client, world, "p-geno.csv", plate).status_code == 201
    waiting, before = _current(engine), _stored(engine)
    path = tmp_path / EXAMPLE.name
    path.write_bytes(EXAMPLE.read_bytes())
    for switches in ({"NBS_REFLEX": "1", "NBS_REFLEX_GENOTYPES": "0"},
                     {"NBS_REFLEX": "0", "NBS_REFLEX_GENOTYPES": "0"}):
        env = {"NBS_DATABASE_URL": settings.database_url, **switches}
        refused = nbs_here("second-tier", "import-genotypes", str(path), env=env)
        assert refused.returncode == 3, refused.stdout
        assert "NBS_REFLEX_GENOTYPES is off" in refused.stderr
        assert "nothing was stored" in refused.stderr and refused.stdout == ""
    assert _stored(engine) == before and _current(engine) == waiting
