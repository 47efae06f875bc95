"""The reflex second tier in the demo (docs/second_tier.md "In the LIMS"): the demo plates are
screened with the reflex second tier on, so that flagged cards wait on the reflex worklist,
and part of the worklist is then completed through the real imports, so that the page
``/lab/reflex`` shows a card still waiting, an LC-MS/MS second-tier run and a genotype file,
and the cards they decided again show their second-tier results.

Public names: ``with_reflex``, ``complete_worklist``.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import Engine
from sqlmodel import Session

from instruments.virtual import simulate_plate
from lims.audit import SYSTEM
from lims.demo.plates import PATIENT_WELLS, write_cards_plate
from lims.models import utcnow
from lims.pipeline import Reflex, Screening
from lims.reflex.genotypes import import_genotypes
from lims.reflex.service import import_run, worklist
from msms.second_tier_panel import second_tier_catalogue, second_tier_method

__all__ = ["complete_worklist", "with_reflex"]

#: The genotype the demo's molecular laboratory reports for a card waiting for ACADM and
#: ACADVL: one ACADM variant, none in ACADVL (the rules ask for a repeat specimen).
_GENOTYPES = (("ACADM", 1, "NM_000016.6:c.985A>G"), ("ACADVL", 0, ""))


def with_reflex(pipeline: Screening) -> Screening:
    """``pipeline`` with the reflex second tier on: its own where the settings turn it on,
    else the literature levels in a laboratory that imports ACADM and ACADVL genotypes (as
    ``NBS_REFLEX_GENOTYPES=1``)."""
    if pipeline.reflex is not None:
        return pipeline
    demo = copy.copy(pipeline)
    demo.reflex = Reflex.literature().with_genotypes()
    return demo


def _panel_run(barcodes: list[str], *, plate_id: str, folder: Path) -> Path:
    """A second-tier run of these cards, every assay at its reference median (the card is
    cleared), simulated by the virtual instrument with the panel's method, as MassLynx."""
    method, catalogue = second_tier_method(), second_tier_catalogue()
    medians = {a: catalogue.analyte(a).pop_median_umol_l for a in method.codes}
    rows = [{"specimen_id": b, **medians} for b in barcodes]
    rows += [{"specimen_id": f"FILL{i:03d}", **medians}
             for i in range(PATIENT_WELLS - len(rows))]
    plate = simulate_plate(seed=7, method=method, catalogue=catalogue,
                           cohort=pd.DataFrame(rows), plate_id=plate_id)
    return write_cards_plate(plate, barcodes, plate_id=plate_id, folder=folder)


def _genotype_file(barcodes: list[str], *, name: str, folder: Path) -> Path:
    reported = utcnow().date().isoformat()
    lines = ["barcode,gene,variants_detected,variants,reported_at,lab_reference"]
    lines += [f"{b},{gene},{n},{hgvs},{reported},MOL-DEMO-{k + 1:04d}"
              for k, b in enumerate(barcodes) for gene, n, hgvs in _GENOTYPES]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def complete_worklist(engine: Engine, pipeline: Screening, run_ids: Collection[int], *,
                      tag: str, folder: Path, keep_one: bool = True) -> list[str]:
    """Complete the reflex worklist the demo plates ``run_ids`` filled, through the real
    imports: a second-tier run (reference-median values) for every card waiting for LC-MS/MS
    assays but, with ``keep_one`` (the service runs the reflex second tier), the oldest
    request, which stays waiting, and a genotype file for every card waiting for genotypes.
    Without ``keep_one`` no card is left on the worklist: a service whose reflex second tier
    is off holds no card for it. Returns a summary line per import and the waiting."""
    with Session(engine, expire_on_commit=False) as session:
        requests: list[dict[str, Any]] = [r for r in worklist(session)
                                          if r["source_run_id"] in run_ids]
    genes = {gene for gene, _, _ in _GENOTYPES}
    genotyped = [r["barcode"] for r in requests
                 if set(map(str.strip, r["assays"].split(","))) <= genes]
    assayed = sorted((r for r in requests if r["barcode"] not in genotyped),
                     key=lambda r: (r["requested_at"], r["id"]))
    lines = []
    imports = []
    kept = 1 if keep_one else 0
    if len(assayed) > kept:
        imports.append((import_run, _panel_run([r["barcode"] for r in assayed[kept:]],
                                               plate_id=f"DEMO-ST{tag}", folder=folder)))
    if genotyped:
        imports.append((import_genotypes, _genotype_file(
            genotyped, name=f"DEMO-GENOTYPES{tag}.csv", folder=folder)))
    for upload, path in imports:
        with Session(engine, expire_on_commit=False) as session:
            outcome = upload(session, SYSTEM, path.read_bytes(), path.name, pipeline)
            session.commit()
            run = outcome.run
            lines.append(f"  second tier {run.plate_id} ({run.format}): "
                         f"cards={run.n_specimens} results={run.n_results}")
    with Session(engine, expire_on_commit=False) as session:
        waiting = [r["barcode"] for r in worklist(session) if r["source_run_id"] in run_ids]
    lines.append(f"  reflex worklist: {len(waiting)} card(s) waiting"
                 + (f" ({', '.join(waiting)})" if waiting else ""))
    return lines
