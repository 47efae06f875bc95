"""Disorder rules, cutoff tables, evaluation, covariate-adjusted scores and the second tier.

The first tier (docs/evaluation.md): ``evaluate(profiles, rules, cutoffs)`` returns the calls table
(docs/architecture.md "Calls"); rules are cited TOML data (``default_rules``); a laboratory's own
cutoff table comes from ``derive_cutoffs`` (``nbs cutoffs derive``) and is read with
``load_cutoffs``. Without a table (``default_cutoffs()`` is None) the rules' literature levels
apply. Covariate-adjusted scores (``score``) are relative to ``default_reference(table)``: the lab's
table when given, else the packaged covariate model (``default_covariate_model``, estimates from the
population model; regenerate with ``build_covariate_model``).

Public names: ``CutoffError``, ``evaluate``, ``evaluate_markers``, ``default_rules``,
``load_rules``, ``RuleSet``, ``default_cutoffs``, ``load_cutoffs``, ``write_cutoffs``,
``CutoffTable``, ``derive_cutoffs``, ``score``, ``reference_quantiles``, ``default_reference``,
``CovariateScoreModel``,
``default_covariate_model``, ``load_covariate_model``, ``build_covariate_model``,
``decide_duplicates``, ``mean_of_duplicates``, ``read_profiles``, ``first_tier_final``,
``CALL_COLUMNS``.
"""

from __future__ import annotations

from cutoffs.covariate_model import (
    CovariateScoreModel,
    build_covariate_model,
    default_covariate_model,
    load_covariate_model,
)
from cutoffs.derive import derive_cutoffs
from cutoffs.duplicates import decide_duplicates, mean_of_duplicates
from cutoffs.errors import CutoffError
from cutoffs.evaluate import CALL_COLUMNS, evaluate, evaluate_markers, first_tier_final
from cutoffs.profiles import read_profiles
from cutoffs.rules import RuleSet, default_rules, load_rules
from cutoffs.scores import default_reference, reference_quantiles, score
from cutoffs.tables import CutoffTable
from cutoffs.tables import read_cutoff_table as load_cutoffs
from cutoffs.tables import write_cutoff_table as write_cutoffs

__all__ = [
    "CALL_COLUMNS",
    "CovariateScoreModel",
    "CutoffError",
    "CutoffTable",
    "RuleSet",
    "build_covariate_model",
    "decide_duplicates",
    "default_covariate_model",
    "default_cutoffs",
    "default_reference",
    "default_rules",
    "derive_cutoffs",
    "evaluate",
    "evaluate_markers",
    "first_tier_final",
    "load_covariate_model",
    "load_cutoffs",
    "load_rules",
    "mean_of_duplicates",
    "read_profiles",
    "reference_quantiles",
    "score",
    "write_cutoffs",
]


def default_cutoffs() -> CutoffTable | None:
    """The packaged cutoff table: none -- evaluation then uses the rules' cited literature levels.

    A laboratory derives its own table from its screen-negative population
    (:func:`derive_cutoffs`, ``nbs cutoffs derive``) and passes it to :func:`evaluate`.
    """
    return None
