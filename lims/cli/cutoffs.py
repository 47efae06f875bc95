"""``nbs cutoffs derive|show|covariate-model``: a laboratory's own percentile cutoffs, the
tables in force, and the default covariate model for scores.

Public names: ``cutoffs_app``, ``derive_command``, ``show_command``, ``covariate_model_command``,
``describe_derived_from``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import typer

from cutoffs.covariate_model import (
    COVARIATE_MODEL_TOML,
    DEFAULT_N,
    DEFAULT_SEED,
    build_covariate_model,
    write_covariate_model,
)
from cutoffs.derive import DEFAULT_MIN_STRATUM_N, derive_cutoffs
from cutoffs.errors import CutoffError
from cutoffs.profiles import check_columns, check_covariates, read_profiles
from cutoffs.rules import RULES_DIR, load_rules
from cutoffs.strata import STRATA_TOML, load_strata
from cutoffs.tables import read_cutoff_table, write_cutoff_table
from lims.cli.common import TableFormat, emit_table
from lims.cli.cutoffs_scores import add_score_section, parse_disorder_targets
from lims.cli.evaluate import warn_missing, warn_missing_covariates

__all__ = ["covariate_model_command", "cutoffs_app", "derive_command", "describe_derived_from",
           "show_command"]

cutoffs_app = typer.Typer(help="Cutoff tables: derive a laboratory's own, show the ones in force.",
                          no_args_is_help=True)


def _default_version(population_sha256: str, settings: dict[str, object]) -> str:
    """``lab-`` and 12 hex digits of the SHA-256 of the population file and every setting the
    table depends on: the same file derived with other settings (a score section or not, other
    percentiles, strata or rules) gets another version, so its calls say which table made them."""
    text = population_sha256 + "\n" + json.dumps(settings, sort_keys=True, default=str)
    return "lab-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=str(path)) from None
    return digest.hexdigest()


@cutoffs_app.command("derive")
def derive_command(
    population: Path = typer.Argument(..., help="Profiles CSV of screen-negative babies."),
    out: Path = typer.Option(..., "--out", help="Cutoff table (TOML) to write."),
    upper_percentile: float = typer.Option(99.5, "--upper-percentile", min=50.0, max=100.0,
                                           help="Upper cutoff percentile."),
    lower_percentile: float = typer.Option(0.5, "--lower-percentile", min=0.0, max=50.0,
                                           help="Lower cutoff percentile."),
    min_stratum_n: int = typer.Option(DEFAULT_MIN_STRATUM_N, "--min-stratum-n", min=1,
                                      help="Smallest stratum that gets its own cutoffs."),
    bootstrap: int = typer.Option(200, "--bootstrap", min=0,
                                  help="Bootstrap replicates for the confidence intervals."),
    confidence: float = typer.Option(0.95, "--confidence", min=0.5, max=0.999,
                                     help="Coverage of the confidence intervals."),
    strata: Path = typer.Option(STRATA_TOML, "--strata", help="Strata definitions (TOML)."),
    max_depth: int | None = typer.Option(None, "--max-depth", min=0,
                                         help="Combine at most this many covariates per stratum."),
    rules: Path = typer.Option(RULES_DIR, "--rules", help="Rule file or directory whose markers "
                               "are included."),
    version: str | None = typer.Option(None, "--version", help="Table version (default: "
                                       "lab- and a SHA-256 prefix of the population and "
                                       "these settings: two tables derived differently never "
                                       "share it)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the bootstrap."),
    target_flag_rate: float | None = typer.Option(
        None, "--target-flag-rate", min=0.0, max=0.5,
        help="Also derive disorder scores and one score cutoff per disorder so that this share "
             "of the population (e.g. 0.015) is flagged for any disorder."),
    disorder_target: list[str] = typer.Option(
        [], "--disorder-target", help="CODE=RATE: this disorder's own share of babies to flag "
                                      "(repeatable)."),
    cases: Path | None = typer.Option(
        None, "--cases", help="Confirmed cases (profiles with a disorder column, or labelled "
                              "outcomes): each disorder's cutoff stays below its cases."),
    range_floors: bool = typer.Option(
        True, "--range-floors/--no-range-floors",
        help="Keep each cutoff below the score at the low end of the published disease range."),
) -> None:
    """Derive percentile cutoffs per analyte, ratio and stratum from a laboratory's own
    screen-negative population, with bootstrap confidence intervals; with
    --target-flag-rate also the disorder scores and their cutoffs."""
    own_targets = parse_disorder_targets(disorder_target)
    strata_def = load_strata(strata)
    if max_depth is not None:
        strata_def = dataclasses.replace(strata_def, max_depth=max_depth)
    rule_set = load_rules(rules)
    digest = _sha256(population)
    if version is None:
        version = _default_version(digest, {
            "upper_percentile": upper_percentile, "lower_percentile": lower_percentile,
            "min_stratum_n": min_stratum_n, "bootstrap": bootstrap, "confidence": confidence,
            "strata": _sha256(strata), "max_depth": max_depth, "seed": seed,
            "rules": sorted(f"{r.code} {r.version}" for r in rule_set),
            "target_flag_rate": target_flag_rate, "disorder_targets": sorted(own_targets.items()),
            "cases": _sha256(cases) if cases is not None else None,
            "range_floors": range_floors})
    frame = read_profiles(population)
    typer.echo(f"read {len(frame):,} profiles from {population}", err=True)
    warn_missing(check_columns(frame, rule_set.analytes()), population,
                 "left without a laboratory cutoff (the rules' own levels apply)")
    warn_missing_covariates(check_covariates(frame), population)

    def progress(done: int, total: int) -> None:
        typer.echo(f"strata combinations {done} / {total}", err=True)

    table = derive_cutoffs(
        frame, strata=strata_def, rules=rule_set, upper_percentile=upper_percentile,
        lower_percentile=lower_percentile, min_stratum_n=min_stratum_n, n_bootstrap=bootstrap,
        confidence=confidence, seed=seed, version=version, source=str(population),
        digest=digest, progress=progress,
    )
    if target_flag_rate is not None:
        add_score_section(table, frame, target=target_flag_rate,
                          disorder_targets=own_targets, cases=cases,
                          range_floors=range_floors)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_cutoff_table(table, out)
    except OSError as exc:
        raise CutoffError(f"cannot write: {exc.strerror}", file=str(out)) from None
    strata_used = len({e.stratum for e in table.entries})
    typer.echo(f"{len(table.entries):,} cutoffs ({len(table.markers)} markers, {strata_used} "
               f"strata) version {table.version} -> {out}", err=True)


def describe_derived_from(derived_from: dict[str, object]) -> str:
    """``population.csv (99,943 babies, SHA-256 4ed838b1...)`` from a table's ``derived_from``."""
    known = ("file", "n", "sha256")
    details = []
    n = derived_from.get("n")
    if isinstance(n, int) and not isinstance(n, bool):
        details.append(f"{n:,} babies")
    elif n is not None:
        details.append(f"n {n}")
    if derived_from.get("sha256"):
        details.append(f"SHA-256 {derived_from['sha256']}")
    details += [f"{key} {value}" for key, value in derived_from.items() if key not in known]
    name = str(derived_from.get("file") or "a population")
    return f"{name} ({', '.join(details)})" if details else name


def _fmt(value: float | None) -> str:
    return "" if value is None or value != value else f"{value:.4g}"


@cutoffs_app.command("show")
def show_command(
    table: Path | None = typer.Argument(None, help="A derived cutoff table (TOML); without it "
                                        "the rules' literature levels are shown."),
    marker: list[str] | None = typer.Option(None, "--marker", help="Only these markers "
                                            "(repeatable)."),
    stratum: str | None = typer.Option(None, "--stratum", help="Only this stratum, e.g. all."),
    disorder: list[str] | None = typer.Option(None, "--disorder", help="Only these disorders "
                                              "(literature levels; repeatable)."),
    rules: Path = typer.Option(RULES_DIR, "--rules", help="Rule file or directory."),
    fmt: TableFormat = typer.Option(TableFormat.table, "--format", help="table or csv"),
) -> None:
    """Print a cutoff table: a derived table's percentile cutoffs with confidence intervals, or
    (without a file) every rule's literature levels with their sources."""
    wanted = set(marker or [])
    if table is None:
        rule_set = load_rules(rules)
        codes = set(disorder or [])
        header = ["disorder", "version", "marker", "direction", "role", "borderline", "positive",
                  "critical", "source"]
        rows = [
            [r.code, r.version, m.name, m.direction, m.role, _fmt(m.levels.borderline),
             _fmt(m.levels.positive), _fmt(m.levels.critical), m.source]
            for r in rule_set for m in r.markers
            if (not codes or r.code in codes) and (not wanted or m.name in wanted)
        ]
        emit_table(header, rows, fmt)
        return
    cut = read_cutoff_table(table)
    if cut.kind == "derived":
        created = f"; created {cut.created}" if cut.created else ""
        typer.echo(f"# version {cut.version}; percentiles {cut.lower_percentile:g} / "
                   f"{cut.upper_percentile:g}; derived from "
                   f"{describe_derived_from(cut.derived_from)}{created}", err=True)
    else:
        typer.echo(f"# version {cut.version}; literature cutoffs", err=True)
    header = ["marker", "stratum", "n", "median", "lower", "lower_ci", "upper", "upper_ci",
              "source"]

    def interval(ci: tuple[float, float]) -> str:
        return "" if ci[0] != ci[0] else f"{_fmt(ci[0])}-{_fmt(ci[1])}"

    rows = [
        [e.marker, e.stratum, str(e.n) if e.n else "", _fmt(e.median), _fmt(e.lower),
         interval(e.lower_ci), _fmt(e.upper), interval(e.upper_ci), e.source]
        for e in cut.entries
        if (not wanted or e.marker in wanted) and (stratum is None or e.stratum == stratum)
    ]
    emit_table(header, rows, fmt)


@cutoffs_app.command("covariate-model")
def covariate_model_command(
    out: Path = typer.Option(COVARIATE_MODEL_TOML, "--out", help="Model file (TOML) to write; "
                             "default: the packaged one."),
    n: int = typer.Option(DEFAULT_N, "--n", min=10_000, help="Babies in the simulated cohort."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", min=0, help="Seed of the cohort."),
    rules: Path = typer.Option(RULES_DIR, "--rules", help="Rule file or directory whose "
                               "markers are included."),
) -> None:
    """Recompute the default covariate model for scores (used when a laboratory has no cutoff
    table) from an unaffected cohort simulated with the population model: reference-condition
    medians and quantile grids per analyte and ratio, with the cited covariate effects.
    Estimates, not real babies: a laboratory's own table takes precedence."""
    rule_set = load_rules(rules)

    def progress(done: int, total: int) -> None:
        typer.echo(f"simulated {done:,} / {total:,} babies", err=True)

    model = build_covariate_model(n=n, seed=seed, rules=rule_set, progress=progress)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_covariate_model(model, out)
    except OSError as exc:
        raise CutoffError(f"cannot write: {exc.strerror}", file=str(out)) from None
    typer.echo(f"{len(model.markers)} markers, {len(model.terms)} covariate terms, version "
               f"{model.version} -> {out}", err=True)
