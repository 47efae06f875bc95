"""Strata of babies (birth weight, gestational age, age at collection, TPN, ...) as data.

A *dimension* bins one covariate column (bins are ``[lower, upper)``); a *stratum* fixes the bin of
some dimensions (``birth_weight=<1500&age_at_collection=<24``) or of none (``all``). Cutoffs and
covariate-adjusted scores are computed per stratum; a specimen uses the most specific stratum that
has an entry, preferring earlier dimensions when two strata are equally specific, and falls back
to ``all``.

Public names: ``Bin``, ``Dimension``, ``Strata``, ``Assignment``, ``StrataFile`` (the schema),
``strata_of``, ``load_strata``, ``default_strata``, ``STRATA_TOML``, ``OVERALL``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from cutoffs.errors import CutoffError
from cutoffs.profiles import numeric_column
from msms.datafiles import Count, DataFile, Schema, Text, load_toml

__all__ = [
    "OVERALL",
    "STRATA_TOML",
    "Assignment",
    "Bin",
    "Dimension",
    "Strata",
    "StrataFile",
    "default_strata",
    "load_strata",
    "strata_of",
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


class _Bin(Schema):
    label: Text
    lower: float | None = None
    upper: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> _Bin:
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise ValueError("needs lower < upper")
        return self


class _Dimension(Schema):
    name: Text
    column: Text
    bins: Annotated[list[_Bin], Field(min_length=1)]


class StrataFile(Schema):
    """The layout of strata definitions (a file, or the ``[strata]`` of a cutoff table)."""

    version: str = ""
    max_depth: Count = 2
    dimension: list[_Dimension] = []


def strata_of(file: DataFile, doc: StrataFile, *loc: str) -> Strata:
    """The strata ``doc`` read from ``file`` (at key path ``loc``), with unique names and labels
    (errors name the file, line and key)."""
    names: set[str] = set()
    for i, dimension in enumerate(doc.dimension):
        if dimension.name in names or any(c in dimension.name for c in "&="):
            raise file.error(f"{dimension.name!r} is a duplicate or holds '&' or '='", *loc,
                             "dimension", i, "name")
        names.add(dimension.name)
        labels: set[str] = set()
        for j, b in enumerate(dimension.bins):
            if b.label in labels or "&" in b.label:
                raise file.error("needs a unique label without '&'", *loc, "dimension", i,
                                 "bins", j, "label")
            labels.add(b.label)
    return Strata(
        tuple(Dimension(d.name, d.column, tuple(Bin(b.label, b.lower, b.upper) for b in d.bins))
              for d in doc.dimension),
        doc.max_depth, doc.version)


def load_strata(path: Path | str = STRATA_TOML) -> Strata:
    """Read strata definitions from TOML (see ``cutoffs/data/strata.toml``)."""
    doc, file = load_toml(path, StrataFile, error=CutoffError)
    return strata_of(file, doc)


@cache
def default_strata() -> Strata:
    """The packaged strata (loaded once)."""
    return load_strata()
