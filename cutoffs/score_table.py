"""The score section of a cutoff table: per disorder, how its score combines its markers and
the cutoff it is called at, with what the section was derived from.

In the table's TOML (docs/first_tier_scores.md)::

    [score]
    target_flag_rate = 0.015          # overall target on the derivation population
    tail_share = 0.00041              # shared tail share per disorder the target gave
    flag_rate = 0.0149                # babies flagged for any disorder on the derivation set
    n = 299846                        # screen-negative babies the weights were fitted on
    signatures_sha256 = "..."         # cutoffs/data/signatures.csv the weights came from
    disease_ranges_sha256 = "..."     # cutoffs/data/disease_ranges.csv (anchors, floors)

    [[score.disorder]]
    code = "MCAD"
    method = "sum"
    markers = ["C8", "C8/C10", ...]
    signs = [1, 1, ...]
    primary = [true, true, ...]
    weights = [1.0, 1.0, ...]
    covariance = [[1.0, 0.62, ...], ...]   # the markers' positions among screen-negatives
    cutoff = 3.52                     # absent: the disorder never flags (no finite score)
    tail_share = 0.00041              # this disorder's tail share (its own when overridden)
    flag_rate = 0.00041               # share of the derivation population it flags
    floor = 3.6                       # optional: the highest cutoff allowed, and its source
    floor_source = "disease ranges"

The layout is a schema of the data-file toolkit (:mod:`msms.datafiles`); what it cannot say
(one value per marker, canonical marker names, known disorders, a positive-definite
covariance) is checked here, naming the file, line and key.

Public names: ``ScoreCutoff``, ``ScoreSection``, ``ScoreSectionFile``, ``score_section_mapping``,
``score_section_of``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from cutoffs.rules import resolve_marker
from cutoffs.score_spec import ScoreSpec
from msms.catalogue import default_catalogue
from msms.datafiles import Count, DataFile, Fraction, NonNegative, Schema, Text
from msms.ratios import RatioError

__all__ = ["ScoreCutoff", "ScoreSection", "ScoreSectionFile", "score_section_mapping",
           "score_section_of"]


@dataclass(frozen=True, slots=True)
class ScoreCutoff:
    """One disorder's score and cutoff (a score above ``cutoff`` flags)."""

    spec: ScoreSpec
    cutoff: float
    tail_share: float
    flag_rate: float
    floor: float = math.nan
    floor_source: str = ""


@dataclass
class ScoreSection:
    """Every disorder's score and cutoff, and where they came from."""

    target_flag_rate: float
    tail_share: float
    flag_rate: float
    n: int
    signatures_sha256: str
    disease_ranges_sha256: str
    disorders: dict[str, ScoreCutoff] = field(default_factory=dict)

    @property
    def specs(self) -> dict[str, ScoreSpec]:
        return {code: d.spec for code, d in self.disorders.items()}

    @property
    def cutoffs(self) -> dict[str, float]:
        return {code: d.cutoff for code, d in self.disorders.items()}


class _Disorder(Schema):
    code: Text
    method: Literal["sum", "discriminant", "guarded"]
    markers: Annotated[list[Text], Field(min_length=1)]
    signs: list[Literal[-1, 1]]
    primary: list[bool]
    weights: list[NonNegative]
    covariance: list[list[float]]
    cutoff: float | None = None
    tail_share: Fraction
    flag_rate: Fraction
    floor: float | None = None
    floor_source: str = ""


class ScoreSectionFile(Schema):
    """The layout of a cutoff table's ``[score]`` section."""

    target_flag_rate: Fraction
    tail_share: Fraction
    flag_rate: Fraction
    n: Count
    signatures_sha256: Text
    disease_ranges_sha256: Text
    disorder: Annotated[list[_Disorder], Field(min_length=1)]


def score_section_mapping(section: ScoreSection) -> dict[str, Any]:
    """The section as plain values for the table's TOML (``[score]``)."""
    rows = []
    for code, d in section.disorders.items():
        s = d.spec
        rows.append({
            "code": code, "method": s.method, "markers": list(s.markers),
            "signs": list(s.signs), "primary": list(s.primary),
            "weights": [float(w) for w in s.weights],
            "covariance": [[float(v) for v in row] for row in s.covariance],
            "cutoff": float(d.cutoff) if math.isfinite(d.cutoff) else None,
            "tail_share": float(d.tail_share), "flag_rate": float(d.flag_rate),
            "floor": float(d.floor) if math.isfinite(d.floor) else None,
            "floor_source": d.floor_source or None,
        })
    return {"target_flag_rate": float(section.target_flag_rate),
            "tail_share": float(section.tail_share), "flag_rate": float(section.flag_rate),
            "n": int(section.n), "signatures_sha256": section.signatures_sha256,
            "disease_ranges_sha256": section.disease_ranges_sha256, "disorder": rows}


def _spec(file: DataFile, i: int, raw: _Disorder) -> ScoreSpec:
    def error(message: str, *key: str | int) -> Exception:
        return file.error(message, "score", "disorder", i, *key)

    for j, name in enumerate(raw.markers):
        try:
            canonical, _ = resolve_marker(name)
        except (RatioError, KeyError):
            raise error(f"unknown marker {name!r}", "markers", j) from None
        if canonical != name:
            raise error(f"write the canonical name {canonical!r}", "markers", j)
    n = len(raw.markers)
    for key in ("signs", "primary", "weights", "covariance"):
        if len(getattr(raw, key)) != n:
            raise error(f"needs {n} values, one per marker", key)
    if any(len(row) != n for row in raw.covariance):
        raise error(f"needs {n} x {n} values", "covariance")
    if not any(w > 0 for w in raw.weights):
        raise error("needs a weight above 0", "weights")
    matrix = np.asarray(raw.covariance, dtype=float)
    if not np.allclose(matrix, matrix.T) or np.linalg.eigvalsh(matrix).min() <= 0:
        raise error("must be a symmetric positive-definite matrix", "covariance")
    return ScoreSpec(raw.code, raw.method, tuple(raw.markers), tuple(raw.signs),
                     tuple(raw.primary), tuple(float(w) for w in raw.weights),
                     tuple(tuple(float(v) for v in row) for row in raw.covariance))


def score_section_of(file: DataFile, raw: ScoreSectionFile) -> ScoreSection:
    """The validated ``[score]`` section of a table file (errors name the file and key)."""
    known = {d.code for d in default_catalogue().disorders}
    section = ScoreSection(raw.target_flag_rate, raw.tail_share, raw.flag_rate, raw.n,
                           raw.signatures_sha256, raw.disease_ranges_sha256)
    for i, item in enumerate(raw.disorder):
        if item.code not in known:
            raise file.error(f"unknown disorder {item.code!r}", "score", "disorder", i, "code")
        if item.code in section.disorders:
            raise file.error(f"a second entry for {item.code}", "score", "disorder", i, "code")
        cutoff = math.inf if item.cutoff is None else item.cutoff
        floor = math.nan if item.floor is None else item.floor
        section.disorders[item.code] = ScoreCutoff(_spec(file, i, item), cutoff,
                                                   item.tail_share, item.flag_rate, floor,
                                                   item.floor_source)
    return section
