"""``nbs second-tier import-genotypes FILE [--actor NAME]``: a molecular laboratory's ACADM and
ACADVL genotype results (CSV; docs/second_tier.md A8 "Genotype results") into the reflex
second tier, through the same service as ``POST /api/v1/second-tier-genotypes`` and the form
on ``/lab/reflex`` (``lims.reflex.genotypes.import_genotypes``), in one transaction, audited
as ``--actor`` (default: the OS user running it), with the pipeline the service screens with
(``lims.followup.outcomes.configured_pipeline``) and report times without an offset in
``NBS_TIME_ZONE``.

A malformed file is refused naming file, line and field (exit 3) and nothing is stored; so is
any file when the laboratory does not genotype (``NBS_REFLEX_GENOTYPES`` off). The
same bytes again print the earlier import, after attaching the rows left unmatched whose cards
now wait on the reflex worklist for that gene; nothing else is added.

Public names: ``import_genotypes_command``.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session

from lims.cli.actor import ActorOption, cli_actor
from lims.cli.common import open_database
from lims.errors import InvalidInputError
from lims.followup.outcomes import configured_pipeline
from lims.reflex.genotypes import import_genotypes
from lims.settings import get_settings

__all__ = ["import_genotypes_command"]


def import_genotypes_command(
    file: Path = typer.Argument(..., help="genotype results CSV (UTF-8): barcode, gene, "
                                "variants_detected, variants, reported_at, lab_reference"),
    actor: ActorOption = None,
) -> None:
    """Import a molecular laboratory's ACADM/ACADVL genotype results into the reflex second tier.

    Each row is stored when its card waits on the reflex worklist for that gene, and each such
    card is decided again; the other rows are listed with the reason. A malformed file stores
    nothing and names file, line and field. The same file again stores only the rows whose
    cards have since come onto the worklist for that gene. Audited as --actor.
    """
    if not file.is_file():
        raise InvalidInputError("no such file", file=str(file))
    settings = get_settings()
    engine = open_database(settings)
    pipeline = configured_pipeline(settings, engine)
    data = file.read_bytes()
    with Session(engine, expire_on_commit=False) as session:
        outcome = import_genotypes(session, cli_actor(actor), data, file.name, pipeline,
                                   default_tz=ZoneInfo(settings.time_zone))
        session.commit()
    run = outcome.run
    status = "stored" if outcome.created else "already stored"
    typer.echo(f"{status}: genotype import {run.id} ({run.file_name}) cards={run.n_specimens} "
               f"results={run.n_results} sha256={run.file_sha256}")
    if outcome.attached:
        typer.echo(f"attached now: {', '.join(outcome.attached)}")
    for barcode, reason in sorted((run.unmatched or {}).items()):
        typer.echo(f"not stored: {barcode}: {reason}")
