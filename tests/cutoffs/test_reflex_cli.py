"""``nbs evaluate --reflex``: a profiles file with second-tier, context and earlier-specimen
columns is evaluated with them; the calls gain decision and reason_code."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from cutoffs.profiles import read_profiles
from cutoffs.reflex.calibrate import CalibratedReflex, read_calibration, write_calibration
from cutoffs.reflex.decide import Calibration
from cutoffs.reflex.rules import DECISIONS, default_reflex_rules, reflex_version
from lims.cli import app
from msms.population.screening import second_tier_columns, simulate_screening

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("reflex_cli")
    first, repeat = simulate_screening(1500, seed=31, disorder_rate=0.3)
    truth = ["true_disorder", "fp_mechanism", "severity"]
    first.drop(columns=truth).to_csv(root / "first.csv", index=False)
    first.drop(columns=[*truth, *second_tier_columns()]).to_csv(root / "plain.csv", index=False)
    both = pd.concat([first.head(200), repeat.head(200)]).drop(columns=truth)
    both.to_csv(root / "both.csv", index=False)
    alone = repeat.head(200).drop(columns=truth)
    alone.to_csv(root / "repeats.csv", index=False)
    alone.assign(previous_specimen_id="").to_csv(root / "unlinked.csv", index=False)
    rules = default_reflex_rules()
    calibrated = CalibratedReflex(Calibration(), rules.version, rules.sha256, "literature",
                                  rules.mild_miss_bound, dict(rules.mild_miss_bound_by_disorder),
                                  0)
    write_calibration(calibrated, root / "cal.json")
    return root


def _calls(files, name):
    out = files / f"{name}-calls.csv"
    result = runner.invoke(app, ["evaluate", str(files / f"{name}.csv"), "--out", str(out),
                                 "--reflex", str(files / "cal.json")])
    assert result.exit_code == 0, (result.output, result.exception)
    return pd.read_csv(out, keep_default_na=False)


def test_calls_gain_decision_and_reason_code(files):
    calls = _calls(files, "first")
    assert {"decision", "reason_code"} <= set(calls.columns)
    flagged = calls[calls["first_tier"] != "normal"]
    assert len(flagged) > 50
    assert set(flagged["decision"]) <= set(DECISIONS)
    assert (flagged["reason_code"] != "").all()
    assert flagged["reasons"].str.contains("mild-case miss bound").all()
    assert flagged["model_version"].str.startswith(default_reflex_rules().version + " ").all()


def test_without_second_tier_columns_the_assay_groups_await_their_assay(files):
    calls = _calls(files, "plain")
    c3 = calls[calls["disorder"].isin(["PA", "MUT"]) & (calls["first_tier"] == "positive")]
    assert len(c3)
    assert set(c3["decision"]) <= {"awaiting_second_tier", "referral"}


def _flagged(calls):
    out = calls[calls["first_tier"] != "normal"].copy()
    out["group"] = out["disorder"].map(default_reflex_rules().group_of())
    return out


def test_a_repeat_is_decided_as_one_in_the_groups_its_earlier_card_asked_a_repeat_for(files):
    calls = _flagged(_calls(files, "both"))
    firsts = calls[~calls["specimen_id"].str.contains("-R")]
    asked = set(zip(firsts.loc[firsts["decision"] == "repeat_specimen", "specimen_id"],
                    firsts.loc[firsts["decision"] == "repeat_specimen", "group"], strict=True))
    repeats = calls[calls["specimen_id"].str.contains("-R")]
    earlier = repeats["specimen_id"].str.replace("-R", "-", regex=False)
    is_asked = [(e, g) in asked for e, g in zip(earlier, repeats["group"], strict=True)]
    as_repeat, as_first = repeats[is_asked], repeats[[not a for a in is_asked]]
    assert len(as_repeat) and len(as_first)
    # a repeat in a group asked for is cleared or referred, never sent for another repeat
    assert not as_repeat["decision"].eq("repeat_specimen").any()
    # its other groups are decided as on any card: as the same card evaluated unlinked
    unlinked = _flagged(_calls(files, "unlinked")).set_index(["specimen_id", "disorder"])
    mine = as_first.set_index(["specimen_id", "disorder"])
    assert mine["decision"].eq(unlinked.loc[mine.index, "decision"]).all()
    assert as_first["decision"].eq("repeat_specimen").any()


def test_a_repeat_whose_earlier_card_is_not_in_the_file_is_decided_as_one_everywhere(files):
    repeats = _flagged(_calls(files, "repeats"))
    assert len(repeats)
    assert not repeats["decision"].eq("repeat_specimen").any()
    # evaluated unlinked, the same cards would be sent for a repeat in some groups
    assert _flagged(_calls(files, "unlinked"))["decision"].eq("repeat_specimen").any()


def test_a_repeat_whose_earlier_card_is_in_the_file_but_normal_is_decided_as_a_first_card(
        files):
    """The earlier card is looked up among every card of the file, not only the flagged
    ones: a normal earlier card asked for no repeat, so its repeat is decided as any card."""
    cards = pd.read_csv(files / "first.csv", dtype=str, keep_default_na=False)
    flagged = set(_flagged(_calls(files, "first"))["specimen_id"])
    normal = sorted(set(cards["specimen_id"]) - flagged)
    repeats = pd.read_csv(files / "repeats.csv", dtype=str, keep_default_na=False)
    repeats["previous_specimen_id"] = normal[0]
    pd.concat([cards[cards["specimen_id"] == normal[0]], repeats]).to_csv(
        files / "normal_earlier.csv", index=False)
    mine = _flagged(_calls(files, "normal_earlier")).set_index(["specimen_id", "disorder"])
    unlinked = _flagged(_calls(files, "unlinked")).set_index(["specimen_id", "disorder"])
    assert len(mine) == len(unlinked)
    assert mine["decision"].eq(unlinked.loc[mine.index, "decision"]).all()
    assert mine["decision"].eq("repeat_specimen").any()


def test_cards_naming_each_other_as_the_earlier_card_are_decided(files):
    """Two flagged cards that name each other (a data-entry slip) are decided together, not
    left without a decision."""
    flagged = sorted(set(_flagged(_calls(files, "repeats"))["specimen_id"]))[:2]
    assert len(flagged) == 2
    repeats = pd.read_csv(files / "repeats.csv", dtype=str, keep_default_na=False)
    pair = repeats["specimen_id"].isin(flagged)
    repeats.loc[pair, "previous_specimen_id"] = repeats.loc[pair, "specimen_id"].map(
        dict(zip(flagged, flagged[::-1], strict=True)))
    repeats.to_csv(files / "circle.csv", index=False)
    decided = _flagged(_calls(files, "circle"))
    assert set(flagged) < set(decided["specimen_id"])
    assert decided["decision"].isin(DECISIONS).all()


def test_a_bad_calibration_file_is_refused(files, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(files / "first.csv"), "--out",
                                 str(tmp_path / "x.csv"), "--reflex", str(bad)])
    assert result.exit_code != 0


def test_second_tier_label_and_train_accept_the_optional_columns(files, tmp_path):
    first, _ = simulate_screening(3000, seed=32, disorder_rate=0.3)
    truth_columns = ["true_disorder", "fp_mechanism", "severity"]
    profiles = tmp_path / "profiles.csv"
    first.drop(columns=truth_columns).to_csv(profiles, index=False)
    first[["specimen_id", *truth_columns]].to_csv(tmp_path / "truth.csv", index=False)
    calls = tmp_path / "calls.csv"
    for args in (["evaluate", str(profiles), "--out", str(calls)],
                 ["second-tier", "label", "--calls", str(calls), "--profiles", str(profiles),
                  "--truth", str(tmp_path / "truth.csv"), "--out", str(tmp_path / "l.csv")],
                 ["second-tier", "train", str(tmp_path / "l.csv"), "--out",
                  str(tmp_path / "m.joblib"), "--no-validate"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args[0], result.output, result.exception)
    labelled = pd.read_csv(tmp_path / "l.csv")
    assert {"infant_id", "MCA", "C5-PIV", "pivalate_exposure"} <= set(labelled.columns)


def test_a_calibration_file_from_before_the_own_levels_reads_without_them(tmp_path):
    rules = default_reflex_rules()
    calibrated = CalibratedReflex(
        Calibration(scale={"C5": 0.7}, repeat_clear_below={"FAO": -1.5},
                    repeat_clear_below_disorder={"VLCAD": -0.9},
                    rule_scale={"C5:C5-2MB": 0.9}),
        rules.version, rules.sha256, "literature", rules.mild_miss_bound,
        dict(rules.mild_miss_bound_by_disorder), 0)
    path = write_calibration(calibrated, tmp_path / "cal.json")
    again = read_calibration(path)
    assert again.calibration == calibrated.calibration and again.version == calibrated.version
    doc = json.loads(path.read_text(encoding="utf-8"))
    del doc["repeat_clear_below_disorder"], doc["rule_scale"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    old = read_calibration(path).calibration
    assert old.repeat_clear_below_disorder == {} and old.rule_scale == {}
    assert old.scale == {"C5": 0.7}


def test_ids_that_look_like_numbers_stay_text(tmp_path):
    """A repeat naming its first card ``00017`` keeps that id, and the baby's id its zeros."""
    path = tmp_path / "ids.csv"
    path.write_text("specimen_id,previous_specimen_id,infant_id,Phe\n"
                    "00017,,0042,50\n00018,00017,0042,55\n", encoding="utf-8")
    frame = read_profiles(path)
    assert frame["previous_specimen_id"].fillna("").tolist() == ["", "00017"]
    assert frame["infant_id"].tolist() == ["0042", "0042"]
    assert frame["Phe"].tolist() == [50, 55]


def test_a_reflex_version_names_the_reflex_once():
    """The calls' model version (printed on result reports and the specimen page) read
    "reflex reflex-rules 2026-12-06 r6 ...": the rules' version already names the reflex."""
    from lims.pipeline import Reflex

    rules = default_reflex_rules()
    calibrated = CalibratedReflex(Calibration(), rules.version, rules.sha256, "literature",
                                  rules.mild_miss_bound, dict(rules.mild_miss_bound_by_disorder),
                                  0)
    doubled = re.compile(r"\b(\w+)\W+\1\b", re.IGNORECASE)
    for version in (Reflex.literature(rules).version, calibrated.version):
        assert version.startswith(rules.version + " ")
        assert doubled.search(version) is None, version
    assert reflex_version("2026-01 local", "literature") == "reflex 2026-01 local literature"
