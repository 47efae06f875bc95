"""``nbs evaluate``'s output on a fixed set of profiles and a fixed cutoff table, byte for byte.

The evaluation's shortcuts (tiers only where a call can be out of range, positions streamed
marker by marker, the largest stratum interpolated in place, reason numbers written a kind at a
time) must not change one byte of what the command writes. ``data/pinned`` holds 120 simulated
profiles (25% affected, 5% of seven analytes missing) and a table with a score section
derived from 3,000 simulated babies; the digests below are those of the command's files on
them: calls of every pair (``--all``) with the scores of every specimen, the flagged calls with
their specimens' scores, and every pair on the rules' literature levels.

A deliberate change of the calls (a level, a rule, the wording of a reason) changes these
digests: check the new files by hand, then put the digests the failure prints here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lims.cli import app

DATA = Path(__file__).parent / "data" / "pinned"
PROFILES, TABLE = DATA / "profiles.csv", DATA / "table.toml"

#: (arguments after the profiles file, {output file: sha256})
RUNS = {
    "all pairs with scores": (
        ["--cutoffs", str(TABLE), "--all"],
        {"calls.csv": "a354b428e056d8e8d92b1ea9b063cbe9f8acb322117fceda1ce248087787dd38",
         "scores.csv": "bc030dfc6ffa4ca5bcf64f86189be6292a7791bcc4d2d56a2d96c8698cd89e3f"}),
    "flagged with scores": (
        ["--cutoffs", str(TABLE)],
        {"calls.csv": "7c527c1a91f8a353c17a1edff46b5441c2e45f03b8f6ed3737f627836f8b67e2",
         "scores.csv": "bdbc1311a1886088614b764b0dc842cead78f2a1b0304af2fe3b1ee8118fba01"}),
    "all pairs, literature levels": (
        ["--all"],
        {"calls.csv": "ad5533300d298e92ff24dca014cdd901338e43579cd946f2be673317ad976caa"}),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_the_files_written_are_byte_for_byte_those_pinned(name: str, tmp_path: Path) -> None:
    options, digests = RUNS[name]
    args = ["evaluate", str(PROFILES), *options, "--out", str(tmp_path / "calls.csv")]
    if "scores.csv" in digests:
        args += ["--scores", str(tmp_path / "scores.csv")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    got = {file: hashlib.sha256((tmp_path / file).read_bytes()).hexdigest() for file in digests}
    assert got == digests
