"""A card's second tier as the specimen page shows it: each reflex assay of its referral groups
with the card's value (the mean of its wells on the latest second-tier run that measured it)
against the levels the rules compare it with (each rule's level, calibrated where the
laboratory calibrated it, and what reaching it decides), and each group's current decision
with its reason code and the rules' words for it.

The levels are those of the reflex second tier the service runs now; when a decision was made
under another version, ``SecondTier.other_versions`` names it. On a repeat card, ``repeat_of``
names the earlier card, the groups it was sent back for and the repeat levels they are decided
by (``lims.reflex.repeat``).

Public names: ``AssayLevel``, ``AssayRow``, ``DecisionRow``, ``RepeatOf``, ``SecondTier``,
``second_tier_of``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlmodel import Session

from lims.models import Specimen
from lims.pipeline import Reflex, Screening, latest_run_wells
from lims.reflex import repository
from lims.reflex.repeat import repeat_links
from lims.vocabulary import ReflexDecision
from msms.second_tier_assays import second_tier_assays

__all__ = ["AssayLevel", "AssayRow", "DecisionRow", "RepeatOf", "SecondTier", "second_tier_of"]


@dataclass(frozen=True)
class AssayLevel:
    """One rule on an assay: at or above ``level`` (µmol/L) the group's decision is
    ``outcome`` (``reason_code``); ``reached`` when the card's value is there."""

    group: str
    level: float
    outcome: str
    reason_code: str
    reached: bool


@dataclass(frozen=True)
class AssayRow:
    """A reflex assay of the card's groups: its value (None while not measured), the run it
    comes from and the levels it is compared with."""

    assay: str
    name: str
    value: float | None
    run_id: int | None
    wells: int
    levels: list[AssayLevel] = field(default_factory=list)
    #: a genotype (unit ``variants``): ``value`` is the count of pathogenic variants detected,
    #: ``variants`` the HGVS text and ``lab_reference`` the report the laboratory sent
    genotype: bool = False
    variants: str = ""
    lab_reference: str = ""


@dataclass(frozen=True)
class DecisionRow:
    """A referral group's current reflex decision; ``disorders``: every disorder of the group
    flagged on the card (``disorder``, the one the decision names, first)."""

    group: str
    disorder: str
    decision: str
    reason_code: str
    reason: str
    version: str
    second_tier_run_id: int | None
    disorders: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepeatOf:
    """The earlier card a repeat answers, the groups it was sent back for and, per group, the
    repeat level (score excess in SD: cleared below it), a disorder's own level beside it."""

    specimen_id: int
    barcode: str
    levels: list[str]


@dataclass(frozen=True)
class SecondTier:
    """What the specimen page shows of the card's second tier (``decisions`` empty: none)."""

    decisions: list[DecisionRow]
    assays: list[AssayRow]
    #: the version whose levels ``assays`` shows
    version: str
    #: versions of stored decisions other than ``version``
    other_versions: list[str]
    #: on a repeat card: the earlier card and the repeat levels
    repeat_of: RepeatOf | None = None
    #: whether the service runs the reflex second tier now (``NBS_REFLEX``)
    service_on: bool = True

    @property
    def waiting(self) -> bool:
        return any(d.decision == ReflexDecision.awaiting_second_tier for d in self.decisions)

    def decision_for(self, disorder: str) -> DecisionRow | None:
        """The current decision of the group that gathers this flagged disorder (None: no
        group decided it)."""
        return next((d for d in self.decisions if disorder in (d.disorders or (d.disorder,))),
                    None)


def _latest_values(rows: list[dict[str, Any]]
                   ) -> dict[str, tuple[float, int, int, str, str]]:
    """Per assay: the mean of its wells on the latest run that measured it, the run, the
    number of wells, and a genotype's HGVS text and laboratory reference ("" otherwise)."""
    wells = latest_run_wells(pd.DataFrame(
        rows, columns=["specimen_id", "run_id", "well", "assay", "conc_umol_l", "variants",
                       "lab_reference"]))
    return {str(assay): (float(group["conc_umol_l"].mean()), int(group["run_id"].iloc[0]),
                         len(group), _text(group["variants"]), _text(group["lab_reference"]))
            for assay, group in wells.groupby("assay", sort=False)}


def _text(column: pd.Series) -> str:
    """The first text of a column of a run's results ("" when none)."""
    present = column.dropna()
    return str(present.iloc[0]) if len(present) else ""


def second_tier_of(session: Session, specimen_id: int, pipeline: Screening) -> SecondTier:
    """The card's current reflex decisions and the assays of their groups, valued."""
    stored = repository.current_decisions(session, [specimen_id])
    reflex = _levels_of(pipeline, {d.version for d in stored})
    rules, calibration = reflex.rules, reflex.calibration
    flagged = [c.disorder for c in repository.current_calls(session, [specimen_id])
               if c.first_tier != "normal"]
    decisions = [DecisionRow(d.group_code, d.disorder, d.decision, d.reason_code,
                             rules.reason_codes.get(d.reason_code, d.reason), d.version,
                             d.second_tier_run_id, _group_disorders(reflex, d, flagged))
                 for d in stored]
    values = _latest_values(repository.results_of(session, [specimen_id]))
    catalogue = second_tier_assays()
    codes = {g.code for g in rules.groups}
    groups = [rules.group(c) for c in dict.fromkeys(d.group for d in decisions) if c in codes]
    # a group that does not await its assays (FAO's genotypes in a laboratory that does not
    # import them: NBS_REFLEX_GENOTYPES off) lists them only once a value is stored
    assays = list(dict.fromkeys([a for g in groups for a in g.assays
                                 if g.await_assays or a in values] + sorted(values)))
    rows = []
    for assay in assays:
        value, run_id, wells, variants, reference = values.get(assay, (None, None, 0, "", ""))
        levels = []
        for group in groups:
            for rule in group.rules:
                if rule.assay != assay:
                    continue
                level = calibration.level(group.code, rule.outcome, rule.level, assay)
                levels.append(AssayLevel(group.code, round(level, 4), rule.outcome,
                                         rule.reason_code, value is not None and value >= level))
        known = catalogue.get(assay)
        if not levels and known is not None:
            levels.append(AssayLevel("", known.cutoff_umol_l, "", "",
                                     value is not None and value >= known.cutoff_umol_l))
        count = known is not None and known.is_count
        if count:  # a count of variants: shown as one
            levels = [dataclasses.replace(lv, level=int(lv.level)) for lv in levels]
        shown = None if value is None else (int(value) if count else round(value, 4))
        rows.append(AssayRow(assay, known.name if known else assay, shown, run_id, wells,
                             levels, count, variants, reference))
    others = sorted({d.version for d in decisions} - {reflex.version})
    return SecondTier(decisions, rows, reflex.version, others,
                      _repeat_of(session, specimen_id, reflex), pipeline.reflex is not None)


def _levels_of(pipeline: Screening, versions: set[str]) -> Reflex:
    """The reflex second tier whose levels the page shows: the one every stored decision was
    made under where the service can name it (its own, or the literature levels with or
    without genotypes), else the service's own (the literature levels when it is off)."""
    own = pipeline.reflex or Reflex.literature()
    if len(versions) != 1:
        return own
    known = [own, own.with_genotypes(), Reflex.literature(), Reflex.literature().with_genotypes()]
    return next((r for r in known if r.version in versions), own)


def _group_disorders(reflex: Reflex, decision: Any, flagged: list[str]) -> tuple[str, ...]:
    """The decision's disorder, then the group's other disorders flagged on the card."""
    codes = {g.code for g in reflex.rules.groups}
    group = (reflex.rules.group(decision.group_code).disorders
             if decision.group_code in codes else ())
    return tuple(dict.fromkeys([decision.disorder, *(d for d in flagged if d in group)]))


def _repeat_of(session: Session, specimen_id: int, reflex: Reflex) -> RepeatOf | None:
    specimen = session.get(Specimen, specimen_id)
    if specimen is None:
        return None
    link = repeat_links(session, {specimen.barcode: specimen}).get(specimen.barcode)
    if link is None or link.first.id is None:
        return None
    c = reflex.calibration
    levels = []
    for group in link.groups:
        own = [f"{d} {c.repeat_clear_below_disorder[d]:+.2f}" for d in _disorders(reflex,
               group) if d in c.repeat_clear_below_disorder]
        levels.append(f"{group} {c.repeat_clear_below.get(group, 0.0):+.2f}"
                      + (f" ({', '.join(own)})" if own else ""))
    return RepeatOf(link.first.id, link.first.barcode, levels)


def _disorders(reflex: Reflex, group: str) -> tuple[str, ...]:
    codes = {g.code for g in reflex.rules.groups}
    return tuple(reflex.rules.group(group).disorders) if group in codes else ()
