"""A molecular laboratory's genotype results into the reflex second tier (docs/second_tier.md
"Genotype results"): the CSV file (``msms.genotype_results``) is stored as a second-tier run
of format ``genotype_csv``, each row a second-tier result of its gene's assay (unit
``variants``: the count is the value; the HGVS text, the laboratory's reference and the report
time kept with it), attached to the cards on the reflex worklist for that assay, and each card
is decided again exactly as after an LC-MS/MS run (``lims.reflex.service.decide_again``).

A row whose card is unknown, not on the reflex worklist, or on it for other assays is not
stored; the run lists it with the reason. A malformed file stores nothing. The same bytes
return the earlier import.

Public names: ``import_genotypes``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from sqlmodel import Session

from lims.audit import Actor, record, snapshot
from lims.errors import InvalidInputError
from lims.models import SecondTierRun, Specimen, utcnow
from lims.pipeline import Reflex, Screening
from lims.reflex import repository
from lims.reflex.service import ImportOutcome, decide_again, match_worklist
from msms.genotype_results import GENOTYPE_FORMAT, GenotypeRow, read_genotype_results

__all__ = ["import_genotypes"]


def _split(
    rows: list[GenotypeRow],
    matched: dict[str, Specimen],
    unmatched: dict[str, str],
    requests: dict[int, Any],
) -> tuple[list[GenotypeRow], dict[str, Specimen]]:
    """The rows whose card waits for that gene's assay, and their cards; the others are added
    to ``unmatched`` (barcode -> why) with the genes not stored."""
    kept: list[GenotypeRow] = []
    cards: dict[str, Specimen] = {}
    off: dict[str, list[str]] = {}
    for row in rows:
        specimen = matched.get(row.barcode)
        if specimen is None:
            continue
        wanted = [a.strip() for a in str(requests[int(specimen.id or 0)].assays).split(",")]
        if row.assay in wanted:
            kept.append(row)
            cards[row.barcode] = specimen
        else:
            off.setdefault(row.barcode, []).append(row.assay)
    for barcode, genes in off.items():
        request = requests[int(matched[barcode].id or 0)]
        unmatched[barcode] = (
            f"{', '.join(genes)}: the card is on the reflex worklist for {request.assays} only"
        )
    return kept, cards


def import_genotypes(
    session: Session,
    actor: Actor,
    data: bytes,
    file_name: str,
    pipeline: Screening,
    *,
    default_tz: tzinfo = UTC,
) -> ImportOutcome:
    """Store a genotype results file, attach its rows to the cards waiting for those genes and
    decide each card again (the caller commits). Raises ``DataError`` (file, line, field) or
    ``InvalidInputError`` before anything is stored; the same bytes answer the stored run.
    ``default_tz``: the time zone of a report time without an offset."""
    sha256 = hashlib.sha256(data).hexdigest()
    existing = repository.run_by_sha256(session, sha256)
    if existing is not None:
        return ImportOutcome(existing, False)
    if not data:
        raise InvalidInputError("the file is empty", file=file_name)
    name = Path(file_name).name or "upload"
    rows = read_genotype_results(data, name, default_tz=default_tz)
    reflex = pipeline.reflex or Reflex.literature()
    barcodes = sorted({r.barcode for r in rows})
    matched, unmatched, requests = match_worklist(session, barcodes)
    kept, cards = _split(rows, matched, unmatched, requests)
    references = sorted({r.lab_reference for r in kept} or {r.lab_reference for r in rows})
    run = SecondTierRun(
        file_sha256=sha256,
        plate_id=(Path(name).stem or name)[:64],
        instrument_run_id=", ".join(references)[:128],
        file_name=file_name[:255],
        format=GENOTYPE_FORMAT,
        method_version="genotype results",
        reflex_version=reflex.version[:64],
        uploaded_by=actor.user_id,
        uploaded_at=utcnow(),
        unmatched=unmatched,
        n_specimens=len(cards),
        n_results=len(kept),
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    repository.insert_results(
        session,
        [
            {
                "run_id": run.id,
                "specimen_id": cards[r.barcode].id,
                "well": "",
                "assay": r.assay,
                "conc_umol_l": float(r.variants_detected),
                "variants": r.variants or None,
                "lab_reference": r.lab_reference,
                "reported_at": r.reported_at,
            }
            for r in kept
        ],
    )
    if cards:
        decide_again(session, actor, run, cards, requests, reflex, pipeline)
    record(
        session,
        actor,
        "second_tier_import",
        "second_tier_run",
        run.id,
        after={
            **(snapshot(run) or {}),
            "genotypes": [
                {
                    "barcode": r.barcode,
                    "gene": r.assay,
                    "variants_detected": r.variants_detected,
                    "variants": r.variants,
                    "lab_reference": r.lab_reference,
                    "reported_at": r.reported_at.isoformat(),
                }
                for r in kept
            ],
        },
        reason=f"genotype results {run.plate_id} ({run.file_name})",
    )
    session.flush()
    return ImportOutcome(run, True)
