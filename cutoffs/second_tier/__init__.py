"""The machine-learned second tier: fewer false positives, no lost true positives
(docs/second_tier.md).

Modules: ``features`` (profile -> feature matrix), ``estimator`` (``SecondTierClassifier``),
``thresholds`` (per-disorder thresholds on out-of-fold probabilities), ``explain`` (top
contributing features), ``labelled`` (the labelled-outcomes table, docs/architecture.md
"Labelled outcomes"), ``training`` (fit, repeated cross-validation), ``model_file`` (the model
file with its metadata), ``apply`` (combine with first-tier calls).

Public names: ``SecondTierClassifier`` (loaded on first use: the package's light modules, such
as ``labelled`` and ``policy``, do not load scikit-learn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cutoffs.second_tier.estimator import SecondTierClassifier

__all__ = ["SecondTierClassifier"]


def __getattr__(name: str) -> Any:
    if name == "SecondTierClassifier":
        from cutoffs.second_tier.estimator import SecondTierClassifier
        return SecondTierClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
