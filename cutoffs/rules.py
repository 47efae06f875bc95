"""Disorder rules: versioned, cited data (TOML) loaded into validated, frozen objects.

A rule says how the first tier calls one catalogue disorder (docs/evaluation.md): its markers
(analytes or ratios) with a direction, a role (primary or secondary) and borderline / positive /
critical levels; how the primary markers combine (``all``, ``any`` or ``k_of_n``); exclusions;
whether the disorder is time-critical; the recommended action and the confirmatory tests. The
packaged rules live in ``cutoffs/data/rules/*.toml`` (one file per disorder category);
docs/evaluation.md describes the format and the semantics.

Loading checks everything (a schema per file, :mod:`msms.datafiles`, then the catalogue) and
raises :class:`~cutoffs.errors.CutoffError` naming the file, line and key
(``rule[PKU].marker[1].levels``) of the first problem: unknown disorder, analyte or ratio,
levels not monotone in the marker's direction, unknown keys (typos), a time-critical flag that
contradicts the catalogue.

Public names: ``Levels``, ``MarkerRule``, ``Exclusion``, ``DisorderRule``, ``RuleSet``,
``RulesFile`` (a file's schema), ``load_rules``, ``default_rules``, ``RULES_DIR``,
``DIRECTIONS``, ``ROLES``, ``LOGICS``, ``EXCLUSION_KINDS``, ``resolve_marker``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from cutoffs.errors import CutoffError
from msms.catalogue import Catalogue, default_catalogue
from msms.datafiles import DataFile, NonNegative, Schema, Text, load_toml
from msms.ratios import RatioError, parse_ratio

__all__ = [
    "DIRECTIONS",
    "EXCLUSION_KINDS",
    "LOGICS",
    "ROLES",
    "RULES_DIR",
    "DisorderRule",
    "Exclusion",
    "Levels",
    "MarkerRule",
    "RuleSet",
    "RulesFile",
    "default_rules",
    "load_rules",
    "resolve_marker",
]

RULES_DIR = Path(str(resources.files("cutoffs") / "data" / "rules"))
DIRECTIONS = ("high", "low")
ROLES = ("primary", "secondary")
LOGICS = ("all", "any", "k_of_n")
#: shares_first_tier: informational, named in the reasons; flag: a profile column (e.g. tpn,
#: pivalate_exposure) caps the call at borderline; marker: another marker beyond a value caps it.
EXCLUSION_KINDS = ("shares_first_tier", "flag", "marker")
LEVEL_NAMES = ("borderline", "positive", "critical")

_EXCLUSION_KEYS = {
    "shares_first_tier": {"kind", "with", "note"},
    "flag": {"kind", "column", "equals", "effect", "note"},
    "marker": {"kind", "name", "direction", "beyond", "effect", "note"},
}
Direction = Literal["high", "low"]


@dataclass(frozen=True, slots=True)
class Levels:
    """Borderline / positive / critical levels of one marker (µmol/L or a ratio); any may be None.

    For a ``high`` marker the levels rise (borderline < positive < critical); for ``low`` they fall.
    """

    borderline: float | None = None
    positive: float | None = None
    critical: float | None = None

    def items(self) -> Iterator[tuple[int, float]]:
        """(tier code, level) for the levels present: 1 borderline, 2 positive, 3 critical."""
        for code, value in enumerate((self.borderline, self.positive, self.critical), start=1):
            if value is not None:
                yield code, value

    @property
    def first(self) -> float:
        """The lowest level present: where a value starts being out of range."""
        return next(value for _, value in self.items())


@dataclass(frozen=True, slots=True)
class MarkerRule:
    """One marker of a rule: an analyte code or a canonical ratio name."""

    name: str
    is_ratio: bool
    direction: str
    role: str
    levels: Levels
    inclusive: bool
    source: str

    def beyond(self, value: float, level: float) -> bool:
        """Whether ``value`` is past ``level`` in this marker's direction."""
        if self.direction == "high":
            return value >= level if self.inclusive else value > level
        return value <= level if self.inclusive else value < level


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A condition that qualifies a call (see ``EXCLUSION_KINDS``)."""

    kind: str
    note: str
    shares_with: tuple[str, ...] = ()
    column: str = ""
    equals: float | str | None = None
    marker: str = ""
    marker_is_ratio: bool = False
    direction: str = ""
    beyond: float | None = None
    effect: str = ""


@dataclass(frozen=True, slots=True)
class DisorderRule:
    """How the first tier calls one disorder."""

    code: str
    name: str
    version: str
    logic: str
    k: int
    markers: tuple[MarkerRule, ...]
    exclusions: tuple[Exclusion, ...]
    time_critical: bool
    action_on_positive: str
    confirmatory_tests: str
    citations: tuple[str, ...]
    file: str
    notes: str = ""

    @property
    def primary(self) -> tuple[MarkerRule, ...]:
        return tuple(m for m in self.markers if m.role == "primary")

    @property
    def secondary(self) -> tuple[MarkerRule, ...]:
        return tuple(m for m in self.markers if m.role == "secondary")

    @property
    def shares_first_tier_with(self) -> tuple[str, ...]:
        return tuple(c for e in self.exclusions if e.kind == "shares_first_tier"
                     for c in e.shares_with)


@dataclass(frozen=True)
class RuleSet:
    """The rules of every disorder, in file then rule order; ``digest`` fingerprints the files."""

    rules: tuple[DisorderRule, ...]
    version: str
    digest: str
    files: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[DisorderRule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def rule(self, code: str) -> DisorderRule:
        for rule in self.rules:
            if rule.code == code:
                return rule
        raise KeyError(f"no rule for disorder {code!r}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.rules)

    def markers(self) -> tuple[str, ...]:
        """Every marker name the rules read (markers and exclusion markers), first use first."""
        names: dict[str, None] = {}
        for rule in self.rules:
            for marker in rule.markers:
                names[marker.name] = None
            for exclusion in rule.exclusions:
                if exclusion.kind == "marker":
                    names[exclusion.marker] = None
        return tuple(names)

    def analytes(self) -> tuple[str, ...]:
        """Every analyte code the rules read, alone or in a ratio, first use first."""
        catalogue = default_catalogue()
        names: dict[str, None] = {}
        for rule in self.rules:
            pairs = [(m.name, m.is_ratio) for m in rule.markers]
            pairs += [(e.marker, e.marker_is_ratio) for e in rule.exclusions
                      if e.kind == "marker"]
            for name, is_ratio in pairs:
                for code in (parse_ratio(name, catalogue).analytes if is_ratio else (name,)):
                    names[code] = None
        return tuple(names)

    def subset(self, codes: list[str] | tuple[str, ...]) -> RuleSet:
        """The rules of the given disorders only (KeyError for an unknown code)."""
        chosen = tuple(self.rule(c) for c in codes)
        return RuleSet(chosen, self.version, self.digest, self.files)


def resolve_marker(name: str, catalogue: Catalogue | None = None) -> tuple[str, bool]:
    """Canonical marker name and whether it is a ratio; raises RatioError if it is neither."""
    catalogue = catalogue or default_catalogue()
    code = catalogue.try_resolve(name)  # aliases such as "Leu/Ile" name analytes
    if code is not None:
        return code, False
    return parse_ratio(name, catalogue).name, True


class _LevelsEntry(Schema):
    borderline: NonNegative | None = None
    positive: NonNegative | None = None
    critical: NonNegative | None = None


class _MarkerEntry(Schema):
    name: Text
    direction: Direction
    role: Literal["primary", "secondary"]
    levels: _LevelsEntry
    inclusive: bool = False
    source: Text


def _number_or_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"must be a number or a string, got {value!r}")
    return value


class _ExclusionEntry(Schema):
    kind: Literal["shares_first_tier", "flag", "marker"]
    note: Text
    with_: Annotated[list[Text], Field(alias="with")] = []
    column: Text | None = None
    equals: Annotated[Any, AfterValidator(_number_or_text)] = 1
    effect: Literal["cap_borderline"] = "cap_borderline"
    name: Text | None = None
    direction: Direction | None = None
    beyond: float | None = None


class _RuleEntry(Schema):
    code: Text
    version: Text
    logic: Literal["all", "any", "k_of_n"]
    k: float | None = None
    time_critical: bool
    action_on_positive: Text
    confirmatory_tests: Text | None = None
    citations: list[Text] = []
    marker: list[_MarkerEntry] = []
    exclusion: list[_ExclusionEntry] = []
    notes: str = ""


class RulesFile(Schema):
    """The layout of a rules file: ``version`` and ``[[rule]]`` tables (docs/evaluation.md)."""

    version: Text
    category: str = ""
    description: str = ""
    rule: list[dict[str, Any]] = []


class _Rule:
    """Reads one ``[[rule]]`` of a file; errors name it ``rule[CODE]`` once its code is known."""

    def __init__(self, file: DataFile, index: int, raw: dict[str, Any], codes: set[str]) -> None:
        self.file, self.index = file, index
        code = raw.get("code")
        self.label = (f"rule[{code.strip()}]" if isinstance(code, str) and code.strip() in codes
                      else f"rule[{index}]")
        self.entry = file.validate(_RuleEntry, raw, loc=("rule", index), label=self.label)

    def error(self, message: str, *loc: str | int) -> Exception:
        return self.file.error(message, "rule", self.index, *loc,
                               field=self.label + "".join(
                                   f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc))


def _levels(rule: _Rule, i: int, marker: _MarkerEntry) -> Levels:
    values = {name: getattr(marker.levels, name) for name in LEVEL_NAMES}
    present = [(n, v) for n, v in values.items() if v is not None]
    if not present:
        raise rule.error("needs at least one of borderline, positive, critical", "marker", i,
                         "levels")
    for name, value in present:
        if value == 0 and marker.direction == "low":
            raise rule.error("a low level of 0 can never be passed", "marker", i, "levels", name)
    for (lower_name, lower), (upper_name, upper) in zip(present, present[1:], strict=False):
        if not (upper > lower if marker.direction == "high" else upper < lower):
            relation = "above" if marker.direction == "high" else "below"
            raise rule.error(f"{upper_name} {upper:g} must lie {relation} {lower_name} {lower:g} "
                             f"for a {marker.direction} marker", "marker", i, "levels", upper_name)
    return Levels(**values)


def _marker(rule: _Rule, i: int, marker: _MarkerEntry, catalogue: Catalogue) -> MarkerRule:
    try:
        name, is_ratio = resolve_marker(marker.name, catalogue)
    except RatioError:
        raise rule.error(f"{marker.name!r} is neither a known analyte nor a ratio of known "
                         "analytes", "marker", i, "name") from None
    return MarkerRule(name=name, is_ratio=is_ratio, direction=marker.direction, role=marker.role,
                      levels=_levels(rule, i, marker), inclusive=marker.inclusive,
                      source=marker.source)


def _exclusion(rule: _Rule, i: int, codes: set[str], catalogue: Catalogue) -> Exclusion:
    entry = rule.entry.exclusion[i]
    written = set(rule.file.data["rule"][rule.index]["exclusion"][i])
    unknown = sorted(written - _EXCLUSION_KEYS[entry.kind])
    if unknown:
        raise rule.error(f"unknown key {unknown[0]!r} for a {entry.kind} exclusion (allowed: "
                         f"{', '.join(sorted(_EXCLUSION_KEYS[entry.kind]))})", "exclusion", i,
                         unknown[0])
    if entry.kind == "shares_first_tier":
        if not entry.with_:
            raise rule.error("names no disorder", "exclusion", i, "with")
        unknown = [c for c in entry.with_ if c not in codes]
        if unknown:
            raise rule.error(f"unknown disorder code(s) {', '.join(unknown)}", "exclusion", i,
                             "with")
        return Exclusion(entry.kind, entry.note, shares_with=tuple(entry.with_))
    for key in ("column",) if entry.kind == "flag" else ("name", "direction", "beyond"):
        if getattr(entry, key) is None:
            raise rule.error(f"missing key {key!r}", "exclusion", i, key)
    if entry.kind == "flag":
        return Exclusion(entry.kind, entry.note, column=entry.column or "", equals=entry.equals,
                         effect=entry.effect)
    assert entry.name is not None and entry.direction is not None
    try:
        name, is_ratio = resolve_marker(entry.name, catalogue)
    except RatioError:
        raise rule.error(f"{entry.name!r} is neither a known analyte nor a ratio", "exclusion",
                         i, "name") from None
    return Exclusion(entry.kind, entry.note, marker=name, marker_is_ratio=is_ratio,
                     direction=entry.direction, beyond=entry.beyond, effect=entry.effect)


def _analytes_of(name: str, is_ratio: bool, catalogue: Catalogue) -> set[str]:
    return set(parse_ratio(name, catalogue).analytes) if is_ratio else {name}


def _exclusions(rule: _Rule, markers: list[MarkerRule], codes: set[str],
                catalogue: Catalogue) -> tuple[Exclusion, ...]:
    out = []
    for i in range(len(rule.entry.exclusion)):
        exclusion = _exclusion(rule, i, codes, catalogue)
        if exclusion.kind == "shares_first_tier" and rule.entry.code in exclusion.shares_with:
            raise rule.error("a rule cannot share its first tier with itself", "exclusion", i,
                             "with")
        if exclusion.kind == "marker":
            used = set().union(*(_analytes_of(m.name, m.is_ratio, catalogue) for m in markers))
            both = used & _analytes_of(exclusion.marker, exclusion.marker_is_ratio, catalogue)
            if both:
                raise rule.error(f"the exclusion marker {exclusion.marker} reads "
                                 f"{', '.join(sorted(both))}, which the rule's markers read too",
                                 "exclusion", i, "name")
        out.append(exclusion)
    return tuple(out)


def _k(rule: _Rule, n_primary: int) -> int:
    entry = rule.entry
    if entry.logic != "k_of_n":
        if entry.k is not None:
            raise rule.error("only a k_of_n rule takes k", "k")
        return n_primary if entry.logic == "all" else 1
    if entry.k is None or entry.k != int(entry.k) or not 1 <= entry.k <= n_primary:
        raise rule.error(f"must be a whole number from 1 to {n_primary}", "k")
    return int(entry.k)


def _rule(rule: _Rule, catalogue: Catalogue, codes: set[str]) -> DisorderRule:
    entry = rule.entry
    if entry.code not in codes:
        raise rule.error(f"{entry.code!r} is not a disorder of the catalogue", "code")
    disorder = catalogue.disorder(entry.code)
    markers = [_marker(rule, i, m, catalogue) for i, m in enumerate(entry.marker)]
    if not markers:
        raise rule.error("has no markers", "marker")
    names = [m.name for m in markers]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise rule.error(f"marker {duplicated[0]} appears twice", "marker")
    primary = [m for m in markers if m.role == "primary"]
    if not primary:
        raise rule.error("needs at least one primary marker", "marker")
    k = _k(rule, len(primary))
    exclusions = _exclusions(rule, markers, codes, catalogue)
    if disorder.time_critical is not None and disorder.time_critical != entry.time_critical:
        raise rule.error(
            f"the catalogue says time_critical = {str(disorder.time_critical).lower()}",
            "time_critical")
    if not entry.citations:
        raise rule.error("must cite at least one source", "citations")
    return DisorderRule(
        code=entry.code, name=disorder.name, version=entry.version, logic=entry.logic, k=k,
        markers=tuple(markers), exclusions=exclusions, time_critical=entry.time_critical,
        action_on_positive=entry.action_on_positive,
        confirmatory_tests=entry.confirmatory_tests or disorder.confirmatory_tests,
        citations=tuple(entry.citations), file=rule.file.path, notes=entry.notes.strip(),
    )


def load_rules(
    source: Path | str = RULES_DIR, catalogue: Catalogue | None = None
) -> RuleSet:
    """Read and validate disorder rules from a TOML file or a directory of them (``*.toml``).

    Each file has a ``version`` string and ``[[rule]]`` tables; see docs/evaluation.md.

    Raises
    ------
    CutoffError
        Naming the file, line and key of the first problem; a disorder may have only one rule.
    """
    catalogue = catalogue or default_catalogue()
    path = Path(source)
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    if not files:
        raise CutoffError("holds no rule files (*.toml)", file=str(path))
    codes = {d.code for d in catalogue.disorders}
    rules: list[DisorderRule] = []
    seen: dict[str, str] = {}
    versions: list[str] = []
    digest = hashlib.sha256()
    for path_of_file in files:
        doc, file = load_toml(path_of_file, RulesFile, error=CutoffError)
        digest.update(path_of_file.name.encode() + b"\0" + file.text.encode("utf-8"))
        versions.append(doc.version)
        for i, raw in enumerate(doc.rule):
            rule = _rule(_Rule(file, i, raw, codes), catalogue, codes)
            if rule.code in seen:
                raise file.error(f"a second rule for {rule.code} (the first is in "
                                 f"{seen[rule.code]})", "rule", i, "code",
                                 field=f"rule[{rule.code}].code")
            seen[rule.code] = file.path
            rules.append(rule)
    if not rules:
        raise CutoffError("holds no rules", file=str(path))
    known = {r.code for r in rules}
    for rule in rules:
        for other in rule.shares_first_tier_with:
            if other not in known:
                raise CutoffError(
                    f"shares its first tier with {other}, which has no rule",
                    file=rule.file, field=f"rule[{rule.code}].exclusion",
                )
    order = {d.code: i for i, d in enumerate(catalogue.disorders)}
    rules.sort(key=lambda r: order[r.code])
    set_version = "+".join(dict.fromkeys(versions))
    return RuleSet(tuple(rules), set_version, digest.hexdigest()[:12], tuple(map(str, files)))


@cache
def default_rules() -> RuleSet:
    """The packaged rules (loaded once)."""
    return load_rules()
