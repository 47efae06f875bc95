"""``nbs outcomes export --out labelled.csv``: the laboratory's resolved follow-up cases as
labelled outcomes (docs/architecture.md "Labelled outcomes", plus ``first_tier``,
``outcome_class`` and ``case_id``; docs/followup.md "Outcomes"), ``nbs outcomes
export-calibration FIRST.csv REPEAT.csv [--from DATE] [--to DATE]``: the released first cards
with each baby's outcome and their repeats, as ``nbs second-tier calibrate-reflex`` reads them
(docs/second_tier.md A9), ``nbs programme measures
--month YYYY-MM``: the month's programme measures, and ``nbs programme refresh [--month
YYYY-MM] [--force]``: compute and store the months' measures whose data changed (docs/followup.md
"Stored measures").

Public names: ``outcomes_app``, ``programme_app``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
import typer

from lims.cli.actor import ActorOption
from lims.cli.common import TableFormat, emit_table, in_session
from lims.errors import InvalidInputError
from lims.followup.births import parse_month
from lims.followup.calibration_export import calibration_population
from lims.followup.outcomes import labelled_and_missed
from lims.followup.programme import programme_measures, refresh_measures
from msms import csvsafe

__all__ = ["outcomes_app", "programme_app"]

outcomes_app = typer.Typer(help="Outcomes of follow-up as labelled data.", no_args_is_help=True)
programme_app = typer.Typer(help="Programme measures from the follow-up cases.",
                            no_args_is_help=True)


def _write(table: pd.DataFrame, out: Path) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        csvsafe.frame_to_csv(table, out, lineterminator="\n")
    except OSError as exc:
        raise InvalidInputError(f"cannot write: {exc.strerror}", file=str(out)) from None


@outcomes_app.command("export")
def export_command(out: Path = typer.Option(..., "--out", help="labelled CSV to write")) -> None:
    """Write every resolved case's suspected disorders that its card was flagged for, with
    their outcome; the others (a case opened by hand on a card read as normal) are counted."""
    table, missed = in_session(lambda s, _: labelled_and_missed(s))
    _write(table, out)
    counts = table["outcome"].value_counts() if len(table) else {}
    typer.echo(f"{len(table):,} labelled outcomes ({counts.get('true_positive', 0):,} true, "
               f"{counts.get('false_positive', 0):,} false positives) -> {out}"
               + (f"; {missed:,} suspected disorder(s) of cases whose card was not flagged for "
                  "them left out (not screen positives)" if missed else ""), err=True)


@outcomes_app.command("export-calibration")
def export_calibration_command(
        first_out: Path = typer.Argument(..., metavar="FIRST.csv",
                                         help="first cards with each baby's outcome"),
        repeat_out: Path = typer.Argument(..., metavar="REPEAT.csv",
                                          help="their repeat specimens"),
        since: datetime = typer.Option(None, "--from", formats=["%Y-%m-%d"],
                                       help="first cards received from this day (YYYY-MM-DD)"),
        until: datetime = typer.Option(None, "--to", formats=["%Y-%m-%d"],
                                       help="first cards received up to this day, inclusive"),
        actor: ActorOption = None,
) -> None:
    """Write the released first cards of the period, one per baby, with the baby's outcome
    (true_disorder, severity, fp_mechanism), and their repeat specimens
    (previous_specimen_id): the files nbs second-tier calibrate-reflex reads. Babies whose
    cases are not all resolved, or whose confirmed diagnosis has no severity, are left out
    and counted."""
    if since is not None and until is not None and until < since:
        raise InvalidInputError(f"the period ends ({until:%Y-%m-%d}) before it starts "
                                f"(--from {since:%Y-%m-%d})", field="--to")
    export = in_session(lambda s, a: calibration_population(
        s, a, since=since.date() if since else None, until=until.date() if until else None),
        actor)
    _write(export.first, first_out)
    _write(export.repeat, repeat_out)
    cases = export.cases
    severities = "/".join(str(int(cases.get(v, 0))) for v in ("mild", "moderate", "severe"))
    maternal = int((export.first["fp_mechanism"] != "").sum()) if len(export.first) else 0
    typer.echo(f"{len(export.first):,} babies' first cards ({int(cases.sum()):,} confirmed "
               f"cases, mild/moderate/severe {severities}; {maternal:,} maternal B12 "
               f"deficiency) -> {first_out}")
    typer.echo(f"{len(export.repeat):,} repeat specimens -> {repeat_out}")
    left = sum(export.left_out.values())
    typer.echo(f"{left:,} babies left out (their outcome is not known or not complete)"
               + "".join(f"\n  {n:,}: {why}" for why, n in sorted(export.left_out.items())))


@programme_app.command("measures")
def measures_command(month: str = typer.Option(..., "--month", help="YYYY-MM"),
                     fmt: TableFormat = typer.Option(TableFormat.table, "--format")) -> None:
    """The programme's measures of a month (value, n, numerator)."""
    day = parse_month(month)
    result = in_session(lambda s, _: programme_measures(s, day))
    emit_table(["measure", "value", "n", "numerator"],
               [[code, "" if m.value is None else f"{m.value:.3f}", str(m.n),
                 "" if m.numerator is None else str(m.numerator)]
                for code, m in result.programme.items()], fmt)


@programme_app.command("refresh")
def refresh_command(
        month: list[str] = typer.Option([], "--month",
                                        help="YYYY-MM (repeatable; default: every month)"),
        force: bool = typer.Option(False, "--force",
                                   help="compute them even where the stored ones stand")) -> None:
    """Compute and store the programme measures of the months whose data changed since."""
    months = [parse_month(m) for m in month] or None
    done = in_session(lambda s, _: refresh_measures(s, months, force=force))
    typer.echo(f"{len(done)} month(s) computed and stored"
               + (f": {', '.join(f'{m:%Y-%m}' for m in done)}" if done else ""))
