"""The machine-learned second tier: fewer false positives, no lost true positives
(docs/second_tier.md).

Modules: ``features`` (profile -> feature matrix), ``estimator`` (``SecondTierClassifier``),
``thresholds`` (per-disorder thresholds on out-of-fold probabilities), ``explain`` (top
contributing features), ``labelled`` (the labelled-outcomes table, docs/architecture.md
"Labelled outcomes"), ``training`` (fit, repeated cross-validation), ``model_file`` (the model
file with its metadata), ``apply`` (combine with first-tier calls).

Public names: ``SecondTierClassifier``.
"""

from cutoffs.second_tier.estimator import SecondTierClassifier

__all__ = ["SecondTierClassifier"]
