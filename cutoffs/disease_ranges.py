"""Disease ranges: the values of a marker seen in confirmed cases of a disorder, as published.

Data: ``cutoffs/data/disease_ranges.csv`` (``disorder, marker, cohort, min, p1, p5, p10, p50,
p90, p99, max, n_cases, specimen_age, source, notes``), one row per disorder, marker, cohort
(``detected`` cases, cases a programme ``missed`` as ``false_negative``, or ``all``) and
source, with whatever statistics the source gives (µmol/L blood, or the ratio). Several case
series may describe the same disorder and marker. A disorder score places a value between the
normal population and the ``detected`` range of the largest series that gives a median
(:func:`disease_anchor`); :func:`compare_simulated` says where simulated cases fall against
every range.

Public names: ``DiseaseRange``, ``load_disease_ranges``, ``default_disease_ranges``,
``disease_anchor``, ``compare_simulated``, ``DISEASE_RANGES_CSV``, ``STATISTICS``,
``COMPARISON_COLUMNS``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cutoffs.csv_rows import number, read_rows, text
from cutoffs.errors import CutoffError
from cutoffs.markers import marker_table
from cutoffs.rules import resolve_marker
from msms.catalogue import default_catalogue
from msms.ratios import RatioError

__all__ = ["COMPARISON_COLUMNS", "DISEASE_RANGES_CSV", "STATISTICS", "DiseaseRange",
           "compare_simulated", "default_disease_ranges", "disease_anchor",
           "load_disease_ranges"]

DISEASE_RANGES_CSV = Path(str(resources.files("cutoffs") / "data" / "disease_ranges.csv"))
#: Statistic columns and the percentile each stands for (min = 0, max = 100).
STATISTICS: dict[str, float] = {"min": 0.0, "p1": 1.0, "p5": 5.0, "p10": 10.0, "p50": 50.0,
                                "p90": 90.0, "p99": 99.0, "max": 100.0}
COHORTS = ("detected", "false_negative", "all")
_COLUMNS = ("disorder", "marker", "cohort", *STATISTICS, "n_cases", "specimen_age", "source",
            "notes")
COMPARISON_COLUMNS = ("disorder", "marker", "severity", "n_simulated", "published",
                      "simulated_median", "published_p50", "below_lowest_published",
                      "lowest_published", "above_highest_published", "highest_published",
                      "verdict")


@dataclass(frozen=True, slots=True)
class DiseaseRange:
    """Published statistics of one marker in confirmed cases of one disorder."""

    disorder: str
    marker: str
    cohort: str
    percentiles: Mapping[float, float]  # percentile (0 = min, 100 = max) -> value
    n_cases: int | None
    specimen_age: str
    source: str
    notes: str
    line: int

    @property
    def lowest(self) -> tuple[float, float]:
        """(percentile, value) of the lowest statistic given."""
        p = min(self.percentiles)
        return p, self.percentiles[p]

    @property
    def highest(self) -> tuple[float, float]:
        p = max(self.percentiles)
        return p, self.percentiles[p]


def _range(row: dict[str, str], line: int, file: str) -> DiseaseRange:
    catalogue = default_catalogue()
    disorder = text(row, "disorder", file, line)
    if disorder not in {d.code for d in catalogue.disorders}:
        raise CutoffError(f"unknown disorder {disorder!r}", file=file, line=line,
                          field="disorder")
    raw = text(row, "marker", file, line)
    try:
        marker, _ = resolve_marker(raw, catalogue)
    except (RatioError, KeyError) as exc:
        raise CutoffError(f"unknown marker {raw!r} ({exc})", file=file, line=line,
                          field="marker") from None
    cohort = text(row, "cohort", file, line, COHORTS)
    values: dict[float, float] = {}
    previous = ("", -math.inf)
    for key, pct in STATISTICS.items():
        value = number(row, key, file, line, optional=True)
        if math.isnan(value):
            continue
        if value < previous[1]:
            raise CutoffError(f"{value:g} is below {previous[0]} ({previous[1]:g}): "
                              "statistics must not decrease", file=file, line=line, field=key)
        values[pct] = value
        previous = (key, value)
    if not values:
        raise CutoffError("no statistic given (min, p1 ... max)", file=file, line=line,
                          field="p50")
    n = number(row, "n_cases", file, line, optional=True)
    if not math.isnan(n) and n != int(n):
        raise CutoffError(f"{n:g} is not a whole number", file=file, line=line,
                          field="n_cases")
    return DiseaseRange(disorder, marker, cohort, values, None if math.isnan(n) else int(n),
                        row.get("specimen_age", ""), text(row, "source", file, line),
                        row.get("notes", ""), line)


def load_disease_ranges(path: Path | str | None = None) -> tuple[DiseaseRange, ...]:
    """Read and validate a disease-ranges CSV (default: the packaged one); errors name the file,
    line and field (unknown disorder or marker, a non-positive or decreasing statistic, a
    second row for the same disorder, marker, cohort and source)."""
    path = Path(path) if path is not None else DISEASE_RANGES_CSV
    file = str(path)
    out: list[DiseaseRange] = []
    seen: set[tuple[str, str, str, str]] = set()
    for line, row in read_rows(path, _COLUMNS):
        item = _range(row, line, file)
        key = (item.disorder, item.marker, item.cohort, item.source)
        if key in seen:
            raise CutoffError(f"second row for {item.disorder} {item.marker} {item.cohort} "
                              "from the same source", file=file, line=line, field="source")
        seen.add(key)
        out.append(item)
    return tuple(out)


@cache
def default_disease_ranges() -> tuple[DiseaseRange, ...]:
    """The packaged disease ranges (``cutoffs/data/disease_ranges.csv``)."""
    return load_disease_ranges()


def disease_anchor(ranges: Iterable[DiseaseRange], disorder: str, marker: str
                   ) -> tuple[float, str] | None:
    """The value a score treats as "in the disease range" for this disorder and marker, and
    which statistic it is: the median of the largest detected series that gives one (the first
    in file order among equals), else the highest low percentile given (p10, p5, p1, min) by
    the largest detected series; None when no detected range is published."""
    detected = [r for r in ranges
                if r.disorder == disorder and r.marker == marker and r.cohort == "detected"]
    with_median = [r for r in detected if 50.0 in r.percentiles]
    if with_median:
        best = max(with_median, key=lambda r: r.n_cases or 0)
        return best.percentiles[50.0], "p50"
    for item in sorted(detected, key=lambda r: -(r.n_cases or 0)):
        low = [p for p in item.percentiles if p < 50.0]
        if low:
            p = max(low)
            return item.percentiles[p], "min" if p == 0 else f"p{p:g}"
    return None


def _verdict(median: float, below: float, above: float, item: DiseaseRange) -> str:
    lo_p, lo = item.lowest
    hi_p, hi = item.highest
    if 50.0 in item.percentiles:
        ratio = median / item.percentiles[50.0]
        if ratio > 2 or ratio < 0.5:
            return f"median {ratio:.2g}x published p50"
    if below > max(2 * lo_p / 100, 0.10):
        return f"{100 * below:.0f}% below published {'min' if lo_p == 0 else f'p{lo_p:g}'}"
    if hi_p >= 50 and above > max(2 * (100 - hi_p) / 100, 0.10):
        return f"{100 * above:.0f}% above published {'max' if hi_p == 100 else f'p{hi_p:g}'}"
    return "consistent"


def compare_simulated(profiles: pd.DataFrame, truth: pd.DataFrame,
                      ranges: Iterable[DiseaseRange] | None = None) -> pd.DataFrame:
    """Where simulated cases fall against the published detected ranges.

    Parameters
    ----------
    profiles
        Profiles of simulated babies (the profile columns, docs/architecture.md "Profiles"),
        aligned row by row with ``truth``.
    truth
        ``true_disorder`` and ``severity`` per baby (``msms.population.split_truth``).
    ranges
        Disease ranges (default: the packaged ones); only ``detected`` cohorts are compared.

    Returns
    -------
    pandas.DataFrame
        ``COMPARISON_COLUMNS``, one row per range and severity group (``classic`` = moderate
        and severe, ``mild``): the simulated median against the published median, the share
        of simulated cases below the lowest published statistic and above the highest, and a
        verdict (``consistent`` or what disagrees).
    """
    ranges = default_disease_ranges() if ranges is None else tuple(ranges)
    disorder = truth["true_disorder"].fillna("").to_numpy(dtype=object)
    severity = truth["severity"].fillna("").to_numpy(dtype=object)
    rows = []
    for item in (r for r in ranges if r.cohort == "detected"):
        for group, wanted in (("classic", ("moderate", "severe")), ("mild", ("mild",))):
            mask = (disorder == item.disorder) & np.isin(severity, wanted)
            if not mask.any():
                continue
            table = marker_table(profiles.loc[mask], [item.marker])
            values = table.values[item.marker]
            values = values[np.isfinite(values)]
            if not values.size:
                continue
            lo_p, lo = item.lowest
            hi_p, hi = item.highest
            median = float(np.median(values))
            below, above = float(np.mean(values < lo)), float(np.mean(values > hi))
            described = ", ".join(f"{'min' if p == 0 else 'max' if p == 100 else f'p{p:g}'} "
                                  f"{v:g}" for p, v in item.percentiles.items())
            if item.n_cases is not None:
                described += f" (n {item.n_cases})"
            rows.append({
                "disorder": item.disorder, "marker": item.marker, "severity": group,
                "n_simulated": int(values.size), "published": described,
                "simulated_median": median,
                "published_p50": item.percentiles.get(50.0, math.nan),
                "below_lowest_published": below, "lowest_published": lo,
                "above_highest_published": above, "highest_published": hi,
                "verdict": _verdict(median, below, above, item),
            })
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))
