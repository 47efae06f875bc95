"""The FAO genotype second tier under the calibration's safety rule: a moderate or severe case
whose ACADM or ACADVL sequencing missed both alleles would be cleared as informed; the
calibration then sets a score level that keeps it (and every baby above it) from being
cleared on its genotype."""

from __future__ import annotations

import pytest

from cutoffs.reflex.calibrate import calibrate_reflex
from cutoffs.reflex.decide import LITERATURE
from cutoffs.reflex.outcomes import run_flow, truth_of
from cutoffs.reflex.rules import default_reflex_rules
from cutoffs.tables import read_cutoff_table
from msms.population.screening import simulate_screening
from tests.cutoffs.builders import scored_table

RULES = default_reflex_rules()


def _fao(flow, first):
    out = flow[flow["group"] == "FAO"].join(truth_of(first).set_index("specimen_id"),
                                            on="specimen_id")
    return out.set_index("specimen_id")


@pytest.fixture(scope="module")
def missed(tmp_path_factory):
    """A calibration set in which every moderate or severe MCAD and VLCAD case had both
    alleles missed, the table, and the non-mild cases the literature levels would clear."""
    table = read_cutoff_table(scored_table(tmp_path_factory.mktemp("genotype") / "t.toml"))
    first, repeat = simulate_screening(8000, seed=11, disorder_rate=0.2)
    non_mild = (first["true_disorder"].isin(["MCAD", "VLCAD"])
                & first["severity"].isin(["moderate", "severe"]))
    first.loc[non_mild, ["ACADM", "ACADVL"]] = 0.0
    fao = _fao(run_flow(first, repeat, table, RULES, LITERATURE), first)
    exposed = fao[(fao["reflex_reason_code"] == "FAO_NO_VARIANT")
                  & fao["severity"].isin(["moderate", "severe"])]
    return table, first, repeat, exposed


@pytest.mark.slow
def test_a_moderate_case_with_both_alleles_missed_is_not_cleared_once_calibrated(missed):
    table, first, repeat, exposed = missed
    assert len(exposed) >= 1  # without the calibration the genotype clears such a case
    calibrated = calibrate_reflex(first, repeat, table, RULES)
    level = calibrated.calibration.informed_clear_below["FAO"]
    assert level <= exposed["excess"].min() - RULES.score_margin_sd + 1e-4
    fao = _fao(run_flow(first, repeat, table, RULES, calibrated.calibration), first)
    assert not fao.loc[exposed.index, "decision"].eq("clear").any()
    # no moderate or severe case of the group (a baby with another group's disorder flagged
    # for FAO too is that group's case) is cleared on the calibration set
    cases = fao[fao["severity"].isin(["moderate", "severe"])
                & fao["true_disorder"].isin(RULES.group("FAO").disorders)]
    assert len(cases) > 100
    assert not cases["decision"].eq("clear").any(), cases[cases["decision"].eq("clear")]
    assert "a moderate or severe calibration case is still cleared" not in calibrated.notes
