"""``nbs simulate cohort``: synthetic newborn profiles (docs/architecture.md "Profiles") with
their truth.

The ``simulate`` group also holds ``nbs simulate plate`` (``lims.cli.simulate_plate``).

Public names: ``simulate_app``, ``cohort_command``, ``configured_params``, ``write_cohort``,
``write_csv``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

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

__all__ = ["cohort_command", "configured_params", "simulate_app", "write_cohort", "write_csv"]

simulate_app = typer.Typer(help="Simulated newborn cohorts and instrument plates.",
                           no_args_is_help=True)



def configured_params() -> PopulationParams:
    """Population parameters checked against, and calibrated to, the configured catalogues
    (``NBS_ANALYTES_CSV`` / ``NBS_DISORDERS_CSV``: a laboratory's own population figures)."""
    settings = get_settings()
    if (settings.analytes_csv.resolve() == ANALYTES_CSV.resolve()
            and settings.disorders_csv.resolve() == DISORDERS_CSV.resolve()):
        return default_params()
    return load_params(catalogue=load_configured_catalogue(settings))


_ROWS_PER_WRITE = 100_000


def _cells(column: pd.Series) -> list[str]:
    """CSV cells of one column as pandas would write them (empty for missing values)."""
    values = column.to_numpy(dtype=object, na_value=None)
    if pd.api.types.is_float_dtype(column.dtype):
        return ["" if v is None or v != v else repr(v) for v in values.tolist()]
    if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
        return ["" if v is None else str(v) for v in values.tolist()]
    cells = ["" if v is None else str(v) for v in values.tolist()]
    if any(("," in c or '"' in c or "\n" in c or "\r" in c) for c in cells):
        cells = [f'"{c.replace(chr(34), chr(34) * 2)}"'
                 if ("," in c or '"' in c or "\n" in c or "\r" in c) else c for c in cells]
    return cells


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as CSV (header, no index, "\\n" line ends) several times faster than
    ``DataFrame.to_csv`` for wide float tables: floats as their shortest repr, missing as ""."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(_header_cell(c) for c in frame.columns) + "\n")
            for start in range(0, len(frame), _ROWS_PER_WRITE):
                part = frame.iloc[start:start + _ROWS_PER_WRITE]
                columns = [_cells(part[name]) for name in part.columns]
                handle.write("".join(",".join(row) + "\n" for row in zip(*columns, strict=True)))
    except OSError as exc:
        raise DataError(f"cannot write: {exc.strerror}", file=str(path)) from None


def _header_cell(name: object) -> str:
    text = str(name)
    if any(ch in text for ch in ',"\n\r'):
        return f'"{text.replace(chr(34), chr(34) * 2)}"'
    return text


def write_cohort(frame: pd.DataFrame, out: Path, truth: Path | None) -> None:
    """Write a simulated cohort: profiles to ``out`` and, when ``truth`` is given, the truth
    columns (specimen_id, true_disorder, fp_mechanism, severity) to ``truth``. Without ``truth``
    the profiles file holds only the profile columns (docs/architecture.md "Profiles")."""
    profiles, truth_table = split_truth(frame)
    write_csv(profiles, out)
    if truth is not None:
        write_csv(truth_table, truth)


@simulate_app.command("cohort")
def cohort_command(
    n: int = typer.Option(..., "--n", min=0, help="Number of babies."),
    seed: int = typer.Option(..., "--seed", min=0, help="Random seed: same seed, same file."),
    out: Path = typer.Option(..., "--out", help="Profiles CSV to write (docs/architecture.md "
                             "'Profiles')."),
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
