"""Profiles -> the second tier's feature matrix: log analytes, log ratios and covariates.

Every catalogue analyte enters as ``log10(max(value, floor))`` where the floor is a fraction of
the analyte's population p1 (a zero or a slightly negative blank-subtracted value means "below
detection", not minus infinity). Every ratio of the ratio catalogue enters as the log10 of its
floored sums, so a zero denominator gives a large, informative value rather than a gap; a missing
analyte gives a missing feature (the gradient boosting routes missing values natively).
Covariates enter as they are, ``sex`` as ``sex_male`` (1 M, 0 F, missing for U or empty).

The :class:`FeatureSpec` records all of this (analytes, floors, ratio definitions, covariates)
and travels in the model file, so a model always rebuilds exactly the features it was trained on.

Public names: ``FeatureSpec``, ``default_feature_spec``, ``build_features``, ``feature_values``,
``SEX_FEATURE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cutoffs.errors import CutoffError
from cutoffs.second_tier.policy import Policy, default_policy
from msms.catalogue import Catalogue, default_catalogue
from msms.ratios import ratio_catalogue
from msms.tables import PROFILE_ID

__all__ = [
    "SEX_FEATURE",
    "FeatureSpec",
    "build_features",
    "default_feature_spec",
    "feature_values",
]

SEX_FEATURE = "sex_male"
_FLAGS = ("tpn", "transfused")


@dataclass(frozen=True)
class FeatureSpec:
    """What the feature matrix holds, in order: analytes, then ratios, then covariates.

    ``floors_umol_l`` maps each analyte to its log floor; ``ratios`` maps each ratio name to its
    (numerator codes, denominator codes); ``covariates`` are covariate columns of the profiles
    contract (docs/architecture.md "Profiles").
    """

    analytes: tuple[str, ...]
    floors_umol_l: Mapping[str, float]
    ratios: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]
    covariates: tuple[str, ...]

    @property
    def covariate_features(self) -> tuple[str, ...]:
        return tuple(SEX_FEATURE if c == "sex" else c for c in self.covariates)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return self.analytes + tuple(self.ratios) + self.covariate_features

    def kind(self, feature: str) -> str:
        """``"analyte"``, ``"ratio"`` or ``"covariate"``."""
        if feature in self.floors_umol_l:
            return "analyte"
        if feature in self.ratios:
            return "ratio"
        if feature in self.covariate_features:
            return "covariate"
        raise KeyError(feature)

    def as_dict(self) -> dict[str, object]:
        """Plain values for the model file's metadata."""
        return {
            "analytes": list(self.analytes),
            "floors_umol_l": dict(self.floors_umol_l),
            "ratios": {k: [list(n), list(d)] for k, (n, d) in self.ratios.items()},
            "covariates": list(self.covariates),
        }


def default_feature_spec(
    policy: Policy | None = None, catalogue: Catalogue | None = None
) -> FeatureSpec:
    """Every catalogue analyte and catalogue ratio, with the policy's covariates and floors."""
    policy = policy or default_policy()
    catalogue = catalogue or default_catalogue()
    fraction = policy.log_floor_fraction_of_p1
    floors = {}
    for analyte in catalogue.analytes:
        floor = fraction * analyte.pop_p1_umol_l
        if not floor > 0:
            raise CutoffError(
                f"analyte {analyte.code} has no positive population p1 to set a log floor",
                field="pop_p1_umol_l",
            )
        floors[analyte.code] = floor
    ratios = {r.name: (r.numerator, r.denominator) for r in ratio_catalogue()}
    return FeatureSpec(
        analytes=tuple(floors),
        floors_umol_l=floors,
        ratios=ratios,
        covariates=policy.covariates,
    )


def _bad_row(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _numeric(profiles: pd.DataFrame, column: str, source: str | None) -> np.ndarray:
    series = profiles[column]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    ):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        infinite = np.isinf(values)
        if infinite.any():
            row = _bad_row(infinite)
            raise CutoffError("is not finite", file=source, line=row + 2, field=column)
        return values
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    given = series.notna().to_numpy().copy()
    if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
        given &= series.astype(str).str.strip().ne("").to_numpy()
    not_numbers = given & np.isnan(values)
    if not_numbers.any():
        row = _bad_row(not_numbers)
        raise CutoffError(
            f"{series.iloc[row]!r} is not a number", file=source, line=row + 2, field=column
        )
    infinite = np.isinf(values)
    if infinite.any():
        row = _bad_row(infinite)
        raise CutoffError("is not finite", file=source, line=row + 2, field=column)
    return values


def _sex_codes(series: pd.Series, source: str | None) -> np.ndarray:
    """1 for M, 0 for F, NaN for U or empty (case and surrounding spaces ignored)."""
    raw = series.to_numpy(dtype=object, na_value="")
    male, female = raw == "M", raw == "F"
    other = ~(male | female | (raw == "U") | (raw == ""))
    if other.any():  # the slow path: normalise spelling
        text = pd.Series(raw[other]).astype(str).str.strip().str.upper().to_numpy()
        male[other], female[other] = text == "M", text == "F"
        unknown = ~np.isin(text, ("M", "F", "U", ""))
        if unknown.any():
            row = int(np.flatnonzero(other)[np.flatnonzero(unknown)[0]])
            raise CutoffError(f"{series.iloc[row]!r} is not M, F or U", file=source,
                              line=row + 2, field=series.name if isinstance(series.name, str)
                              else "sex")
    codes = np.full(len(raw), np.nan)
    codes[male], codes[female] = 1.0, 0.0
    return codes


def feature_values(
    profiles: pd.DataFrame, spec: FeatureSpec, *, source: str | None = None
) -> np.ndarray:
    """The feature matrix as float64, shape (n_profiles, len(spec.feature_names)).

    Parameters
    ----------
    profiles
        Profiles (docs/architecture.md "Profiles": analyte columns by canonical code, µmol/L;
        covariates).
    spec
        The features to build.
    source
        The profiles' file name, for error messages (lines count the CSV header as line 1).

    Raises
    ------
    CutoffError
        When an analyte or covariate column is absent, or a value is not a finite number or not
        a known code (sex M|F|U, flags 0|1), naming the file, line and column.
    """
    missing = [c for c in (*spec.analytes, *spec.covariates) if c not in profiles.columns]
    if missing:
        raise CutoffError(
            f"profiles lack column(s) the second tier needs: {', '.join(missing)}",
            file=source,
            line=1,
            field=missing[0],
        )
    n = len(profiles)
    out = np.empty((n, len(spec.feature_names)), dtype=np.float64)
    raw: dict[str, np.ndarray] = {}
    for j, code in enumerate(spec.analytes):
        values = _numeric(profiles, code, source)
        raw[code] = values
        with np.errstate(invalid="ignore"):
            out[:, j] = np.log10(np.fmax(values, spec.floors_umol_l[code]))
        out[np.isnan(values), j] = np.nan
    offset = len(spec.analytes)
    position = {code: j for j, code in enumerate(spec.analytes)}

    def log_sum(codes: tuple[str, ...]) -> np.ndarray:
        if len(codes) == 1:  # already floored, logged and NaN where missing
            return out[:, position[codes[0]]]
        with np.errstate(invalid="ignore"):
            total = sum(np.fmax(raw[c], spec.floors_umol_l[c]) for c in codes)
            value = np.log10(total)
        for code in codes:
            value[np.isnan(raw[code])] = np.nan
        return value

    for j, (numerator, denominator) in enumerate(spec.ratios.values(), start=offset):
        np.subtract(log_sum(numerator), log_sum(denominator), out=out[:, j])
    offset += len(spec.ratios)
    for j, column in enumerate(spec.covariates, start=offset):
        if column == "sex":
            out[:, j] = _sex_codes(profiles[column], source)
            continue
        values = _numeric(profiles, column, source)
        if column in _FLAGS:
            wrong = ~np.isnan(values) & ~np.isin(values, (0.0, 1.0))
            if wrong.any():
                row = _bad_row(wrong)
                raise CutoffError(
                    f"{values[row]:g} is not 0 or 1", file=source, line=row + 2, field=column
                )
        out[:, j] = values
    return out


def build_features(
    profiles: pd.DataFrame,
    spec: FeatureSpec,
    *,
    disorders: pd.Series | np.ndarray | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """The feature matrix as a DataFrame (columns ``spec.feature_names``, profiles' index).

    With ``disorders`` (one flagged disorder code per profile row), the frame starts with a
    ``disorder`` column, the group column of
    :class:`~cutoffs.second_tier.estimator.SecondTierClassifier`.
    """
    values = feature_values(profiles, spec, source=source)
    frame = pd.DataFrame(values, columns=list(spec.feature_names), index=profiles.index)
    if disorders is not None:
        codes = np.asarray(disorders, dtype=object)
        if len(codes) != len(frame):
            raise ValueError("disorders must have one code per profile")
        frame.insert(0, "disorder", codes)
    if PROFILE_ID in frame.columns:  # pragma: no cover - a covariate can never be named so
        raise ValueError(f"{PROFILE_ID} is not a feature")
    return frame
