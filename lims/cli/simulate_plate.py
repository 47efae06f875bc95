"""``nbs simulate plate --format FMT --seed S --out FILE [--truth truth.csv] [--plate-id P]``:
a virtual instrument's 96-well plate (blanks, low/high controls, 89 simulated patients) written in
an instrument format, with the concentrations it was made from.

Public names: ``plate_command``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from instruments.virtual import PLATE_FORMATS, simulate_plate, write_plate
from msms import csvsafe
from msms.errors import DataError
from msms.methods import load_method, packaged_methods

__all__ = ["plate_command"]


def plate_command(
    fmt: str = typer.Option(..., "--format", help=f"one of: {', '.join(PLATE_FORMATS)}"),
    seed: int = typer.Option(..., "--seed", min=0, help="random seed: same seed, same file"),
    out: Path = typer.Option(..., "--out", help="file to write (mzML: a .zip, or a directory)"),
    truth: Path = typer.Option(None, "--truth", help="also write the true concentrations per "
                               "well (CSV)"),
    plate_id: str = typer.Option(None, "--plate-id", help="plate id (default VP + seed)"),
    cards: Path = typer.Option(None, "--cards", help="also write the patients' card data "
                               "(specimen_id and covariates) for nbs quantify --card-data"),
    method_name: str = typer.Option(
        "nonderivatized", "--method",
        help=f"method whose transitions and IS the plate uses: {' or '.join(packaged_methods())}"
             ", or METHOD.toml"),
    disorder_rate: float = typer.Option(
        None, "--disorder-rate", min=0.0, max=1.0,
        help="fraction of affected patients (default: birth prevalence)"),
) -> None:
    """Simulate a 96-well plate on the virtual instrument and write it in an instrument format."""
    if fmt not in PLATE_FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(PLATE_FORMATS)}",
                                 param_hint="--format")
    plate = simulate_plate(seed=seed, method=load_method(method_name), plate_id=plate_id,
                           disorder_rate=disorder_rate)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_plate(plate, out, format=fmt)
        for path, frame in ((truth, plate.truth), (cards, plate.cards)):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                csvsafe.frame_to_csv(frame, path, lineterminator="\n")
    except OSError as exc:
        raise DataError(f"cannot write: {exc.strerror or exc}",
                        file=str(exc.filename or out)) from None
    patients = plate.truth[plate.truth["sample_type"] == "patient"]
    affected = int((patients.get("true_disorder", "") != "").sum()) if len(patients) else 0
    typer.echo(f"plate {plate.run.plate_id} ({fmt}, method {plate.method.label}): "
               f"{len(plate.truth)} wells, {len(patients)} patients ({affected} affected) -> "
               f"{out}" + (f"; truth -> {truth}" if truth else ""), err=True)
