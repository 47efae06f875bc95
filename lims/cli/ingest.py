"""``nbs ingest FILE [--format FMT] [--plate-map MAP.csv] [--actor NAME]``: a run into the
LIMS (idempotent by file hash, with a plate map by both files' hashes), audited as ``--actor``
(default: the OS user running it). Overdue time-critical alerts are escalated by ``nbs alerts
escalate`` (``lims.cli.alerts``). The plate is screened with the model registry's active
second-tier model when one is active (``lims.followup.outcomes.configured_pipeline``).

Public names: ``ingest_command``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from instruments import Source
from lims.cli.actor import ActorOption, cli_actor
from lims.cli.common import EXIT_REJECTED, open_database
from lims.cli.progress import step
from lims.errors import InvalidInputError
from lims.followup.outcomes import configured_pipeline
from lims.runs.service import ingest_bytes
from lims.settings import get_settings
from lims.vocabulary import QcDecision

__all__ = ["ingest_command"]


def ingest_command(
    file: Path = typer.Argument(..., help="instrument file (vendor export or mzML)"),
    fmt: str = typer.Option("auto", "--format", help="instrument format, or auto-detect"),
    plate_map: Path = typer.Option(None, "--plate-map", help="MAP.csv: the puncher's plate "
                                   "map (well, barcode, sample_type); fills barcodes the "
                                   "export lacks and refuses an export missing a mapped well"),
    actor: ActorOption = None,
) -> None:
    """Read, quantify, check, store and evaluate one plate in one transaction.

    The same bytes again print the earlier run; a different file for a stored plate is refused.
    A plate that QC rejects is stored as rejected and the command exits 3 with the reasons.
    The audit trail records the run, its results and alerts as done by --actor.
    """
    for path in (file, plate_map):
        if path is not None and not path.is_file():
            raise InvalidInputError("no such file", file=str(path))
    settings = get_settings()
    engine = open_database(settings)
    pipeline = configured_pipeline(settings, engine, format=fmt)
    map_upload = None if plate_map is None else Source(plate_map.name, plate_map.read_bytes())
    with step(f"reading, checking, storing and evaluating {file.name}"):
        outcome = ingest_bytes(engine, cli_actor(actor), file.read_bytes(), file.name,
                               pipeline, plate_map=map_upload)
    run = outcome.run
    status = "stored" if outcome.created else "already stored"
    typer.echo(f"{status}: run {run.id} plate {run.plate_id} ({run.format}) qc={run.qc_decision}"
               f" results={run.n_results} held={run.n_held} sha256={run.file_sha256}")
    if run.qc_decision == QcDecision.reject:
        # the reader's warnings are stored with the reasons; they are said as warnings
        reasons = run.qc_reasons or []
        warnings = [r for r in reasons if r.startswith("warning: ")]
        for reason in reasons:
            typer.echo(f"nbs: {reason}" if reason in warnings else f"nbs: QC reject: {reason}",
                       err=True)
        counted = f"{len(reasons) - len(warnings)} reason(s)" + (
            f", {len(warnings)} warning(s)" if warnings else "")
        typer.echo(f"nbs: error: plate {run.plate_id} rejected by QC ({counted}): its control "
                   "values are kept, no patient results were stored; the cards wait for another "
                   "run", err=True)
        raise typer.Exit(EXIT_REJECTED)
