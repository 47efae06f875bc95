"""``nbs second-tier``: train, evaluate and inspect the second-tier model (docs/second_tier.md).

- ``train LABELLED.csv --out model.joblib [--report report.json]``: fit on labelled outcomes
  (docs/architecture.md "Labelled outcomes"), choose per-disorder thresholds, cross-validate,
  write the model file.
- ``train --from-db --out model.joblib [--holdout-fraction F]``: the same on the laboratory's
  own resolved follow-up cases, a share of them held back; the model is registered as a
  candidate with its check on the held-back cases (docs/followup.md "Model registry").
- ``evaluate LABELLED.csv --model model.joblib [--report report.json]``: sensitivity and
  false-positive reduction on other labelled outcomes.
- ``show model.joblib``: the model's metadata and thresholds.
- ``label --calls calls.csv --profiles profiles.csv --truth truth.csv --out labelled.csv``:
  a labelled table from first-tier calls and the truth of a simulated cohort.

``nbs evaluate --second-tier model.joblib`` applies a model (``lims.pipeline``).
``calibrate-reflex`` (the reflex second tier's levels from labelled outcomes) lives in
``lims.cli.reflex_calibrate``, ``import-genotypes`` (a molecular laboratory's genotype results
into the reflex second tier) in ``lims.cli.genotypes``; ``lims.cli.commands`` registers both
on this group.

Public names: ``second_tier_app``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import typer

from cutoffs.errors import CutoffError
from cutoffs.second_tier.features import default_feature_spec
from cutoffs.second_tier.labelled import label_screen_positives, read_labelled
from cutoffs.second_tier.policy import POLICY_TOML, Policy, load_policy
from lims.cli.actor import ActorOption
from lims.cli.common import in_session
from msms import csvsafe
from msms.tables import PROFILE_ID

# the model's modules (scikit-learn, joblib) load inside the commands that train, evaluate or
# read a model, after their inputs are checked: a wrong path is said in a fraction of a second

__all__ = ["second_tier_app"]

second_tier_app = typer.Typer(
    help="The second tier: train, evaluate and inspect the machine-learned model on labelled "
         "outcomes; calibrate the reflex levels (calibrate-reflex); import genotype results "
         "(import-genotypes).",
    no_args_is_help=True,
)


def _plain(value: Any) -> Any:
    """JSON-safe values (NaN -> null)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _write_json(data: dict[str, Any], path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_plain(data), indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CutoffError(f"cannot write: {exc.strerror}", file=str(path)) from None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _interval(values: list[float | None] | None) -> str:
    if not values or values[0] is None or values[1] is None:
        return ""
    return f" [{100 * values[0]:.1f}-{100 * values[1]:.1f}]"


def _metrics_table(metrics: dict[str, Any], title: str) -> None:
    typer.echo(title)
    typer.echo(f"{'disorder':10} {'TP':>5} {'kept':>7} {'FP':>6} {'removed':>8}  "
               "sensitivity [CI]        FP reduction [CI]")
    rows = [("overall", metrics["overall"]), *metrics["per_disorder"].items()]
    for code, m in rows:
        kept = m.get("true_positives_kept", m.get("true_positives_kept_mean"))
        removed = m.get("false_positives_removed", m.get("false_positives_removed_mean"))
        typer.echo(
            f"{code:10} {m['true_positives']:>5} {kept:>7.1f} {m['false_positives']:>6} "
            f"{removed:>8.1f}  {_pct(m['sensitivity']):>7}{_interval(m['sensitivity_interval']):16}"
            f" {_pct(m['false_positive_reduction']):>7}"
            f"{_interval(m['false_positive_reduction_interval'])}"
        )
    overall = metrics["overall"]
    if "specimens_without_true_positive" in overall:
        spared = overall.get("no_longer_recalled", overall.get("no_longer_recalled_mean"))
        typer.echo(
            f"babies without a confirmed disorder among their calls: "
            f"{overall['specimens_without_true_positive']:,}; no longer recalled: {spared:,.1f} "
            f"({_pct(overall['recall_reduction'])}"
            f"{_interval(overall['recall_reduction_interval'])})"
        )


def _trade_off_table(rows: list[dict[str, Any]], policy_tail: float | None) -> None:
    if not rows:
        return
    typer.echo("trade-off (cross-validated; the policy's tail_miss_probability sets which row "
               "applies):")
    typer.echo(f"{'tail bound':>12} {'TP lost (mean)':>15} {'any repeat':>11} "
               f"{'FP reduction':>13} {'babies spared':>14}")
    for row in rows:
        tail = row["tail_miss_probability"]
        label = "none" if tail is None else f"{tail:g}"
        mark = "  <- policy" if tail == policy_tail else ""
        typer.echo(f"{label:>12} {row['true_positives_lost_mean']:>15.1f} "
                   f"{row['true_positives_lost_any_repeat']:>11} "
                   f"{_pct(row['false_positive_reduction']):>13} "
                   f"{_pct(row['recall_reduction']):>14}{mark}")


@second_tier_app.command("train")
def train_command(
    labelled: Path | None = typer.Argument(None, help="Labelled outcomes CSV "
                                           "(docs/architecture.md 'Labelled outcomes')."),
    out: Path = typer.Option(..., "--out", help="Model file to write (joblib)."),
    report: Path | None = typer.Option(None, "--report", help="Also write the training "
                                       "report (metadata, thresholds, CV metrics) as JSON."),
    policy: Path = typer.Option(POLICY_TOML, "--policy", help="Second-tier policy (TOML)."),
    validate: bool = typer.Option(True, "--validate/--no-validate", help="Run the repeated "
                                  "cross-validation and record its metrics (recommended)."),
    from_db: bool = typer.Option(False, "--from-db", help="Train on the laboratory's own "
                                 "resolved follow-up cases instead of a file, and register "
                                 "the model as a candidate (docs/followup.md)."),
    holdout_fraction: float = typer.Option(0.25, "--holdout-fraction", min=0.05, max=0.9,
                                           help="With --from-db: the share of cases held "
                                           "back to check the model on."),
    actor: ActorOption = None,
) -> None:
    """Train the second tier on labelled screen positives and write the model file."""
    rules = load_policy(policy)
    if from_db == (labelled is not None):
        raise typer.BadParameter("give a labelled CSV or --from-db, not both")
    if from_db:
        _train_from_db(out, rules, validate, holdout_fraction, actor)
        return
    assert labelled is not None
    table, digest = read_labelled(labelled)
    typer.echo(f"{len(table):,} labelled screen positives from {labelled}", err=True)
    from cutoffs.second_tier.model_file import save_model
    from cutoffs.second_tier.training import stderr_progress, train_model

    model = train_model(
        table, default_feature_spec(rules), rules, training_sha256=digest,
        source=str(labelled), validate=validate, progress=stderr_progress,
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, out)
    except OSError as exc:
        raise CutoffError(f"cannot write: {exc.strerror}", file=str(out)) from None
    filtered = [t for t in model.thresholds.values() if t.filtered]
    typer.echo(f"{model.version}: {len(filtered)} of {len(model.thresholds)} disorders "
               f"filtered -> {out}", err=True)
    if model.metadata["cv_metrics"] is not None:
        _metrics_table(model.metadata["cv_metrics"], "cross-validated (held-out folds):")
        _trade_off_table(model.metadata["cv_metrics"].get("trade_off", []),
                         rules.tail_miss_probability)
    if report is not None:
        _write_json(model.metadata, report)
        typer.echo(f"report -> {report}", err=True)


def _train_from_db(out: Path, rules: Policy, validate: bool, holdout_fraction: float,
                   actor: str | None) -> None:
    from cutoffs.second_tier.training import stderr_progress
    from lims.followup.outcomes import train_from_database

    row = in_session(lambda s, a: train_from_database(
        s, a, out, holdout_fraction=holdout_fraction, policy=rules, validate=validate,
        progress=stderr_progress), actor)
    typer.echo(f"{row.version}: trained on {row.training_rows:,} rows, checked on "
               f"{row.holdout_rows:,} held-back rows -> {out}", err=True)
    typer.echo(f"registered as candidate {row.id}: "
               f"{'passed' if row.check_passed else 'did not pass'} its check "
               f"({row.check_note}); a director activates it (POST /api/v1/models/{row.id}"
               "/activate)")


@second_tier_app.command("evaluate")
def evaluate_command(
    labelled: Path = typer.Argument(..., help="Labelled outcomes CSV (docs/architecture.md "
                                    "'Labelled outcomes') the model was not trained on."),
    model: Path = typer.Option(..., "--model", help="Model file (nbs second-tier train)."),
    report: Path | None = typer.Option(None, "--report", help="Also write the metrics as JSON."),
) -> None:
    """Sensitivity and false-positive reduction of a model on labelled outcomes."""
    if not model.is_file():  # said before the model's libraries load (seconds)
        raise CutoffError("no such file", file=str(model), field="--model")
    table, digest = read_labelled(labelled)
    from cutoffs.second_tier.apply import evaluate_labelled
    from cutoffs.second_tier.model_file import load_model

    loaded = load_model(model)
    if digest == loaded.metadata.get("training_sha256"):
        typer.echo("warning: this is the model's own training file; the figures are not an "
                   "independent evaluation", err=True)
    metrics = evaluate_labelled(loaded, table, source=str(labelled))
    metrics["labelled_file"] = str(labelled)
    metrics["labelled_sha256"] = digest
    _metrics_table(metrics, f"{loaded.version} on {labelled}:")
    if report is not None:
        _write_json(metrics, report)
        typer.echo(f"report -> {report}", err=True)


@second_tier_app.command("show")
def show_command(
    model: Path = typer.Argument(..., help="Model file."),
) -> None:
    """Print a model's metadata and per-disorder thresholds (without loading the model)."""
    from cutoffs.second_tier.model_file import read_metadata

    meta = read_metadata(model)
    for key in ("model_version", "trained_at", "training_file", "training_sha256",
                "training_rows", "training_true_positives", "training_false_positives"):
        typer.echo(f"{key}: {meta.get(key)}")
    typer.echo(f"features: {len(meta.get('features', []))}")
    typer.echo("versions: " + ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items()))
    typer.echo(f"{'disorder':10} {'TP':>5} {'FP':>6}  threshold  note")
    for code, t in meta.get("thresholds", {}).items():
        shown = f"{t['threshold']:.4g}" if t["filtered"] else "-"
        typer.echo(f"{code:10} {t['n_true_positive']:>5} {t['n_false_positive']:>6}  "
                   f"{shown:>9}  {t['note']}")


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={PROFILE_ID: str, "disorder": str, "first_tier": str,
                                        "true_disorder": str, "sex": str},
                           keep_default_na=False, na_values=[""])
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CutoffError(f"not a readable CSV table: {exc}", file=str(path)) from None


def _plate_truth_as_specimens(truth: pd.DataFrame) -> pd.DataFrame:
    """A plate's truth file (one row per well, ``nbs simulate plate --truth``) as one row per
    specimen: its patients' wells, keyed by ``sample_id`` as the plate's profiles are; a
    cohort's truth file is returned as it is."""
    if PROFILE_ID in truth.columns or "sample_id" not in truth.columns:
        return truth
    if "sample_type" in truth.columns:
        truth = truth[truth["sample_type"].astype(str) == "patient"]
    return truth.rename(columns={"sample_id": PROFILE_ID}).drop_duplicates(PROFILE_ID)


@second_tier_app.command("label")
def label_command(
    calls: Path = typer.Option(..., "--calls", help="First-tier calls CSV (nbs evaluate)."),
    profiles: Path = typer.Option(..., "--profiles", help="The profiles the calls came from."),
    truth: Path = typer.Option(..., "--truth", help="Truth CSV of a simulated cohort "
                               "(nbs simulate cohort --truth) or plate (nbs simulate plate "
                               "--truth: its patients' sample_id are the specimen ids)."),
    out: Path = typer.Option(..., "--out", help="Labelled outcomes CSV to write."),
) -> None:
    """Label simulated screen positives: true positive when the baby has the flagged disorder."""
    call_table = _read_csv(calls)
    for column in (PROFILE_ID, "disorder", "first_tier"):
        if column not in call_table.columns:
            raise CutoffError("calls lack this column", file=str(calls), line=1, field=column)
    profile_table = _read_csv(profiles)
    truth_table = _plate_truth_as_specimens(_read_csv(truth))
    for frame, path in ((profile_table, profiles), (truth_table, truth)):
        if PROFILE_ID not in frame.columns:
            raise CutoffError("the header has no such column", file=str(path), line=1,
                              field=PROFILE_ID)
    if "true_disorder" not in truth_table.columns:
        raise CutoffError("the header has no such column", file=str(truth), line=1,
                          field="true_disorder")
    truth_table["true_disorder"] = truth_table["true_disorder"].fillna("")
    cohort = profile_table.merge(truth_table[[PROFILE_ID, "true_disorder"]], on=PROFILE_ID,
                                 how="left", validate="one_to_one")
    if cohort["true_disorder"].isna().any():
        missing = cohort.loc[cohort["true_disorder"].isna(), PROFILE_ID].iloc[0]
        raise CutoffError(f"no truth for specimen {missing!r}", file=str(truth),
                          field=PROFILE_ID)
    table = label_screen_positives(call_table, cohort, tiers=load_policy().scored_tiers)
    table = table.drop(columns=["true_disorder"])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        csvsafe.frame_to_csv(table, out, lineterminator="\n")
    except OSError as exc:
        raise CutoffError(f"cannot write: {exc.strerror}", file=str(out)) from None
    counts = table["outcome"].value_counts()
    typer.echo(f"{len(table):,} screen positives ({counts.get('true_positive', 0):,} true, "
               f"{counts.get('false_positive', 0):,} false) -> {out}", err=True)
