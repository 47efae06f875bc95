"""``nbs evaluate``: the calls (docs/architecture.md "Calls") for a profiles file, through the
screening pipeline (``lims.pipeline``): the first tier against the cutoff table, then the second
tier when a model is given. ``--cutoffs`` and ``--second-tier`` default to the settings
``NBS_CUTOFFS`` and ``NBS_SECOND_TIER_MODEL`` (empty: the rules' literature levels, no second
tier), so the command evaluates as ``nbs ingest`` and the service do.

With ``--stage duplicate_mean`` the file may hold the two in-duplicate results of each specimen
(two rows with the same ``specimen_id``): they are averaged and the mean is evaluated
(docs/evaluation.md, :func:`cutoffs.duplicates.mean_of_duplicates`); a file with one row per
specimen holds the means already.

Public names: ``evaluate_command``, ``write_calls``, ``flag_columns``, ``warn_missing``,
``warn_missing_covariates``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from cutoffs.duplicates import mean_of_duplicates
from cutoffs.profiles import check_columns, check_covariates, read_profiles, write_table
from cutoffs.reflex.apply import apply_reflex
from cutoffs.reflex.calibrate import read_calibration
from cutoffs.rules import RULES_DIR, RuleSet, load_rules
from lims.cli.progress import step
from lims.pipeline import ScreeningPipeline
from lims.settings import get_settings
from lims.vocabulary import Stage

__all__ = ["evaluate_command", "flag_columns", "warn_missing", "warn_missing_covariates",
           "write_calls"]


def write_calls(calls: pd.DataFrame, path: Path) -> None:
    """Write a calls table as Parquet (``.parquet``: ``time_critical`` boolean) or CSV
    (``time_critical`` as true/false, missing numbers empty)."""
    out = calls
    if path.suffix.lower() != ".parquet":
        out = calls.copy()
        out["time_critical"] = np.where(out["time_critical"].astype(bool), "true", "false")
    write_table(out, path)


def flag_columns(rules: RuleSet) -> list[str]:
    """Profile columns the rules' exclusions read (``pivalate_exposure``, ``mct_feeding``, ...):
    like the covariates, they belong to the card and must agree between its duplicates."""
    return list(dict.fromkeys(e.column for r in rules for e in r.exclusions
                              if e.kind == "flag" and e.column))


def warn_missing(missing: list[str], path: Path, outcome: str) -> None:
    """Say which analytes the rules read a profiles file has no column for."""
    if missing:
        typer.echo(f"warning: {path} has no column for {', '.join(missing)}: the disorders "
                   f"that read them are {outcome}", err=True)


def warn_missing_covariates(missing: list[str], path: Path) -> None:
    """Say which covariates a profiles file has no column for."""
    if missing:
        typer.echo(f"warning: {path} has no column for {', '.join(missing)}: the cutoffs' "
                   "strata and the scores cannot take them into account", err=True)


def _repeated(frame: pd.DataFrame) -> pd.Series:
    ids = frame["specimen_id"]
    if pd.api.types.infer_dtype(ids, skipna=False) != "string":  # already text: no copy
        ids = ids.astype(str)
    if ids.is_unique:  # the usual case: one pass, no mask
        return ids.iloc[:0]
    return ids[ids.duplicated(keep=False)]


def evaluate_command(
    profiles: Path = typer.Argument(..., help="Profiles, CSV or .parquet (the profiles "
                                    "contract, docs/architecture.md 'Profiles')."),
    out: Path = typer.Option(..., "--out", help="Calls to write, CSV or .parquet (the calls "
                             "contract, docs/architecture.md 'Calls')."),
    cutoffs: Path | None = typer.Option(None, "--cutoffs", help="A laboratory cutoff table "
                                        "(nbs cutoffs derive); default: NBS_CUTOFFS, else the "
                                        "rules' literature levels."),
    include_all: bool = typer.Option(False, "--all", help="Write every specimen x disorder "
                                     "pair, normal ones too."),
    rules: Path = typer.Option(RULES_DIR, "--rules", help="Rule file or directory."),
    stage: Stage = typer.Option(Stage.initial, "--stage", help="initial test, or the mean of "
                                "the in-duplicate repeat (decides the action): the two rows of "
                                "each specimen are averaged (one row each: already means)."),
    second_tier: Path | None = typer.Option(None, "--second-tier", help="Apply a second-tier "
                                            "model (nbs second-tier train) to the screen "
                                            "positives; default: NBS_SECOND_TIER_MODEL, else "
                                            "none."),
    scores: Path | None = typer.Option(None, "--scores", help="Also write covariate-adjusted "
                                       "percentiles and MoM of the flagged specimens (all with "
                                       "--all), against the cutoff table, else the default "
                                       "covariate model."),
    reflex: Path | None = typer.Option(None, "--reflex", help="Calibrated reflex levels "
                                       "(the JSON nbs second-tier calibrate-reflex writes): "
                                       "the calls gain decision and reason_code per referral "
                                       "group from the profiles' "
                                       "second-tier, context and earlier-specimen columns."),
) -> None:
    """Evaluate every profile against the disorder rules and write the calls."""
    rule_set = load_rules(rules)
    pipeline = ScreeningPipeline.from_settings(get_settings(), cutoffs=cutoffs,
                                               second_tier=second_tier, rules=rule_set)
    # the calibration is read before the profiles: a missing or unreadable file is said at
    # once, not after the whole table was evaluated
    calibration = read_calibration(reflex) if reflex is not None else None
    with step(f"reading {profiles}"):
        frame = read_profiles(profiles)
    warn_missing(check_columns(frame, rule_set.analytes()), profiles, "not evaluable")
    warn_missing_covariates(check_covariates(frame), profiles)
    repeated = _repeated(frame)
    if stage is Stage.duplicate_mean and len(repeated):
        n_rows = len(frame)
        frame = mean_of_duplicates(frame, file=str(profiles), agree=flag_columns(rule_set))
        typer.echo(f"{n_rows:,} rows: the mean of the duplicates of {len(frame):,} specimens "
                   "is evaluated", err=True)
    elif len(repeated):
        example = repeated.iloc[0]
        lines = [str(int(i) + 2) for i in np.flatnonzero(
            frame["specimen_id"].astype(str).to_numpy() == example)]
        typer.echo(f"warning: {profiles}: {repeated.nunique():,} specimen_id(s) appear more "
                   f"than once (e.g. {example!r} on lines {', '.join(lines)}); each row is "
                   "evaluated alone -- use --stage duplicate_mean to average an in-duplicate "
                   "repeat", err=True)
    with step(f"evaluating {len(frame):,} profiles x {len(rule_set)} disorders"):
        calls = pipeline.evaluate(frame, stage=stage, include_normal=include_all,
                                  source=str(profiles)).calls
    if calibration is not None:
        with step("applying the reflex second tier"):
            calls = apply_reflex(calls, frame, calibration, pipeline.cutoffs)
    with step(f"writing {len(calls):,} calls to {out}"):
        write_calls(calls, out)
    flagged = calls[calls["first_tier"] != "normal"]
    counts = flagged["first_tier"].value_counts()
    summary = ", ".join(f"{counts[t]} {t}" for t in
                        ("borderline", "positive", "critical", "not_evaluable") if t in counts)
    typer.echo(f"{len(frame):,} profiles x {len(rule_set)} disorders: "
               f"{flagged['specimen_id'].nunique():,} specimens flagged"
               + (f" ({summary})" if summary else "") + f" -> {out}", err=True)
    if scores is not None:
        ids = set(flagged["specimen_id"])
        rows = np.arange(len(frame)) if include_all else np.flatnonzero(
            frame["specimen_id"].astype(str).isin(ids).to_numpy())
        with step(f"scoring {len(rows):,} profiles"):
            table_out = pipeline.score(frame, rows=rows)
        write_table(table_out, scores)
        typer.echo(f"{len(table_out):,} scores -> {scores}", err=True)
