"""The reflex rules (``cutoffs/data/reflex_rules.toml``): referral groups, the second-tier
assays each runs on the same card, bypass levels that refer at once, and ordered decision rules
with their reason codes. Loading validates every key and cross-reference (disorder and assay
codes, reason codes, markers) and names the file, line and key of the first problem.

Public names: ``ReflexRules``, ``Group``, ``Bypass``, ``Rule``, ``load_reflex_rules``,
``default_reflex_rules``, ``reflex_version``, ``REFLEX_RULES_TOML``, ``OUTCOMES``,
``DECISIONS``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from cutoffs.errors import CutoffError
from msms.catalogue import default_catalogue
from msms.datafiles import LenientSchema, Range, Text, load_toml
from msms.errors import UnknownAnalyteError
from msms.second_tier_assays import SecondTierAssay, second_tier_assays

__all__ = [
    "DECISIONS",
    "OUTCOMES",
    "REFLEX_RULES_TOML",
    "Bypass",
    "Group",
    "ReflexRules",
    "Rule",
    "default_reflex_rules",
    "load_reflex_rules",
    "reflex_version",
]

REFLEX_RULES_TOML = Path(str(resources.files("cutoffs") / "data" / "reflex_rules.toml"))
#: What a baby's group can end as; ``maternal_b12`` is a maternal work-up, never a normal.
DECISIONS: tuple[str, ...] = ("clear", "repeat_specimen", "referral", "maternal_b12")
#: What a rule may decide (the decisions, and ``first_tier`` for ``otherwise``).
OUTCOMES: tuple[str, ...] = (*DECISIONS, "first_tier")

Outcome = Literal["clear", "repeat_specimen", "referral", "maternal_b12"]
Positive = Annotated[float, Range(0, float("inf"), open_low=True)]


class _Bypass(LenientSchema):
    marker: Text
    at_least: Positive | None = None
    at_most: Positive | None = None
    source: Text


class _Rule(LenientSchema):
    assay: Text | None = None
    context: Literal["pivalate_exposure", "maternal_b12_low"] | None = None
    at_least: Positive | None = None
    outcome: Outcome
    reason_code: Text


class _Group(LenientSchema):
    code: Text
    name: Text
    disorders: Annotated[list[str], Field(min_length=1)]
    assays: list[str]
    otherwise: Literal["clear", "repeat_specimen", "referral", "first_tier"]
    otherwise_reason_code: str = "NO_SECOND_TIER"
    otherwise_informed: Literal["clear"] | None = None
    otherwise_informed_reason_code: str | None = None
    clear_below_score: bool = False
    await_assays: bool = True
    bypass: list[_Bypass] = []
    rule: list[_Rule] = []


class _Safety(LenientSchema):
    mild_miss_bound: Annotated[float, Range(0, 0.5)]
    margin: Annotated[float, Range(0, 1, open_low=True)]
    score_margin_sd: Annotated[float, Range(0, 5)]
    min_cases_own_level: Annotated[int, Range(1, 10_000)] = 20
    mild_miss_bound_by_disorder: dict[str, Annotated[float, Range(0, 0.5)]] = {}


class _Repeat(LenientSchema):
    still_flagged: Literal["referral"]
    reason_code_normal: Text
    reason_code_still_flagged: Text


class _File(LenientSchema):
    version: Text
    safety: _Safety
    repeat: _Repeat
    reason_codes: dict[str, str]
    group: Annotated[list[_Group], Field(min_length=1)]


@dataclass(frozen=True)
class Bypass:
    """A marker level past which the group is referred at once (``at_least`` or ``at_most``)."""

    marker: str
    level: float
    high: bool
    source: str


@dataclass(frozen=True)
class Rule:
    """If ``assay`` >= ``level`` (µmol/L, or variants detected for a genotype), or the context
    flag ``context`` is 1, the group's decision is ``outcome``. ``scaled``: the calibration may
    lower the level (a concentration); a genotype's count is exact and never scaled."""

    assay: str
    level: float
    outcome: str
    reason_code: str
    context: str = ""
    scaled: bool = True


@dataclass(frozen=True)
class Group:
    """A referral group: disorders, reflex assays, bypass levels and ordered rules."""

    code: str
    name: str
    disorders: tuple[str, ...]
    assays: tuple[str, ...]
    bypass: tuple[Bypass, ...]
    rules: tuple[Rule, ...]
    otherwise: str
    otherwise_reason_code: str
    clear_below_score: bool
    #: The group's disorders that its assays inform (assay catalogue ``informs``).
    informed: tuple[str, ...] = ()
    #: The decision when no rule matched and every flagged disorder is informed by the assays
    #: run (their normal result excludes it), with its reason code; "" = ``otherwise``.
    otherwise_informed: str = ""
    otherwise_informed_reason_code: str = ""
    #: A missing assay result holds the group (``awaiting_second_tier``); when False, a group
    #: whose assays are not all in the profile is decided without them (no rule on a missing
    #: result matches, nothing is cleared as informed) and ends ``NO_SECOND_TIER``.
    await_assays: bool = True

    @property
    def genotyped(self) -> bool:
        """Whether a rule of the group reads a genotype (a count of variants detected, never
        scaled): its informed clearing rests on sequencing that may miss both alleles."""
        return any(r.assay and not r.scaled for r in self.rules)


@dataclass(frozen=True)
class ReflexRules:
    """The reflex rules of one file; ``version`` and ``sha256`` identify it on every call."""

    version: str
    sha256: str
    groups: tuple[Group, ...]
    reason_codes: dict[str, str]
    mild_miss_bound: float
    mild_miss_bound_by_disorder: dict[str, float]
    margin: float
    score_margin_sd: float
    repeat_reason_normal: str
    repeat_reason_still_flagged: str
    source_file: str = ""
    #: A disorder gets its own calibrated repeat level only with at least this many moderate
    #: or severe calibration cases sent for a repeat (else its group's level applies).
    min_cases_own_level: int = 20

    def group_of(self) -> dict[str, str]:
        """Disorder code -> referral group code."""
        return {d: g.code for g in self.groups for d in g.disorders}

    def group(self, code: str) -> Group:
        for g in self.groups:
            if g.code == code:
                return g
        raise KeyError(code)

    def mild_bound(self, disorder: str) -> float:
        """The mild-case miss bound of ``disorder``."""
        return self.mild_miss_bound_by_disorder.get(disorder, self.mild_miss_bound)

    def awaiting_genotypes(self) -> ReflexRules:
        """These rules for a laboratory that genotypes the cards its groups ask for: a group
        whose rules read a genotype (:attr:`Group.genotyped`: FAO's ACADM and ACADVL) awaits
        them (``await_assays``) instead of being decided without them. The file, its version
        and hash are unchanged (a calibration of the file still fits)."""
        groups = tuple(dataclasses.replace(g, await_assays=True) if g.genotyped else g
                       for g in self.groups)
        return dataclasses.replace(self, groups=groups)

    def bypass_markers(self) -> list[str]:
        return list(dict.fromkeys(b.marker for g in self.groups for b in g.bypass))


def reflex_version(rules_version: str, *detail: str) -> str:
    """The version a reflex decision is written with (the calls' ``model_version``): the
    rules' version, named as the reflex's once (``reflex-rules 2026-12-06 r6`` says so
    already; another gets ``reflex`` before it), then ``detail`` (``literature``, the
    calibration's hash)."""
    named = rules_version if rules_version.lower().startswith("reflex") else (
        f"reflex {rules_version}")
    return " ".join((named, *detail))


def load_reflex_rules(path: Path | str = REFLEX_RULES_TOML,
                      assays: dict[str, SecondTierAssay] | None = None) -> ReflexRules:
    """Read and validate a reflex-rules file.

    Every catalogue disorder must belong to exactly one group; assays must be in the assay
    catalogue and a rule's assay among its group's; reason codes must be declared; bypass
    markers must be analytes or ratios of the catalogue.

    Raises
    ------
    CutoffError
        Naming the file, line and key of the first problem.
    """
    doc, file = load_toml(path, _File, error=CutoffError)
    assays = assays if assays is not None else second_tier_assays()
    catalogue = default_catalogue()
    codes = {d.code for d in catalogue.disorders}
    seen: dict[str, str] = {}
    groups: list[Group] = []
    for i, g in enumerate(doc.group):
        if g.code in {x.code for x in groups}:
            raise file.error(f"duplicate group code {g.code!r}", "group", i, "code")
        for d in g.disorders:
            if d not in codes:
                raise file.error(f"unknown disorder code {d!r}", "group", i, "disorders")
            if d in seen:
                raise file.error(f"{d} is already in group {seen[d]}", "group", i, "disorders")
            seen[d] = g.code
        for a in g.assays:
            if a not in assays:
                raise file.error(f"unknown second-tier assay {a!r}", "group", i, "assays")
        for code in (g.otherwise_reason_code, *(r.reason_code for r in g.rule)):
            if code not in doc.reason_codes:
                raise file.error(f"undeclared reason code {code!r}", "group", i)
        if (g.otherwise_informed is None) != (g.otherwise_informed_reason_code is None):
            raise file.error("give both otherwise_informed and otherwise_informed_reason_code",
                             "group", i)
        if (g.otherwise_informed_reason_code is not None
                and g.otherwise_informed_reason_code not in doc.reason_codes):
            raise file.error(f"undeclared reason code {g.otherwise_informed_reason_code!r}",
                             "group", i, "otherwise_informed_reason_code")
        if not g.await_assays and g.otherwise == "clear":
            raise file.error("a group that does not await its assays must not clear "
                             "otherwise (a missing result would clear)", "group", i,
                             "await_assays")
        informed = tuple(d for d in g.disorders
                         if any(d in assays[a].informs for a in g.assays))
        bypasses = []
        for k, b in enumerate(g.bypass):
            if (b.at_least is None) == (b.at_most is None):
                raise file.error("give exactly one of at_least and at_most",
                                 "group", i, "bypass", k)
            for part in b.marker.split("/"):
                try:
                    catalogue.resolve(part)
                except UnknownAnalyteError as exc:
                    raise file.error(str(exc), "group", i, "bypass", k, "marker") from None
            high = b.at_least is not None
            level = b.at_least if b.at_least is not None else b.at_most
            assert level is not None
            bypasses.append(Bypass(b.marker, float(level), high, b.source))
        rules = []
        for k, r in enumerate(g.rule):
            if (r.assay is None) == (r.context is None):
                raise file.error("give exactly one of assay and context", "group", i, "rule", k)
            if r.context is not None:
                rules.append(Rule("", 1.0, r.outcome, r.reason_code, r.context))
                continue
            if r.assay not in g.assays:
                raise file.error(f"assay {r.assay!r} is not among the group's assays",
                                 "group", i, "rule", k, "assay")
            assert r.assay is not None
            level = r.at_least if r.at_least is not None else assays[r.assay].cutoff_umol_l
            count = assays[r.assay].is_count
            if count and (level != int(level) or not 1 <= level <= 2):
                raise file.error("a genotype's level is a count of variants: 1 or 2",
                                 "group", i, "rule", k, "at_least")
            rules.append(Rule(r.assay, float(level), r.outcome, r.reason_code,
                              scaled=not count))
        groups.append(Group(g.code, g.name, tuple(g.disorders), tuple(g.assays),
                            tuple(bypasses), tuple(rules), g.otherwise,
                            g.otherwise_reason_code, g.clear_below_score, informed,
                            g.otherwise_informed or "", g.otherwise_informed_reason_code or "",
                            g.await_assays))
    missing = sorted(codes - set(seen))
    if missing:
        raise file.error(f"disorder(s) in no group: {', '.join(missing)}", "group")
    for d in doc.safety.mild_miss_bound_by_disorder:
        if d not in codes:
            raise file.error(f"unknown disorder code {d!r}", "safety",
                             "mild_miss_bound_by_disorder", d)
    for code in ("CRITICAL", "BYPASS", "SCORE_BELOW_CLEAR", "NO_SECOND_TIER", "NO_RESULT",
                 "FIRST_TIER_POSITIVE", "FIRST_TIER_BORDERLINE", doc.repeat.reason_code_normal,
                 doc.repeat.reason_code_still_flagged):
        if code not in doc.reason_codes:
            raise file.error(f"reason code {code!r} must be declared", "reason_codes")
    return ReflexRules(
        version=doc.version, sha256=hashlib.sha256(file.text.encode("utf-8")).hexdigest(),
        groups=tuple(groups), reason_codes=dict(doc.reason_codes),
        mild_miss_bound=doc.safety.mild_miss_bound,
        mild_miss_bound_by_disorder=dict(doc.safety.mild_miss_bound_by_disorder),
        margin=doc.safety.margin, score_margin_sd=doc.safety.score_margin_sd,
        repeat_reason_normal=doc.repeat.reason_code_normal,
        repeat_reason_still_flagged=doc.repeat.reason_code_still_flagged,
        source_file=file.path, min_cases_own_level=doc.safety.min_cases_own_level)


@cache
def default_reflex_rules() -> ReflexRules:
    """The packaged reflex rules (loaded once)."""
    return load_reflex_rules()
