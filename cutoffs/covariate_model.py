"""The default covariate model for scores: where a baby's value sits among babies like it when
the laboratory has no cutoff table of its own.

For marker *m* (an analyte or a ratio) and a baby with covariates *x*, the model says

    ln value = ln median_m + sum_k term_k(x) * effect_mk + residual,

where the terms are those of the population model (``msms/data/population/effects.toml``:
weeks of gestation below 37, kilograms of birth weight below 2500 g, collection before 24 h,
days of age beyond 72 h, sex, TPN), each effect is the cited effect of that file on the log
scale (for a ratio of sums, the median-weighted mean of its parts' effects, numerator minus
denominator), and the residual has the quantile grid stored per marker. ``median`` and the
grid describe the *reference condition* (term, at least 2500 g, collected at 24-72 h, no TPN,
sex not counted); a baby's own median and grid are those moved by ``exp(sum_k term_k *
effect_mk)``. The percentile interpolates the baby's value in that grid (clipped to the grid's
ends, P0.1 / P99.9) and the multiple of the median divides by the baby's own median.

The medians and grids are **estimates**: they are computed once (``nbs cutoffs covariate-model``,
:func:`build_covariate_model`) from a large unaffected cohort simulated with the documented
population model (docs/simulation.md), which is calibrated to the catalogue's population median,
p1 and p99 (``msms/data/analytes.csv``), and the file records where they came from. A
laboratory's own derived cutoff table takes precedence over them (docs/evaluation.md).

A missing birth weight is imputed from the gestational age (the population model's median
birth weight for that age) and a missing gestational age from the birth weight; with both
missing, or a missing age at collection or TPN flag, the term takes its population mean.
Every scored row says what the model used (``BW=1200 g; GA=30 w; age=36 h; sex=F; TPN=1``,
imputed values with ``~``, unknown ones with ``?``).

Public names: ``CovariateScoreModel``, ``CovariateModelFile`` (the file's schema),
``ModelTerm``, ``MarkerModel``, ``BoundCovariates``, ``build_covariate_model``,
``load_covariate_model``, ``write_covariate_model``,
``default_covariate_model``, ``COVARIATE_MODEL_TOML``, ``FORMAT``, ``MODEL_PROBS``,
``DEFAULT_N``, ``DEFAULT_SEED``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import AfterValidator, Field

from cutoffs.errors import CutoffError
from cutoffs.markers import default_markers, marker_table
from cutoffs.profiles import covariate_frame
from cutoffs.rules import RuleSet, default_rules, resolve_marker
from msms.catalogue import ANALYTES_CSV, default_catalogue
from msms.datafiles import (
    DataFile,
    NonNegative,
    OneOf,
    Positive,
    Range,
    Schema,
    Text,
    load_toml,
    read_toml,
    write_toml,
)
from msms.errors import DataError
from msms.ratios import RatioError, parse_ratio
from msms.tables import COVARIATE_COLUMNS, SEXES

if TYPE_CHECKING:  # the population model is imported only to build a model, not to score
    from msms.population.params import PopulationParams

__all__ = [
    "COVARIATE_MODEL_TOML",
    "DEFAULT_N",
    "DEFAULT_SEED",
    "FORMAT",
    "MODEL_PROBS",
    "BoundCovariates",
    "CovariateModelFile",
    "CovariateScoreModel",
    "MarkerModel",
    "ModelTerm",
    "build_covariate_model",
    "default_covariate_model",
    "load_covariate_model",
    "write_covariate_model",
]

#: Identifies the file format (first key of the file).
FORMAT = "nbs-covariate-model/1"
#: The packaged model (regenerate with ``nbs cutoffs covariate-model``).
COVARIATE_MODEL_TOML = Path(str(resources.files("cutoffs") / "data" / "covariate_model.toml"))
#: Size and seed of the simulated cohort the packaged model was computed from.
DEFAULT_N = 400_000
DEFAULT_SEED = 2026
#: Probabilities of each marker's quantile grid (fractions).
MODEL_PROBS: tuple[float, ...] = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75,
    0.8, 0.9, 0.95, 0.975, 0.98, 0.99, 0.995, 0.998, 0.999,
)
#: What a term reads: ``clip`` a number, clip((x - origin) * scale, 0, cap); ``female`` sex
#: (+0.5 girls, -0.5 boys, 0 unknown); ``flag`` a 0/1 column times ``intensity``.
_KINDS = ("clip", "female", "flag")
_COVARIATES = ("birth_weight_g", "gestational_age_weeks", "age_at_collection_hours", "sex", "tpn",
               "transfused")
_SHORT = {"birth_weight_g": ("BW", " g"), "gestational_age_weeks": ("GA", " w"),
          "age_at_collection_hours": ("age", " h"), "sex": ("sex", ""), "tpn": ("TPN", ""),
          "transfused": ("transfused", "")}
_RECORDED, _IMPUTED, _UNKNOWN = 0, 1, 2


# ----------------------------------------------------------------------------- data
@dataclass(frozen=True, slots=True)
class ModelTerm:
    """A covariate term (see the module docstring) and its population mean (used when the
    covariate is unknown)."""

    name: str
    covariate: str
    kind: str
    origin: float = 0.0
    scale: float = 1.0
    cap: float = math.inf
    intensity: float = 1.0
    population_mean: float = 0.0
    description: str = ""


@dataclass(frozen=True, slots=True)
class MarkerModel:
    """One marker: median and quantile grid at the reference condition, and its log-scale
    effect per unit of each term (aligned with the model's terms; 0 where none)."""

    name: str
    median: float
    quantiles: tuple[float, ...]
    effects: tuple[float, ...]


@dataclass(eq=False)
class CovariateScoreModel:
    """A covariate model for scores (read one with :func:`load_covariate_model`)."""

    version: str
    terms: tuple[ModelTerm, ...]
    markers: Mapping[str, MarkerModel]
    probs: tuple[float, ...] = MODEL_PROBS
    #: (gestational age in weeks, median birth weight in g), increasing: imputes one from the other
    birth_weight_by_age: tuple[tuple[float, float], ...] = ()
    provenance: Mapping[str, Any] = field(default_factory=dict)
    file: str | None = None

    def __post_init__(self) -> None:
        self._log_grid = {name: np.log(np.asarray(m.quantiles)) for name, m in self.markers.items()}
        self._coef = {name: np.asarray(m.effects) for name, m in self.markers.items()}
        self._pct = 100 * np.asarray(self.probs)

    @property
    def covariates(self) -> tuple[str, ...]:
        """The covariates the terms read, in docs/architecture.md "Profiles" order."""
        used = {t.covariate for t in self.terms}
        return tuple(c for c in _COVARIATES if c in used)

    def marker_names(self, columns: Iterable[str] | None = None) -> list[str]:
        """Markers of the model (analytes first); with ``columns``, only those it can compute."""
        if columns is None:
            return list(self.markers)
        present = set(columns)
        out = []
        for name in self.markers:
            canonical, is_ratio = resolve_marker(name)
            parts = parse_ratio(canonical).analytes if is_ratio else (canonical,)
            if set(parts) <= present:
                out.append(name)
        return out

    def bind(self, profiles: pd.DataFrame, *, file: str | None = None) -> BoundCovariates:
        """The model for these specimens (their covariates are read when first needed)."""
        return BoundCovariates(self, profiles, file)

    def percentile_mom(self, marker: str, values: np.ndarray, offsets: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Percentile (0.1-99.9, clipped to the grid) and MoM of ``values`` whose log-scale
        covariate offsets are ``offsets``; NaN for a marker the model lacks or a missing value."""
        entry = self.markers.get(marker)
        nan = np.full(values.size, np.nan)
        if entry is None:
            return nan, nan.copy()
        grid = self._log_grid[marker]
        with np.errstate(all="ignore"):
            residual = np.log(values) - offsets
            pct = np.interp(residual, grid, self._pct)
            mom = values / (entry.median * np.exp(offsets))
        finite = np.isfinite(values)
        pct = np.where(finite & (values <= 0), self._pct[0], pct)
        pct = np.where(np.isnan(values), np.nan, pct)
        pct = np.where(np.isposinf(values), self._pct[-1], pct)
        mom = np.where(finite, mom, np.nan)
        return pct, mom


class BoundCovariates:
    """A model bound to one profiles table: covariate terms per specimen, computed once."""

    def __init__(self, model: CovariateScoreModel, profiles: pd.DataFrame,
                 file: str | None) -> None:
        self.model = model
        self._profiles = profiles
        self._file = file if file is not None else profiles.attrs.get("source_file")
        self._terms: np.ndarray | None = None
        self._text: np.ndarray | None = None

    def terms(self) -> np.ndarray:
        """Term values of every specimen, shape (n, n_terms)."""
        if self._terms is None:
            self._terms = self._compute()
        return self._terms

    def _compute(self) -> np.ndarray:
        model, profiles = self.model, self._profiles
        numeric = [c for c in COVARIATE_COLUMNS if c in profiles.columns and c != "sex"]
        cov = covariate_frame(profiles[numeric], file=self._file)  # validated, naming lines
        n = len(profiles)

        def column(name: str) -> np.ndarray:
            return (cov[name].to_numpy(dtype=float) if name in cov.columns
                    else np.full(n, np.nan))

        bw, ga = column("birth_weight_g"), column("gestational_age_weeks")
        status = {c: np.where(np.isnan(column(c)), _UNKNOWN, _RECORDED) for c in _COVARIATES
                  if c != "sex"}
        anchors = np.asarray(model.birth_weight_by_age, dtype=float)
        if anchors.size:
            fill_bw = np.isnan(bw) & ~np.isnan(ga)
            fill_ga = np.isnan(ga) & ~np.isnan(bw)
            bw = np.where(fill_bw, np.interp(ga, anchors[:, 0], anchors[:, 1]), bw)
            ga = np.where(fill_ga, np.interp(bw, anchors[:, 1], anchors[:, 0]), ga)
            status["birth_weight_g"] = np.where(fill_bw, _IMPUTED, status["birth_weight_g"])
            status["gestational_age_weeks"] = np.where(fill_ga, _IMPUTED,
                                                       status["gestational_age_weeks"])
        numbers = {"birth_weight_g": bw, "gestational_age_weeks": ga}
        sex = (_sex(profiles, self._file) if "sex" in profiles.columns
               else np.full(n, "", dtype=object))
        out = np.empty((n, len(model.terms)))
        for k, term in enumerate(model.terms):
            if term.kind == "female":
                out[:, k] = np.where(sex == "F", 0.5, np.where(sex == "M", -0.5, 0.0))
                continue
            x = numbers.get(term.covariate)
            if x is None:
                x = column(term.covariate)
            if term.kind == "flag":
                value = x * term.intensity
            else:
                with np.errstate(invalid="ignore"):
                    value = np.clip((x - term.origin) * term.scale, 0.0, term.cap)
            out[:, k] = np.where(np.isnan(x), term.population_mean, value)
        self._numbers = numbers
        self._status = status
        self._sex = sex
        self._cov = cov
        return out

    def offsets(self, marker: str, rows: np.ndarray) -> np.ndarray:
        """Log-scale covariate offset of ``marker`` at the specimen positions ``rows``."""
        coef = self.model._coef.get(marker)
        if coef is None:
            return np.zeros(rows.size)
        return self.terms()[rows] @ coef

    def percentile_mom(self, marker: str, values: np.ndarray, rows: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Percentile and MoM of ``values`` (one per position in ``rows``)."""
        return self.model.percentile_mom(marker, values, self.offsets(marker, rows))

    def quantiles(self, marker: str, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The values at ``probs`` (fractions) among babies like each specimen at ``rows``
        (the grid moved by each one's covariates; NaN outside the grid or for a marker the
        model lacks), the inverse of ``percentile_mom``'s percentile."""
        probs = np.asarray(probs, dtype=float)
        out = np.full((rows.size, probs.size), np.nan)
        if marker not in self.model.markers:
            return out
        pct = self.model._pct
        inside = (100 * probs >= pct[0]) & (100 * probs <= pct[-1])
        log_values = np.interp(100 * probs[inside], pct, self.model._log_grid[marker])
        out[:, inside] = np.exp(log_values[None, :] + self.offsets(marker, rows)[:, None])
        return out

    def describe_rows(self, rows: np.ndarray) -> np.ndarray:
        """What the model used for each specimen at ``rows``, e.g. ``BW=1200 g; GA=30 w;
        age=36 h; sex=F; TPN=1`` (``~`` imputed, ``?`` unknown)."""
        self.terms()
        if self._text is None:
            self._text = np.full(len(self._profiles), None, dtype=object)
        rows = np.asarray(rows, dtype=int)
        todo = np.unique(rows[pd.isna(self._text[rows])])
        if todo.size:
            parts = [self._describe_covariate(name, todo) for name in self.model.covariates]
            self._text[todo] = ["; ".join(p) for p in zip(*parts, strict=True)] if parts \
                else "reference condition"
        return self._text[rows]

    def _describe_covariate(self, name: str, rows: np.ndarray) -> list[str]:
        label, unit = _SHORT[name]
        if name == "sex":
            return [f"sex={s}" if s else "sex=?" for s in self._sex[rows].tolist()]
        values = self._numbers.get(name)
        if values is None:
            values = (self._cov[name].to_numpy(dtype=float) if name in self._cov.columns
                      else np.full(len(self._profiles), np.nan))
        status = self._status[name][rows]
        other = {"birth_weight_g": "GA", "gestational_age_weeks": "BW"}.get(name, "")
        out = []
        for value, state in zip(values[rows].tolist(), status.tolist(), strict=True):
            if state == _UNKNOWN:
                out.append(f"{label}=?")
            elif state == _IMPUTED:
                out.append(f"{label}~{_show(value, name)}{unit} (from {other})")
            else:
                out.append(f"{label}={_show(value, name)}{unit}")
        return out


def _sex(profiles: pd.DataFrame, file: str | None) -> np.ndarray:
    """The sex column as M / F / U / '' (blank), validated like ``covariate_frame`` but through
    its few distinct values rather than string operations on every row."""
    codes, uniques = pd.factorize(profiles["sex"], use_na_sentinel=True)
    cleaned = np.array([str(u).strip().upper() for u in uniques] + [""], dtype=object)
    bad = [i for i, u in enumerate(cleaned) if u not in ("", *SEXES)]
    if bad:
        row = int(np.flatnonzero(np.isin(codes, bad))[0])
        raise CutoffError(f"{profiles['sex'].iloc[row]!r} is not one of {', '.join(SEXES)}",
                          file=file, line=row + 2, field="sex")
    return cleaned[codes]  # the NA sentinel -1 picks the trailing ''


def _show(value: float, covariate: str) -> str:
    if covariate in ("birth_weight_g", "tpn", "transfused"):
        return f"{value:.0f}"
    return f"{round(value, 1):g}"


# ----------------------------------------------------------------------------- building
def _model_terms(params: PopulationParams, effects: np.ndarray) -> list[tuple[int, ModelTerm]]:
    """The population model's terms that move at least one analyte, as model terms."""
    low, high = params.covariates.tpn_intensity
    out = []
    for k, term in enumerate(params.terms):
        if not np.any(effects[k] != 0):
            continue  # e.g. transfusion: no retrieved MS/MS effect
        if term.kind == "clip":
            mt = ModelTerm(term.name, term.covariate, "clip", term.origin, term.scale, term.cap)
        elif term.kind == "female":
            mt = ModelTerm(term.name, "sex", "female")
        else:  # tpn / transfused: a 0/1 flag; TPN times its mean intensity
            intensity = (low + high) / 2 if term.kind == "tpn" else 1.0
            mt = ModelTerm(term.name, term.covariate, "flag", intensity=intensity)
        out.append((k, mt))
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_covariate_model(
    *,
    n: int = DEFAULT_N,
    seed: int = DEFAULT_SEED,
    params: PopulationParams | None = None,
    rules: RuleSet | None = None,
    markers: Iterable[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CovariateScoreModel:
    """Compute the covariate model from an unaffected cohort simulated with the population model.

    Parameters
    ----------
    n, seed
        Size and seed of the simulated cohort (``disorder_rate = 0``: no affected babies; the
        false-positive mechanisms, spot and haematocrit effects are kept, as in a laboratory's
        screen-negative population).
    params
        Population parameters (default: the packaged ``msms/data/population``).
    rules
        Rules whose markers are included by default (default: the packaged rules).
    markers
        Canonical analyte codes and ratio names (default: every catalogue analyte, every
        catalogue ratio and every marker the rules read).
    progress
        Called as ``progress(done, n)`` while the cohort is simulated.

    Returns
    -------
    CovariateScoreModel
        Effects are those of ``effects.toml`` (exact for analytes; for a ratio of sums the
        median-weighted mean of its parts' effects); medians and grids are the residual
        quantiles of the simulated babies at the reference condition.
    """
    from msms.population import simulate_cohort, split_truth
    from msms.population.analytes import effect_matrix
    from msms.population.params import default_params

    p = params if params is not None else default_params()
    rules = rules if rules is not None else default_rules()
    effects = effect_matrix(p)
    chosen = _model_terms(p, effects)
    cohort = simulate_cohort(n, seed=seed, disorder_rate=0.0, params=p, progress=progress)
    profiles, _ = split_truth(cohort)
    del cohort
    draft = CovariateScoreModel("draft", tuple(t for _, t in chosen), {},
                                birth_weight_by_age=_bw_anchors(p))
    terms = draft.bind(profiles).terms()
    means = terms.mean(axis=0)
    names = list(markers) if markers is not None else default_markers(profiles.columns, rules)
    table = marker_table(profiles, names)
    catalogue = default_catalogue()

    def residual_of(values: np.ndarray, coef: np.ndarray) -> np.ndarray:
        keep = np.isfinite(values) & (values > 0)
        return np.log(values[keep]) - terms[keep] @ coef

    analyte_coef: dict[str, np.ndarray] = {}
    analyte_median: dict[str, float] = {}
    for code in catalogue.codes:
        j = p.index(code)
        analyte_coef[code] = np.array([effects[k, j] for k, _ in chosen])
        if code in profiles.columns:
            values = profiles[code].to_numpy(dtype=float)
            analyte_median[code] = float(np.exp(np.median(residual_of(values, analyte_coef[code]))))

    def side(codes: tuple[str, ...]) -> np.ndarray:
        weights = np.array([analyte_median[c] for c in codes])
        weights = weights / weights.sum()
        return np.sum([w * analyte_coef[c] for w, c in zip(weights, codes, strict=True)], axis=0)

    entries: dict[str, MarkerModel] = {}
    for name in names:
        canonical, is_ratio = resolve_marker(name)
        if is_ratio:
            ratio = parse_ratio(canonical)
            if not set(ratio.analytes) <= set(analyte_median):
                continue
            coef = side(ratio.numerator) - side(ratio.denominator)
        else:
            if canonical not in analyte_median:
                continue
            coef = analyte_coef[canonical]
        residual = residual_of(table.values[canonical], coef)
        if residual.size < 1000:
            continue
        grid = np.exp(np.quantile(residual, MODEL_PROBS))
        entries[canonical] = MarkerModel(
            canonical, _round(float(np.exp(np.median(residual)))),
            tuple(_round(float(v)) for v in np.maximum.accumulate(grid)),
            tuple(_round_effect(float(c)) for c in coef))
    model_terms = tuple(
        ModelTerm(t.name, t.covariate, t.kind, t.origin, t.scale, t.cap, t.intensity,
                  _round(float(m)), _term_description(p, t.name))
        for (_, t), m in zip(chosen, means, strict=True))
    files = sorted(Path(p.directory).glob("*.toml"))
    provenance: dict[str, Any] = {
        "method": "residual quantiles of a simulated unaffected cohort at the reference "
                  "condition; effects from msms/data/population/effects.toml",
        "generator": f"nbs cutoffs covariate-model --n {n} --seed {seed}",
        "n": int(n),
        "seed": int(seed),
        "population_model": ", ".join(f"{k} {v}" for k, v in sorted(p.versions.items())),
        "population_files_sha256": _combined_digest(files),
        "catalogue_sha256": _sha256(ANALYTES_CSV),
        "created": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        "status": "estimates for defaults only: a laboratory replaces them with its own "
                  "derived cutoff table (nbs cutoffs derive), which takes precedence",
    }
    content = json.dumps([[m.name, m.median, m.quantiles, m.effects] for m in entries.values()]
                         + [[t.name, t.population_mean] for t in model_terms])
    effects_version = p.versions.get("effects", "") or "0"
    version = f"popmodel-{effects_version}-{hashlib.sha256(content.encode()).hexdigest()[:8]}"
    return CovariateScoreModel(version, model_terms, entries, MODEL_PROBS, _bw_anchors(p),
                               provenance)


def _bw_anchors(params: PopulationParams) -> tuple[tuple[float, float], ...]:
    model = params.covariates
    return tuple(zip(model.bw_anchor_weeks, model.bw_anchor_median_g, strict=True))


def _combined_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _term_description(params: PopulationParams, name: str) -> str:
    try:
        data = read_toml(Path(params.directory) / "effects.toml").data
    except DataError:
        return ""
    return str(data.get("terms", {}).get(name, {}).get("description", ""))


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def _round_effect(value: float) -> float:
    return 0.0 if abs(value) < 5e-7 else float(f"{value:.5g}")


# ----------------------------------------------------------------------------- files
_HEADER = """\
Covariate model for scores when a laboratory has no cutoff table of its own
(docs/evaluation.md section 6). ESTIMATES computed from the simulated population model
(docs/simulation.md), not from real babies; a laboratory's derived cutoff table takes
precedence. Regenerate with the command in [provenance] generator.

ln value = ln median + sum over terms of term(covariates) * effect + residual;
`median` and `quantiles` (at `quantile_probs`) describe the reference condition (term,
>= 2500 g, collected at 24-72 h, no TPN, sex not counted); `effects` are log-scale
changes per unit of each term (msms/data/population/effects.toml, with its sources).
birth_weight_by_age: (gestational age weeks, median birth weight g), imputes a missing BW or GA.
"""


def write_covariate_model(model: CovariateScoreModel, path: Path | str) -> Path:
    """Write a model as TOML (readable by :func:`load_covariate_model`)."""
    names = [t.name for t in model.terms]
    document = {
        "format": FORMAT, "version": model.version, "quantile_probs": list(model.probs),
        "birth_weight_by_age": [list(a) for a in model.birth_weight_by_age],
        "provenance": dict(model.provenance),
        "term": [
            {"name": t.name, "covariate": t.covariate, "kind": t.kind,
             "origin": float(t.origin) if t.kind == "clip" else None,
             "scale": float(t.scale) if t.kind == "clip" else None,
             "cap": float(t.cap) if t.kind == "clip" and math.isfinite(t.cap) else None,
             "intensity": float(t.intensity) if t.kind == "flag" else None,
             "population_mean": float(t.population_mean), "description": t.description or None}
            for t in model.terms
        ],
        "marker": [
            {"name": m.name, "median": float(m.median),
             "quantiles": [float(v) for v in m.quantiles],
             "effects": {t: e for t, e in zip(names, m.effects, strict=True) if e != 0}}
            for m in model.markers.values()
        ],
    }
    return write_toml(document, path, comment=_HEADER)


def _increasing_pairs(pairs: list[list[float]]) -> list[list[float]]:
    for a, b in zip(pairs, pairs[1:], strict=False):
        if b[0] <= a[0] or b[1] <= a[1]:
            raise ValueError("must be [weeks, grams] pairs, both increasing")
    return pairs


def _increasing_fractions(probs: list[float]) -> list[float]:
    if len(probs) < 2 or not all(0 < a < b < 1 for a, b in zip(probs, probs[1:], strict=False)):
        raise ValueError("quantile_probs must be increasing fractions in (0, 1)")
    return probs


class _TermEntry(Schema):
    name: Text
    covariate: Annotated[str, OneOf(_COVARIATES)]
    kind: Annotated[str, OneOf(_KINDS)]
    origin: float = 0.0
    scale: float = 1.0
    cap: NonNegative = math.inf
    intensity: Annotated[float, Range(0, 10)] = 1.0
    population_mean: Annotated[float, Range(-1, 100)] = 0.0
    description: str = ""


class _MarkerEntry(Schema):
    name: Text
    median: Annotated[float, Range(1e-300, math.inf)]
    quantiles: list[Positive]
    effects: dict[str, Annotated[float, Range(-20, 20)]] = {}


class CovariateModelFile(Schema):
    """The layout of a covariate model file (see :func:`write_covariate_model`)."""

    format: Literal["nbs-covariate-model/1"]
    version: Text
    quantile_probs: Annotated[list[float], AfterValidator(_increasing_fractions)]
    birth_weight_by_age: Annotated[
        list[Annotated[list[float], Field(min_length=2, max_length=2)]],
        AfterValidator(_increasing_pairs)] = []
    provenance: dict[str, Any] = {}
    term: list[_TermEntry] = []
    marker: Annotated[list[_MarkerEntry], Field(min_length=1)]


def _terms(file: DataFile, doc: CovariateModelFile) -> tuple[ModelTerm, ...]:
    terms: list[ModelTerm] = []
    for i, t in enumerate(doc.term):
        if t.name in {x.name for x in terms}:
            raise file.error(f"term {t.name!r} appears twice", "term", i, "name")
        if (t.kind == "female") != (t.covariate == "sex"):
            raise file.error(f"kind {t.kind!r}: 'female' reads sex, and only it does", "term",
                             i, "kind")
        if t.kind == "flag" and t.covariate not in ("tpn", "transfused"):
            raise file.error("a flag term reads tpn or transfused", "term", i, "covariate")
        terms.append(ModelTerm(t.name, t.covariate, t.kind, t.origin, t.scale, t.cap,
                               t.intensity, t.population_mean, t.description))
    return tuple(terms)


def _markers(file: DataFile, doc: CovariateModelFile,
             names: list[str]) -> dict[str, MarkerModel]:
    markers: dict[str, MarkerModel] = {}
    for i, m in enumerate(doc.marker):
        try:
            canonical, _ = resolve_marker(m.name)
        except (RatioError, KeyError) as exc:
            raise file.error(f"unknown marker {m.name!r} ({exc})", "marker", i, "name") from None
        if canonical != m.name:
            raise file.error(f"marker {m.name!r} is not canonical (use {canonical!r})",
                             "marker", i, "name")
        if m.name in markers:
            raise file.error(f"marker {m.name!r} appears twice", "marker", i, "name")
        grid = m.quantiles
        if len(grid) != len(doc.quantile_probs) or any(
                b < a for a, b in zip(grid, grid[1:], strict=False)):
            raise file.error(f"quantiles must be {len(doc.quantile_probs)} positive "
                             "non-decreasing numbers (one per quantile_probs)", "marker", i,
                             "quantiles")
        for term_name in m.effects:
            if term_name not in names:
                raise file.error(f"effect of unknown term {term_name!r}", "marker", i,
                                 "effects", term_name)
        # strictly increasing for interpolation: break ties by a relative 1e-12 step
        values = np.asarray(grid, dtype=float) * (1 + 1e-12 * np.arange(len(grid)))
        markers[m.name] = MarkerModel(m.name, m.median, tuple(values.tolist()),
                                      tuple(m.effects.get(t, 0.0) for t in names))
    return markers


def load_covariate_model(path: Path | str | None = None) -> CovariateScoreModel:
    """Read and validate a covariate model file (default: the packaged one).

    Raises
    ------
    CutoffError
        Naming the file, line and key of the first problem: wrong format, unknown keys or
        markers, grids that are not increasing, effects of unknown terms.
    """
    doc, file = load_toml(COVARIATE_MODEL_TOML if path is None else path, CovariateModelFile,
                          error=CutoffError)
    terms = _terms(file, doc)
    markers = _markers(file, doc, [t.name for t in terms])
    return CovariateScoreModel(
        doc.version, terms, markers, tuple(doc.quantile_probs),
        tuple((a[0], a[1]) for a in doc.birth_weight_by_age), dict(doc.provenance), file.path)


@cache
def default_covariate_model() -> CovariateScoreModel:
    """The packaged covariate model (loaded once)."""
    return load_covariate_model()
