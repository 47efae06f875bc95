"""Readable builders for evaluation tests: profiles at the catalogue's population medians, a
laboratory table with a score section, a second-tier policy for small training sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.derive import derive_cutoffs
from cutoffs.derive_scores import derive_score_section
from cutoffs.second_tier.policy import POLICY_TOML
from cutoffs.tables import write_cutoff_table
from msms.catalogue import default_catalogue
from msms.population import simulate_cohort, split_truth

MEDIANS = {a.code: a.pop_median_umol_l for a in default_catalogue().analytes}


def profiles(*changes: dict[str, float], **covariates: object) -> pd.DataFrame:
    """One profile per ``changes`` dict: every analyte at its population median, then changed.

    A change to ``np.nan`` makes the value missing; ``None`` drops the analyte's column for every
    profile. Keyword arguments become covariate columns with one value for every profile.
    """
    rows = []
    for i, change in enumerate(changes or ({},)):
        row: dict[str, object] = {"specimen_id": f"S{i + 1:03d}"}
        row.update(MEDIANS)
        row.update({k: v for k, v in change.items() if v is not None})
        rows.append(row)
    frame = pd.DataFrame(rows)
    dropped = {k for change in changes for k, v in change.items() if v is None}
    frame = frame.drop(columns=sorted(dropped))
    for name, value in covariates.items():
        frame[name] = value
    return frame


def nan() -> float:
    return float(np.nan)


def scored_table(path: Path) -> Path:
    """A laboratory table with a score section at a 1.5% target flag rate, derived from the
    unaffected babies of a simulated cohort of 20,000 (seed 2024), written to ``path``."""
    cohort, truth = split_truth(simulate_cohort(20_000, seed=2024))
    population = cohort[truth["true_disorder"].eq("").to_numpy()]
    table = derive_cutoffs(population, n_bootstrap=5, seed=1)
    table.scores = derive_score_section(population, table, target_flag_rate=0.015)
    return write_cutoff_table(table, path)


def fast_policy_file(directory: Path) -> Path:
    """The packaged second-tier policy with a minimum of 6 true positives and fewer folds (for a
    small training set), written to ``directory``."""
    text = POLICY_TOML.read_text(encoding="utf-8")
    for old, new in (("min_true_positives = 15", "min_true_positives = 6"),
                     ("cv_splits = 5", "cv_splits = 3"), ("cv_repeats = 3", "cv_repeats = 1")):
        assert old in text
        text = text.replace(old, new)
    path = directory / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path
