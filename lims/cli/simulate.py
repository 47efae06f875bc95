"""``nbs simulate cohort``: synthetic newborn profiles (DESIGN §4.2) with their truth.

The ``simulate`` group is shared: other modules add commands to ``simulate_app``.

Public names: ``simulate_app``, ``cohort_command``, ``configured_params``, ``write_cohort``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from lims.cli import app
from lims.settings import get_settings, load_configured_catalogue
from msms.catalogue import ANALYTES_CSV, DISORDERS_CSV
from msms.errors import DataError
from msms.population import (
    PopulationParams,
    default_params,
    load_params,
    simulate_cohort,
    split_truth,
)
from msms.population.cohort import CHUNK_SIZE

__all__ = ["cohort_command", "configured_params", "simulate_app", "write_cohort"]

simulate_app = typer.Typer(help="Simulated newborn cohorts and instrument plates.",
                           no_args_is_help=True)
app.add_typer(simulate_app, name="simulate")



def configured_params() -> PopulationParams:
    """Population parameters checked against, and calibrated to, the configured catalogues
    (``NBS_ANALYTES_CSV`` / ``NBS_DISORDERS_CSV``: a laboratory's own population figures)."""
    settings = get_settings()
    if (settings.analytes_csv.resolve() == ANALYTES_CSV.resolve()
            and settings.disorders_csv.resolve() == DISORDERS_CSV.resolve()):
        return default_params()
    return load_params(catalogue=load_configured_catalogue(settings))


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False, lineterminator="\n")
    except OSError as exc:
        raise DataError(f"cannot write: {exc.strerror}", file=str(path)) from None


def write_cohort(frame: pd.DataFrame, out: Path, truth: Path | None) -> None:
    """Write a simulated cohort: profiles to ``out`` and, when ``truth`` is given, the truth
    columns (specimen_id, true_disorder, fp_mechanism, severity) to ``truth``. Without ``truth``
    the profiles file holds only the DESIGN §4.2 columns."""
    profiles, truth_table = split_truth(frame)
    _write_csv(profiles, out)
    if truth is not None:
        _write_csv(truth_table, truth)


@simulate_app.command("cohort")
def cohort_command(
    n: int = typer.Option(..., "--n", min=0, help="Number of babies."),
    seed: int = typer.Option(..., "--seed", min=0, help="Random seed: same seed, same file."),
    out: Path = typer.Option(..., "--out", help="Profiles CSV to write (DESIGN §4.2)."),
    truth: Path | None = typer.Option(
        None, "--truth", help="Also write specimen_id,true_disorder,fp_mechanism,severity here."),
    disorder_rate: float | None = typer.Option(
        None, "--disorder-rate", min=0.0, max=1.0,
        help="Fraction of affected babies (enriched validation sets); default: birth prevalence."),
) -> None:
    """Simulate a newborn cohort: covariates, 48 analytes (µmol/L), disorders, false positives."""
    show = n > CHUNK_SIZE  # cohorts of several chunks report progress on stderr

    def progress(done: int, total: int) -> None:
        typer.echo(f"simulated {done:,} / {total:,} babies", err=True)

    frame = simulate_cohort(n, seed=seed, disorder_rate=disorder_rate, params=configured_params(),
                            progress=progress if show else None)
    if show:
        typer.echo(f"writing {out}", err=True)
    write_cohort(frame, out, truth)
    affected = int((frame["true_disorder"] != "").sum())
    typer.echo(f"{n} profiles -> {out}" + (f"; truth -> {truth}" if truth else "")
               + f" ({affected} affected)", err=True)
