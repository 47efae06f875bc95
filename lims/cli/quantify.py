"""``nbs quantify FILE [--format ...] [--card-data card_data.csv] --out profiles.csv
[--qc-report qc.json] [--errors issues.csv]``: an instrument export -> concentrations (µmol/L)
through the internal standards -> plate QC on the run's date -> the profiles table
(docs/architecture.md "Profiles"), through the screening pipeline (``lims.pipeline``).

A rejected plate writes its QC report but no profiles, and exits with status 3. A file the reader
rejects prints its errors as ``nbs read`` does (``--errors FILE`` writes them all).

Public names: ``quantify_command``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

import instruments
from lims.cli.common import EXIT_REJECTED
from lims.cli.read import read_or_report
from lims.pipeline import ScreeningPipeline
from lims.settings import get_settings, load_configured_catalogue
from msms import csvsafe
from msms.errors import DataError
from msms.methods import load_method, packaged_methods
from msms.qc import load_control_lots, load_rules, read_control_history

__all__ = ["quantify_command"]


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None


def _csv(frame: pd.DataFrame) -> str:
    return csvsafe.frame_to_csv(frame, lineterminator="\n", float_format="%.6g") or ""


def quantify_command(
    file: Path = typer.Argument(..., help="instrument export (a directory or .zip for mzML)"),
    fmt: str = typer.Option("auto", "--format", help="auto, or one of: "
                            f"{', '.join(instruments.formats())}, or a rendering "
                            "nbs simulate plate writes: "
                            f"{', '.join(instruments.rendering_names())}"),
    profile: str = typer.Option(None, "--profile", help="reader profile name or PROFILE.toml"),
    plate_map: Path = typer.Option(None, "--plate-map", help="MAP.csv: well, sample_id, "
                                   "sample_type"),
    method_name: str = typer.Option(
        "nonderivatized", "--method",
        help=f"quantitation method: {' or '.join(packaged_methods())}, or METHOD.toml"),
    card_data: Path = typer.Option(None, "--card-data", help="card_data.csv: specimen_id and "
                                   "covariates (docs/architecture.md 'Profiles') to join"),
    control_lots: Path = typer.Option(None, "--control-lots", help="control lots TOML "
                                      "(default: the packaged lots)"),
    control_history: Path = typer.Option(None, "--control-history", help="earlier runs' "
                                         "control values CSV (run_id, lot, analyte, "
                                         "conc_umol_l[, acquired_at])"),
    qc_rules: Path = typer.Option(None, "--qc-rules", help="plate-QC rules TOML (default: "
                                  "packaged)"),
    prefer: str = typer.Option("method", "--prefer", help="where a well has intensities and a "
                               "vendor concentration: method or vendor"),
    out: Path = typer.Option(..., "--out", help="profiles CSV to write (docs/architecture.md "
                             "'Profiles')"),
    qc_report: Path = typer.Option(None, "--qc-report", help="QC report JSON to write"),
    errors: Path = typer.Option(None, "--errors", help="write every issue found while reading "
                                "(severity, file, line, field, message) to this CSV"),
    concentrations: Path = typer.Option(None, "--concentrations", help="also write every "
                                        "well's concentrations (long CSV)"),
) -> None:
    """Quantify a plate through its internal standards, check it, and write the profiles."""
    if prefer not in ("method", "vendor"):
        raise typer.BadParameter("must be method or vendor", param_hint="--prefer")
    pipeline = ScreeningPipeline(
        method=load_method(method_name), format=fmt, prefer=prefer,
        qc_rules=load_rules(qc_rules) if qc_rules is not None else None,
        control_lots=load_control_lots(control_lots) if control_lots is not None else None,
        catalogue=load_configured_catalogue(get_settings()),
        archive_limits=get_settings().archive_limits())
    history = read_control_history(control_history) if control_history is not None else None
    run = read_or_report(lambda: pipeline.read(file, profile=profile, plate_map=plate_map),
                         errors=errors)
    for issue in run.issues:
        if issue.severity == "warning":
            typer.echo(f"nbs: {issue}", err=True)
    result = pipeline.quantify(run, card_data=card_data)
    for finding in result.report.step("profiles").findings:
        if finding.severity == "warning":
            typer.echo(f"nbs: warning: {finding.message}", err=True)
    qc = pipeline.check(run, result, history=history)
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
        raise typer.Exit(EXIT_REJECTED)
    _write(out, _csv(result.profiles))
    typer.echo(f"{run.format}: plate {run.plate_id}, {len(result.profiles)} specimens, "
               f"method {pipeline.method.label}: QC {decision.status} -> {out}"
               + (f", {qc_report}" if qc_report is not None else ""), err=True)
