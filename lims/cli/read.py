"""``nbs read FILE [--format ...] [--profile ...] [--plate-map ...] --out measurements.csv``:
an instrument export to the measurements table of DESIGN §4.1."""

from __future__ import annotations

from pathlib import Path

import typer

import instruments
from lims.cli import app

__all__ = ["read_command"]


@app.command("read")
def read_command(
    file: Path = typer.Argument(..., help="instrument export (a directory or .zip for mzML)"),
    fmt: str = typer.Option("auto", "--format", help="auto, or one of: mzml, quandata, "
                            "masslynx, delimited"),
    profile: str = typer.Option(None, "--profile", help="profile name or PROFILE.toml"),
    plate_map: Path = typer.Option(None, "--plate-map", help="MAP.csv: well, sample_id, "
                                   "sample_type"),
    out: Path = typer.Option(..., "--out", help="measurements CSV to write"),
) -> None:
    """Read an instrument file, validate the plate and write its measurements (CSV, UTF-8)."""
    run = instruments.read(file, format=fmt, profile=profile, plate_map=plate_map)
    for issue in run.issues:
        if issue.severity == "warning":
            typer.echo(f"nbs: {issue}", err=True)
    run.measurements.to_csv(out, index=False, lineterminator="\n")
    typer.echo(f"{run.format}: plate {run.plate_id}, {run.measurements['well'].nunique()} wells, "
               f"{len(run.measurements)} measurements -> {out}", err=True)
