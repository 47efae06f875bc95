"""The score part of ``nbs cutoffs derive``: disorder scores and their cutoffs at a target flag
rate (docs/first_tier_scores.md), and the report of what they flag on the derivation population.

Public names: ``parse_disorder_targets``, ``read_confirmed_cases``, ``add_score_section``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from cutoffs.errors import CutoffError
from cutoffs.profiles import read_profiles
from cutoffs.tables import CutoffTable
from msms.catalogue import default_catalogue

__all__ = ["add_score_section", "parse_disorder_targets", "read_confirmed_cases"]


def parse_disorder_targets(items: list[str]) -> dict[str, float]:
    """``CODE=RATE`` items (``--disorder-target MCAD=0.001``) as a dict; errors name the item."""
    codes = {d.code for d in default_catalogue().disorders}
    out: dict[str, float] = {}
    for item in items:
        code, sep, rate = item.partition("=")
        try:
            value = float(rate)
        except ValueError:
            value = -1.0
        if not sep or code not in codes or not 0.0 <= value < 1.0:
            raise CutoffError(f"{item!r}: expected CODE=RATE with a disorder code of the "
                              "catalogue and 0 <= RATE < 1", field="--disorder-target")
        out[code] = value
    return out


def read_confirmed_cases(path: Path) -> pd.DataFrame:
    """Confirmed cases: profiles with a ``disorder`` column (labelled outcomes: only the rows
    whose ``outcome`` is ``true_positive``)."""
    frame = read_profiles(path)
    if "disorder" not in frame.columns:
        raise CutoffError("confirmed cases need a disorder column", file=str(path),
                          field="disorder")
    if "outcome" in frame.columns:
        frame = frame[frame["outcome"].astype(str).eq("true_positive").to_numpy()]
    return frame.reset_index(drop=True)


def add_score_section(table: CutoffTable, population: pd.DataFrame, *, target: float,
                      disorder_targets: dict[str, float], cases: Path | None,
                      range_floors: bool) -> None:
    """Derive the score section into ``table`` and print the expected flag rate per disorder
    on the derivation population."""
    # scikit-learn (score weights), needed here only: ``nbs cutoffs show`` does not load it
    from cutoffs.derive_scores import CASE_MARGIN, derive_score_section

    confirmed = read_confirmed_cases(cases) if cases is not None else None
    section = derive_score_section(
        population, table, target_flag_rate=target,
        tail_shares=disorder_targets, use_range_floors=range_floors,
        cases=confirmed, case_margin=CASE_MARGIN)
    table.scores = section
    typer.echo(f"disorder scores: target {100 * target:.2f}%, expected on the derivation "
               f"population {100 * section.flag_rate:.2f}% of babies flagged for any disorder "
               f"(shared tail share {100 * section.tail_share:.4f}% per disorder)", err=True)
    typer.echo(f"{'disorder':8} {'method':13} {'cutoff':>8} {'flagged %':>10}  floor", err=True)
    for code, item in section.disorders.items():
        floor = (f"{item.floor:.3g} ({item.floor_source})" if item.floor == item.floor
                 else "")
        typer.echo(f"{code:8} {item.spec.method:13} {item.cutoff:8.3g} "
                   f"{100 * item.flag_rate:10.4f}  {floor}", err=True)
