"""A molecular laboratory's genotype results into the reflex second tier (docs/second_tier.md
"Genotype results"): the CSV file (``msms.genotype_results``) is stored as a second-tier run
of format ``genotype_csv``, each row a second-tier result of its gene's assay (unit
``variants``: the count is the value; the HGVS text, the laboratory's reference and the report
time kept with it), attached to the cards on the reflex worklist for that assay, and each card
is decided again exactly as after an LC-MS/MS run (``lims.reflex.service.decide_again``).

A row whose card is unknown, not on the reflex worklist, or on it for other assays is not
stored; the run lists it with the reason. A malformed file stores nothing. The same bytes
return the earlier import, after attaching the rows left unmatched whose cards now wait on
the reflex worklist for that gene (audited ``second_tier_attach``); rows already stored are
not stored again.

A laboratory that does not genotype (``NBS_REFLEX_GENOTYPES`` off: no group of the reflex
second tier waits for genotypes) has no card waiting for them: its file is refused
(``ConflictError``, ``GENOTYPE_REFUSALS``, naming the setting) and nothing is stored, the same
bytes as an earlier import included.

Public names: ``GENOTYPE_REFUSALS``, ``import_genotypes``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any

from sqlmodel import Session

from lims.audit import Actor, record, snapshot
from lims.errors import ConflictError, InvalidInputError
from lims.models import SecondTierRun, Specimen, utcnow
from lims.pipeline import Screening
from lims.reflex import repository
from lims.reflex.service import ImportOutcome, decide_again, match_worklist
from msms.genotype_results import GENOTYPE_FORMAT, GenotypeRow, read_genotype_results
from msms.phrases import Phrasebook

__all__ = ["GENOTYPE_REFUSALS", "import_genotypes"]

#: Why a genotype file is refused (English, read back as phrases by the pages: the reflex page
#: shows it in its language).
GENOTYPE_REFUSALS = Phrasebook((
    ("not_genotyping",
     "genotype results are not imported: this laboratory does not genotype "
     "(NBS_REFLEX_GENOTYPES is off), so no card waits for ACADM or ACADVL; nothing was stored. "
     "NBS_REFLEX_GENOTYPES=true and a restart of the service turn the import on"),
))


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
    ``default_tz``: the time zone of a report time without an offset. Raises
    ``ConflictError`` (``GENOTYPE_REFUSALS``) when the laboratory does not genotype."""
    if pipeline.reflex is None or not pipeline.reflex.genotyped:
        raise ConflictError(GENOTYPE_REFUSALS.text("not_genotyping"))
    sha256 = hashlib.sha256(data).hexdigest()
    existing = repository.run_by_sha256(session, sha256)
    if existing is not None and existing.format == GENOTYPE_FORMAT and existing.unmatched:
        return _attach_late_rows(session, actor, existing, data, file_name, pipeline,
                                 default_tz)
    if existing is not None:
        return ImportOutcome(existing, False)
    if not data:
        raise InvalidInputError("the file is empty", file=file_name)
    name = Path(file_name).name or "upload"
    rows = read_genotype_results(data, name, default_tz=default_tz)
    reflex = pipeline.reflex
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
    _store(session, run, kept, cards)
    if cards:
        decide_again(session, actor, run, cards, requests, reflex, pipeline)
    record(
        session,
        actor,
        "second_tier_import",
        "second_tier_run",
        run.id,
        after={**(snapshot(run) or {}), "genotypes": _audited(kept)},
        reason=f"genotype results {run.plate_id} ({run.file_name})",
    )
    session.flush()
    return ImportOutcome(run, True)


def _store(session: Session, run: SecondTierRun, kept: list[GenotypeRow],
           cards: dict[str, Specimen]) -> None:
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


def _audited(rows: list[GenotypeRow]) -> list[dict[str, Any]]:
    return [
        {
            "barcode": r.barcode,
            "gene": r.assay,
            "variants_detected": r.variants_detected,
            "variants": r.variants,
            "lab_reference": r.lab_reference,
            "reported_at": r.reported_at.isoformat(),
        }
        for r in rows
    ]


def _attach_late_rows(
    session: Session,
    actor: Actor,
    run: SecondTierRun,
    data: bytes,
    file_name: str,
    pipeline: Screening,
    default_tz: tzinfo,
) -> ImportOutcome:
    """The stored import's file again: its rows left unmatched whose cards now wait on the
    reflex worklist for that gene are stored and the cards decided again, audited
    (``second_tier_attach``); a row already stored on the import is not stored again, and the
    others stay unmatched, with why now."""
    assert run.id is not None
    rows = read_genotype_results(data, Path(run.file_name).name or "upload",
                                 default_tz=default_tz)
    left = dict(run.unmatched or {})
    late = [r for r in rows if r.barcode in left]
    matched, unmatched, requests = match_worklist(session, sorted({r.barcode for r in late}))
    stored = {(int(r["specimen_id"]), str(r["assay"])) for r in repository.results_of(
        session, [int(s.id or 0) for s in matched.values()]) if r["run_id"] == run.id}
    fresh = [r for r in late if r.barcode not in matched
             or (int(matched[r.barcode].id or 0), r.assay) not in stored]
    kept, cards = _split(fresh, matched, unmatched, requests)
    if not kept:
        return ImportOutcome(run, False)
    before = snapshot(run)
    counted = {specimen_id for specimen_id, _ in stored}
    _store(session, run, kept, cards)
    run.n_results = (run.n_results or 0) + len(kept)
    run.n_specimens = (run.n_specimens or 0) + len(
        [s for s in cards.values() if s.id not in counted])
    run.unmatched = {b: why for b, why in {**left, **unmatched}.items()
                     if b not in cards or b in unmatched}  # a new dict: the column is written
    assert pipeline.reflex is not None  # import_genotypes refuses a laboratory without it
    decide_again(session, actor, run, cards, requests, pipeline.reflex, pipeline)
    session.add(run)
    record(session, actor, "second_tier_attach", "second_tier_run", run.id, before=before,
           after={**(snapshot(run) or {}), "attached": sorted(cards),
                  "genotypes": _audited(kept)},
           reason=f"genotype results {run.plate_id} ({file_name}) uploaded again: "
                  f"{len(cards)} card(s) now on the reflex worklist")
    session.flush()
    return ImportOutcome(run, False, tuple(sorted(cards)))
