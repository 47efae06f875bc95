"""Synthetic newborn-screening population (profiles, docs/architecture.md "Profiles"):
covariates, analytes, disorders and false-positive mechanisms, every parameter read from
``msms/data/population/*.toml``.

Typical use::

    from msms.population import simulate_cohort, split_truth
    cohort = simulate_cohort(10_000, seed=1)
    profiles, truth = split_truth(cohort)

Public names: ``simulate_cohort``, ``split_truth``, ``load_params``, ``default_params``,
``PopulationParams``, ``SIMULATED_DISORDERS``, ``SEVERITIES``, ``TRUTH_COLUMNS``,
``FP_MECHANISMS``, ``MECHANISM_SEPARATOR``, ``simulated_disorders``, ``fp_mechanisms``.
"""

from __future__ import annotations

from msms.population.cohort import TRUTH_COLUMNS, simulate_cohort, split_truth
from msms.population.mechanisms import MECHANISM_SEPARATOR
from msms.population.params import SEVERITIES, PopulationParams, default_params, load_params

__all__ = [
    "FP_MECHANISMS",
    "MECHANISM_SEPARATOR",
    "SEVERITIES",
    "SIMULATED_DISORDERS",
    "TRUTH_COLUMNS",
    "PopulationParams",
    "default_params",
    "fp_mechanisms",
    "load_params",
    "simulate_cohort",
    "simulated_disorders",
    "split_truth",
]


def simulated_disorders(params: PopulationParams | None = None) -> tuple[str, ...]:
    """Catalogue codes of the disorders the population model simulates."""
    return (params or default_params()).disorder_codes


def fp_mechanisms(params: PopulationParams | None = None) -> tuple[str, ...]:
    """Names that may appear in ``fp_mechanism`` (covariate labels, then random mechanisms)."""
    p = params or default_params()
    return tuple(x.name for x in p.labels) + tuple(m.name for m in p.mechanisms)


#: Codes of the simulated disorders with the packaged parameters.
SIMULATED_DISORDERS: tuple[str, ...] = simulated_disorders()
#: Names of the false-positive mechanisms with the packaged parameters.
FP_MECHANISMS: tuple[str, ...] = fp_mechanisms()
