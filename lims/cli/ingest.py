"""``nbs ingest FILE``: a run into the LIMS (idempotent by file hash), and ``nbs alerts
escalate``: escalate overdue time-critical alerts (for a scheduler)."""

from __future__ import annotations

from pathlib import Path

import typer

from lims.audit import SYSTEM
from lims.cli import app
from lims.db import init_db, make_engine
from lims.errors import InvalidInputError
from lims.runs.pipeline import CoreProcessor, second_tier_model
from lims.runs.service import ingest_bytes
from lims.settings import get_settings, load_configured_catalogue

__all__ = ["ingest_command"]


@app.command("ingest")
def ingest_command(
    file: Path = typer.Argument(..., help="instrument file (vendor export or mzML)"),
    fmt: str = typer.Option("auto", "--format", help="instrument format, or auto-detect"),
) -> None:
    """Read, quantify, check, store and evaluate one plate in one transaction.

    The same bytes again print the earlier run; a different file for a stored plate is refused.
    """
    if not file.is_file():
        raise InvalidInputError("no such file", file=str(file))
    settings = get_settings()
    model = second_tier_model(settings.second_tier_model,
                              catalogue=load_configured_catalogue(settings))
    engine = make_engine(settings)
    init_db(engine)
    outcome = ingest_bytes(engine, SYSTEM, file.read_bytes(), file.name,
                           CoreProcessor(format=fmt, second_tier=model))
    run = outcome.run
    status = "stored" if outcome.created else "already stored"
    typer.echo(f"{status}: run {run.id} plate {run.plate_id} ({run.format}) qc={run.qc_decision}"
               f" results={run.n_results} held={run.n_held} sha256={run.file_sha256}")
