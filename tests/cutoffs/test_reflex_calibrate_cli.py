"""``nbs second-tier calibrate-reflex``: the reflex levels chosen from labelled first cards and
repeat specimens of a small simulated population, written where the LIMS reads them, and a
file with a missing or wrong label refused, naming the file, line and column, nothing
written."""

from __future__ import annotations

import pytest

from cutoffs.reflex.calibrate import read_calibration
from cutoffs.reflex.decide import Calibration
from cutoffs.reflex.rules import default_reflex_rules
from lims.cli.reflex_calibrate import _informed, _own_informed
from lims.pipeline import Reflex
from msms.population.screening import simulate_screening
from tests.cutoffs.builders import scored_table
from tests.lims.helpers import nbs_here

RULES = default_reflex_rules()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("calibrate_reflex")
    scored_table(root / "cutoffs.toml")
    first, repeat = simulate_screening(4000, seed=11, disorder_rate=0.1)
    first.to_csv(root / "first.csv", index=False)
    repeat.to_csv(root / "repeat.csv", index=False)
    return root, first, repeat


def _run(root, first="first.csv", repeat="repeat.csv"):  # type: ignore[no-untyped-def]
    return nbs_here("second-tier", "calibrate-reflex", str(root / first), str(root / repeat),
                    "--cutoffs", str(root / "cutoffs.toml"), "--out", str(root / "out.json"))


def test_calibrates_writes_and_prints_each_group(files):
    root, first, _ = files
    result = _run(root)
    assert result.returncode == 0, result.stderr
    calibrated = read_calibration(root / "out.json")
    assert calibrated.rules_sha256 == RULES.sha256 and calibrated.n_calibration == len(first)
    assert calibrated.version in result.stdout
    # the LIMS takes the file as NBS_REFLEX_CALIBRATION
    assert Reflex.from_file(root / "out.json").version == calibrated.version
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[3:]
            if line and not line.startswith("note:")}
    assert list(rows) == [g.code for g in RULES.groups] + ["all"]
    # each group's informed level: '-' where nothing is cleared as informed, 'all' where the
    # calibration needed none
    header = result.stdout.splitlines()[2].split()
    assert header[4] == "informed<"
    informed = calibrated.calibration.informed_clear_below
    for group in RULES.groups:
        expected = ("-" if not group.otherwise_informed
                    else f"{informed[group.code]:+.2f}" if group.code in informed else "all")
        assert rows[group.code][4] == expected, (group.code, rows[group.code])
    assert rows["all"][4] == "-"
    # each informed disorder's own level follows its group's other own levels
    assert header[-1] == "levels" and "own informed levels" in result.stdout.splitlines()[2]
    for disorder, level in calibrated.calibration.informed_clear_below_disorder.items():
        code = RULES.group_of()[disorder]
        assert f"informed {disorder} " in " ".join(rows[code][11:]), rows[code]
        assert _own_informed(calibrated.calibration, RULES, code).count(f"{level:+.2f}") >= 1
    # the calibration clears no moderate or severe case of its own set; every case is counted
    flagged_cases, cleared = int(rows["all"][8]), rows["all"][10]
    mild, moderate, severe = map(int, cleared.split("/"))
    assert moderate == severe == 0 and flagged_cases > 100
    assert mild == sum(k for k, _ in calibrated.mild_cleared.values())
    for group, levels in calibrated.calibration.repeat_clear_below.items():
        assert levels <= 0, group


def test_numeric_card_ids_keep_their_leading_zeros(files, tmp_path):
    root, first, repeat = files
    ids = {old: f"{i:07d}" for i, old in enumerate(first["specimen_id"])}
    first.assign(specimen_id=first["specimen_id"].map(ids)).to_csv(tmp_path / "first.csv",
                                                                   index=False)
    repeat.assign(previous_specimen_id=repeat["previous_specimen_id"].map(ids)).to_csv(
        tmp_path / "repeat.csv", index=False)
    (tmp_path / "cutoffs.toml").write_bytes((root / "cutoffs.toml").read_bytes())
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    assert read_calibration(tmp_path / "out.json").n_calibration == len(first)


@pytest.mark.parametrize(("change", "where", "message"), [
    (lambda f, r: (f.drop(columns=["severity"]), r), "first.csv:1, field 'severity'",
     "no 'severity' column"),
    (lambda f, r: (f.assign(severity=f["severity"].where(f.index != 7, "grave"),
                            true_disorder=f["true_disorder"].where(f.index != 7, "PKU")), r),
     "first.csv:9, field 'severity'", "must be one of mild, moderate, severe, not 'grave'"),
    (lambda f, r: (f.assign(true_disorder=f["true_disorder"].where(f.index != 3, "FLU")), r),
     "first.csv:5, field 'true_disorder'", "'FLU' is not a disorder"),
    (lambda f, r: (f, r.assign(previous_specimen_id=r["previous_specimen_id"].where(
        r.index != 10, "NOBODY"))),
     "repeat.csv:12, field 'previous_specimen_id'", "'NOBODY' is not a first card"),
    (lambda f, r: (f, r.drop(columns=["previous_specimen_id"])),
     "repeat.csv:1, field 'previous_specimen_id'", "no 'previous_specimen_id' column"),
])
def test_a_bad_label_is_refused_naming_file_line_and_column(files, tmp_path, change, where,
                                                            message):
    root, first, repeat = files
    bad_first, bad_repeat = change(first.copy(), repeat.copy())
    for frame, name in ((bad_first, "first.csv"), (bad_repeat, "repeat.csv")):
        frame.to_csv(tmp_path / name, index=False)
    (tmp_path / "cutoffs.toml").write_bytes((root / "cutoffs.toml").read_bytes())
    result = _run(tmp_path)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert where in result.stderr and message in result.stderr, result.stderr
    assert not (tmp_path / "out.json").exists()


def test_the_informed_level_is_printed_as_a_score_excess_all_or_dash():
    calibration = Calibration(informed_clear_below={"FAO": 0.0446, "MET": -1e9})
    assert _informed(calibration, RULES, "FAO") == "+0.04"
    assert _informed(calibration, RULES, "MET") == "none"  # nothing may be cleared as informed
    assert _informed(calibration, RULES, "TYR") == "all"  # informed clearing, no level needed
    assert _informed(calibration, RULES, "C3") == "-"  # the group clears nothing as informed
    assert _informed(calibration, RULES, "all") == "-"


def test_each_informed_disorders_own_level_is_printed_in_its_group_only():
    calibration = Calibration(informed_clear_below={"FAO": 0.0446},
                              informed_clear_below_disorder={"VLCAD": -0.752, "MCAD": 1e9})
    assert _own_informed(calibration, RULES, "FAO") == "informed MCAD all, informed VLCAD -0.75"
    assert _own_informed(calibration, RULES, "TYR") == ""
    assert _own_informed(Calibration(informed_clear_below={"FAO": 0.0446}), RULES, "FAO") == ""
