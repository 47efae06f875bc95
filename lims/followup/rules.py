"""The follow-up rules as cited data (``lims/followup/data/followup.toml``): what is due in each
state of a case and within how many hours, the long-term visit schedule per disorder, and the
windows of the programme measures (recall compliance, lost to follow-up).

``due_rule(facts)`` is the first ``[[due]]`` row whose conditions all hold; ``visit_schedule``
the visit intervals of a disorder (else its referral group, else ``*``).

Public names: ``FOLLOWUP_TOML``, ``FollowUpRules``, ``DueRule``, ``VisitRule``, ``CaseFacts``,
``FollowUpRulesFile``, ``load_followup_rules``, ``followup_rules``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from lims.errors import InvalidInputError
from lims.vocabulary import CaseReason, CaseState, OutcomeClass, VisitKind
from msms.datafiles import OneOf, Range, Schema, Text, load_toml

__all__ = ["FOLLOWUP_TOML", "CaseFacts", "DueRule", "FollowUpRules", "FollowUpRulesFile",
           "VisitRule", "followup_rules", "load_followup_rules"]

FOLLOWUP_TOML = Path(__file__).resolve().parent / "data" / "followup.toml"
_Hours = Annotated[int, Range(0, math.inf)]


class _Source(Schema):
    id: Text
    title: Text
    url: str = ""


class _Due(Schema):
    state: Annotated[str, OneOf(tuple(CaseState))]
    action: Text
    hours: _Hours
    sources: list[str]
    time_critical: bool | None = None
    reason: Annotated[str, OneOf(tuple(CaseReason))] | None = None
    disorder: str | None = None
    group: str | None = None
    outcome: Annotated[str, OneOf(tuple(OutcomeClass))] | None = None
    note: str = ""


class _Visit(Schema):
    match: Text
    kind: Annotated[str, OneOf(tuple(VisitKind))]
    interval_days: Annotated[int, Range(1, math.inf)]
    sources: list[str]


class FollowUpRulesFile(Schema):
    """The layout of ``followup.toml``."""

    version: Text
    recall_window_days: Annotated[int, Range(1, math.inf)]
    recall_window_sources: list[str]
    follow_up_limit_days: Annotated[int, Range(1, math.inf)]
    follow_up_limit_sources: list[str]
    sources: list[_Source]
    due: list[_Due]
    visits: list[_Visit]


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the due-date rules look at."""

    state: str
    reason: str
    time_critical: bool
    disorders: tuple[str, ...]
    group: str
    outcome: str | None


@dataclass(frozen=True, slots=True)
class DueRule:
    """One ``[[due]]`` row."""

    state: str
    action: str
    hours: int
    sources: tuple[str, ...]
    time_critical: bool | None = None
    reason: str | None = None
    disorder: str | None = None
    group: str | None = None
    outcome: str | None = None
    note: str = ""

    def applies(self, facts: CaseFacts) -> bool:
        return (self.state == facts.state
                and (self.time_critical is None or self.time_critical == facts.time_critical)
                and (self.reason is None or self.reason == facts.reason)
                and (self.disorder is None or self.disorder in facts.disorders)
                and (self.group is None or self.group == facts.group)
                and (self.outcome is None or self.outcome == facts.outcome))


@dataclass(frozen=True, slots=True)
class VisitRule:
    """One ``[[visits]]`` row: a kind of visit every ``interval_days``."""

    match: str
    kind: str
    interval_days: int
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FollowUpRules:
    """The follow-up rules in force."""

    version: str
    recall_window_days: int
    follow_up_limit_days: int
    due: tuple[DueRule, ...]
    visits: tuple[VisitRule, ...]
    sources: dict[str, str]

    def due_rule(self, facts: CaseFacts) -> DueRule | None:
        """The first due row that applies (None: nothing is due, e.g. a closed case)."""
        return next((rule for rule in self.due if rule.applies(facts)), None)

    def visit_schedule(self, disorder: str | None, group: str) -> dict[str, int]:
        """Interval in days of each kind of visit for ``disorder`` (else its group, else
        ``*``)."""
        for key in (disorder, group, "*"):
            rows = {v.kind: v.interval_days for v in self.visits if v.match == key}
            if key is not None and rows:
                return rows
        return {}


@cache
def load_followup_rules(path: Path = FOLLOWUP_TOML) -> FollowUpRules:
    """The rules in ``path``; a problem names the file, line and field."""
    doc, file = load_toml(path, FollowUpRulesFile, error=InvalidInputError)
    known = {s.id for s in doc.sources}
    cited: list[tuple[tuple[str | int, ...], list[str]]] = [
        (("recall_window_sources",), doc.recall_window_sources),
        (("follow_up_limit_sources",), doc.follow_up_limit_sources),
        *((("due", i, "sources"), d.sources) for i, d in enumerate(doc.due)),
        *((("visits", i, "sources"), v.sources) for i, v in enumerate(doc.visits))]
    for loc, ids in cited:
        if not ids:
            raise file.error("names no source", *loc)
        unknown = [s for s in ids if s not in known]
        if unknown:
            raise file.error(f"unknown source {unknown[0]!r}", *loc)
    return FollowUpRules(
        version=doc.version, recall_window_days=doc.recall_window_days,
        follow_up_limit_days=doc.follow_up_limit_days,
        due=tuple(DueRule(d.state, d.action, d.hours, tuple(d.sources), d.time_critical,
                          d.reason, d.disorder, d.group, d.outcome, d.note) for d in doc.due),
        visits=tuple(VisitRule(v.match, v.kind, v.interval_days, tuple(v.sources))
                     for v in doc.visits),
        sources={s.id: s.title for s in doc.sources})


def followup_rules() -> FollowUpRules:
    """The packaged follow-up rules."""
    return load_followup_rules(FOLLOWUP_TOML)
