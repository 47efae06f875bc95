"""``nbs catalogue analytes|disorders``: the reference catalogues as a table or CSV.

Public names: ``catalogue_app``, ``analytes_command``, ``disorders_command``.
"""

from __future__ import annotations

import typer

from lims.cli.common import TableFormat, emit_table
from lims.settings import get_settings, load_configured_catalogue

__all__ = ["catalogue_app"]

catalogue_app = typer.Typer(help="The reference catalogues of analytes and disorders.",
                            no_args_is_help=True)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@catalogue_app.command("analytes")
def analytes_command(
    fmt: TableFormat = typer.Option(TableFormat.table, "--format",
                                    help="table on a terminal, or csv"),
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
    emit_table(header, rows, fmt, shown=[0, 2, 6, 7, 8, 1])


@catalogue_app.command("disorders")
def disorders_command(
    fmt: TableFormat = typer.Option(TableFormat.table, "--format",
                                    help="table on a terminal, or csv"),
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
    emit_table(header, rows, fmt, shown=[0, 2, 6, 4, 1])
