"""Derive a cutoff table's score section from a laboratory's own screen-negative population.

Steps (docs/first_tier_scores.md): the normal position of every signature marker among babies
like each one (the table just derived from the same population); each disorder's score fitted
with its method (``cutoffs/data/score_methods.csv``: chosen on a separate simulated
calibration population) on those positions; floors from the published disease ranges
(:func:`cutoffs.score_cutoffs.range_floors`) and, when given, from the laboratory's confirmed
cases; then the cutoffs at the target flag rate (:func:`cutoffs.score_cutoffs.
derive_score_cutoffs`), overall and per disorder.

Public names: ``derive_score_section``, ``load_score_methods``, ``default_score_methods``,
``file_sha256``, ``SCORE_METHODS_CSV``, ``CASE_MARGIN``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.covariate_model import CovariateScoreModel, default_covariate_model
from cutoffs.csv_rows import read_rows, text
from cutoffs.disease_ranges import DISEASE_RANGES_CSV, DiseaseRange, default_disease_ranges
from cutoffs.disorder_scores import disorder_scores, marker_positions
from cutoffs.errors import CutoffError
from cutoffs.score_cutoffs import (
    case_floors,
    derive_score_cutoffs,
    flag_rates,
    flag_scores,
    range_floors,
)
from cutoffs.score_spec import METHODS
from cutoffs.score_table import ScoreCutoff, ScoreSection
from cutoffs.score_weights import fit_score_specs, reference_position
from cutoffs.signatures import SIGNATURES_CSV, Signature, default_signatures
from cutoffs.tables import CutoffTable

__all__ = ["CASE_MARGIN", "SCORE_METHODS_CSV", "default_score_methods", "derive_score_section",
           "file_sha256", "load_score_methods"]

SCORE_METHODS_CSV = Path(str(resources.files("cutoffs") / "data" / "score_methods.csv"))
#: Margin (normal SDs) below the lowest confirmed case for a floor from confirmed cases: the
#: smallest at which floors from half of a simulated calibration set's classic cases missed at
#: most 0.1% of the other half (bench/first_tier_scores.py).
CASE_MARGIN = 0.5


def file_sha256(path: Path) -> str:
    """SHA-256 of a data file (recorded with the score section)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_score_methods(path: Path | str | None = None) -> dict[str, str]:
    """Per disorder, its score method (``disorder, method, source``); errors name the file,
    line and field."""
    path = Path(path) if path is not None else SCORE_METHODS_CSV
    out: dict[str, str] = {}
    for line, row in read_rows(path, ("disorder", "method", "source")):
        code = text(row, "disorder", str(path), line)
        if code in out:
            raise CutoffError(f"{code} listed twice", file=str(path), line=line,
                              field="disorder")
        out[code] = text(row, "method", str(path), line, METHODS)
        text(row, "source", str(path), line)
    return out


@cache
def default_score_methods() -> dict[str, str]:
    """The packaged methods (``cutoffs/data/score_methods.csv``)."""
    return load_score_methods()


def _case_floors(cases: pd.DataFrame, specs: Mapping, table: CutoffTable,
                 model: CovariateScoreModel, margin: float) -> dict[str, float]:
    if "disorder" not in cases.columns:
        raise CutoffError("confirmed cases need a disorder column", field="disorder")
    scores = disorder_scores(cases, specs, table=table, model=model).scores
    codes = cases["disorder"].astype(str).to_numpy(dtype=object)
    return case_floors(scores, codes, margin=margin)


def derive_score_section(
    population: pd.DataFrame,
    table: CutoffTable,
    *,
    target_flag_rate: float,
    tail_shares: Mapping[str, float] | None = None,
    methods: Mapping[str, str] | None = None,
    signatures: Mapping[str, Signature] | None = None,
    ranges: Iterable[DiseaseRange] | None = None,
    use_range_floors: bool = True,
    cases: pd.DataFrame | None = None,
    case_margin: float = CASE_MARGIN,
    model: CovariateScoreModel | None = None,
) -> ScoreSection:
    """Fit every disorder's score on ``population`` and cut it at the target flag rate.

    Parameters
    ----------
    population
        Profiles of screen-negative babies (the population ``table`` was derived from).
    table
        The laboratory's cutoff table (the reference of the markers' positions).
    target_flag_rate
        Share of babies to flag for any disorder (0-1).
    tail_shares
        Per disorder, its own share of babies to flag (0-1), overriding the shared one.
    methods
        Per disorder, ``sum``, ``discriminant`` or ``guarded`` (default: the packaged file).
    signatures, ranges
        Default: the packaged data.
    use_range_floors
        Keep each cutoff below the score at the low end of the published disease range.
    cases
        Profiles of confirmed cases with a ``disorder`` column: each disorder's cutoff is kept
        below its lowest case's score less ``case_margin``.
    """
    packaged = signatures is None and ranges is None  # the provenance names the files
    signatures = signatures if signatures is not None else default_signatures()
    ranges = tuple(ranges) if ranges is not None else default_disease_ranges()
    methods = methods if methods is not None else default_score_methods()
    model = model or default_covariate_model()
    names = list(dict.fromkeys(m.name for s in signatures.values() for m in s.markers))
    positions = marker_positions(population, names, table=table, model=model)
    position = reference_position(table, model)
    specs, _ = fit_score_specs(positions, signatures, ranges, position,
                               {c: methods.get(c, "guarded") for c in signatures})
    scores = disorder_scores(population, specs, positions=positions).scores
    floors: dict[str, tuple[float, str]] = {}
    if use_range_floors:
        floors.update({c: (v, "disease ranges")
                       for c, v in range_floors(specs, signatures, ranges, position)[0].items()})
    if cases is not None and len(cases):
        for code, v in _case_floors(cases, specs, table, model, case_margin).items():
            if v < floors.get(code, (np.inf, ""))[0]:
                floors[code] = (v, f"confirmed cases less {case_margin:g} SD")
    cutoffs, q = derive_score_cutoffs(scores, target_flag_rate, tail_shares=tail_shares,
                                      floors={c: v for c, (v, _) in floors.items()})
    rates = flag_rates(scores, cutoffs)
    own = dict(tail_shares or {})
    section = ScoreSection(
        target_flag_rate=float(target_flag_rate), tail_share=float(q),
        flag_rate=float(flag_scores(scores, cutoffs).to_numpy().any(axis=1).mean()),
        n=int(len(population)),
        signatures_sha256=file_sha256(SIGNATURES_CSV) if packaged else "custom signatures",
        disease_ranges_sha256=file_sha256(DISEASE_RANGES_CSV) if packaged else "custom ranges")
    for code, spec in specs.items():
        floor, source = floors.get(code, (float("nan"), ""))
        section.disorders[code] = ScoreCutoff(spec, cutoffs[code], own.get(code, q),
                                              rates[code], floor, source)
    return section
