"""The evaluation's shortcuts give exactly what the plain computations give: disorder scores
summed marker by marker against the scores of every marker's kept positions, positions at a
few specimens against the positions of all, and ratios of clean analytes against
``msms.ratios``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.disorder_scores import NormalPositions, disorder_scores, marker_positions
from cutoffs.markers import marker_table
from cutoffs.rules import default_rules
from cutoffs.score_spec import LOWEST_SIGNED_POSITION, ScoreSpec
from msms import ratios as r
from msms.population import simulate_cohort, split_truth


@pytest.fixture(scope="module")
def scored() -> tuple[pd.DataFrame, object]:
    """A table with a score section derived from 6,000 simulated screen-negative babies, and
    2,000 other profiles with unread, zero, negative and missing values mixed in."""
    population, truth = split_truth(simulate_cohort(6_000, seed=11))
    population = population[truth["true_disorder"].eq("").to_numpy()]
    table = derive_cutoffs(population, n_bootstrap=0)
    table.scores = derive_score_section(population, table, target_flag_rate=0.015)
    frame, _ = split_truth(simulate_cohort(2_000, seed=12, disorder_rate=0.05))
    frame = frame.reset_index(drop=True)
    rng = np.random.default_rng(3)
    for column in ("C0", "C2", "C8", "Phe", "C5", "C3", "Tyr"):
        frame.loc[rng.random(len(frame)) < 0.03, column] = np.nan
    frame.loc[rng.random(len(frame)) < 0.02, "C2"] = 0.0
    frame.loc[rng.random(len(frame)) < 0.01, "C10"] = 0.0
    frame.loc[rng.random(len(frame)) < 0.01, "C3"] = -0.1
    return frame, table


def _reference_score(spec, positions):
    """The score written out with every position at hand (as docs/first_tier_scores.md gives
    it): the weighted sum of the signed positions of the read markers, each no lower than
    LOWEST_SIGNED_POSITION (a marker of weight 0 adds nothing), over its own spread for the
    markers read."""
    z = np.column_stack([positions[m] for m in spec.markers])
    read = ~np.isnan(z)
    weights = np.asarray(spec.signs) * np.asarray(spec.weights)
    total = np.zeros(len(z))
    signs = np.asarray(spec.signs)
    for j in np.flatnonzero(weights):
        signed = np.maximum(np.where(read[:, j], z[:, j], 0.0) * signs[j], LOWEST_SIGNED_POSITION)
        total += signed * np.asarray(spec.weights)[j]
    total /= spec.scale
    for i in np.flatnonzero(~read.all(axis=1)):
        total[i] = (total[i] * (spec.scale / spec._scale(read[i])) if read[i].any()
                    else np.nan)
    if spec.method == "guarded":
        signed = z * np.asarray(spec.signs)
        best = np.fmax.reduce(np.where(np.asarray(spec.primary), signed, -np.inf), axis=1)
        total = np.where(np.isnan(total), total, np.fmax(total, best))
    return total


def test_scores_summed_marker_by_marker_equal_the_scores_of_kept_positions(scored):
    frame, table = scored
    section = table.scores
    names = [m for spec in section.specs.values() for m in spec.markers]
    kept = marker_positions(frame, names, table=table)
    plain = disorder_scores(frame, section.specs, positions=kept)
    streamed = disorder_scores(frame, section.specs, table=table)
    reference = {c: _reference_score(spec, kept) for c, spec in section.specs.items()}
    for code in section.specs:
        assert np.array_equal(streamed.values[code], plain.values[code], equal_nan=True), code
        assert np.array_equal(streamed.values[code], reference[code], equal_nan=True), code
    assert any(np.isnan(kept[m]).any() for m in kept)  # unread markers were exercised
    rows = np.array([5, 17, 17, 400, len(frame) - 1])
    for code in list(section.specs)[:10]:
        z, push = streamed.positions_and_push(code, rows)
        assert np.array_equal(push, plain.push(code, rows), equal_nan=True)
        spec = section.specs[code]
        assert np.array_equal(z, np.column_stack([kept[m][rows] for m in spec.markers]),
                              equal_nan=True)
    assert np.array_equal(streamed.positions["C0"], kept["C0"], equal_nan=True)


@pytest.mark.parametrize("values", [
    {"C5": [1.0, 0.5, 2.0], "C2": [10.0, 20.0, 5.0], "C3": [1.0, 2.0, 3.0]},  # clean
    {"C5": [1.0, -0.0, 2.0], "C2": [10.0, 0.0, 5.0], "C3": [0.0, 2.0, 3.0]},  # zeros
    {"C5": [1.0, np.nan, 2.0], "C2": [10.0, 20.0, -1.0], "C3": [np.inf, 2.0, 3.0]},
    {"C5": [1e300, 0.5, 2.0], "C2": [1e-300, 20.0, 5.0], "C3": [1.0, 2.0, 3.0]},  # overflow
])
def test_ratios_of_clean_analytes_equal_msms_ratios(values):
    frame = pd.DataFrame(values)
    table = marker_table(frame, ["C5/C2", "C5/C3", "C3/C2"])
    for name in ("C5/C2", "C5/C3", "C3/C2"):
        ratio = r.parse_ratio(name)
        expected, status = r.ratio_values_from_arrays(ratio, table.columns, table.n)
        zero = status == r.ZERO_DENOMINATOR
        numerator = sum(table.columns[c] for c in ratio.numerator)
        above = zero & (np.asarray(numerator) > 0)
        assert np.array_equal(table.values[name][~above], expected[~above], equal_nan=True)
        assert np.array_equal(np.signbit(table.values[name][~above]),
                              np.signbit(expected[~above]))
        assert np.isposinf(table.values[name][above]).all()


def test_rule_markers_with_sums_equal_msms_ratios():
    rules = default_rules()
    frame, _ = split_truth(simulate_cohort(500, seed=4))
    table = marker_table(frame, rules.markers())
    sums = [name for name in table.ratios if "+" in name]
    assert sums
    for name in table.ratios:
        expected, status = r.ratio_values_from_arrays(table.ratios[name], table.columns,
                                                      table.n)
        defined = status == r.OK
        assert np.array_equal(table.values[name][defined], expected[defined]), name
        assert np.array_equal(table.status[name][defined], status[defined])


def test_positions_with_one_stratum_interpolated_in_place_equal_those_gathered_by_stratum(
        scored):
    """Where most specimens share one stratum its positions are interpolated in place; a set
    of specimens in which no stratum has a majority goes through the gather by stratum only.
    Both give the same bits for the same specimen."""
    frame, table = scored
    normal = NormalPositions(frame, table)
    values = marker_table(frame, ["Phe", "C8", "C0", "C5DC+C6OH"])
    checked = 0
    for marker in ("Phe", "C8", "C0", "C5DC+C6OH"):
        choice, _ = table.stratum_numbers(marker, normal._assignment)
        counts = np.bincount(choice)
        if counts.size < 2 or 2 * counts.max() <= choice.size:
            continue
        every = np.arange(len(frame))
        whole = normal.z(marker, values.values[marker], every)
        # as many specimens of the largest stratum as of all the others: no majority
        big = np.flatnonzero(choice == counts.argmax())
        others = np.flatnonzero(choice != counts.argmax())
        mixed = np.sort(np.r_[big[:others.size], others])
        assert 2 * np.bincount(choice[mixed]).max() <= mixed.size
        part = normal.z(marker, values.values[marker][mixed], mixed)
        np.testing.assert_array_equal(part, whole[mixed])
        checked += 1
    assert checked


def test_a_marker_of_weight_zero_adds_nothing_even_at_a_value_of_zero():
    """A value <= 0 sits at position -inf; a marker the score does not weigh must leave the
    score as the other markers make it (0 x -inf would make it NaN, never above a cutoff)."""
    spec = ScoreSpec(disorder="X", method="sum", markers=("A", "B"), signs=(1, 1),
                     primary=(True, False), weights=(1.0, 0.0),
                     covariance=((1.0, 0.0), (0.0, 1.0)))
    a = np.array([4.0, 0.5, -1.0])
    scores = spec.score({"A": a, "B": np.array([-np.inf, 1.0, -np.inf])})
    assert np.array_equal(scores, a)


def test_one_marker_far_below_normal_lowers_a_score_by_at_most_its_floor():
    """A value <= 0 (-inf) or far below the normal range of a marker that rises in the disorder
    counts as LOWEST_SIGNED_POSITION; a falling marker at -inf still raises the score."""
    spec = ScoreSpec(disorder="X", method="sum", markers=("A", "B", "C"), signs=(1, 1, -1),
                     primary=(True, False, False), weights=(1.0, 1.0, 1.0),
                     covariance=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))
    scores = spec.score({"A": np.array([9.0, 9.0, 0.0]), "B": np.array([-np.inf, -20.0, 0.0]),
                         "C": np.array([0.0, 0.0, -np.inf])})
    assert np.allclose(scores[:2], (9.0 + LOWEST_SIGNED_POSITION) / np.sqrt(3))
    assert np.isposinf(scores[2])


def test_a_screen_by_the_cutoffs_leaves_out_only_scores_at_or_below_them(scored) -> None:
    """Scores computed only where they can be above their disorder's cutoff (what evaluating
    without the normal calls needs): those kept are exactly the scores over every specimen,
    none left out is above its cutoff or missing, and any is computed when asked for."""
    frame, table = scored
    section = table.scores
    full = disorder_scores(frame, section.specs, table=table)
    # the table's cutoffs, lower ones that more scores pass, and ones past every marker's grid
    for shift in (0.0, -1.5, 30.0):
        cutoffs = {c: d.cutoff + shift for c, d in section.disorders.items()}
        screened = disorder_scores(frame, section.specs, table=table, screen=cutoffs)
        assert len(screened.screened) > len(cutoffs) / 2
        for code, (rows, values) in screened.screened.items():
            exact = full.values[code]
            np.testing.assert_array_equal(values, exact[rows])
            left_out = np.setdiff1d(np.arange(len(frame)), rows)
            assert not np.isnan(exact[left_out]).any()
            assert (exact[left_out] <= cutoffs[code]).all(), code
            assert rows.size < len(frame)
            with np.errstate(invalid="ignore"):
                np.testing.assert_array_equal(screened.above(code, cutoffs[code]),
                                              (exact > cutoffs[code]) | np.isnan(exact))
            some = np.array([0, 7, len(frame) - 1, *left_out[:5]])
            np.testing.assert_array_equal(screened.at(code, some), exact[some])
        pd.testing.assert_frame_equal(screened.scores, full.scores)


def test_a_markers_bound_value_is_where_its_signed_position_reaches_the_bound(scored) -> None:
    """Every value on the near side of the bound value has a signed position at most the
    bound, in every stratum; a value 0.1% beyond it reaches past the bound in some stratum."""
    frame, table = scored
    normal = NormalPositions(frame, table)
    rows = np.arange(len(frame))
    for marker in ("C8", "Phe", "C3/C2", "Tyr", "C0"):
        for sign in (1, -1):
            for bound in (-2.0, 0.3, 2.5, 3.5):
                value = normal.bound_value(marker, bound, sign)
                assert value is not None
                near = np.full(len(frame), value)
                beyond = near * (1.001 if sign > 0 else 0.999)
                assert (sign * normal.z(marker, near, rows) <= bound).all()
                assert (sign * normal.z(marker, beyond, rows) > bound).any()
    assert normal.bound_value("C8", float("inf"), 1) is None
