"""Disorder rules, cutoff tables, evaluation, covariate-adjusted scores and the second tier.

Public names: ``CutoffError``.
"""

from cutoffs.errors import CutoffError

__all__ = ["CutoffError"]
