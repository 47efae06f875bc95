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
    cutoff = 3.52
    tail_share = 0.00041              # this disorder's tail share (its own when overridden)
    flag_rate = 0.00041               # share of the derivation population it flags
    floor = 3.6                       # optional: the highest cutoff allowed, and its source
    floor_source = "disease ranges"

Public names: ``ScoreCutoff``, ``ScoreSection``, ``score_section_lines``,
``read_score_section``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cutoffs.errors import CutoffError
from cutoffs.rules import resolve_marker
from cutoffs.score_spec import METHODS, ScoreSpec
from msms.ratios import RatioError

__all__ = ["ScoreCutoff", "ScoreSection", "read_score_section", "score_section_lines"]

_SECTION_KEYS = {"target_flag_rate", "tail_share", "flag_rate", "n", "signatures_sha256",
                 "disease_ranges_sha256", "disorder"}
_DISORDER_KEYS = {"code", "method", "markers", "signs", "primary", "weights", "covariance",
                  "cutoff",
                  "tail_share", "flag_rate", "floor", "floor_source"}


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


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CutoffError(f"cannot write {value!r}", field="score")
        return repr(float(f"{value:.8g}"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(_value(v) for v in value) + "]"


def score_section_lines(section: ScoreSection) -> list[str]:
    """The section as TOML lines (appended to a cutoff table by ``write_cutoff_table``)."""
    lines = ["", "[score]"]
    for key in ("target_flag_rate", "tail_share", "flag_rate", "n", "signatures_sha256",
                "disease_ranges_sha256"):
        lines.append(f"{key} = {_value(getattr(section, key))}")
    for code, d in section.disorders.items():
        s = d.spec
        lines += ["", "[[score.disorder]]", f"code = {_value(code)}",
                  f"method = {_value(s.method)}", f"markers = {_value(list(s.markers))}",
                  f"signs = {_value(list(s.signs))}", f"primary = {_value(list(s.primary))}",
                  f"weights = {_value([float(w) for w in s.weights])}",
                  "covariance = [" + ", ".join(_value([float(v) for v in row])
                                               for row in s.covariance) + "]",
                  f"cutoff = {_value(float(d.cutoff))}" if math.isfinite(d.cutoff) else
                  "cutoff = inf",
                  f"tail_share = {_value(float(d.tail_share))}",
                  f"flag_rate = {_value(float(d.flag_rate))}"]
        if math.isfinite(d.floor):
            lines += [f"floor = {_value(float(d.floor))}",
                      f"floor_source = {_value(d.floor_source)}"]
    return lines


def _get(raw: Mapping[str, Any], key: str, kind: Any, file: str, where: str) -> Any:
    value = raw.get(key)
    if value is None:
        raise CutoffError("is missing", file=file, field=where + key)
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise CutoffError("has the wrong type", file=file, field=where + key)
    return value


def _number(raw: Mapping[str, Any], key: str, file: str, where: str, *, low: float = 0.0,
            high: float = math.inf) -> float:
    value = float(_get(raw, key, int | float, file, where))
    if math.isnan(value) or not low <= value <= high:
        raise CutoffError(f"{value!r} must lie in [{low:g}, {high:g}]", file=file,
                          field=where + key)
    return value


def _list(raw: Mapping[str, Any], key: str, kind: Any, n: int, file: str, where: str
          ) -> list[Any]:
    values = _get(raw, key, list, file, where)
    if len(values) != n or not all(isinstance(v, kind) and (kind is bool or
                                                            not isinstance(v, bool))
                                   for v in values):
        raise CutoffError(f"needs {n} values of the right type (one per marker)", file=file,
                          field=where + key)
    return list(values)


def _disorder(raw: Mapping[str, Any], where: str, file: str) -> ScoreCutoff:
    extra = sorted(set(raw) - _DISORDER_KEYS)
    if extra:
        raise CutoffError(f"unknown key(s) {', '.join(extra)}", file=file, field=where + extra[0])
    code = _get(raw, "code", str, file, where)
    method = _get(raw, "method", str, file, where)
    if method not in METHODS:
        raise CutoffError(f"{method!r} is not one of {', '.join(METHODS)}", file=file,
                          field=where + "method")
    markers = _get(raw, "markers", list, file, where)
    for name in markers:
        try:
            canonical, _ = resolve_marker(str(name))
        except (RatioError, KeyError):
            raise CutoffError(f"unknown marker {name!r}", file=file,
                              field=where + "markers") from None
        if canonical != name:
            raise CutoffError(f"write the canonical name {canonical!r}", file=file,
                              field=where + "markers")
    n = len(markers)
    signs = _list(raw, "signs", int, n, file, where)
    if any(s not in (-1, 1) for s in signs):
        raise CutoffError("signs must be 1 or -1", file=file, field=where + "signs")
    primary = _list(raw, "primary", bool, n, file, where)
    weights = [float(w) for w in _list(raw, "weights", int | float, n, file, where)]
    if any(not math.isfinite(w) or w < 0 for w in weights) or not any(w > 0 for w in weights):
        raise CutoffError("weights must be finite, >= 0, and not all 0", file=file,
                          field=where + "weights")
    rows = _list(raw, "covariance", list, n, file, where)
    covariance = tuple(tuple(float(v) for v in _list({"row": r}, "row", int | float, n, file,
                                                      where + "covariance."))
                       for r in rows)
    matrix = np.asarray(covariance)
    if not np.allclose(matrix, matrix.T) or np.linalg.eigvalsh(matrix).min() <= 0:
        raise CutoffError("must be a symmetric positive-definite matrix", file=file,
                          field=where + "covariance")
    cutoff = float(_get(raw, "cutoff", int | float, file, where))
    if math.isnan(cutoff):
        raise CutoffError("must be a number", file=file, field=where + "cutoff")
    spec = ScoreSpec(code, method, tuple(markers), tuple(signs), tuple(primary),
                     tuple(weights), covariance)
    floor = float(raw["floor"]) if "floor" in raw else math.nan
    return ScoreCutoff(spec, cutoff, _number(raw, "tail_share", file, where, high=1.0),
                       _number(raw, "flag_rate", file, where, high=1.0), floor,
                       str(raw.get("floor_source", "")))


def read_score_section(raw: Any, file: str, known_disorders: set[str]) -> ScoreSection:
    """Validate a table's ``[score]`` section; errors name the file and key."""
    if not isinstance(raw, dict):
        raise CutoffError("must be a table", file=file, field="score")
    extra = sorted(set(raw) - _SECTION_KEYS)
    if extra:
        raise CutoffError(f"unknown key(s) {', '.join(extra)}", file=file,
                          field=f"score.{extra[0]}")
    where = "score."
    section = ScoreSection(
        target_flag_rate=_number(raw, "target_flag_rate", file, where, high=1.0),
        tail_share=_number(raw, "tail_share", file, where, high=1.0),
        flag_rate=_number(raw, "flag_rate", file, where, high=1.0),
        n=int(_get(raw, "n", int, file, where)),
        signatures_sha256=_get(raw, "signatures_sha256", str, file, where),
        disease_ranges_sha256=_get(raw, "disease_ranges_sha256", str, file, where))
    entries = _get(raw, "disorder", list, file, where)
    for i, entry in enumerate(entries):
        at = f"score.disorder[{i}]."
        if not isinstance(entry, dict):
            raise CutoffError("must be a table", file=file, field=at[:-1])
        item = _disorder(entry, at, file)
        code = item.spec.disorder
        if code not in known_disorders:
            raise CutoffError(f"unknown disorder {code!r}", file=file, field=at + "code")
        if code in section.disorders:
            raise CutoffError(f"a second entry for {code}", file=file, field=at + "code")
        section.disorders[code] = item
    return section
