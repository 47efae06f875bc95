"""Disease ranges and signatures: the packaged files load, bad rows are named, and the
comparison with simulated cases reports what disagrees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cutoffs.disease_ranges import (
    DISEASE_RANGES_CSV,
    compare_simulated,
    default_disease_ranges,
    disease_anchor,
    load_disease_ranges,
)
from cutoffs.errors import CutoffError
from cutoffs.rules import default_rules
from cutoffs.signatures import SIGNATURES_CSV, default_signatures, load_signatures


def test_packaged_disease_ranges_load_with_sources():
    ranges = default_disease_ranges()
    assert {(r.disorder, r.marker) for r in ranges} >= {("MSUD", "Xle"), ("MCAD", "C8"),
                                                        ("BKT", "C5:1")}
    assert all(r.source and r.percentiles for r in ranges)
    msud = next(r for r in ranges if r.disorder == "MSUD" and r.cohort == "detected")
    assert msud.percentiles == {0.0: 288.0, 50.0: 900.0, 100.0: 3376.0}
    assert msud.n_cases == 53


def test_anchor_prefers_the_median_then_the_highest_low_percentile():
    ranges = default_disease_ranges()
    # four MCAD C8 series (16, 221, 31 and 47 cases): the largest one with a median
    assert disease_anchor(ranges, "MCAD", "C8") == (8.6, "p50")
    assert disease_anchor(ranges, "BKT", "C5:1") == (0.15, "p5")
    assert disease_anchor(ranges, "MSUD", "Xle/Phe") == (9.0, "min")
    assert disease_anchor(ranges, "PKU", "Phe") is None


def test_several_series_of_one_marker_load_and_missed_cases_never_anchor():
    ranges = default_disease_ranges()
    mcad = [r for r in ranges if (r.disorder, r.marker, r.cohort) == ("MCAD", "C8", "detected")]
    assert sorted(r.n_cases or 0 for r in mcad) == [16, 31, 47, 221]
    assert len({r.source for r in mcad}) == len(mcad)
    missed = [r for r in ranges if r.disorder == "TYR1" and r.cohort == "false_negative"]
    assert missed and missed[0].percentiles[50.0] == 1.08
    assert disease_anchor(ranges, "TYR1", "SUAC") == (14.1, "p50")


def test_a_second_row_from_the_same_source_is_refused(tmp_path):
    lines = DISEASE_RANGES_CSV.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "disease_ranges.csv"
    path.write_text("\n".join([*lines, lines[-1]]) + "\n", encoding="utf-8")
    with pytest.raises(CutoffError) as info:
        load_disease_ranges(path)
    assert info.value.field == "source" and info.value.line == len(lines) + 1


def _edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "field"), [
    ("MSUD,Xle,detected,288", "MSUD,Xle,detected,abc", "min"),
    ("MSUD,Xle,detected,288,,,,900", "MSUD,Xle,detected,288,,,,100", "p50"),
    ("MSUD,Xle,detected", "MSUDX,Xle,detected", "disorder"),
    ("MSUD,Xle,detected", "MSUD,Xlee,detected", "marker"),
    ("MSUD,Xle,detected", "MSUD,Xle,found", "cohort"),
    ("MCAD,C8,detected,3.1", "MCAD,C8,detected,-3.1", "min"),
])
def test_bad_disease_range_rows_name_file_line_and_field(tmp_path, old, new, field):
    path = _edited(tmp_path, DISEASE_RANGES_CSV, old, new)
    with pytest.raises(CutoffError) as info:
        load_disease_ranges(path)
    assert info.value.file == str(path) and info.value.field == field
    assert info.value.line is not None and info.value.line >= 2


def test_signatures_follow_the_rules_markers_and_directions():
    signatures = default_signatures()
    rules = default_rules()
    assert set(signatures) == set(rules.codes)
    for rule in rules:
        sig = signatures[rule.code]
        assert sig.marker_names == tuple(m.name for m in rule.markers)
        assert [m.sign for m in sig.markers] == [1 if m.direction == "high" else -1
                                                 for m in rule.markers]


@pytest.mark.parametrize(("old", "new", "field"), [
    ("MCAD,C8,high,1.0", "MCAD,C8,up,1.0", "direction"),
    ("MCAD,C8,high,1.0", "MCAD,C8,high,0", "weight"),
    ("MCAD,C8,high", "MCAD,C88,high", "marker"),
    ("MCAD,C8/C10,high", "MCAD,C8,high", "marker"),
])
def test_bad_signature_rows_name_file_line_and_field(tmp_path, old, new, field):
    path = _edited(tmp_path, SIGNATURES_CSV, old, new)
    with pytest.raises(CutoffError) as info:
        load_signatures(path)
    assert info.value.field == field and info.value.line is not None


def test_comparison_reports_simulated_cases_outside_the_published_range():
    profiles = pd.DataFrame({"specimen_id": [f"S{i}" for i in range(6)],
                             "C8": [0.5, 0.6, 0.7, 9.0, 8.0, 10.0]})
    truth = pd.DataFrame({"true_disorder": ["MCAD"] * 6,
                          "severity": ["moderate", "severe", "moderate", "mild", "mild", "mild"]})
    out = compare_simulated(profiles, truth, [r for r in default_disease_ranges()
                                              if r.disorder == "MCAD"])
    classic = out[out.severity == "classic"].iloc[0]
    assert classic.n_simulated == 3 and classic.below_lowest_published == 1.0
    assert classic.verdict.startswith("median")
    mild = out[out.severity == "mild"].iloc[0]
    assert np.isclose(mild.simulated_median, 9.0) and mild.verdict == "consistent"
