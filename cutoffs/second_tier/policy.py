"""The second-tier policy: scope, safety rules, threshold and validation settings (data).

The packaged policy is ``cutoffs/second_tier/data/policy.toml``; a laboratory can pass its own
file. Loading validates every key and raises :class:`~cutoffs.errors.CutoffError` naming the
file and key of the first problem.

Public names: ``Policy``, ``load_policy``, ``default_policy``, ``POLICY_TOML``, ``TIERS``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cutoffs.errors import CutoffError
from msms.tables import COVARIATE_COLUMNS

__all__ = ["POLICY_TOML", "TIERS", "Policy", "default_policy", "load_policy"]

POLICY_TOML = Path(str(resources.files("cutoffs.second_tier") / "data" / "policy.toml"))
#: First-tier values of the calls table (DESIGN §4.3) a result can have.
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


class _Reader:
    def __init__(self, data: dict[str, Any], file: str) -> None:
        self.data = data
        self.file = file

    def fail(self, key: str, message: str) -> CutoffError:
        return CutoffError(message, file=self.file, field=key)

    def get(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise self.fail(key, "is missing")
            node = node[part]
        return node

    def integer(self, key: str, minimum: int) -> int:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be an integer >= {minimum}, got {value!r}")
        return value

    def number(self, key: str, low: float, high: float) -> float:
        value = self.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise self.fail(key, f"must be a number in ({low}, {high}], got {value!r}")
        return float(value)

    def words(self, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        value = self.get(key)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        unknown = [v for v in value if v not in allowed]
        if unknown:
            raise self.fail(key, f"{unknown[0]!r} is not one of {', '.join(allowed)}")
        return tuple(value)


def load_policy(path: Path | str = POLICY_TOML) -> Policy:
    """Read and validate a policy file.

    Raises
    ------
    CutoffError
        Naming the file and key of the first missing or invalid setting.
    """
    file = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CutoffError(f"cannot read: {exc.strerror}", file=file) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CutoffError(f"not valid TOML: {exc}", file=file) from None
    r = _Reader(data, file)
    version = r.get("version")
    if not isinstance(version, str) or not version.strip():
        raise r.fail("version", "must be a non-empty string")
    scored = r.words("scope.scored_tiers", TIERS[1:4])
    if not scored:
        raise r.fail("scope.scored_tiers", "must name at least one tier")
    protected = r.words("scope.never_downgrade_tiers", TIERS[1:4])
    if "critical" in scored and "critical" not in protected:
        raise r.fail("scope.never_downgrade_tiers", "must include 'critical' (DESIGN §6.5)")
    min_tp = r.integer("thresholds.min_true_positives", 6)
    splits = r.integer("thresholds.cv_splits", 2)
    if min_tp < splits:
        raise r.fail(
            "thresholds.min_true_positives", f"must be at least thresholds.cv_splits ({splits})"
        )
    return Policy(
        version=version.strip(),
        scored_tiers=scored,
        never_downgrade_tiers=protected,
        min_cases_dedicated=r.integer("model.min_cases_dedicated", 2),
        random_state=r.integer("model.random_state", 0),
        min_true_positives=min_tp,
        safety_margin=r.number("thresholds.safety_margin", 0.0, 1.0),
        tail_miss_probability=r.number("thresholds.tail_miss_probability", 0.0, 0.5),
        threshold_cv_splits=splits,
        validation_cv_splits=r.integer("validation.cv_splits", 2),
        validation_cv_repeats=r.integer("validation.cv_repeats", 1),
        confidence=r.number("validation.confidence", 0.5, 0.999),
        top_features=r.integer("explain.top_features", 0),
        covariates=r.words("features.covariates", COVARIATE_COLUMNS),
        log_floor_fraction_of_p1=r.number("features.log_floor_fraction_of_p1", 0.0, 1.0),
        source_file=file,
    )


@cache
def default_policy() -> Policy:
    """The packaged policy (loaded once)."""
    return load_policy()
