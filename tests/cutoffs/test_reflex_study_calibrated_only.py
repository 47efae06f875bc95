"""``bench.reflex_study.study(oracles=False)``: the calibrated levels measured on C and D
without the oracles, the same figures the full study gives for them."""

from __future__ import annotations

import pandas as pd
import pytest

from bench.reflex_study import study
from cutoffs.tables import read_cutoff_table
from tests.cutoffs.builders import scored_table


@pytest.mark.slow
def test_the_calibrated_levels_alone_give_the_full_studys_figures(tmp_path):
    table = read_cutoff_table(scored_table(tmp_path / "t.toml"))
    sizes = {"n_c": 3000, "n_d": 2000, "n_b": 3000, "table": table}
    quick = study(**sizes, oracles=False)
    assert set(quick) == {"calibrated", "D calibrated", "C calibrated"}
    full = study(**sizes)
    assert quick["calibrated"].version == full["calibrated"].version  # type: ignore[attr-defined]
    for key in ("C calibrated", "D calibrated"):
        pd.testing.assert_frame_equal(quick[key], full[key])  # type: ignore[arg-type]
