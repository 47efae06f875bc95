"""Programme quality indicators: the cited definitions the bulletin and the report cards read
(``reports/data/indicators.toml``), and the rules that rank submitting units on them.

Each indicator has a code, a kind (``proportion`` in %, ``median`` duration, ``count``), a
unit, which direction is better (``higher``, ``lower`` or ``neither``: not ranked), a target
where one is published, its sources, and its name, numerator and denominator in every language.

Public names: ``Indicator``, ``IndicatorSet``, ``IndicatorSource``, ``indicators``,
``load_indicators``, ``INDICATORS_TOML``, ``rank``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reports.datafile import DATA_DIR, load_toml
from reports.models import LANGUAGES, Lang
from reports.wording import Source

__all__ = ["INDICATORS_TOML", "Indicator", "IndicatorSet", "IndicatorSource", "indicators",
           "load_indicators", "rank"]

INDICATORS_TOML = DATA_DIR / "indicators.toml"


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Indicator(_Data):
    """One programme measure as the bulletin defines and ranks it."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Literal["proportion", "median", "count"]
    unit: Literal["%", "h", "d", "count"]
    better: Literal["higher", "lower", "neither"]
    target: float | None = None
    target_source: str | None = None
    sources: tuple[str, ...] = Field(min_length=1)
    name: dict[str, str]
    numerator: dict[str, str]
    denominator: dict[str, str]

    @model_validator(mode="after")
    def _check(self) -> Self:
        for field in ("name", "numerator", "denominator"):
            if missing := [lang for lang in LANGUAGES if lang not in getattr(self, field)]:
                raise ValueError(f"{field} has no text for {missing}")
        if (self.target is None) != (self.target_source is None):
            raise ValueError("a target needs its target_source, and a target_source a target")
        if self.target is not None and self.better == "neither":
            raise ValueError("an indicator with a target needs a direction of better")
        if self.kind == "proportion" and self.unit != "%":
            raise ValueError("a proportion is in %")
        return self

    def text(self, field: Literal["name", "numerator", "denominator"], lang: Lang) -> str:
        return getattr(self, field)[lang]

    def meets(self, value: float | None) -> bool | None:
        """Whether ``value`` meets the target (None without a target or a value)."""
        if self.target is None or value is None:
            return None
        return value >= self.target if self.better == "higher" else value <= self.target

    def compare(self, value: float | None, reference: float | None) -> str:
        """``better``, ``worse`` or ``same`` than ``reference``; ``none`` when it cannot say."""
        if value is None or reference is None or self.better == "neither":
            return "none"
        if abs(value - reference) <= 1e-9 * max(1.0, abs(reference)):
            return "same"
        higher = value > reference
        return "better" if higher == (self.better == "higher") else "worse"


class IndicatorSource(Source):
    """A cited source: ``title`` is its citation as published, ``titles`` the title in each
    other language of the documents (every language but English needs one)."""

    titles: dict[str, str] = {}

    @model_validator(mode="after")
    def _titles(self) -> Self:
        if missing := [lang for lang in LANGUAGES if lang != "en" and not self.titles.get(lang)]:
            raise ValueError(f"source {self.id} has no title in {missing}")
        if unknown := sorted(set(self.titles) - set(LANGUAGES)):
            raise ValueError(f"source {self.id} has titles in unknown languages {unknown}")
        return self

    def title_in(self, lang: Lang) -> str | None:
        """The title in ``lang`` (None: the citation as published is the title)."""
        return self.titles.get(lang)


class IndicatorSet(_Data):
    version: str = Field(min_length=1)
    sources: tuple[IndicatorSource, ...] = Field(min_length=1)
    indicator: tuple[Indicator, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Self:
        codes = [i.code for i in self.indicator]
        if dupes := sorted({c for c in codes if codes.count(c) > 1}):
            raise ValueError(f"indicators defined twice: {dupes}")
        known = {s.id for s in self.sources}
        for item in self.indicator:
            cited = {*item.sources, *([item.target_source] if item.target_source else [])}
            if bad := sorted(cited - known):
                raise ValueError(f"indicator {item.code} cites sources not listed: {bad}")
        return self

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.indicator)

    def get(self, code: str) -> Indicator:
        for item in self.indicator:
            if item.code == code:
                return item
        raise KeyError(f"unknown indicator {code!r}; the definitions have {', '.join(self.codes)}")

    def source(self, source_id: str) -> IndicatorSource:
        return next(s for s in self.sources if s.id == source_id)


def load_indicators(path: Path = INDICATORS_TOML) -> IndicatorSet:
    """An indicator definitions file, validated (errors name file, line and field)."""
    return load_toml(path, IndicatorSet)


@cache
def indicators() -> IndicatorSet:
    """The packaged indicator definitions (loaded once per process)."""
    return load_indicators()


def rank(values: Mapping[str, float | None], indicator: Indicator) -> dict[str, int]:
    """Competition ranks (1 = best, ties share the best rank) of the units that have a value;
    nothing for an indicator without a direction of better, nor when fewer than two units
    have a value (a unit alone is compared with nobody: it is not "first")."""
    if indicator.better == "neither":
        return {}
    present = [(v, k) for k, v in values.items() if v is not None]
    if len(present) < 2:
        return {}
    present.sort(key=lambda item: -item[0] if indicator.better == "higher" else item[0])
    ranks: dict[str, int] = {}
    for position, (value, key) in enumerate(present, start=1):
        previous = present[position - 2][0] if position > 1 else None
        ranks[key] = ranks[present[position - 2][1]] if previous == value else position
    return ranks
