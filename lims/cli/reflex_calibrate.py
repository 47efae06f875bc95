"""``nbs second-tier calibrate-reflex``: choose the reflex second tier's levels from a
laboratory's labelled outcomes (docs/second_tier.md "Calibrating from the laboratory's
outcomes").

``FIRST`` holds the first cards of a calibration population, one row per baby, with the
profile columns ``nbs evaluate`` reads (analytes, covariates; the second-tier assay and context
columns where run or recorded) and each baby's outcome: ``true_disorder`` (the confirmed
disorder's catalogue code, empty when none) and ``severity`` (``mild``, ``moderate`` or
``severe`` for a case, empty otherwise); ``fp_mechanism`` may name
``maternal_b12_deficiency``. ``REPEAT`` holds the repeat specimens of those babies, each naming
its first card in ``previous_specimen_id``. The levels are chosen by
``cutoffs.reflex.calibrate.calibrate_reflex`` and written by ``write_calibration`` (the file
``NBS_REFLEX_CALIBRATION`` and ``nbs evaluate --reflex`` read); then, per referral group, the
chosen levels and what they do on the calibration set are printed.

Public names: ``calibrate_reflex_command``, ``check_labels``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.profiles import read_profiles
from cutoffs.reflex.calibrate import CalibratedReflex, calibrate_reflex, write_calibration
from cutoffs.reflex.decide import Calibration
from cutoffs.reflex.measure import measure_flow
from cutoffs.reflex.outcomes import run_flow, truth_of
from cutoffs.reflex.rules import ReflexRules, default_reflex_rules
from cutoffs.tables import CutoffTable, read_cutoff_table
from lims.cli.progress import step
from msms.tables import PROFILE_ID

__all__ = ["calibrate_reflex_command", "check_labels"]

SEVERITIES = ("mild", "moderate", "severe")
LABELS = ("true_disorder", "severity")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].astype("string").fillna("").str.strip()


def _refuse(path: Path, rows: np.ndarray, column: str, why: str) -> None:
    line = int(rows[0]) + 2  # a header line, then row 0 on line 2
    more = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
    raise CutoffError(f"{why}{more}", file=str(path), line=line, field=column)


def check_labels(first: pd.DataFrame, repeat: pd.DataFrame, first_path: Path,
                 repeat_path: Path, rules: ReflexRules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two files checked: the labels of ``first`` (every baby's ``true_disorder`` a
    disorder of the rules or empty, a case's ``severity`` one of ``SEVERITIES``, empty when
    unaffected) and the link of ``repeat`` (each ``previous_specimen_id`` a first card).
    Raises ``CutoffError`` naming the file, line and column of the first fault."""
    for column in LABELS:
        if column not in first.columns:
            raise CutoffError(f"no {column!r} column: the calibration needs each first card's "
                              f"outcome ({', '.join(LABELS)})", file=str(first_path), line=1,
                              field=column)
    if first[PROFILE_ID].astype(str).duplicated().any():
        rows = np.flatnonzero(first[PROFILE_ID].astype(str).duplicated().to_numpy())
        _refuse(first_path, rows, PROFILE_ID, "a first card appears twice")
    disorder, severity = _text(first, "true_disorder"), _text(first, "severity")
    known = set(rules.group_of())
    unknown = np.flatnonzero((~disorder.isin(known) & disorder.ne("")).to_numpy())
    if len(unknown):
        _refuse(first_path, unknown, "true_disorder",
                f"{disorder.iloc[unknown[0]]!r} is not a disorder of the reflex rules")
    case = disorder.ne("").to_numpy()
    wrong = np.flatnonzero(case & ~severity.isin(SEVERITIES).to_numpy())
    if len(wrong):
        _refuse(first_path, wrong, "severity",
                f"a case's severity must be one of {', '.join(SEVERITIES)}, not "
                f"{severity.iloc[wrong[0]]!r}")
    stray = np.flatnonzero(~case & severity.ne("").to_numpy())
    if len(stray):
        _refuse(first_path, stray, "severity",
                f"severity {severity.iloc[stray[0]]!r} given for a baby with no true_disorder")
    if "previous_specimen_id" not in repeat.columns:
        raise CutoffError("no 'previous_specimen_id' column: each repeat specimen names its "
                          "first card", file=str(repeat_path), line=1,
                          field="previous_specimen_id")
    previous = _text(repeat, "previous_specimen_id")
    orphans = np.flatnonzero((~previous.isin(set(first[PROFILE_ID].astype(str)))).to_numpy())
    if len(orphans):
        _refuse(repeat_path, orphans, "previous_specimen_id",
                f"{previous.iloc[orphans[0]]!r} is not a first card of {first_path}")
    first = first.assign(true_disorder=disorder.to_numpy(dtype=object),
                         severity=severity.to_numpy(dtype=object),
                         fp_mechanism=(_text(first, "fp_mechanism").to_numpy(dtype=object)
                                       if "fp_mechanism" in first.columns else ""))
    return first, repeat.assign(previous_specimen_id=previous.to_numpy(dtype=object))


def _level(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value) or abs(value) >= 1e8:
        return "none" if value < 0 else "all"
    return f"{value:+.2f}"


def _informed(calibration: Calibration, rules: ReflexRules, group: str) -> str:
    """A group's informed level: ``-`` for a group that clears nothing as informed (and the
    ``all`` row), ``all`` where no level was needed."""
    if group not in {g.code for g in rules.groups} or not rules.group(group).otherwise_informed:
        return "-"
    return _level(calibration.informed_clear_below.get(group, math.inf))


def _own_informed(calibration: Calibration, rules: ReflexRules, group: str) -> str:
    """A group's disorders' own informed levels (``informed VLCAD -0.75``); a disorder without
    one is held to the group's (the informed column)."""
    own = calibration.informed_clear_below_disorder
    return ", ".join(f"informed {d} {_level(own[d])}" for d in rules.group(group).disorders
                     if d in own)


def _print_groups(calibrated: CalibratedReflex, measures: pd.DataFrame,
                  rules: ReflexRules) -> None:
    c = calibrated.calibration
    typer.echo("levels: scale of the referral levels, clearing, repeat and informed levels "
               "(score excess in SD; - the rules' own; informed: below it a baby flagged only "
               "for disorders the group's assays inform is cleared on a normal result, all: at "
               "any excess); unaffected babies flagged, cleared, FP cut; cases flagged, kept "
               "(not cleared), cleared mild/moderate/severe")
    typer.echo(f"{'group':9} {'scale':>5} {'clear<':>7} {'repeat<':>8} {'informed<':>9}  "
               f"{'flagged':>7} {'cleared':>7} {'FP cut':>6}  {'cases':>5} {'kept':>5} "
               f"{'cleared m/M/S':>13}  own repeat levels; assay scales; own informed levels")
    by = measures.set_index("group")
    for group in [*(g.code for g in rules.groups), "all"]:
        m = by.loc[group]
        cases = int(m["cases_flagged"])
        cleared = (int(m["cleared_mild"]), int(m["cleared_moderate"]), int(m["cleared_severe"]))
        fp_cut = "-" if pd.isna(m["fp_cut"]) else f"{100 * float(m['fp_cut']):.0f}%"
        own = ""
        if group != "all":
            disorders = rules.group(group).disorders
            own = ", ".join(f"{d} {_level(c.repeat_clear_below_disorder[d])}"
                            for d in disorders if d in c.repeat_clear_below_disorder)
            scales = ", ".join(f"{k.split(':', 1)[1]} x{v:g}" for k, v in c.rule_scale.items()
                               if k.startswith(f"{group}:"))
            own = "; ".join(x for x in (own, scales, _own_informed(c, rules, group)) if x)
        scale = c.scale.get(group)
        typer.echo(
            f"{group:9} {'-' if scale is None else f'{scale:g}':>5} "
            f"{_level(c.clear_below.get(group)):>7} {_level(c.repeat_clear_below.get(group)):>8}"
            f" {_informed(c, rules, group):>9}  {int(m['unaffected_flagged']):>7}"
            f" {int(m['unaffected_cleared']):>7} {fp_cut:>6}"
            f"  {cases:>5} {cases - sum(cleared):>5} {'/'.join(map(str, cleared)):>13}  {own}")


def _read_table(path: Path) -> CutoffTable:
    table = read_cutoff_table(path)
    if table.scores is None:
        raise CutoffError("the cutoff table has no score section (nbs cutoffs derive writes "
                          "one): the clearing and repeat levels are score excesses",
                          file=str(path))
    return table


def calibrate_reflex_command(
    first_file: Path = typer.Argument(..., metavar="FIRST", help="First cards, CSV or "
                                      ".parquet: profile columns and each baby's outcome, "
                                      "true_disorder (catalogue code, empty when none) and "
                                      "severity (mild, moderate, severe; empty when none)."),
    repeat_file: Path = typer.Argument(..., metavar="REPEAT", help="Repeat specimens of "
                                       "those babies, CSV or .parquet: profile columns and "
                                       "previous_specimen_id (the first card)."),
    cutoffs: Path = typer.Option(..., "--cutoffs", help="The laboratory's cutoff table (nbs "
                                 "cutoffs derive), with its score section."),
    out: Path = typer.Option(..., "--out", help="Calibration file to write (JSON): "
                             "NBS_REFLEX_CALIBRATION, nbs evaluate --reflex."),
) -> None:
    """Calibrate the reflex levels on labelled first cards and repeat specimens.

    Writes the calibration file and prints per referral group the levels and what they do on
    this set: unaffected babies flagged and cleared (FP cut), cases flagged, kept and cleared
    by severity (mild/moderate/severe)."""
    rules = default_reflex_rules()
    table = _read_table(cutoffs)
    with step(f"reading {first_file} and {repeat_file}"):
        first, repeat = check_labels(read_profiles(first_file), read_profiles(repeat_file),
                                     first_file, repeat_file, rules)
    with step(f"evaluating {len(first):,} first cards"):
        calls = evaluate(first, cutoffs=table, file=str(first_file))
        flagged = set(calls.loc[calls["first_tier"] != "normal", PROFILE_ID].astype(str))
        sent = repeat[repeat["previous_specimen_id"].isin(flagged)].reset_index(drop=True)
        repeat_calls = evaluate(sent, cutoffs=table, include_normal=True, file=str(repeat_file))
    with step(f"calibrating on {len(flagged):,} flagged babies, {len(sent):,} repeats"):
        calibrated = calibrate_reflex(first, sent, table, rules, first_calls=calls,
                                      repeat_calls=repeat_calls)
        flow = run_flow(first, sent, table, rules, calibrated.calibration, first_calls=calls,
                        repeat_calls=repeat_calls)
        measures = measure_flow(flow, truth_of(first), rules, len(first))
    try:
        write_calibration(calibrated, out)
    except OSError as exc:
        raise CutoffError(f"cannot write: {exc.strerror}", file=str(out)) from None
    typer.echo(f"{calibrated.version} on {len(first):,} babies (cutoffs {table.version}) "
               f"-> {out}")
    _print_groups(calibrated, measures, rules)
    for note in calibrated.notes:
        typer.echo(f"note: {note}")
