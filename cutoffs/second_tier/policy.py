"""The second-tier policy: scope, safety rules, threshold and validation settings (data).

The packaged policy is ``cutoffs/second_tier/data/policy.toml``; a laboratory can pass its own
file. Loading validates every key (``PolicyFile``, :mod:`msms.datafiles`) and raises
:class:`~cutoffs.errors.CutoffError` naming the file, line and key of the first problem.

Public names: ``Policy``, ``PolicyFile``, ``load_policy``, ``default_policy``, ``POLICY_TOML``,
``TIERS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from cutoffs.errors import CutoffError
from msms.datafiles import Count, LenientSchema, OneOf, Range, Text, load_toml
from msms.tables import COVARIATE_COLUMNS

__all__ = ["POLICY_TOML", "TIERS", "Policy", "PolicyFile", "default_policy", "load_policy"]

POLICY_TOML = Path(str(resources.files("cutoffs.second_tier") / "data" / "policy.toml"))
#: First-tier values of the calls table (docs/architecture.md "Calls") a result can have.
TIERS = ("normal", "borderline", "positive", "critical", "not_evaluable")


@dataclass(frozen=True)
class Policy:
    """Settings of training and applying the second tier (see ``policy.toml`` for meanings)."""

    version: str
    scored_tiers: tuple[str, ...]
    never_downgrade_tiers: tuple[str, ...]
    min_cases_dedicated: int
    random_state: int
    min_true_positives: int
    safety_margin: float
    tail_miss_probability: float
    threshold_cv_splits: int
    validation_cv_splits: int
    validation_cv_repeats: int
    confidence: float
    top_features: int
    covariates: tuple[str, ...]
    log_floor_fraction_of_p1: float
    source_file: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain values, for the model file's metadata and reports."""
        return {
            "version": self.version,
            "scored_tiers": list(self.scored_tiers),
            "never_downgrade_tiers": list(self.never_downgrade_tiers),
            "min_cases_dedicated": self.min_cases_dedicated,
            "random_state": self.random_state,
            "min_true_positives": self.min_true_positives,
            "safety_margin": self.safety_margin,
            "tail_miss_probability": self.tail_miss_probability,
            "threshold_cv_splits": self.threshold_cv_splits,
            "validation_cv_splits": self.validation_cv_splits,
            "validation_cv_repeats": self.validation_cv_repeats,
            "confidence": self.confidence,
            "top_features": self.top_features,
            "covariates": list(self.covariates),
            "log_floor_fraction_of_p1": self.log_floor_fraction_of_p1,
        }


AtLeast2 = Annotated[int, Range(2, math.inf)]


def _tiers(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in TIERS[1:4]]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not one of {', '.join(TIERS[1:4])}")
    return values


#: First-tier results a policy may name (errors name the list).
Tiers = Annotated[list[str], AfterValidator(_tiers)]


class _Scope(LenientSchema):
    scored_tiers: Annotated[Tiers, Field(min_length=1)]
    never_downgrade_tiers: Tiers


class _Model(LenientSchema):
    min_cases_dedicated: AtLeast2
    random_state: Count


class _Thresholds(LenientSchema):
    min_true_positives: Annotated[int, Range(6, math.inf)]
    safety_margin: Annotated[float, Range(0, 1, open_low=True)]
    tail_miss_probability: Annotated[float, Range(0, 0.5, open_low=True)]
    cv_splits: AtLeast2


class _Validation(LenientSchema):
    cv_splits: AtLeast2
    cv_repeats: Annotated[int, Range(1, math.inf)]
    confidence: Annotated[float, Range(0.5, 0.999, open_low=True)]


class _Explain(LenientSchema):
    top_features: Count


class _Features(LenientSchema):
    covariates: list[Annotated[str, OneOf(COVARIATE_COLUMNS)]]
    log_floor_fraction_of_p1: Annotated[float, Range(0, 1, open_low=True)]


class PolicyFile(LenientSchema):
    """The layout of a policy file (``policy.toml`` says what each setting means)."""

    version: Text
    scope: _Scope
    model: _Model
    thresholds: _Thresholds
    validation: _Validation
    explain: _Explain
    features: _Features


def load_policy(path: Path | str = POLICY_TOML) -> Policy:
    """Read and validate a policy file.

    Raises
    ------
    CutoffError
        Naming the file, line and key of the first missing or invalid setting.
    """
    doc, file = load_toml(path, PolicyFile, error=CutoffError)
    scope, thresholds, validation = doc.scope, doc.thresholds, doc.validation
    if "critical" in scope.scored_tiers and "critical" not in scope.never_downgrade_tiers:
        raise file.error("must include 'critical': no critical result waits for the second "
                         "tier (docs/second_tier.md)", "scope", "never_downgrade_tiers")
    if thresholds.min_true_positives < thresholds.cv_splits:
        raise file.error(f"must be at least thresholds.cv_splits ({thresholds.cv_splits})",
                         "thresholds", "min_true_positives")
    return Policy(
        version=doc.version,
        scored_tiers=tuple(scope.scored_tiers),
        never_downgrade_tiers=tuple(scope.never_downgrade_tiers),
        min_cases_dedicated=doc.model.min_cases_dedicated,
        random_state=doc.model.random_state,
        min_true_positives=thresholds.min_true_positives,
        safety_margin=thresholds.safety_margin,
        tail_miss_probability=thresholds.tail_miss_probability,
        threshold_cv_splits=thresholds.cv_splits,
        validation_cv_splits=validation.cv_splits,
        validation_cv_repeats=validation.cv_repeats,
        confidence=validation.confidence,
        top_features=doc.explain.top_features,
        covariates=tuple(doc.features.covariates),
        log_floor_fraction_of_p1=doc.features.log_floor_fraction_of_p1,
        source_file=file.path,
    )


@cache
def default_policy() -> Policy:
    """The packaged policy (loaded once)."""
    return load_policy()
