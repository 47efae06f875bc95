"""``nbs read FILE [--format ...] [--profile ...] [--plate-map ...] --out measurements.csv
[--errors issues.csv]``: an instrument export to the measurements table (docs/architecture.md
"Measurements").

A rejected file prints its first ``MAX_PRINTED`` errors (file:line, field: message) and how many
more there are; ``--errors FILE`` writes every issue (errors, warnings, notes) as CSV, whether
the file was accepted or not. Outputs are written whole or not at all (a temporary file in the
same directory, then renamed); a directory that does not exist is an error naming the path.

Public names: ``read_command``, ``ISSUE_COLUMNS``, ``MAX_PRINTED``, ``check_writable``,
``read_or_report``, ``write_issues``, ``write_output``.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import typer

import instruments
from instruments.run import Issue, PlateRun
from lims.cli.common import EXIT_REJECTED
from lims.settings import get_settings
from msms import csvsafe
from msms.errors import DataError

__all__ = ["ISSUE_COLUMNS", "MAX_PRINTED", "check_writable", "read_command", "read_or_report",
           "write_issues", "write_output"]

#: How many errors of a rejected file are printed on stderr (``--errors`` writes them all).
MAX_PRINTED = 20
#: Columns of the ``--errors`` CSV.
ISSUE_COLUMNS = ("severity", "file", "line", "field", "message")


def check_writable(path: Path, option: str) -> None:
    """Fail before any work when ``path``'s directory does not exist or ``path`` is one."""
    if path.is_dir():
        raise DataError("is a directory, not a file to write", file=str(path), field=option)
    if not path.parent.is_dir():
        raise DataError(f"cannot write: no directory {str(path.parent)!r}", file=str(path),
                        field=option)


def write_output(path: Path, data: str, option: str) -> None:
    """Write ``data`` (UTF-8) to ``path`` whole or not at all; errors name the path."""
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise DataError(f"cannot write: {exc.strerror or exc}", file=str(path),
                        field=option) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def write_issues(issues: Sequence[Issue], path: Path) -> None:
    """Every issue as a CSV row (``ISSUE_COLUMNS``), in the order found."""
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\n")
    writer.writerow(ISSUE_COLUMNS)
    for i in issues:
        writer.writerow([i.severity, i.file or "", "" if i.line is None else i.line,
                         i.field or "", i.message])
    write_output(path, out.getvalue(), "--errors")


def read_or_report(read: Callable[[], PlateRun], *, errors: Path | None) -> PlateRun:
    """Run ``read``; on a rejected file print its errors (up to ``MAX_PRINTED``), write every
    issue to ``errors`` when given, and exit 3. On success ``errors`` gets the run's issues."""
    try:
        run = read()
    except instruments.ValidationError as exc:
        found = [i for i in exc.issues if i.severity == "error"]
        for i in found[:MAX_PRINTED]:  # worded as every other rejected input is
            where = DataError(i.message, file=i.file, line=i.line, field=i.field)
            typer.echo(f"nbs: error: {where}", err=True)
        if errors is not None:
            write_issues(exc.issues, errors)
        more = len(found) - MAX_PRINTED
        if more > 0:
            hint = (f"all written to {errors}" if errors is not None
                    else "--errors FILE writes every issue as CSV")
            typer.echo(f"nbs: ... and {more} more error(s); {hint}", err=True)
        warnings = sum(i.severity == "warning" for i in exc.issues)
        source = next((i.file for i in exc.issues if i.file), "the file")
        typer.echo(f"nbs: error: {source} rejected: {len(found)} error(s), {warnings} "
                   f"warning(s); nothing written", err=True)
        raise typer.Exit(EXIT_REJECTED) from None
    except instruments.InstrumentError as exc:
        if errors is not None:
            write_issues([Issue("error", exc.file, exc.line, exc.field, exc.reason)], errors)
        raise
    if errors is not None:
        write_issues(run.issues, errors)
    return run


def read_command(
    file: Path = typer.Argument(..., help="instrument export (a directory or .zip for mzML)"),
    fmt: str = typer.Option("auto", "--format", help="auto, or one of: "
                            f"{', '.join(instruments.formats())}, or a rendering "
                            "nbs simulate plate writes: "
                            f"{', '.join(instruments.rendering_names())}"),
    profile: str = typer.Option(None, "--profile", help="profile name or PROFILE.toml"),
    plate_map: Path = typer.Option(None, "--plate-map", help="MAP.csv: well, sample_id, "
                                   "sample_type (for single mzML files also: file)"),
    out: Path = typer.Option(..., "--out", help="measurements CSV to write"),
    errors: Path = typer.Option(None, "--errors", help="write every issue (severity, file, "
                                "line, field, message) to this CSV"),
) -> None:
    """Read an instrument file, validate the plate and write its measurements (CSV, UTF-8)."""
    check_writable(out, "--out")
    if errors is not None:
        check_writable(errors, "--errors")
    limits = get_settings().archive_limits()  # NBS_ARCHIVE_*: a zip is read within them
    run = read_or_report(lambda: instruments.read(file, format=fmt, profile=profile,
                                                  plate_map=plate_map, limits=limits),
                         errors=errors)
    for issue in run.issues:
        if issue.severity == "warning":
            typer.echo(f"nbs: {issue}", err=True)
    write_output(out, csvsafe.frame_to_csv(run.measurements, lineterminator="\n") or "", "--out")
    typer.echo(f"{run.format}: plate {run.plate_id}, {run.measurements['well'].nunique()} wells, "
               f"{len(run.measurements)} measurements -> {out}", err=True)
