"""The markers behind a call, read from its reasons as the first tier writes them
(``C8=0.61>0.30; C3=38.1>7 (>P99.9, 22 MoM)``: marker, value, direction, cutoff, an optional
note), joined with where each
value sits among babies like this one (percentile, multiple of the median).

Public names: ``Marker``, ``markers_of``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cutoffs.reason_phrases import REASONS
from lims.review.schemas import MarkerScore
from msms.phrases import split_outside

__all__ = ["Marker", "markers_of"]

_REASON = re.compile(
    r"^\s*(?P<marker>[^=<>;]+?)\s*=\s*(?P<value>[-+0-9.eE]+)\s*(?P<op>[<>]=?)\s*"
    r"(?P<cutoff>[-+0-9.eE]+)\s*(?:\((?P<note>[^)]*)\))?\s*$")


@dataclass(frozen=True)
class Marker:
    marker: str
    value: float
    #: ``>`` (above the upper cutoff) or ``<`` (below the lower one)
    direction: str
    cutoff: float
    percentile: float | None
    mom: float | None


def markers_of(reasons: str, scores: dict[str, MarkerScore]) -> tuple[list[Marker], list[str]]:
    """The markers a call's reasons name, and the reasons that are not a marker against a
    cutoff (shown as written)."""
    markers, other = [], []
    for part in split_outside(reasons, ";"):
        match = None if REASONS.parse(part) else _REASON.match(part)  # a note is no marker
        if match is None:
            other.append(part.strip())
            continue
        name = match["marker"].strip()
        score = scores.get(name)
        try:
            markers.append(Marker(name, float(match["value"]), match["op"],
                                  float(match["cutoff"]),
                                  score.percentile if score else None,
                                  score.mom if score else None))
        except ValueError:
            other.append(part.strip())
    return markers, other
