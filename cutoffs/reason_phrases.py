"""The phrases of a call's reasons (docs/architecture.md "Calls": ``reasons`` joins its parts
with ``; ``), written by the first tier (``cutoffs.evaluate``, ``cutoffs.markers``,
``cutoffs.score_tiers``) and the second tier (``cutoffs.second_tier.apply``), read back by
whoever shows them in another language (``msms.phrases``).

- ``REASONS``: one part of the reasons; a marker against its cutoff (``C8=0.61>0.30``) is not
  a phrase, it is read as a marker.
- ``FEATURES``: one item of the comma-separated list after ``top features:`` (the second
  tier's explanation, ``cutoffs.second_tier.explain.format_contributions``).
- ``MISSING``: one item of the comma-separated list after ``unread:`` / ``not evaluable:``,
  and why a ratio is undefined (the texts of ``msms.ratios.undefined_reasons``).

Parts and items are split where ``;`` / ``,`` stand outside parentheses
(``msms.phrases.split_outside``).

Public names: ``REASONS``, ``MISSING``, ``FEATURES``.
"""

from __future__ import annotations

from msms.phrases import Phrasebook

__all__ = ["FEATURES", "MISSING", "REASONS"]

_NUMBER = r"[-+0-9.eE]+|nan|inf|-inf"
_FIELDS = {"p": _NUMBER, "threshold": _NUMBER, "score": _NUMBER, "cutoff": _NUMBER,
           "n": r"\d+", "minimum": r"\d+", "op": r"<=|>=|<|>", "marker": r"[^\s=(),;]+",
           "code": r"[^\s=(),;]+", "value": _NUMBER, "tier": r"[a-z_]+"}

REASONS = Phrasebook((
    ("secondary_in_range", "secondary markers in range"),
    ("shared_first_tier", "first tier shared with {disorders}"),
    ("not_evaluable", "not evaluable: {missing}"),
    ("unread", "unread: {missing}"),
    ("capped", "capped at borderline: {condition}"),
    ("score_not_computable", "score not computable (no marker readable)"),
    ("score_markers", "score {score} {op} {cutoff} ({markers})"),
    ("score", "score {score} {op} {cutoff}"),
    ("second_tier_no_recall", "second tier: no recall recommended (p={p} < {threshold})"),
    ("second_tier_recall", "second tier: recall stands (p={p} >= {threshold})"),
    ("second_tier_protected",
     "second tier: p={p} < {threshold}, but a {tier} result is never downgraded"),
    ("second_tier_p", "second tier: p={p}"),
    ("not_filtered_untrained", "not filtered ({disorder} not in the training data)"),
    ("not_filtered_few",
     "not filtered ({n} training true positives < {minimum})"),
    ("top_features", "top features: {features}"),
), fields=_FIELDS)

MISSING = Phrasebook((
    ("ratio_undefined", "{marker} undefined ({why})"),
    ("not_measured", "{marker} not measured"),
    ("missing", "{marker} missing"),
    ("not_finite", "{marker}={value} not finite"),
    ("negative", "{marker}={value} negative"),
    ("denominator_zero", "denominator {codes} is 0"),
    ("quotient_overflow", "quotient beyond the floating-point range"),
), fields=_FIELDS)

FEATURES = Phrasebook((
    ("for_recall", "{feature}={value} (FP median {median}; for recall)"),
    ("against_recall", "{feature}={value} (FP median {median}; against recall)"),
))
