"""Westgard multirules over control z-scores (Westgard et al., Clin Chem 1981;27:493).

``z = (measured - target mean) / target SD``. Each rule is a small pure function over a
chronological series of z-scores that returns the groups of positions that break it:

- ``1-2s``: one observation beyond ±2 SD (the warning rule);
- ``1-3s``: one observation beyond ±3 SD;
- ``2-2s``: two consecutive observations beyond the same 2 SD limit;
- ``R-4s``: within one run, one observation above +2 SD and another below −2 SD;
- ``4-1s``: four consecutive observations beyond the same 1 SD limit;
- ``10-x``: ten consecutive observations on the same side of the mean.

:func:`across_runs` applies the rules to one control series (one lot of one material for one
analyte) over its history plus the current run and keeps only violations that involve the
current run; :func:`within_run` applies the within-run forms across all control observations of
one analyte in the current run (both materials): two beyond the same 2 SD limit (2-2s), a range
across ±2 SD (R-4s), four beyond the same 1 SD limit (4-1s).

Public names: ``Violation``, ``rule_1_2s``, ``rule_1_3s``, ``rule_2_2s``, ``rule_r_4s``,
``rule_4_1s``, ``rule_10_x``, ``SERIES_RULES``, ``across_runs``, ``within_run``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "SERIES_RULES",
    "Violation",
    "across_runs",
    "rule_10_x",
    "rule_1_2s",
    "rule_1_3s",
    "rule_2_2s",
    "rule_4_1s",
    "rule_r_4s",
    "within_run",
]

Groups = list[tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule broken by the observations at ``positions`` (indices into the series given)."""

    rule: str
    positions: tuple[int, ...]


def _array(z: ArrayLike) -> np.ndarray:
    return np.asarray(z, dtype=float)


def _single(z: ArrayLike, limit: float) -> Groups:
    values = _array(z)
    return [(int(i),) for i in np.flatnonzero(np.abs(values) > limit)]


def _runs_beyond(z: ArrayLike, length: int, limit: float) -> Groups:
    """Windows of ``length`` consecutive observations all above +limit or all below -limit."""
    values = _array(z)
    out: Groups = []
    if len(values) < length:
        return out
    for side in (values > limit, values < -limit):
        # count of consecutive True ending at each position
        streak = 0
        for i, hit in enumerate(side):
            streak = streak + 1 if hit else 0
            if streak >= length:
                out.append(tuple(range(i - length + 1, i + 1)))
    return sorted(out)


def rule_1_2s(z: ArrayLike) -> Groups:
    """Each observation beyond ±2 SD."""
    return _single(z, 2.0)


def rule_1_3s(z: ArrayLike) -> Groups:
    """Each observation beyond ±3 SD."""
    return _single(z, 3.0)


def rule_2_2s(z: ArrayLike) -> Groups:
    """Each pair of consecutive observations beyond the same 2 SD limit."""
    return _runs_beyond(z, 2, 2.0)


def rule_4_1s(z: ArrayLike) -> Groups:
    """Each window of four consecutive observations beyond the same 1 SD limit."""
    return _runs_beyond(z, 4, 1.0)


def rule_10_x(z: ArrayLike) -> Groups:
    """Each window of ten consecutive observations on the same side of the mean (z = 0 breaks a
    run)."""
    return _runs_beyond(z, 10, 0.0)


def rule_r_4s(z: ArrayLike) -> Groups:
    """Within one run: the highest observation above +2 SD and the lowest below −2 SD.

    ``z`` holds the observations of a single run (any materials); the group is
    ``(position of max, position of min)``.
    """
    values = _array(z)
    if np.isfinite(values).sum() < 2:
        return []
    hi, lo = int(np.nanargmax(values)), int(np.nanargmin(values))
    if values[hi] > 2.0 and values[lo] < -2.0:
        return [tuple(sorted((hi, lo)))]
    return []


#: The rules that run along a chronological series (R-4s is within-run only).
SERIES_RULES: dict[str, Callable[[ArrayLike], Groups]] = {
    "1-2s": rule_1_2s,
    "1-3s": rule_1_3s,
    "2-2s": rule_2_2s,
    "4-1s": rule_4_1s,
    "10-x": rule_10_x,
}


def across_runs(
    z: ArrayLike,
    current: ArrayLike,
    *,
    rules: Sequence[str] = ("1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x"),
) -> list[Violation]:
    """Violations in one control series that involve the current run.

    Parameters
    ----------
    z
        The series' z-scores in chronological order: earlier runs first, the current run's
        observations last. NaN (a missing value) breaks consecutive runs and never fires.
    current
        Same length as ``z``; true for observations of the current run.
    rules
        Which rules to apply. ``R-4s`` is applied to the current run's observations only.

    Returns
    -------
    list of Violation
        One per (rule, group of positions); each group includes at least one current position.
        Within a rule, groups are in chronological order of their last position.
    """
    values = _array(z)
    flags = np.asarray(current, dtype=bool)
    if values.shape != flags.shape:
        raise ValueError(f"z has {values.size} values but current has {flags.size}")
    out: list[Violation] = []
    for rule in rules:
        if rule == "R-4s":
            now = np.flatnonzero(flags)
            groups = [tuple(int(now[i]) for i in g) for g in rule_r_4s(values[now])]
        else:
            groups = SERIES_RULES[rule](values)
        out.extend(Violation(rule, g) for g in groups if flags[list(g)].any())
    return out


def within_run(z: ArrayLike) -> list[Violation]:
    """Across-material rules over all of one analyte's control observations in one run.

    ``2-2s``: two or more observations beyond the same 2 SD limit; ``R-4s``: one above +2 SD
    and one below −2 SD; ``4-1s``: four or more beyond the same 1 SD limit. Positions index
    ``z``.
    """
    values = _array(z)
    out: list[Violation] = []
    for limit, count, rule in ((2.0, 2, "2-2s"), (1.0, 4, "4-1s")):
        for side in (values > limit, values < -limit):
            hits = tuple(int(i) for i in np.flatnonzero(side))
            if len(hits) >= count:
                out.append(Violation(rule, hits))
    out.extend(Violation("R-4s", g) for g in rule_r_4s(values))
    return out
