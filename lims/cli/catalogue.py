"""``nbs catalogue analytes|disorders``: the reference catalogues as a table or CSV."""

from __future__ import annotations

import csv
import shutil
import sys
from enum import StrEnum

import typer

from lims.settings import get_settings, load_configured_catalogue

__all__ = ["catalogue_app"]

catalogue_app = typer.Typer(help="The reference catalogues of analytes and disorders.",
                            no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"


def _emit(header: list[str], rows: list[list[str]], fmt: Format, table_columns: list[int]) -> None:
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return
    width = shutil.get_terminal_size((120, 24)).columns
    cols = [header[i] for i in table_columns]
    body = [[row[i] for i in table_columns] for row in rows]
    widths = [max(len(c), *(len(r[j]) for r in body)) for j, c in enumerate(cols)]
    widths[-1] = max(10, min(widths[-1], width - sum(w + 2 for w in widths[:-1])))

    def line(cells: list[str]) -> str:
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    typer.echo(line(cols))
    typer.echo(line(["-" * w for w in widths]))
    for r in body:
        typer.echo(line(r))
    typer.echo(f"({len(rows)} rows)")


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@catalogue_app.command("analytes")
def analytes_command(
    fmt: Format = typer.Option(Format.table, "--format", help="table on a terminal, or csv"),
) -> None:
    """List the analytes: code, class, aliases, population median/p1/p99 (µmol/L), source."""
    header = ["code", "name", "class", "aliases", "nonderiv_precursor_mz", "internal_standard",
              "pop_median_umol_l", "pop_p1_umol_l", "pop_p99_umol_l", "pop_provenance", "source"]
    rows = [
        [a.code, a.name, a.analyte_class, "|".join(a.aliases), a.nonderiv_precursor_mz,
         a.internal_standard, _fmt(a.pop_median_umol_l), _fmt(a.pop_p1_umol_l),
         _fmt(a.pop_p99_umol_l), a.pop_provenance, a.source]
        for a in load_configured_catalogue(get_settings()).analytes
    ]
    _emit(header, rows, fmt, [0, 2, 6, 7, 8, 1])


@catalogue_app.command("disorders")
def disorders_command(
    fmt: Format = typer.Option(Format.table, "--format", help="table on a terminal, or csv"),
) -> None:
    """List the disorders: code, category, markers, time-critical flag, example cutoffs, sources."""
    header = ["code", "name", "category", "loinc_answer", "primary_markers",
              "secondary_markers_ratios", "time_critical", "typical_cutoffs", "cutoff_source",
              "confirmatory_tests"]

    def tc(value: bool | None) -> str:
        return {True: "yes", False: "no", None: ""}[value]

    rows = [
        [d.code, d.name, d.category, d.loinc_answer, d.primary_markers,
         d.secondary_markers_ratios, tc(d.time_critical), d.typical_cutoffs, d.cutoff_source,
         d.confirmatory_tests]
        for d in load_configured_catalogue(get_settings()).disorders
    ]
    _emit(header, rows, fmt, [0, 2, 6, 4, 1])
