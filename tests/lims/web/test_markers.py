"""The markers read from a call's reasons, as the first tier writes them."""

from __future__ import annotations

from lims.review.schemas import MarkerScore
from lims.web.markers import markers_of


def test_markers_with_and_without_the_scores_note_and_other_reasons():
    scores = {"C3": MarkerScore(percentile=99.9, mom=21.7, stratum="all", reference="model")}
    markers, other = markers_of(
        "C3=38.1>7 (>P99.9, 22 MoM); C3/C2=1.34>=0.75 (>P99.9, 17 MoM); Phe=175>120; "
        "Cit=3.1<5.0; first tier shared with MUT, CBLAB", scores)
    assert [(m.marker, m.value, m.direction, m.cutoff) for m in markers] == [
        ("C3", 38.1, ">", 7.0), ("C3/C2", 1.34, ">=", 0.75), ("Phe", 175.0, ">", 120.0),
        ("Cit", 3.1, "<", 5.0)]
    assert (markers[0].percentile, markers[0].mom) == (99.9, 21.7)
    assert markers[1].percentile is None
    assert other == ["first tier shared with MUT, CBLAB"]


def test_a_note_holding_a_comparison_is_not_a_marker():
    markers, other = markers_of("C0=4.1<7; capped at borderline: C0=4.1<10; second tier: "
                                "p=0.3; top features: C0=4.1 (FP median 9; for recall)", {})
    assert [m.marker for m in markers] == ["C0"]
    assert other == ["capped at borderline: C0=4.1<10", "second tier: p=0.3",
                     "top features: C0=4.1 (FP median 9; for recall)"]
