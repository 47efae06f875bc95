"""The result message's reference ranges come from the markers the rules read as primary
markers; a marker read only as a secondary one (its levels support a primary's call and never
make one) has no range and no abnormal flag."""

from __future__ import annotations

from cutoffs import default_rules
from lims.interfaces.results import _measurement, reference_ranges


def test_only_primary_markers_have_a_range() -> None:
    primary = {m.name for r in default_rules() for m in r.primary}
    secondary_only = {m.name for r in default_rules() for m in r.secondary} - primary
    assert {"C8/C12", "C10:2/C10", "C14:1/C10"} <= secondary_only
    assert set(reference_ranges()) <= primary
    assert not secondary_only & set(reference_ranges())
    assert reference_ranges()["C8"].high == 0.25  # MCAD's and GA2's borderline level


def test_a_secondary_marker_past_its_level_is_not_flagged() -> None:
    assert _measurement("C8/C12", 1.61042).flag == ""  # MCAD's secondary level is 1.6
    assert _measurement("C8/C12", 1.61042).reference_high is None
    assert _measurement("C8", 0.3).flag == "H"
    assert _measurement("C8", 0.2).flag == "N"
