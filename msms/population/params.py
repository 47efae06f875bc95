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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from msms.catalogue import Catalogue, default_catalogue
from msms.errors import DataError

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
_SEXES = ("M", "F", "U")
_Z99 = 2.3263478740408408  # standard-normal 99th percentile
_INDEXED = re.compile(r"^(.*)\[(\d+)\]$")
_NUMBER = re.compile(r"1\s*[:/]\s*([\d,]+(?:\.\d+)?)|(\d+(?:\.\d+)?)\s*per\s*10,?000")


# ----------------------------------------------------------------------------- data classes
@dataclass(frozen=True)
class AgeWindow:
    """One window of the age-at-collection mixture (triangular with a mode, else log-uniform)."""

    name: str
    low_hours: float
    high_hours: float
    mode_hours: float | None
    probability: float


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


@dataclass(frozen=True)
class Factor:
    """A latent factor of the Gaussian copula with its loadings per analyte."""

    name: str
    loadings: Mapping[str, float]
    source: str


@dataclass(frozen=True)
class ChainLength:
    """Chain-length kernel correlating neighbouring acylcarnitines."""

    length_scale_carbons: float
    loading: float
    carbons: Mapping[str, float]


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


@dataclass(frozen=True)
class Condition:
    """A test on one covariate: ``below``, ``above`` or ``equals`` a number."""

    covariate: str
    below: float | None = None
    above: float | None = None
    equals: float | None = None


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


# ----------------------------------------------------------------------------- reading
class _File:
    """One TOML file with error helpers that name the file, line and key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataError(f"cannot read: {exc.strerror}", file=str(path)) from None
        except UnicodeDecodeError as exc:
            raise DataError(f"not UTF-8 ({exc.reason})", file=str(path)) from None
        try:
            self.data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None)
            raise DataError(f"not valid TOML: {exc}", file=str(path), line=line) from None
        self.lines = self.text.splitlines()

    def line_of(self, key: str) -> int | None:
        """Best-effort line of a dotted key such as ``disorder.MCAD.markers.C6`` or
        ``effect[3].analytes``: its table header (the k-th ``[[array]]`` element for ``[k]``),
        then each key inside it (one line per element of a multi-line inline array)."""
        parts = key.split(".")
        position: int | None = None
        consumed = 0
        for depth in range(len(parts), 0, -1):
            match = _INDEXED.match(parts[depth - 1])
            last = match.group(1) if match else parts[depth - 1]
            header = ".".join([*parts[:depth - 1], last])
            found = [number for number, line in enumerate(self.lines)
                     if line.strip() in (f"[{header}]", f"[[{header}]]")]
            k = int(match.group(2)) if match else 0
            if k < len(found):
                position, consumed = found[k], depth
                break
        for part in parts[consumed:]:
            match = _INDEXED.match(part)
            line = self._find_key(match.group(1) if match else part, position or 0)
            if line is None:
                break
            position = line
            value = self.lines[line].split("=", 1)[1]
            if match and value.count("[") > value.count("]"):  # a multi-line array
                position = min(line + 1 + int(match.group(2)), len(self.lines) - 1)
        return None if position is None else position + 1

    def _find_key(self, name: str, start: int) -> int | None:
        """0-based number of the first line at or after ``start`` that assigns ``name``."""
        pattern = re.compile(rf'(^|[\s{{,])"?{re.escape(name)}"?\s*=')
        for number in range(start, len(self.lines)):
            if pattern.search(self.lines[number]):
                return number
        return None

    def error(self, key: str, message: str) -> DataError:
        return DataError(message, file=str(self.path), line=self.line_of(key), field=key)

    def get(self, table: Mapping[str, Any], key: str, where: str, kind: type | tuple = object,
            default: Any = ...) -> Any:
        full = f"{where}.{key}" if where else key
        if key not in table:
            if default is not ...:
                return default
            raise self.error(where or key, f"missing key {full!r}")
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is float and isinstance(value, bool)):
            name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise self.error(full, f"{full} must be {name}, got {value!r}")
        return value

    def optional_number(self, table: Mapping[str, Any], key: str, where: str, *,
                        low: float = -math.inf, high: float = math.inf) -> float | None:
        if key not in table:
            return None
        return self.number(table, key, where, low=low, high=high)

    def number(self, table: Mapping[str, Any], key: str, where: str, *, low: float = -math.inf,
               high: float = math.inf, default: Any = ...) -> float:
        value = self.get(table, key, where, float, default)
        full = f"{where}.{key}" if where else key
        if not (math.isfinite(value) and low <= value <= high):
            raise self.error(full, f"{full} = {value!r} must lie in [{low}, {high}]")
        return float(value)

    def table(self, table: Mapping[str, Any], key: str, where: str = "") -> dict[str, Any]:
        return self.get(table, key, where, dict)

    def text_of(self, table: Mapping[str, Any], key: str, where: str, default: Any = ...) -> str:
        return self.get(table, key, where, str, default)


def _analytes(f: _File, values: Any, where: str, catalogue: Catalogue,
              allow_all: bool = False) -> tuple[str, ...]:
    if not isinstance(values, list) or not values:
        raise f.error(where, f"{where} must be a non-empty list of analyte codes")
    codes = catalogue.codes
    out: list[str] = []
    for value in values:
        if allow_all and value == "*":
            out.extend(codes)
            continue
        if value not in codes:
            raise f.error(where, f"unknown analyte code {value!r} in {where} "
                                 f"(canonical codes of the catalogue, e.g. 'C5DC+C6OH')")
        out.append(value)
    return tuple(dict.fromkeys(out))


def _analyte_map(f: _File, values: Any, where: str, catalogue: Catalogue, *, low: float = -math.inf,
                 high: float = math.inf) -> dict[str, float]:
    if not isinstance(values, dict):
        raise f.error(where, f"{where} must be a table of analyte code = number")
    out = {}
    for code in values:
        if code not in catalogue.codes:
            raise f.error(f"{where}.{code}", f"unknown analyte code {code!r} in {where}")
        out[code] = f.number(values, code, where, low=low, high=high)
    return out


def _probabilities(f: _File, probs: list[float], where: str) -> None:
    total = sum(probs)
    if abs(total - 1.0) > 1e-6:
        raise f.error(where, f"probabilities in {where} sum to {total:.6g}, not 1")


def _condition(f: _File, raw: Any, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise f.error(where, f"{where} must be a table {{covariate = ..., below|above|equals = x}}")
    covariate = f.text_of(raw, "covariate", where)
    if covariate not in _CONDITION_COVARIATES:
        raise f.error(where, f"{where}.covariate {covariate!r} is not one of "
                             f"{', '.join(_CONDITION_COVARIATES)}")
    tests = {k: f.number(raw, k, where) for k in ("below", "above", "equals") if k in raw}
    if len(tests) != 1:
        raise f.error(where, f"{where} needs exactly one of below, above, equals")
    return Condition(covariate=covariate, **tests)


# ----------------------------------------------------------------------------- sections
def _read_covariates(f: _File) -> CovariateModel:
    d = f.data
    ga = f.table(d, "gestational_age")
    bands = []
    for i, band in enumerate(f.get(ga, "bands", "gestational_age", list)):
        w = f"gestational_age.bands[{i}]"
        low = f.number(band, "low_weeks", w, low=20, high=45)
        high = f.number(band, "high_weeks", w, low=low, high=45)
        bands.append((low, high, f.number(band, "probability", w, low=0, high=1)))
    _probabilities(f, [b[2] for b in bands], "gestational_age.bands")

    bw = f.table(d, "birth_weight")
    anchors = f.get(bw, "median_by_age", "birth_weight", list)
    weeks, medians = [], []
    for i, a in enumerate(anchors):
        w = f"birth_weight.median_by_age[{i}]"
        weeks.append(f.number(a, "gestational_age_weeks", w, low=20, high=45))
        medians.append(f.number(a, "median_g", w, low=100, high=7000))
    if len(weeks) < 2 or any(b <= a for a, b in zip(weeks, weeks[1:], strict=False)):
        raise f.error("birth_weight.median_by_age", "needs >= 2 anchors with increasing weeks")

    sex = f.table(d, "sex")
    sex_p = f.table(sex, "probabilities", "sex")
    sex_probs = tuple(f.number(sex_p, s, "sex.probabilities", low=0, high=1) for s in _SEXES)
    _probabilities(f, list(sex_probs), "sex.probabilities")

    age = f.table(d, "age_at_collection")

    def windows(key: str) -> tuple[AgeWindow, ...]:
        out = []
        for i, w in enumerate(f.get(age, key, "age_at_collection", list)):
            where = f"age_at_collection.{key}[{i}]"
            low = f.number(w, "low_hours", where, low=0.5, high=2000)
            high = f.number(w, "high_hours", where, low=low, high=2000)
            mode = f.optional_number(w, "mode_hours", where, low=low, high=high)
            out.append(AgeWindow(f.text_of(w, "name", where), low, high, mode,
                                 f.number(w, "probability", where, low=0, high=1)))
        _probabilities(f, [w.probability for w in out], f"age_at_collection.{key}")
        return tuple(out)

    def by_age(section: str) -> tuple[tuple[float, float], ...]:
        table = f.table(d, section)
        out = []
        for i, row in enumerate(f.get(table, "probability_by_age", section, list)):
            where = f"{section}.probability_by_age[{i}]"
            out.append((f.number(row, "below_weeks", where, low=20, high=100),
                        f.number(row, "probability", where, low=0, high=1)))
        if any(b[0] <= a[0] for a, b in zip(out, out[1:], strict=False)) or out[-1][0] < 45:
            raise f.error(f"{section}.probability_by_age",
                          "below_weeks must increase and the last band cover every baby (>= 45)")
        return tuple(out)

    tpn = f.table(d, "tpn")
    lo = f.number(tpn, "intensity_low", "tpn", low=0, high=5)
    hi = f.number(tpn, "intensity_high", "tpn", low=lo, high=5)
    missing_t = f.table(d, "missing")
    missing = {k: f.number(missing_t, k, "missing", low=0, high=0.5)
               for k in ("birth_weight_g", "gestational_age_weeks", "age_at_collection_hours")}
    return CovariateModel(
        ga_bands=tuple(bands),
        bw_anchor_weeks=tuple(weeks),
        bw_anchor_median_g=tuple(medians),
        bw_sd_log=f.number(bw, "sd_log", "birth_weight", low=0, high=1),
        bw_male_factor=f.number(bw, "male_factor", "birth_weight", low=0.5, high=1.5),
        bw_female_factor=f.number(bw, "female_factor", "birth_weight", low=0.5, high=1.5),
        bw_min_g=f.number(bw, "min_g", "birth_weight", low=100, high=2000),
        bw_max_g=f.number(bw, "max_g", "birth_weight", low=3000, high=10000),
        sex_probabilities=sex_probs,  # type: ignore[arg-type]
        nicu_below_weeks=f.number(age, "nicu_below_weeks", "age_at_collection", low=20, high=45),
        windows=windows("windows"),
        nicu_windows=windows("nicu_windows"),
        tpn_by_age=by_age("tpn"),
        tpn_intensity=(lo, hi),
        transfused_by_age=by_age("transfused"),
        missing=missing,
    )


def _read_effects(f: _File, catalogue: Catalogue) -> tuple[tuple[Term, ...], tuple[Effect, ...],
                                                          SpotModel]:
    d = f.data
    terms = []
    for name, raw in f.table(d, "terms").items():
        where = f"terms.{name}"
        covariate = f.text_of(raw, "covariate", where)
        if covariate in _TERM_KINDS:
            terms.append(Term(name, covariate, _TERM_KINDS[covariate]))
            continue
        if covariate not in _CONDITION_COVARIATES:
            raise f.error(where, f"{where}.covariate {covariate!r} is not a numeric covariate")
        terms.append(Term(name, covariate, "clip", f.number(raw, "origin", where),
                          f.number(raw, "scale", where),
                          f.number(raw, "cap", where, low=0, default=math.inf)))
    names = {t.name for t in terms}
    effects = []
    for i, raw in enumerate(f.get(d, "effect", "", list)):
        where = f"effect[{i}]"
        term = f.text_of(raw, "term", where)
        if term not in names:
            raise f.error(where, f"{where}.term {term!r} is not one of {', '.join(sorted(names))}")
        effects.append(Effect(
            term=term,
            size_sd=f.number(raw, "size_sd", where, low=-5, high=5),
            analytes=_analytes(f, raw.get("analytes"), f"{where}.analytes", catalogue),
            source=f.text_of(raw, "source", where),
            size_source=f.text_of(raw, "size_source", where),
        ))
    spot = f.table(d, "spot")
    by_class = f.table(spot, "loading_per_0_1_by_class", "spot")
    overrides = _analyte_map(f, spot.get("loading_per_0_1", {}), "spot.loading_per_0_1",
                             catalogue, low=-1, high=1)
    loadings = {}
    for a in catalogue.analytes:
        if a.code in overrides:
            loadings[a.code] = overrides[a.code]
        else:
            loadings[a.code] = f.number(by_class, a.analyte_class, "spot.loading_per_0_1_by_class",
                                        low=-1, high=1)
    model = SpotModel(
        volume_sd_log=f.number(spot, "volume_sd_log", "spot", low=0, high=0.5),
        haematocrit_mean=f.number(spot, "haematocrit_mean", "spot", low=0.2, high=0.8),
        haematocrit_sd=f.number(spot, "haematocrit_sd", "spot", low=0, high=0.2),
        transfused_haematocrit_shift=f.number(spot, "transfused_haematocrit_shift", "spot",
                                              low=-0.3, high=0.3),
        loading_per_0_1=loadings,
    )
    return tuple(terms), tuple(effects), model


def _read_correlation(f: _File, catalogue: Catalogue) -> tuple[tuple[Factor, ...], ChainLength]:
    d = f.data
    factors = []
    for i, raw in enumerate(f.get(d, "factor", "", list)):
        where = f"factor[{i}]"
        factors.append(Factor(
            name=f.text_of(raw, "name", where),
            loadings=_analyte_map(f, raw.get("loadings"), f"{where}.loadings", catalogue,
                                  low=-1, high=1),
            source=f.text_of(raw, "source", where),
        ))
    chain_t = f.table(d, "chain_length")
    chain = ChainLength(
        length_scale_carbons=f.number(chain_t, "length_scale_carbons", "chain_length",
                                      low=0.1, high=50),
        loading=f.number(chain_t, "loading", "chain_length", low=0, high=1),
        carbons=_analyte_map(f, chain_t.get("carbons"), "chain_length.carbons", catalogue,
                             low=0, high=40),
    )
    total = {code: 0.0 for code in catalogue.codes}
    for factor in factors:
        for code, loading in factor.loadings.items():
            total[code] += loading**2
    for code in chain.carbons:
        total[code] += chain.loading**2
    for code, value in total.items():
        if value >= 0.98:
            raise f.error("factor", f"squared loadings of {code} sum to {value:.3f}; they must "
                                    "stay below 0.98 to leave the analyte its own variance")
    return tuple(factors), chain


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


def _primary_terms(f: _File, terms: tuple[Term, ...]) -> tuple[str, ...]:
    """``defaults.primary_terms``: covariate terms (effects.toml) that still move an affected
    baby's primary marker (an external load such as TPN adds to the metabolic block)."""
    defaults = f.table(f.data, "defaults")
    raw = defaults.get("primary_terms", [])
    known = {t.name for t in terms}
    if not isinstance(raw, list) or not all(isinstance(x, str) and x in known for x in raw):
        raise f.error("defaults.primary_terms", "defaults.primary_terms must list terms of "
                      f"effects.toml ({', '.join(sorted(known))})")
    if raw:
        f.text_of(defaults, "primary_terms_source", "defaults")
    return tuple(raw)


def _read_disorders(f: _File, catalogue: Catalogue) -> tuple[tuple[Signature, ...], float]:
    d = f.data
    defaults = f.table(d, "defaults")
    default_weights = _severity_weights(f, f.table(defaults, "severity_weights", "defaults"),
                                        "defaults.severity_weights")
    floor = f.number(defaults, "enriched_floor_share", "defaults", low=0, high=1)
    known = {dis.code: dis for dis in catalogue.disorders}
    signatures = []
    for code, raw in f.table(d, "disorder").items():
        where = f"disorder.{code}"
        if code not in known:
            raise f.error(where, f"unknown disorder code {code!r} (not in the catalogue)")
        primary = f.text_of(raw, "primary", where)
        _analytes(f, [primary], f"{where}.primary", catalogue)
        direction = f.text_of(raw, "direction", where)
        if direction not in ("high", "low"):
            raise f.error(f"{where}.direction", f"{where}.direction must be 'high' or 'low'")
        levels_t = f.table(raw, "levels", where)
        levels = {}
        for severity in SEVERITIES:
            pair = f.get(levels_t, severity, f"{where}.levels", list)
            if (len(pair) != 2
                    or not all(isinstance(x, int | float) and not isinstance(x, bool)
                               for x in pair)
                    or not 0 < min(pair) <= max(pair) <= 1000):
                raise f.error(f"{where}.levels.{severity}",
                              f"{where}.levels.{severity} must be [low, high] positive multiples")
            levels[severity] = (float(min(pair)), float(max(pair)))
        weights = (_severity_weights(f, raw["severity_weights"], f"{where}.severity_weights")
                   if "severity_weights" in raw else default_weights)
        markers = _analyte_map(f, raw.get("markers", {}), f"{where}.markers", catalogue,
                               low=-3, high=3)
        if primary in markers:
            raise f.error(f"{where}.markers", f"{where}.markers must not repeat the primary")
        age_markers = (_analytes(f, raw["age_markers"], f"{where}.age_markers", catalogue)
                       if "age_markers" in raw else (primary,))
        sex = f.text_of(raw, "sex", where, default=None)
        if sex is not None and sex not in ("M", "F"):
            raise f.error(f"{where}.sex", f"{where}.sex must be 'M' or 'F'")
        if "prevalence_1_in" in raw:
            prevalence = f.number(raw, "prevalence_1_in", where, low=1, high=1e9)
            prevalence_source = f.text_of(raw, "prevalence_source", where)
        else:
            text = known[code].birth_prevalence
            parsed = parse_prevalence(text)
            if parsed is None:
                raise f.error(where, f"the catalogue's birth_prevalence for {code} ({text!r}) "
                                     "has no 1:N figure; give prevalence_1_in and its source")
            prevalence = parsed
            prevalence_source = f"catalogue birth_prevalence: {text}"
        signatures.append(Signature(
            code=code, primary=primary, direction=direction, levels=levels,
            severity_weights=weights, markers=markers,
            age_log_fold_per_day=f.number(raw, "age_log_fold_per_day", where, low=-2, high=2,
                                          default=0.0),
            age_markers=age_markers, sex=sex, prevalence_1_in=prevalence,
            prevalence_source=prevalence_source, source=f.text_of(raw, "source", where),
        ))
    if not signatures:
        raise f.error("disorder", "no [disorder.*] signatures")
    return tuple(signatures), floor


def _severity_weights(f: _File, raw: Any, where: str) -> tuple[float, float, float]:
    if not isinstance(raw, dict):
        raise f.error(where, f"{where} must be a table mild/moderate/severe = weight")
    weights = tuple(f.number(raw, s, where, low=0, high=1) for s in SEVERITIES)
    _probabilities(f, list(weights), where)
    return weights  # type: ignore[return-value]


def _read_mechanisms(f: _File, catalogue: Catalogue) -> tuple[tuple[Label, ...],
                                                             tuple[Mechanism, ...]]:
    d = f.data
    labels = []
    for name, raw in f.table(d, "label").items():
        where = f"label.{name}"
        conditions = f.get(raw, "any", where, list)
        labels.append(Label(name, tuple(_condition(f, c, f"{where}.any[{i}]")
                                        for i, c in enumerate(conditions)),
                            f.text_of(raw, "source", where)))
    mechanisms = []
    for name, raw in f.table(d, "mechanism").items():
        where = f"mechanism.{name}"
        effects = []
        for i, e in enumerate(f.get(raw, "effects", where, list)):
            w = f"{where}.effects[{i}]"
            effects.append(MechanismEffect(
                analytes=_analytes(f, e.get("analytes"), f"{w}.analytes", catalogue,
                                   allow_all=True),
                fold_at_weakest=f.number(e, "fold_at_weakest", w, low=0.01, high=100),
                fold_at_strongest=f.number(e, "fold_at_strongest", w, low=0.01, high=100),
            ))
        when = _condition(f, raw["when"], f"{where}.when") if "when" in raw else None
        mechanisms.append(Mechanism(
            name=name,
            rate=f.number(raw, "rate", where, low=0, high=0.5),
            rate_multiplier=f.number(raw, "rate_multiplier", where, low=0, high=100, default=1.0),
            when=when,
            effects=tuple(effects),
            source=f.text_of(raw, "source", where),
            rate_source=f.text_of(raw, "rate_source", where),
        ))
    names = [x.name for x in labels] + [m.name for m in mechanisms]
    if len(set(names)) != len(names):
        raise f.error("mechanism", "label and mechanism names must be unique")
    return tuple(labels), tuple(mechanisms)


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
    files = {name: _File(folder / f"{name}.toml")
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
        primary_terms=_primary_terms(files["disorders"], terms),
    )


@cache
def default_params() -> PopulationParams:
    """The packaged parameters with the packaged catalogue (loaded once)."""
    return load_params()
