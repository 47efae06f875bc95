"""``nbs quantify FILE [--format ...] [--card-data cards.csv] --out profiles.csv
[--qc-report qc.json] [--errors issues.csv]``: an instrument export -> concentrations (µmol/L)
through the internal standards -> plate QC -> the profiles table of DESIGN §4.2.

A rejected plate writes its QC report but no profiles, and exits with status 3. A file the reader
rejects prints its errors as ``nbs read`` does (``--errors FILE`` writes them all).

Public names: ``quantify_command``, ``read_run``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

import instruments
from instruments.run import PlateRun
from lims.cli import app
from lims.cli.read import read_or_report
from msms.errors import DataError
from msms.methods import Method, load_method, packaged_methods
from msms.qc import load_control_lots, load_rules, read_control_history
from msms.qc.plate import check_plate
from msms.quantify import quantify

__all__ = ["quantify_command", "read_run"]

#: DESIGN §5: exit status when an input is rejected (here: the plate failed QC).
_EXIT_REJECTED = 3


def read_run(file: Path, *, fmt: str, profile: str | None, plate_map: Path | None,
             method: Method) -> PlateRun:
    """Read an instrument file; an mzML plate is matched against the method's transitions
    (unless a profile names its own transition table)."""
    return instruments.read(file, format=fmt, profile=profile, plate_map=plate_map,
                            transitions=None if profile else method)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.6g")


@app.command("quantify")
def quantify_command(
    file: Path = typer.Argument(..., help="instrument export (a directory or .zip for mzML)"),
    fmt: str = typer.Option("auto", "--format", help="auto, or one of: "
                            f"{', '.join(instruments.formats())}"),
    profile: str = typer.Option(None, "--profile", help="reader profile name or PROFILE.toml"),
    plate_map: Path = typer.Option(None, "--plate-map", help="MAP.csv: well, sample_id, "
                                   "sample_type"),
    method_name: str = typer.Option(
        "nonderivatized", "--method",
        help=f"quantitation method: {' or '.join(packaged_methods())}, or METHOD.toml"),
    card_data: Path = typer.Option(None, "--card-data", help="cards.csv: specimen_id and "
                                   "covariates (DESIGN §4.2) to join"),
    control_lots: Path = typer.Option(None, "--control-lots", help="control lots TOML "
                                      "(default: the packaged lots)"),
    control_history: Path = typer.Option(None, "--control-history", help="earlier runs' "
                                         "control values CSV (run_id, lot, analyte, "
                                         "conc_umol_l[, acquired_at])"),
    qc_rules: Path = typer.Option(None, "--qc-rules", help="plate-QC rules TOML (default: "
                                  "packaged)"),
    prefer: str = typer.Option("method", "--prefer", help="where a well has intensities and a "
                               "vendor concentration: method or vendor"),
    out: Path = typer.Option(..., "--out", help="profiles CSV to write (DESIGN §4.2)"),
    qc_report: Path = typer.Option(None, "--qc-report", help="QC report JSON to write"),
    errors: Path = typer.Option(None, "--errors", help="write every issue found while reading "
                                "(severity, file, line, field, message) to this CSV"),
    concentrations: Path = typer.Option(None, "--concentrations", help="also write every "
                                        "well's concentrations (long CSV)"),
) -> None:
    """Quantify a plate through its internal standards, check it, and write the profiles."""
    if prefer not in ("method", "vendor"):
        raise typer.BadParameter("must be method or vendor", param_hint="--prefer")
    method = load_method(method_name)
    rules = load_rules(qc_rules) if qc_rules is not None else None
    lots = load_control_lots(control_lots) if control_lots is not None else None
    history = read_control_history(control_history) if control_history is not None else None
    run = read_or_report(lambda: read_run(file, fmt=fmt, profile=profile, plate_map=plate_map,
                                          method=method), errors=errors)
    for issue in run.issues:
        if issue.severity == "warning":
            typer.echo(f"nbs: {issue}", err=True)
    result = quantify(run.measurements, method, card_data=card_data, rules=rules, prefer=prefer)
    acquired = run.metadata.get("acquired_at", "")
    try:
        run_date = pd.Timestamp(acquired).date() if acquired else None
    except ValueError:
        run_date = None
    qc = check_plate(result, lots=lots, history=history, rules=rules, run_date=run_date)
    if qc_report is not None:
        report = qc.to_dict()
        report["source_file"] = str(file)
        report["format"] = run.format
        report["read_issues"] = [str(i) for i in run.issues]
        _write(qc_report, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    if concentrations is not None:
        _write(concentrations, _csv(result.concentrations))
    decision = qc.decision
    for warning in decision.warnings:
        typer.echo(f"nbs: QC warning: {warning}", err=True)
    if not decision.accepted:
        for reason in decision.reasons:
            typer.echo(f"nbs: QC reject: {reason}", err=True)
        where = f"; see {qc_report}" if qc_report is not None else ""
        typer.echo(f"nbs: error: plate {run.plate_id} rejected by QC "
                   f"({len(decision.reasons)} reason(s)){where}; no profiles written", err=True)
        raise typer.Exit(_EXIT_REJECTED)
    _write(out, _csv(result.profiles))
    typer.echo(f"{run.format}: plate {run.plate_id}, {len(result.profiles)} specimens, "
               f"method {method.label}: QC {decision.status} -> {out}"
               + (f", {qc_report}" if qc_report is not None else ""), err=True)
