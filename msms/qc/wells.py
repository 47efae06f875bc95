"""Well positions and injection order.

Public names: ``well_position``, ``injection_order``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

__all__ = ["injection_order", "well_position"]

_WELL = re.compile(r"([A-Pa-p])(\d{1,2})")


def well_position(well: str) -> tuple[int, int]:
    """``(row, column)``, both 0-based, of a well such as ``A01`` or ``P24``.

    Raises ValueError for anything else.
    """
    match = _WELL.fullmatch(well.strip())
    if not match or not 1 <= int(match.group(2)) <= 24:
        raise ValueError(f"{well!r} is not a well (A01..P24)")
    return ord(match.group(1).upper()) - ord("A"), int(match.group(2)) - 1


def injection_order(wells: Iterable[str], order: str = "row") -> list[str]:
    """The distinct wells sorted in the autosampler's injection order.

    ``"row"``: A01, A02, ..., A12, B01, ...; ``"column"``: A01, B01, ..., H01, A02, ...
    """
    if order not in ("row", "column"):
        raise ValueError(f"order must be 'row' or 'column', got {order!r}")
    values = wells if isinstance(wells, pd.Series | pd.Index | np.ndarray) else list(wells)
    distinct = [str(w) for w in pd.unique(np.asarray(values, dtype=object))]
    if order == "row":
        return sorted(distinct, key=well_position)
    return sorted(distinct, key=lambda w: well_position(w)[::-1])
