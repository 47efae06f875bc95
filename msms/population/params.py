"""Parameters of the synthetic newborn population, read from TOML package data and validated.

The files live in ``msms/data/population/`` (``covariates.toml``, ``effects.toml``,
``correlation.toml``, ``disorders.toml``, ``mechanisms.toml``); each number there carries a
``source`` or is marked as an estimate. Analyte and disorder codes are checked against the
catalogue: an unknown code, a missing key or a value out of range raises
:class:`msms.errors.DataError` naming the file, line and key.

Public names: ``PopulationParams``, ``CovariateModel``, ``AgeWindow``, ``Term``, ``Effect``,
``SpotModel``, ``Factor``, ``ChainLength``, ``Signature``, ``Condition``, ``Label``,
``MechanismEffect``, ``Mechanism``, ``SEVERITIES``, ``PARAMS_DIR``, ``load_params``,
``default_params``, ``parse_prevalence``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from msms.catalogue import Catalogue, default_catalogue
from msms.datafiles import (
    DataFile,
    Fraction,
    LenientSchema,
    Loc,
    NonNegative,
    Range,
    Text,
    field_name,
    not_below,
    read_toml,
)

__all__ = [
    "PARAMS_DIR",
    "SEVERITIES",
    "AgeWindow",
    "ChainLength",
    "Condition",
    "CovariateModel",
    "Effect",
    "Factor",
    "Label",
    "Mechanism",
    "MechanismEffect",
    "PopulationParams",
    "Signature",
    "SpotModel",
    "Term",
    "default_params",
    "load_params",
    "parse_prevalence",
]

PARAMS_DIR = Path(str(resources.files("msms") / "data" / "population"))

#: Severity labels of affected babies, mildest first.
SEVERITIES: tuple[str, ...] = ("mild", "moderate", "severe")

#: Covariates a condition or a term may read.
_CONDITION_COVARIATES = (
    "gestational_age_weeks", "birth_weight_g", "age_at_collection_hours", "tpn", "transfused",
)
_TERM_KINDS = {"sex": "female", "tpn": "tpn", "transfused": "transfused"}
_Z99 = 2.3263478740408408  # standard-normal 99th percentile
_NUMBER = re.compile(r"1\s*[:/]\s*([\d,]+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*per\s*10,?000")


# ----------------------------------------------------------------------------- data classes
Weeks = Annotated[float, Range(20, 45)]
Hours = Annotated[float, Range(0.5, 2000)]
Covariate = Literal["gestational_age_weeks", "birth_weight_g", "age_at_collection_hours", "tpn",
                    "transfused"]


class AgeWindow(LenientSchema):
    """One window of the age-at-collection mixture (triangular with a mode, else log-uniform)."""

    name: Text
    low_hours: Hours
    high_hours: Hours
    mode_hours: Hours | None = None
    probability: Fraction
    _high = not_below("high_hours", "low_hours")

    @field_validator("mode_hours")
    @classmethod
    def _mode_inside(cls, value: float | None, info: ValidationInfo) -> float | None:
        low, high = info.data.get("low_hours"), info.data.get("high_hours")
        if value is not None and low is not None and high is not None \
                and not low <= value <= high:
            raise ValueError(f"must lie in [{low:g}, {high:g}], got {value!r}")
        return value


@dataclass(frozen=True)
class CovariateModel:
    """Joint distribution of the covariates (see ``covariates.toml``)."""

    ga_bands: tuple[tuple[float, float, float], ...]  # (low_weeks, high_weeks, probability)
    bw_anchor_weeks: tuple[float, ...]
    bw_anchor_median_g: tuple[float, ...]
    bw_sd_log: float
    bw_male_factor: float
    bw_female_factor: float
    bw_min_g: float
    bw_max_g: float
    sex_probabilities: tuple[float, float, float]  # M, F, U
    nicu_below_weeks: float
    windows: tuple[AgeWindow, ...]
    nicu_windows: tuple[AgeWindow, ...]
    tpn_by_age: tuple[tuple[float, float], ...]  # (below_weeks, probability)
    tpn_intensity: tuple[float, float]
    transfused_by_age: tuple[tuple[float, float], ...]
    missing: Mapping[str, float]


@dataclass(frozen=True)
class Term:
    """A covariate term: ``clip((x - origin) * scale, 0, cap)``, or a special kind."""

    name: str
    covariate: str
    kind: str  # "clip", "female", "tpn", "transfused"
    origin: float = 0.0
    scale: float = 1.0
    cap: float = math.inf


@dataclass(frozen=True)
class Effect:
    """A covariate effect: ``size_sd`` analyte SDs (log scale) per unit of ``term``."""

    term: str
    size_sd: float
    analytes: tuple[str, ...]
    source: str
    size_source: str


@dataclass(frozen=True)
class SpotModel:
    """Spot volume and haematocrit: a factor shared by every analyte of a spot."""

    volume_sd_log: float
    haematocrit_mean: float
    haematocrit_sd: float
    transfused_haematocrit_shift: float
    loading_per_0_1: Mapping[str, float]  # per analyte code, log change per +0.10 haematocrit


class Factor(LenientSchema):
    """A latent factor of the Gaussian copula with its loadings per analyte."""

    name: Text
    loadings: dict[str, Annotated[float, Range(-1, 1)]]
    source: Text


class ChainLength(LenientSchema):
    """Chain-length kernel correlating neighbouring acylcarnitines."""

    length_scale_carbons: Annotated[float, Range(0.1, 50)]
    loading: Fraction
    carbons: dict[str, Annotated[float, Range(0, 40)]]


@dataclass(frozen=True)
class Signature:
    """How a disorder shows in the profile (see ``disorders.toml``)."""

    code: str
    primary: str
    direction: str  # "high" or "low"
    levels: Mapping[str, tuple[float, float]]  # severity -> multiple of p99 (high) or p1 (low)
    severity_weights: tuple[float, float, float]
    markers: Mapping[str, float]  # analyte -> exponent of the primary's fold
    age_log_fold_per_day: float
    age_markers: tuple[str, ...]
    sex: str | None
    prevalence_1_in: float
    prevalence_source: str
    source: str


class Condition(LenientSchema):
    """A test on one covariate: ``below``, ``above`` or ``equals`` a number."""

    covariate: Covariate
    below: float | None = None
    above: float | None = None
    equals: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if sum(x is not None for x in (self.below, self.above, self.equals)) != 1:
            raise ValueError("needs exactly one of below, above, equals")
        return self


@dataclass(frozen=True)
class Label:
    """A false-positive mechanism named from the covariates (any condition true)."""

    name: str
    any: tuple[Condition, ...]
    source: str


@dataclass(frozen=True)
class MechanismEffect:
    """Fold change of some analytes, from the weakest to the strongest form of a mechanism."""

    analytes: tuple[str, ...]
    fold_at_weakest: float
    fold_at_strongest: float


@dataclass(frozen=True)
class Mechanism:
    """A false-positive mechanism drawn at random (maternal B12 deficiency, pivalate, ...)."""

    name: str
    rate: float
    rate_multiplier: float
    when: Condition | None
    effects: tuple[MechanismEffect, ...]
    source: str
    rate_source: str


@dataclass(frozen=True, eq=False)
class PopulationParams:
    """Everything the population model needs, validated against a catalogue."""

    analyte_codes: tuple[str, ...]
    analyte_classes: tuple[str, ...]
    median_umol_l: np.ndarray
    p1_umol_l: np.ndarray
    p99_umol_l: np.ndarray
    covariates: CovariateModel
    terms: tuple[Term, ...]
    effects: tuple[Effect, ...]
    spot: SpotModel
    factors: tuple[Factor, ...]
    chain: ChainLength
    signatures: tuple[Signature, ...]
    enriched_floor_share: float
    labels: tuple[Label, ...]
    mechanisms: tuple[Mechanism, ...]
    versions: Mapping[str, str] = field(default_factory=dict)
    directory: Path = PARAMS_DIR
    #: covariate terms whose effects also move an affected baby's primary marker
    primary_terms: tuple[str, ...] = ()

    @property
    def disorder_codes(self) -> tuple[str, ...]:
        """Codes of the simulated disorders, in the order of ``disorders.toml``."""
        return tuple(s.code for s in self.signatures)

    def index(self, code: str) -> int:
        """Column index of an analyte code."""
        return self._column[code]

    @cached_property
    def _column(self) -> dict[str, int]:
        return {code: j for j, code in enumerate(self.analyte_codes)}

    @cached_property
    def sd_log(self) -> np.ndarray:
        """The catalogue spread of each analyte on the log scale: ln(p99 / p1) / 4.653."""
        return np.log(self.p99_umol_l / self.p1_umol_l) / (2 * _Z99)


# ----------------------------------------------------------------------------- schemas


def _check_sum(probabilities: list[float]) -> None:
    total = sum(probabilities)
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"probabilities sum to {total:.6g}, not 1")


def _sums_to_one(rows: list[Any]) -> list[Any]:
    """Rows with a ``probability`` whose probabilities sum to 1."""
    _check_sum([row.probability for row in rows])
    return rows


class _Band(LenientSchema):
    low_weeks: Weeks
    high_weeks: Weeks
    probability: Fraction
    _high = not_below("high_weeks", "low_weeks")


class _GestationalAge(LenientSchema):
    bands: Annotated[list[_Band], AfterValidator(_sums_to_one)]


class _Anchor(LenientSchema):
    gestational_age_weeks: Weeks
    median_g: Annotated[float, Range(100, 7000)]


def _increasing_weeks(anchors: list[_Anchor]) -> list[_Anchor]:
    weeks = [a.gestational_age_weeks for a in anchors]
    if len(weeks) < 2 or any(b <= a for a, b in zip(weeks, weeks[1:], strict=False)):
        raise ValueError("needs >= 2 anchors with increasing weeks")
    return anchors


class _BirthWeight(LenientSchema):
    median_by_age: Annotated[list[_Anchor], AfterValidator(_increasing_weeks)]
    sd_log: Fraction
    male_factor: Annotated[float, Range(0.5, 1.5)]
    female_factor: Annotated[float, Range(0.5, 1.5)]
    min_g: Annotated[float, Range(100, 2000)]
    max_g: Annotated[float, Range(3000, 10000)]


class _Shares(LenientSchema):
    """Probabilities, one per key, that sum to 1."""

    @model_validator(mode="after")
    def _sum(self) -> _Shares:
        _check_sum([getattr(self, name) for name in type(self).model_fields])
        return self


class _SexProbabilities(_Shares):
    M: Fraction
    F: Fraction
    U: Fraction


class _Sex(LenientSchema):
    probabilities: _SexProbabilities


class _AgeAtCollection(LenientSchema):
    nicu_below_weeks: Weeks
    windows: Annotated[list[AgeWindow], AfterValidator(_sums_to_one)]
    nicu_windows: Annotated[list[AgeWindow], AfterValidator(_sums_to_one)]


class _ByAge(LenientSchema):
    below_weeks: Annotated[float, Range(20, 100)]
    probability: Fraction


def _covers_every_baby(rows: list[_ByAge]) -> list[_ByAge]:
    weeks = [r.below_weeks for r in rows]
    if not weeks or any(b <= a for a, b in zip(weeks, weeks[1:], strict=False)) or weeks[-1] < 45:
        raise ValueError("below_weeks must increase and the last band cover every baby (>= 45)")
    return rows


class _Flag(LenientSchema):
    probability_by_age: Annotated[list[_ByAge], AfterValidator(_covers_every_baby)]


class _Tpn(_Flag):
    intensity_low: Annotated[float, Range(0, 5)]
    intensity_high: Annotated[float, Range(0, 5)]
    _high = not_below("intensity_high", "intensity_low")


class _Missing(LenientSchema):
    birth_weight_g: Annotated[float, Range(0, 0.5)]
    gestational_age_weeks: Annotated[float, Range(0, 0.5)]
    age_at_collection_hours: Annotated[float, Range(0, 0.5)]


class CovariatesFile(LenientSchema):
    """``covariates.toml``: the joint distribution of the covariates."""

    gestational_age: _GestationalAge
    birth_weight: _BirthWeight
    sex: _Sex
    age_at_collection: _AgeAtCollection
    tpn: _Tpn
    transfused: _Flag
    missing: _Missing


class _Term(LenientSchema):
    covariate: Text
    origin: float | None = None
    scale: float | None = None
    cap: NonNegative | None = None


class _Effect(LenientSchema):
    term: Text
    size_sd: Annotated[float, Range(-5, 5)]
    analytes: Annotated[list[str], Field(min_length=1)]
    source: Text
    size_source: Text


class _Spot(LenientSchema):
    volume_sd_log: Annotated[float, Range(0, 0.5)]
    haematocrit_mean: Annotated[float, Range(0.2, 0.8)]
    haematocrit_sd: Annotated[float, Range(0, 0.2)]
    transfused_haematocrit_shift: Annotated[float, Range(-0.3, 0.3)]
    loading_per_0_1_by_class: dict[str, Annotated[float, Range(-1, 1)]]
    loading_per_0_1: dict[str, Annotated[float, Range(-1, 1)]] = {}


class EffectsFile(LenientSchema):
    """``effects.toml``: covariate terms, their effects on analytes, the spot factor."""

    terms: dict[str, _Term]
    effect: list[_Effect]
    spot: _Spot


class CorrelationFile(LenientSchema):
    """``correlation.toml``: latent factors and the chain-length kernel of the copula."""

    factor: list[Factor]
    chain_length: ChainLength


def _pair(value: tuple[float, float]) -> tuple[float, float]:
    if not 0 < min(value) <= max(value) <= 1000:
        raise ValueError("must be [low, high] positive multiples")
    return min(value), max(value)


#: ``[low, high]`` multiples of the reference percentile, in either order.
Multiples = Annotated[tuple[float, float], BeforeValidator(lambda v: tuple(v)
                                                           if isinstance(v, list) else v),
                      AfterValidator(_pair)]


class _Levels(LenientSchema):
    mild: Multiples
    moderate: Multiples
    severe: Multiples


class _Weights(_Shares):
    mild: Fraction
    moderate: Fraction
    severe: Fraction


class _Defaults(LenientSchema):
    severity_weights: _Weights
    enriched_floor_share: Fraction
    primary_terms: list[Text] = []
    primary_terms_source: Text | None = None


class _Signature(LenientSchema):
    severity_weights: _Weights | None = None
    primary: Text
    direction: Literal["high", "low"]
    levels: _Levels
    markers: dict[str, Annotated[float, Range(-3, 3)]] = {}
    age_log_fold_per_day: Annotated[float, Range(-2, 2)] = 0.0
    age_markers: list[str] | None = None
    sex: Literal["M", "F"] | None = None
    prevalence_1_in: Annotated[float, Range(1, 1e9)] | None = None
    prevalence_source: Text | None = None
    source: Text


class DisordersFile(LenientSchema):
    """``disorders.toml``: how each simulated disorder shows in the profile."""

    defaults: _Defaults
    disorder: Annotated[dict[str, _Signature], Field(min_length=1)]


class _Label(LenientSchema):
    any: list[Condition]
    source: Text


class _MechanismEffect(LenientSchema):
    analytes: Annotated[list[str], Field(min_length=1)]
    fold_at_weakest: Annotated[float, Range(0.01, 100)]
    fold_at_strongest: Annotated[float, Range(0.01, 100)]


class _Mechanism(LenientSchema):
    rate: Annotated[float, Range(0, 0.5)]
    rate_multiplier: Annotated[float, Range(0, 100)] = 1.0
    when: Condition | None = None
    effects: list[_MechanismEffect]
    source: Text
    rate_source: Text


class MechanismsFile(LenientSchema):
    """``mechanisms.toml``: false-positive labels and random mechanisms."""

    label: dict[str, _Label]
    mechanism: dict[str, _Mechanism]


# ----------------------------------------------------------------------------- reading
def _analytes(file: DataFile, values: list[str], loc: Loc, catalogue: Catalogue,
              allow_all: bool = False) -> tuple[str, ...]:
    out: list[str] = []
    for i, value in enumerate(values):
        if allow_all and value == "*":
            out.extend(catalogue.codes)
            continue
        if value not in catalogue.codes:
            raise file.error(f"unknown analyte code {value!r} in {field_name(loc)} (canonical "
                             "codes of the catalogue, e.g. 'C5DC+C6OH')", *loc, i,
                             field=field_name(loc))
        out.append(value)
    return tuple(dict.fromkeys(out))


def _analyte_map(file: DataFile, values: Mapping[str, float], loc: Loc,
                 catalogue: Catalogue) -> dict[str, float]:
    for code in values:
        if code not in catalogue.codes:
            raise file.error(f"unknown analyte code {code!r} in {field_name(loc)}", *loc, code)
    return dict(values)


def _read_covariates(file: DataFile) -> CovariateModel:
    d = file.validate(CovariatesFile)
    bw, sex, age = d.birth_weight, d.sex.probabilities, d.age_at_collection
    return CovariateModel(
        ga_bands=tuple((b.low_weeks, b.high_weeks, b.probability) for b in d.gestational_age.bands),
        bw_anchor_weeks=tuple(a.gestational_age_weeks for a in bw.median_by_age),
        bw_anchor_median_g=tuple(a.median_g for a in bw.median_by_age),
        bw_sd_log=bw.sd_log, bw_male_factor=bw.male_factor, bw_female_factor=bw.female_factor,
        bw_min_g=bw.min_g, bw_max_g=bw.max_g,
        sex_probabilities=(sex.M, sex.F, sex.U),
        nicu_below_weeks=age.nicu_below_weeks,
        windows=tuple(age.windows), nicu_windows=tuple(age.nicu_windows),
        tpn_by_age=tuple((r.below_weeks, r.probability) for r in d.tpn.probability_by_age),
        tpn_intensity=(d.tpn.intensity_low, d.tpn.intensity_high),
        transfused_by_age=tuple((r.below_weeks, r.probability)
                                for r in d.transfused.probability_by_age),
        missing=d.missing.model_dump(),
    )


def _read_effects(file: DataFile, catalogue: Catalogue) -> tuple[tuple[Term, ...],
                                                                 tuple[Effect, ...], SpotModel]:
    d = file.validate(EffectsFile)
    terms = []
    for name, raw in d.terms.items():
        if raw.covariate in _TERM_KINDS:
            terms.append(Term(name, raw.covariate, _TERM_KINDS[raw.covariate]))
            continue
        if raw.covariate not in _CONDITION_COVARIATES:
            raise file.error(f"{raw.covariate!r} is not a numeric covariate", "terms", name,
                             "covariate")
        for key in ("origin", "scale"):
            if getattr(raw, key) is None:
                raise file.error(f"missing key {key!r}", "terms", name, key)
        terms.append(Term(name, raw.covariate, "clip", raw.origin or 0.0, raw.scale or 0.0,
                          math.inf if raw.cap is None else raw.cap))
    names = {t.name for t in terms}
    effects = []
    for i, raw_effect in enumerate(d.effect):
        if raw_effect.term not in names:
            raise file.error(f"term {raw_effect.term!r} is not one of "
                             f"{', '.join(sorted(names))}", "effect", i, "term")
        effects.append(Effect(
            term=raw_effect.term, size_sd=raw_effect.size_sd,
            analytes=_analytes(file, raw_effect.analytes, ("effect", i, "analytes"), catalogue),
            source=raw_effect.source, size_source=raw_effect.size_source,
        ))
    spot = d.spot
    overrides = _analyte_map(file, spot.loading_per_0_1, ("spot", "loading_per_0_1"), catalogue)
    loadings = {}
    for a in catalogue.analytes:
        if a.code in overrides:
            loadings[a.code] = overrides[a.code]
        elif a.analyte_class in spot.loading_per_0_1_by_class:
            loadings[a.code] = spot.loading_per_0_1_by_class[a.analyte_class]
        else:
            raise file.error(f"missing key {a.analyte_class!r}", "spot",
                             "loading_per_0_1_by_class", a.analyte_class)
    model = SpotModel(spot.volume_sd_log, spot.haematocrit_mean, spot.haematocrit_sd,
                      spot.transfused_haematocrit_shift, loadings)
    return tuple(terms), tuple(effects), model


def _read_correlation(file: DataFile, catalogue: Catalogue) -> tuple[tuple[Factor, ...],
                                                                     ChainLength]:
    d = file.validate(CorrelationFile)
    for i, f in enumerate(d.factor):
        _analyte_map(file, f.loadings, ("factor", i, "loadings"), catalogue)
    _analyte_map(file, d.chain_length.carbons, ("chain_length", "carbons"), catalogue)
    factors, chain = tuple(d.factor), d.chain_length
    total = {code: 0.0 for code in catalogue.codes}
    for factor in factors:
        for code, loading in factor.loadings.items():
            total[code] += loading**2
    for code in chain.carbons:
        total[code] += chain.loading**2
    for code, value in total.items():
        if value >= 0.98:
            raise file.error(f"squared loadings of {code} sum to {value:.3f}; they must stay "
                             "below 0.98 to leave the analyte its own variance", "factor")
    return factors, chain


def parse_prevalence(text: str) -> float | None:
    """The first "1:N", "1/N" or "x per 10,000" figure of a prevalence text, as N (1 in N)."""
    match = _NUMBER.search(text)
    if match is None:
        return None
    if match.group(1):
        value = float(match.group(1).replace(",", ""))
        return value if value >= 1 else None
    per_10k = float(match.group(2))
    return 10_000 / per_10k if per_10k > 0 else None


def _primary_terms(file: DataFile, d: DisordersFile, terms: tuple[Term, ...]
                   ) -> tuple[str, ...]:
    """``defaults.primary_terms``: covariate terms (effects.toml) that still move an affected
    baby's primary marker (an external load such as TPN adds to the metabolic block)."""
    known = {t.name for t in terms}
    for i, name in enumerate(d.defaults.primary_terms):
        if name not in known:
            raise file.error(f"{name!r} is not a term of effects.toml "
                             f"({', '.join(sorted(known))})", "defaults", "primary_terms", i)
    if d.defaults.primary_terms and d.defaults.primary_terms_source is None:
        raise file.error("missing key 'primary_terms_source'", "defaults",
                         "primary_terms_source")
    return tuple(d.defaults.primary_terms)


def _weights(raw: _Weights) -> tuple[float, float, float]:
    return raw.mild, raw.moderate, raw.severe


def _read_disorders(file: DataFile, catalogue: Catalogue) -> tuple[tuple[Signature, ...], float]:
    d = file.validate(DisordersFile)
    default_weights = _weights(d.defaults.severity_weights)
    known = {dis.code: dis for dis in catalogue.disorders}
    signatures = []
    for code, raw in d.disorder.items():
        loc = ("disorder", code)
        if code not in known:
            raise file.error(f"unknown disorder code {code!r} (not in the catalogue)", *loc)
        _analytes(file, [raw.primary], (*loc, "primary"), catalogue)
        markers = _analyte_map(file, raw.markers, (*loc, "markers"), catalogue)
        if raw.primary in markers:
            raise file.error("markers must not repeat the primary", *loc, "markers")
        age_markers = ((raw.primary,) if raw.age_markers is None
                       else _analytes(file, raw.age_markers, (*loc, "age_markers"), catalogue))
        if raw.prevalence_1_in is not None:
            if raw.prevalence_source is None:
                raise file.error("missing key 'prevalence_source'", *loc, "prevalence_source")
            prevalence, prevalence_source = raw.prevalence_1_in, raw.prevalence_source
        else:
            text = known[code].birth_prevalence
            parsed = parse_prevalence(text)
            if parsed is None:
                raise file.error(f"the catalogue's birth_prevalence for {code} ({text!r}) has no "
                                 "1:N figure; give prevalence_1_in and its source", *loc)
            prevalence, prevalence_source = parsed, f"catalogue birth_prevalence: {text}"
        levels = raw.levels
        signatures.append(Signature(
            code=code, primary=raw.primary, direction=raw.direction,
            levels={"mild": levels.mild, "moderate": levels.moderate, "severe": levels.severe},
            severity_weights=(default_weights if raw.severity_weights is None
                              else _weights(raw.severity_weights)),
            markers=markers, age_log_fold_per_day=raw.age_log_fold_per_day,
            age_markers=age_markers, sex=raw.sex, prevalence_1_in=prevalence,
            prevalence_source=prevalence_source, source=raw.source,
        ))
    return tuple(signatures), d.defaults.enriched_floor_share


def _read_mechanisms(file: DataFile, catalogue: Catalogue) -> tuple[tuple[Label, ...],
                                                                    tuple[Mechanism, ...]]:
    d = file.validate(MechanismsFile)
    labels = tuple(Label(name, tuple(raw.any), raw.source)
                   for name, raw in d.label.items())
    mechanisms = tuple(
        Mechanism(
            name=name, rate=raw.rate, rate_multiplier=raw.rate_multiplier,
            when=raw.when,
            effects=tuple(
                MechanismEffect(_analytes(file, e.analytes,
                                          ("mechanism", name, "effects", i, "analytes"),
                                          catalogue, allow_all=True),
                                e.fold_at_weakest, e.fold_at_strongest)
                for i, e in enumerate(raw.effects)),
            source=raw.source, rate_source=raw.rate_source,
        )
        for name, raw in d.mechanism.items())
    names = [x.name for x in labels] + [m.name for m in mechanisms]
    if len(set(names)) != len(names):
        raise file.error("label and mechanism names must be unique", "mechanism")
    return labels, mechanisms


# ----------------------------------------------------------------------------- entry points
def load_params(directory: Path | str | None = None, *,
                catalogue: Catalogue | None = None) -> PopulationParams:
    """Read and validate the population parameters.

    Parameters
    ----------
    directory
        Folder holding the five TOML files; default: the packaged ``msms/data/population``.
    catalogue
        Catalogue the codes are checked against and whose median / p1 / p99 (µmol/L) the
        marginals are calibrated to; default: the packaged catalogue.

    Raises
    ------
    DataError
        Naming the file, line and key of the first problem.
    """
    folder = Path(directory) if directory is not None else PARAMS_DIR
    cat = catalogue if catalogue is not None else default_catalogue()
    files = {name: read_toml(folder / f"{name}.toml")
             for name in ("covariates", "effects", "correlation", "disorders", "mechanisms")}
    covariates = _read_covariates(files["covariates"])
    terms, effects, spot = _read_effects(files["effects"], cat)
    factors, chain = _read_correlation(files["correlation"], cat)
    signatures, floor = _read_disorders(files["disorders"], cat)
    labels, mechanisms = _read_mechanisms(files["mechanisms"], cat)
    versions = {name: str(f.data.get("version", "")) for name, f in files.items()}
    return PopulationParams(
        analyte_codes=cat.codes,
        analyte_classes=tuple(a.analyte_class for a in cat.analytes),
        median_umol_l=np.array([a.pop_median_umol_l for a in cat.analytes]),
        p1_umol_l=np.array([a.pop_p1_umol_l for a in cat.analytes]),
        p99_umol_l=np.array([a.pop_p99_umol_l for a in cat.analytes]),
        covariates=covariates, terms=terms, effects=effects, spot=spot, factors=factors,
        chain=chain, signatures=signatures, enriched_floor_share=floor, labels=labels,
        mechanisms=mechanisms, versions=versions, directory=folder,
        primary_terms=_primary_terms(files["disorders"],
                                     files["disorders"].validate(DisordersFile), terms),
    )


@cache
def default_params() -> PopulationParams:
    """The packaged parameters with the packaged catalogue (loaded once)."""
    return load_params()
