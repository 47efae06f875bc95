"""Readable builders for evaluation tests: profiles at the catalogue's population medians."""

from __future__ import annotations

import numpy as np
import pandas as pd

from msms.catalogue import default_catalogue

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
