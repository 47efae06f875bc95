"""A trained second tier end to end: thresholds, applying it to calls (safety rules, reasons),
the model file (metadata, refusal) and the command line."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cutoffs.errors import CutoffError
from cutoffs.evaluate import evaluate
from cutoffs.second_tier.apply import apply_second_tier, evaluate_labelled, score
from cutoffs.second_tier.features import default_feature_spec
from cutoffs.second_tier.labelled import (
    label_screen_positives,
    read_labelled,
    sha256_of,
    validate_labelled,
)
from cutoffs.second_tier.model_file import (
    ModelFileError,
    load_model,
    read_metadata,
    save_model,
)
from cutoffs.second_tier.policy import default_policy
from cutoffs.second_tier.thresholds import recall_recommended
from cutoffs.second_tier.training import (
    TRADE_OFF_TAIL_BOUNDS,
    assemble_model,
    cross_validate,
    fit_second_tier,
    fitting_rows,
)
from lims.cli import app
from msms.population import simulate_cohort, split_truth
from tests.cutoffs.builders import fast_policy_file

runner = CliRunner()

#: A quick policy for a small training set: fewer folds, a single repeat, a low minimum count,
#: and the tail bound loosened so that the small model filters something to test with.
FAST = dataclasses.replace(
    default_policy(), min_true_positives=6, threshold_cv_splits=3, validation_cv_splits=3,
    validation_cv_repeats=1, tail_miss_probability=0.5,
)


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return simulate_cohort(6000, seed=5, disorder_rate=0.1)


@pytest.fixture(scope="module")
def first_tier(cohort) -> tuple[pd.DataFrame, pd.DataFrame]:
    profiles, _ = split_truth(cohort)
    return profiles, evaluate(profiles)


@pytest.fixture(scope="module")
def labelled(cohort, first_tier) -> pd.DataFrame:
    return validate_labelled(label_screen_positives(first_tier[1], cohort))


@pytest.fixture(scope="module")
def fitted(labelled):
    return fit_second_tier(labelled, default_feature_spec(), FAST)


@pytest.fixture(scope="module")
def model(fitted, labelled):
    return assemble_model(fitted, labelled, default_feature_spec(), FAST,
                          training_sha256="ab" * 32, source="labelled.csv")


def test_labelled_set_from_calls_and_truth(labelled, cohort):
    assert set(labelled["outcome"]) == {"true_positive", "false_positive"}
    truth = cohort.set_index("specimen_id")["true_disorder"]
    tp = labelled[labelled["outcome"] == "true_positive"]
    assert (truth.loc[tp["specimen_id"]].to_numpy() == tp["disorder"].to_numpy()).all()
    assert labelled["first_tier"].isin(["borderline", "positive", "critical"]).all()


def test_thresholds_keep_every_out_of_fold_true_positive(fitted, labelled):
    y = labelled["outcome"].eq("true_positive").to_numpy()
    keep = recall_recommended(fitted.oof_probability, labelled["disorder"], fitted.thresholds)
    assert keep[y].all()
    filtered = [t for t in fitted.thresholds.values() if t.filtered]
    assert filtered, "the small model filters at least one disorder"
    for entry in filtered:
        assert entry.n_true_positive >= FAST.min_true_positives
        assert entry.threshold <= FAST.safety_margin * entry.lowest_true_positive_probability
    for entry in fitted.thresholds.values():
        if entry.n_true_positive < FAST.min_true_positives:
            assert not entry.filtered


def test_training_skips_false_positives_of_confirmed_babies(fitted, labelled):
    rows = fitting_rows(labelled)
    assert rows.sum() < len(labelled)  # the enriched cohort has babies flagged for siblings
    assert fitted.classifier.n_features_in_ == 1 + len(default_feature_spec().feature_names)


def _negative_row(model, calls, profiles) -> int:
    scored = calls[calls["first_tier"].isin(["borderline", "positive"])]
    result = score(model, profiles.set_index("specimen_id").loc[scored["specimen_id"]]
                   .reset_index(), scored["disorder"].to_numpy(), top_features=0)
    negatives = np.flatnonzero(~result.keep)
    assert negatives.size, "the model filters at least one first-tier result"
    return int(scored.index[negatives[0]])


def test_a_second_tier_negative_recommends_no_recall_visibly(model, first_tier):
    profiles, calls = first_tier
    row = _negative_row(model, calls, profiles)
    out = apply_second_tier(calls, profiles, model)
    assert len(out) == len(calls) and list(out.columns) == list(calls.columns)
    assert out.loc[row, "final"] == "negative" and out.loc[row, "action"] == "none"
    assert out.loc[row, "first_tier"] == calls.loc[row, "first_tier"]  # still visible
    reasons = out.loc[row, "reasons"]
    assert reasons.startswith(calls.loc[row, "reasons"])
    assert "second tier: no recall recommended (p=" in reasons
    assert "top features: " in reasons and "FP median" in reasons
    assert out.loc[row, "model_version"] == model.version
    assert 0 <= out.loc[row, "second_tier_probability"] < 1
    scored = out["first_tier"].isin(FAST.scored_tiers)
    assert out.loc[scored, "second_tier_probability"].notna().all()
    assert out.loc[~scored, "second_tier_probability"].isna().all()
    kept = scored & (out["final"] != "negative")
    assert out.loc[kept, "reasons"].str.contains("second tier: ").all()
    assert (out.loc[kept, "final"] == calls.loc[kept, "final"]).all()


def test_a_critical_result_is_never_downgraded(model, first_tier):
    profiles, calls = first_tier
    row = _negative_row(model, calls, profiles)
    critical = calls.copy()
    critical.loc[row, "first_tier"] = "critical"
    critical.loc[row, "final"] = "positive"
    critical.loc[row, "action"] = "immediate_referral"
    out = apply_second_tier(critical, profiles, model)
    assert out.loc[row, "final"] == "positive"
    assert out.loc[row, "action"] == "immediate_referral"
    assert "critical result is never downgraded" in out.loc[row, "reasons"]
    assert out.loc[row, "second_tier_probability"] < model.thresholds[
        critical.loc[row, "disorder"]].threshold


def test_a_disorder_the_model_does_not_filter_is_left_alone(model, first_tier):
    profiles, calls = first_tier
    row = calls.index[calls["first_tier"].eq("borderline")][0]
    unknown = calls.loc[[row]].assign(disorder="MCKAT")  # never simulated: no true positives
    assert "MCKAT" not in model.thresholds or not model.thresholds["MCKAT"].filtered
    out = apply_second_tier(unknown, profiles, model)
    assert out.loc[row, "final"] == calls.loc[row, "final"]
    assert "not filtered" in out.loc[row, "reasons"]


def test_apply_refuses_calls_without_profiles(model, first_tier):
    profiles, calls = first_tier
    scored = calls[calls["first_tier"].eq("positive")].head(3)
    with pytest.raises(CutoffError, match="no profile for specimen"):
        apply_second_tier(scored, profiles[~profiles["specimen_id"].isin(
            scored["specimen_id"])], model)


def test_scores_are_chunked_consistently(model, labelled):
    disorders = labelled["disorder"].to_numpy()
    whole = score(model, labelled, disorders)
    chunked = score(model, labelled, disorders, chunk_rows=97)
    assert np.allclose(whole.probability, chunked.probability)
    assert (whole.top_index == chunked.top_index).all()


def test_top_contributions_point_at_the_disorders_markers(model, labelled):
    severe = labelled[(labelled["disorder"] == "PKU") & (labelled["severity"] == "severe")]
    if severe.empty:
        pytest.skip("no severe PKU case in this cohort")
    result = score(model, severe, severe["disorder"].to_numpy())
    confident = result.probability > 0.9
    assert confident.any()
    assert (result.top_contribution[confident].sum(axis=1) > 0).all()  # "for recall"
    names = np.array(model.spec.feature_names)[result.top_index]
    names_phe = np.array([[("Phe" in n) for n in row] for row in names]).any(axis=1)
    assert names_phe.mean() >= 0.5, names


def test_the_reasons_of_a_decision_lead_with_the_features_that_support_it(model, labelled):
    result = score(model, labelled, labelled["disorder"].to_numpy())
    filtered = ~result.keep
    assert filtered.any() and result.keep.any()
    first = result.top_contribution[:, 0]
    # wherever a filtered result has a feature against recall among its candidates, it is named
    # first; a kept result names first a feature for recall where it has one
    plain = score(model, labelled, labelled["disorder"].to_numpy(), top_features=24)
    has_against = (plain.top_contribution < 0).any(axis=1)
    has_for = (plain.top_contribution > 0).any(axis=1)
    assert (first[filtered & has_against] < 0).all()
    assert (first[result.keep & has_for] > 0).all()


def test_probabilities_keep_four_significant_digits_in_the_calls(model, first_tier):
    profiles, calls = first_tier
    out = apply_second_tier(calls, profiles, model)
    scored = out[out["second_tier_probability"].notna()]
    raw = score(model, profiles.set_index("specimen_id").loc[scored["specimen_id"]]
                .reset_index(), scored["disorder"].to_numpy(), top_features=0).probability
    assert np.allclose(scored["second_tier_probability"].to_numpy(), raw, rtol=5e-4, atol=0)


def test_evaluate_labelled_reports_sensitivity_and_reduction(model, labelled):
    metrics = evaluate_labelled(model, labelled)
    assert metrics["rows"] == len(labelled)
    overall = metrics["overall"]
    assert overall["true_positives"] == int(labelled["outcome"].eq("true_positive").sum())
    assert 0 <= overall["false_positive_reduction"] <= 1
    assert set(metrics["per_disorder"]) == set(labelled["disorder"])
    babies = labelled.groupby("specimen_id")["outcome"].agg(
        lambda o: not o.eq("true_positive").any())
    assert overall["specimens_without_true_positive"] == int(babies.sum())
    assert 0 <= overall["no_longer_recalled"] <= overall["specimens_without_true_positive"]


def test_cross_validation_keeps_protected_results_and_does_not_depend_on_processes(labelled):
    spec = default_feature_spec()
    critical = labelled.assign(first_tier="critical")
    metrics = cross_validate(critical, spec, FAST, n_jobs=1)
    assert metrics["overall"]["false_positive_reduction"] == 0  # nothing critical is filtered
    one = cross_validate(labelled, spec, FAST, n_jobs=1)
    two = cross_validate(labelled, spec, FAST, n_jobs=2)
    assert one == two
    assert one["overall"]["specimens_without_true_positive"] > 0


def test_cross_validation_reports_the_trade_off_of_other_tail_bounds(labelled):
    policy = dataclasses.replace(FAST, tail_miss_probability=0.02)
    metrics = cross_validate(labelled, default_feature_spec(), policy, n_jobs=1)
    rows = metrics["trade_off"]
    assert [r["tail_miss_probability"] for r in rows] == sorted(
        [b for b in TRADE_OFF_TAIL_BOUNDS if b is not None] + [0.02]) + [None]
    # the row of the policy's own tail bound (not one of the listed ones) is the policy's result
    [own] = [r for r in rows if r["tail_miss_probability"] == 0.02]
    assert own["false_positive_reduction"] == metrics["overall"]["false_positive_reduction"]
    assert own["sensitivity"] == metrics["overall"]["sensitivity"]
    # a looser bound never keeps more true positives nor removes fewer false positives
    for tighter, looser in itertools.pairwise(rows):
        assert looser["true_positives_lost_mean"] >= tighter["true_positives_lost_mean"]
        assert looser["false_positive_reduction"] >= tighter["false_positive_reduction"]
    assert rows[-1]["false_positive_reduction"] > rows[0]["false_positive_reduction"]


# -- the model file -------------------------------------------------------------------------


def test_model_file_round_trip_with_metadata(model, labelled, tmp_path):
    path = tmp_path / "model.joblib"
    save_model(model, path)
    meta = read_metadata(path)
    assert meta["training_sha256"] == "ab" * 32
    assert meta["features"] == list(model.spec.feature_names)
    assert meta["versions"]["scikit-learn"] and meta["versions"]["numpy"]
    assert meta["thresholds"]["PKU"]["n_true_positive"] > 0
    assert meta["trained_at"] and meta["policy"]["safety_margin"] == FAST.safety_margin
    loaded = load_model(path)
    assert loaded.version == model.version
    disorders = labelled["disorder"].to_numpy()
    assert np.array_equal(score(loaded, labelled, disorders).probability,
                          score(model, labelled, disorders).probability)


def _tamper(path: Path, change) -> None:
    envelope = joblib.load(path)
    change(envelope["metadata"])
    joblib.dump(envelope, path)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda m: m["versions"].update({"scikit-learn": "0.24.2"}), "versions.scikit-learn",
         "scikit-learn 0.24.2"),
        (lambda m: m["versions"].update({"numpy": "1.26.4"}), "versions.numpy", "numpy 1.26.4"),
        (lambda m: m["features"].pop(), "features", "does not match"),
        (lambda m: m["feature_spec"]["analytes"].__setitem__(0, "Zzz"), "features",
         "'Zzz'"),
    ],
)
def test_load_refuses_other_versions_and_features(model, tmp_path, change, field, message):
    path = tmp_path / "model.joblib"
    save_model(model, path)
    _tamper(path, change)
    with pytest.raises(ModelFileError, match=message) as info:
        load_model(path)
    assert info.value.file == str(path) and info.value.field == field


def test_load_refuses_what_is_not_a_model(tmp_path):
    text = tmp_path / "notes.joblib"
    text.write_text("not a model", encoding="utf-8")
    with pytest.raises(ModelFileError, match="is not a second-tier model file"):
        load_model(text)
    other = tmp_path / "other.joblib"
    joblib.dump({"format": "something-else"}, other)
    with pytest.raises(ModelFileError, match="is not a second-tier model file"):
        load_model(other)
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "absent.joblib")


# -- the command line -----------------------------------------------------------------------


def test_cli_label_train_show_evaluate(tmp_path, cohort, first_tier):
    profiles, calls = first_tier
    _, truth = split_truth(cohort)
    paths = {name: tmp_path / f"{name}.csv" for name in ("profiles", "calls", "truth")}
    profiles.to_csv(paths["profiles"], index=False)
    calls.to_csv(paths["calls"], index=False)
    truth.to_csv(paths["truth"], index=False)
    labelled_csv = tmp_path / "labelled.csv"
    result = runner.invoke(app, ["second-tier", "label", "--calls", str(paths["calls"]),
                                 "--profiles", str(paths["profiles"]), "--truth",
                                 str(paths["truth"]), "--out", str(labelled_csv)])
    assert result.exit_code == 0, result.output
    table, digest = read_labelled(labelled_csv)
    assert digest == sha256_of(labelled_csv.read_bytes())
    assert "true_disorder" not in table.columns

    model_path, report = tmp_path / "model.joblib", tmp_path / "report.json"
    result = runner.invoke(app, ["second-tier", "train", str(labelled_csv), "--out",
                                 str(model_path), "--report", str(report), "--policy",
                                 str(fast_policy_file(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "cross-validated (held-out folds):" in result.output
    assert "trade-off (cross-validated" in result.output
    assert re.search(r"^ +0\.001 .*<- policy$", result.output, re.MULTILINE)
    meta = read_metadata(model_path)
    assert meta["training_sha256"] == digest
    assert meta["cv_metrics"]["scheme"] == {
        "repeats": 1, "folds": 3, "threshold_inner_folds": 3, "confidence": 0.95,
        "interval": "Wilson score interval on the mean counts over repeats"}
    assert '"cv_metrics"' in report.read_text(encoding="utf-8")

    result = runner.invoke(app, ["second-tier", "show", str(model_path)])
    assert result.exit_code == 0 and digest in result.output and "PKU" in result.output

    evaluation = tmp_path / "evaluation.json"
    result = runner.invoke(app, ["second-tier", "evaluate", str(labelled_csv), "--model",
                                 str(model_path), "--report", str(evaluation)])
    assert result.exit_code == 0, result.output
    assert "own training file" in result.output and "overall" in result.output

    out = tmp_path / "calls2.csv"
    result = runner.invoke(app, ["evaluate", str(paths["profiles"]), "--out", str(out),
                                 "--second-tier", str(model_path)])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, keep_default_na=False)
    scored = written["first_tier"].isin(["borderline", "positive", "critical"])
    assert (written.loc[scored, "model_version"] == meta["model_version"]).all()
    assert written.loc[scored, "reasons"].str.contains("second tier: ").all()


def test_cli_rejects_bad_labelled_files_with_exit_3(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("specimen_id,disorder,outcome\nS1,PKU,maybe\n", encoding="utf-8")
    from lims.cli import main

    with pytest.raises(SystemExit) as info:
        import sys
        argv = sys.argv
        sys.argv = ["nbs", "second-tier", "train", str(bad), "--out", str(tmp_path / "m")]
        try:
            main()
        finally:
            sys.argv = argv
    assert info.value.code == 3


def test_every_part_of_the_reasons_is_a_marker_or_a_phrase_read_back(model, first_tier):
    from cutoffs.reason_phrases import FEATURES, MISSING, REASONS
    from msms.phrases import split_outside

    profiles, calls = first_tier
    out = apply_second_tier(calls, profiles, model)
    marker = re.compile(r"^[^=<>;]+=[-+0-9.eE]+\s*[<>]=?\s*[-+0-9.eE]+(\s*\([^)]*\))?$")
    seen = set()
    for reasons in out["reasons"]:
        for part in split_outside(reasons, ";"):
            if marker.match(part):
                continue
            found = REASONS.parse(part)
            assert found is not None, part
            seen.add(found[0].code)
            if "missing" in found[1]:
                assert all(MISSING.parse(m) for m in found[1]["missing"].split(", ")), part
            if "features" in found[1]:
                items = split_outside(found[1]["features"], ",")
                assert items and all(FEATURES.parse(f) for f in items), part
    assert {"second_tier_no_recall", "top_features"} <= seen


def test_cli_labels_the_screen_positives_of_a_simulated_plate(tmp_path):
    """The README's plate session: its truth file has a row per well keyed by sample_id (the
    plate's specimen ids), which labels the calls as a cohort's truth file does."""
    from lims.cli import app

    runner = CliRunner()

    def ok(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    files = {n: str(tmp_path / n) for n in ("plate.txt", "truth.csv", "profiles.csv",
                                            "calls.csv", "labelled.csv")}
    ok("simulate", "plate", "--format", "masslynx", "--seed", "7", "--out", files["plate.txt"],
       "--truth", files["truth.csv"])
    ok("quantify", files["plate.txt"], "--out", files["profiles.csv"])
    ok("evaluate", files["profiles.csv"], "--out", files["calls.csv"])
    ok("second-tier", "label", "--calls", files["calls.csv"], "--profiles",
       files["profiles.csv"], "--truth", files["truth.csv"], "--out", files["labelled.csv"])
    calls = pd.read_csv(files["calls.csv"], dtype={"specimen_id": str})
    labelled = pd.read_csv(files["labelled.csv"], dtype={"specimen_id": str})
    assert len(labelled) and set(labelled["specimen_id"]) <= set(calls["specimen_id"])
    pd.read_csv(files["truth.csv"]).drop(columns=["true_disorder"]).to_csv(
        tmp_path / "no_truth.csv", index=False)
    result = runner.invoke(app, ["second-tier", "label", "--calls", files["calls.csv"],
                                 "--profiles", files["profiles.csv"], "--truth",
                                 str(tmp_path / "no_truth.csv"), "--out", files["labelled.csv"]])
    assert isinstance(result.exception, CutoffError)
    assert result.exception.field == "true_disorder"
    assert str(result.exception).endswith("the header has no such column")
