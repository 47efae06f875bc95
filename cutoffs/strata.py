"""Strata of babies (birth weight, gestational age, age at collection, TPN, ...) as data.

A *dimension* bins one covariate column (bins are ``[lower, upper)``); a *stratum* fixes the bin of
some dimensions (``birth_weight=<1500&age_at_collection=<24``) or of none (``all``). Cutoffs and
covariate-adjusted scores are computed per stratum; a specimen uses the most specific stratum that
has an entry, preferring earlier dimensions when two strata are equally specific, and falls back
to ``all``.

Public names: ``Bin``, ``Dimension``, ``Strata``, ``Assignment``, ``load_strata``,
``default_strata``, ``STRATA_TOML``, ``OVERALL``.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.profiles import numeric_column

__all__ = [
    "OVERALL",
    "STRATA_TOML",
    "Assignment",
    "Bin",
    "Dimension",
    "Strata",
    "default_strata",
    "load_strata",
    "strata_from_mapping",
]

STRATA_TOML = Path(str(resources.files("cutoffs") / "data" / "strata.toml"))
#: The stratum of every baby.
OVERALL = "all"


@dataclass(frozen=True, slots=True)
class Bin:
    """``lower <= value < upper``; None is an open bound."""

    label: str
    lower: float | None = None
    upper: float | None = None


@dataclass(frozen=True, slots=True)
class Dimension:
    """One covariate column cut into bins."""

    name: str
    column: str
    bins: tuple[Bin, ...]

    def codes(self, values: np.ndarray) -> np.ndarray:
        """Bin index per value; -1 for a missing value or one outside every bin."""
        codes = np.full(values.size, -1, dtype=np.int16)
        for i, b in enumerate(self.bins):
            inside = ~np.isnan(values)
            if b.lower is not None:
                inside &= values >= b.lower
            if b.upper is not None:
                inside &= values < b.upper
            codes[inside & (codes < 0)] = i
        return codes


@dataclass(frozen=True)
class Strata:
    """Dimensions in priority order; strata combine up to ``max_depth`` dimensions."""

    dimensions: tuple[Dimension, ...]
    max_depth: int = 2
    version: str = ""

    def subsets(self) -> list[tuple[int, ...]]:
        """Dimension-index subsets, most specific first (deeper, then earlier dimensions)."""
        out: list[tuple[int, ...]] = []
        for depth in range(min(self.max_depth, len(self.dimensions)), 0, -1):
            out.extend(itertools.combinations(range(len(self.dimensions)), depth))
        out.append(())
        return out

    def key(self, subset: tuple[int, ...], bins: tuple[int, ...]) -> str:
        """The stratum name: ``all`` or ``dim=label&dim=label`` in dimension order."""
        if not subset:
            return OVERALL
        return "&".join(
            f"{self.dimensions[d].name}={self.dimensions[d].bins[b].label}"
            for d, b in zip(subset, bins, strict=True)
        )

    def parse_key(self, key: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Inverse of :meth:`key`; raises KeyError for an unknown dimension or bin."""
        if key == OVERALL:
            return (), ()
        names = {d.name: i for i, d in enumerate(self.dimensions)}
        parts = []
        for part in key.split("&"):
            name, sep, label = part.partition("=")
            if not sep or name not in names:
                raise KeyError(f"unknown dimension in stratum {key!r}")
            d = names[name]
            labels = [b.label for b in self.dimensions[d].bins]
            if label not in labels:
                raise KeyError(f"unknown bin {label!r} of {name} in stratum {key!r}")
            parts.append((d, labels.index(label)))
        parts.sort()
        if len({d for d, _ in parts}) != len(parts):
            raise KeyError(f"a dimension appears twice in stratum {key!r}")
        return tuple(d for d, _ in parts), tuple(b for _, b in parts)

    def keys(self) -> Iterator[str]:
        """Every stratum name, most specific first."""
        for subset in self.subsets():
            for bins in itertools.product(*(range(len(self.dimensions[d].bins)) for d in subset)):
                yield self.key(subset, tuple(bins))

    def assign(self, profiles: pd.DataFrame, *, file: str | None = None) -> Assignment:
        """Bin codes of every specimen per dimension (covariate columns may be absent)."""
        codes = []
        for dimension in self.dimensions:
            if dimension.column in profiles.columns:
                values = numeric_column(profiles, dimension.column, file=file)
                codes.append(dimension.codes(values))
            else:
                codes.append(np.full(len(profiles), -1, dtype=np.int16))
        return Assignment(self, tuple(codes), len(profiles))

    def to_mapping(self) -> dict[str, Any]:
        """The TOML-ready form (see ``cutoffs/data/strata.toml``)."""
        return {
            "version": self.version,
            "max_depth": self.max_depth,
            "dimension": [
                {
                    "name": d.name,
                    "column": d.column,
                    "bins": [
                        {k: v for k, v in (("label", b.label), ("lower", b.lower),
                                           ("upper", b.upper)) if v is not None}
                        for b in d.bins
                    ],
                }
                for d in self.dimensions
            ],
        }


@dataclass
class Assignment:
    """Per-dimension bin codes of a set of specimens, with a cache of combined stratum codes."""

    strata: Strata
    codes: tuple[np.ndarray, ...]
    n: int
    _combined: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict, repr=False)
    #: Per-marker results of tables using this assignment (see CutoffTable.entry_index).
    cache: dict[object, np.ndarray] = field(default_factory=dict, repr=False)

    def combined(self, subset: tuple[int, ...]) -> np.ndarray:
        """Mixed-radix code of the bins of ``subset`` per specimen (-1 if any is missing)."""
        cached = self._combined.get(subset)
        if cached is not None:
            return cached
        code = np.zeros(self.n, dtype=np.int32)
        valid = np.ones(self.n, dtype=bool)
        for d in subset:
            size = len(self.strata.dimensions[d].bins)
            code = code * size + self.codes[d]
            valid &= self.codes[d] >= 0
        code[~valid] = -1
        self._combined[subset] = code
        return code


def _number(value: Any, file: str, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CutoffError("must be a finite number", file=file, field=key)
    return float(value)


def strata_from_mapping(document: Mapping[str, Any], *, file: str = "<strata>") -> Strata:
    """Build and validate strata from their TOML form; errors name the file and key."""
    allowed = {"version", "max_depth", "dimension"}
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise CutoffError(f"unknown key(s) {', '.join(unknown)}", file=file, field=unknown[0])
    depth = document.get("max_depth", 2)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise CutoffError("must be a whole number >= 0", file=file, field="max_depth")
    raw = document.get("dimension", [])
    if not isinstance(raw, list):
        raise CutoffError("must be an array of tables", file=file, field="dimension")
    dimensions = []
    names: set[str] = set()
    for i, table in enumerate(raw):
        key = f"dimension[{i}]"
        if not isinstance(table, dict) or set(table) - {"name", "column", "bins"}:
            raise CutoffError("must be a table with name, column, bins", file=file, field=key)
        name, column = table.get("name"), table.get("column")
        for sub, value in (("name", name), ("column", column)):
            if not isinstance(value, str) or not value.strip():
                raise CutoffError("must be a non-empty string", file=file, field=f"{key}.{sub}")
        assert isinstance(name, str) and isinstance(column, str)
        if name in names or any(c in name for c in "&="):
            raise CutoffError(f"{name!r} is a duplicate or holds '&' or '='", file=file,
                              field=f"{key}.name")
        names.add(name)
        bins = []
        raw_bins = table.get("bins")
        if not isinstance(raw_bins, list) or not raw_bins:
            raise CutoffError("needs at least one bin", file=file, field=f"{key}.bins")
        labels: set[str] = set()
        for j, b in enumerate(raw_bins):
            bkey = f"{key}.bins[{j}]"
            if not isinstance(b, dict) or set(b) - {"label", "lower", "upper"}:
                raise CutoffError("must be {label, lower, upper}", file=file, field=bkey)
            label = b.get("label")
            if not isinstance(label, str) or not label or label in labels or "&" in label:
                raise CutoffError("needs a unique label without '&'", file=file,
                                  field=f"{bkey}.label")
            labels.add(label)
            lower = _number(b.get("lower"), file, f"{bkey}.lower")
            upper = _number(b.get("upper"), file, f"{bkey}.upper")
            if lower is not None and upper is not None and not lower < upper:
                raise CutoffError("needs lower < upper", file=file, field=bkey)
            bins.append(Bin(label, lower, upper))
        dimensions.append(Dimension(name, column, tuple(bins)))
    version = document.get("version", "")
    if not isinstance(version, str):
        raise CutoffError("must be a string", file=file, field="version")
    return Strata(tuple(dimensions), depth, version)


def load_strata(path: Path | str = STRATA_TOML) -> Strata:
    """Read strata definitions from TOML (see ``cutoffs/data/strata.toml``)."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=str(path)) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CutoffError(f"not valid UTF-8 TOML: {exc}", file=str(path)) from None
    return strata_from_mapping(document, file=str(path))


@cache
def default_strata() -> Strata:
    """The packaged strata (loaded once)."""
    return load_strata()
