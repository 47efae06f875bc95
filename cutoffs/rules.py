"""Disorder rules: versioned, cited data (TOML) loaded into validated, frozen objects.

A rule says how the first tier calls one catalogue disorder (DESIGN §6.3): its markers (analytes
or ratios) with a direction, a role (primary or secondary) and borderline / positive / critical
levels; how the primary markers combine (``all``, ``any`` or ``k_of_n``); exclusions; whether the
disorder is time-critical; the recommended action and the confirmatory tests. The packaged rules
live in ``cutoffs/data/rules/*.toml`` (one file per disorder category); docs/evaluation.md
describes the format and the semantics.

Loading checks everything and raises :class:`~cutoffs.errors.CutoffError` naming the file and
the key (``rule[PKU].marker[1].levels``) of the first problem: unknown disorder, analyte or ratio,
levels not monotone in the marker's direction, unknown keys (typos), a time-critical flag that
contradicts the catalogue.

Public names: ``Levels``, ``MarkerRule``, ``Exclusion``, ``DisorderRule``, ``RuleSet``,
``load_rules``, ``default_rules``, ``RULES_DIR``, ``DIRECTIONS``, ``ROLES``, ``LOGICS``,
``EXCLUSION_KINDS``, ``resolve_marker``.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from cutoffs.errors import CutoffError
from msms.catalogue import Catalogue, default_catalogue
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

_RULE_KEYS = {
    "code", "version", "logic", "k", "time_critical", "action_on_positive",
    "confirmatory_tests", "citations", "marker", "exclusion", "notes",
}
_MARKER_KEYS = {"name", "direction", "role", "levels", "inclusive", "source"}
_EXCLUSION_KEYS = {
    "shares_first_tier": {"kind", "with", "note"},
    "flag": {"kind", "column", "equals", "effect", "note"},
    "marker": {"kind", "name", "direction", "beyond", "effect", "note"},
}
_EFFECTS = ("cap_borderline",)


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


class _Reader:
    """Typed access to one TOML table with errors naming the file and key."""

    def __init__(self, file: str, key: str, table: Mapping[str, Any], allowed: set[str]):
        self.file, self.key, self.table = file, key, table
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.error(f"unknown key(s) {', '.join(unknown)}", unknown[0])

    def error(self, message: str, key: str | None = None) -> CutoffError:
        where = f"{self.key}.{key}" if key else self.key
        return CutoffError(message, file=self.file, field=where)

    def text(self, key: str, *, required: bool = True, default: str = "") -> str:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.error("is missing", key)
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.error("must be a non-empty string", key)
        return value.strip()

    def choice(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value not in options:
            raise self.error(f"{value!r} is not one of {', '.join(options)}", key)
        return str(value)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.error("must be true or false", key)
        return value

    def number(self, key: str, *, required: bool = True) -> float | None:
        value = self.table.get(key)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error("must be a number", key)
        value = float(value)
        if not math.isfinite(value):
            raise self.error("must be finite", key)
        return value

    def tables(self, key: str) -> list[Mapping[str, Any]]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.error("must be an array of tables", key)
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.error("must be a list of non-empty strings", key)
        return tuple(v.strip() for v in value)


def _levels(reader: _Reader, direction: str, is_ratio: bool) -> Levels:
    raw = reader.table.get("levels")
    if not isinstance(raw, dict):
        raise reader.error("must be a table {borderline, positive, critical}", "levels")
    sub = _Reader(reader.file, f"{reader.key}.levels", raw, set(LEVEL_NAMES))
    values = {name: sub.number(name, required=False) for name in LEVEL_NAMES}
    present = [(n, v) for n, v in values.items() if v is not None]
    if not present:
        raise sub.error("needs at least one of borderline, positive, critical")
    for name, value in present:
        if value < 0:
            raise sub.error("must not be negative", name)
        if value == 0 and direction == "low":
            raise sub.error("a low level of 0 can never be passed", name)
    for (lower_name, lower), (upper_name, upper) in zip(present, present[1:], strict=False):
        ok = upper > lower if direction == "high" else upper < lower
        if not ok:
            relation = "above" if direction == "high" else "below"
            raise sub.error(
                f"{upper_name} {upper:g} must lie {relation} {lower_name} {lower:g} "
                f"for a {direction} marker",
                upper_name,
            )
    return Levels(**values)


def _marker(reader: _Reader, catalogue: Catalogue) -> MarkerRule:
    raw_name = reader.text("name")
    try:
        name, is_ratio = resolve_marker(raw_name, catalogue)
    except RatioError:
        raise reader.error(f"{raw_name!r} is neither a known analyte nor a ratio of known analytes",
                           "name") from None
    direction = reader.choice("direction", DIRECTIONS)
    return MarkerRule(
        name=name,
        is_ratio=is_ratio,
        direction=direction,
        role=reader.choice("role", ROLES),
        levels=_levels(reader, direction, is_ratio),
        inclusive=reader.boolean("inclusive", False),
        source=reader.text("source"),
    )


def _exclusion(reader: _Reader, catalogue: Catalogue, codes: set[str]) -> Exclusion:
    kind = reader.choice("kind", EXCLUSION_KINDS)
    reader = _Reader(reader.file, reader.key, reader.table, _EXCLUSION_KEYS[kind])
    note = reader.text("note")
    if kind == "shares_first_tier":
        with_codes = reader.strings("with")
        if not with_codes:
            raise reader.error("names no disorder", "with")
        unknown = [c for c in with_codes if c not in codes]
        if unknown:
            raise reader.error(f"unknown disorder code(s) {', '.join(unknown)}", "with")
        return Exclusion(kind, note, shares_with=with_codes)
    effect = reader.choice("effect", _EFFECTS, "cap_borderline")
    if kind == "flag":
        equals = reader.table.get("equals", 1)
        if isinstance(equals, bool) or not isinstance(equals, int | float | str):
            raise reader.error("must be a number or a string", "equals")
        return Exclusion(kind, note, column=reader.text("column"), equals=equals, effect=effect)
    raw_name = reader.text("name")
    try:
        name, is_ratio = resolve_marker(raw_name, catalogue)
    except RatioError:
        raise reader.error(f"{raw_name!r} is neither a known analyte nor a ratio", "name") from None
    return Exclusion(
        kind, note, marker=name, marker_is_ratio=is_ratio,
        direction=reader.choice("direction", DIRECTIONS), beyond=reader.number("beyond"),
        effect=effect,
    )


def _analytes_of(name: str, is_ratio: bool, catalogue: Catalogue) -> set[str]:
    if not is_ratio:
        return {name}
    ratio = parse_ratio(name, catalogue)
    return set(ratio.analytes)


def _rule(
    reader: _Reader, catalogue: Catalogue, codes: set[str], file: str
) -> DisorderRule:
    code = reader.text("code")
    if code not in codes:
        raise reader.error(f"{code!r} is not a disorder of the catalogue", "code")
    reader.key = f"rule[{code}]"
    disorder = catalogue.disorder(code)
    markers = []
    for i, table in enumerate(reader.tables("marker")):
        sub = _Reader(file, f"{reader.key}.marker[{i}]", table, _MARKER_KEYS)
        markers.append(_marker(sub, catalogue))
    if not markers:
        raise reader.error("has no markers", "marker")
    names = [m.name for m in markers]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise reader.error(f"marker {duplicated[0]} appears twice", "marker")
    primary = [m for m in markers if m.role == "primary"]
    if not primary:
        raise reader.error("needs at least one primary marker", "marker")
    logic = reader.choice("logic", LOGICS)
    if logic == "k_of_n":
        k_value = reader.number("k")
        assert k_value is not None
        if k_value != int(k_value) or not 1 <= k_value <= len(primary):
            raise reader.error(f"must be a whole number from 1 to {len(primary)}", "k")
        k = int(k_value)
    else:
        if "k" in reader.table:
            raise reader.error("only a k_of_n rule takes k", "k")
        k = len(primary) if logic == "all" else 1
    exclusions = []
    for i, table in enumerate(reader.tables("exclusion")):
        sub = _Reader(file, f"{reader.key}.exclusion[{i}]", table,
                      {"kind", "with", "note", "column", "equals", "effect", "name", "direction",
                       "beyond"})
        exclusion = _exclusion(sub, catalogue, codes)
        if exclusion.kind == "shares_first_tier" and code in exclusion.shares_with:
            raise sub.error("a rule cannot share its first tier with itself", "with")
        if exclusion.kind == "marker":
            used = set().union(*(_analytes_of(m.name, m.is_ratio, catalogue) for m in markers))
            own = _analytes_of(exclusion.marker, exclusion.marker_is_ratio, catalogue)
            if used & own:
                raise sub.error(
                    f"the exclusion marker {exclusion.marker} reads "
                    f"{', '.join(sorted(used & own))}, which the rule's markers read too",
                    "name",
                )
        exclusions.append(exclusion)
    time_critical = reader.boolean("time_critical")
    if disorder.time_critical is not None and disorder.time_critical != time_critical:
        raise reader.error(
            f"the catalogue says time_critical = {str(disorder.time_critical).lower()}",
            "time_critical",
        )
    citations = reader.strings("citations")
    if not citations:
        raise reader.error("must cite at least one source", "citations")
    version = reader.text("version")
    return DisorderRule(
        code=code,
        name=disorder.name,
        version=version,
        logic=logic,
        k=k,
        markers=tuple(markers),
        exclusions=tuple(exclusions),
        time_critical=time_critical,
        action_on_positive=reader.text("action_on_positive"),
        confirmatory_tests=reader.text(
            "confirmatory_tests", required=False, default=disorder.confirmatory_tests
        ),
        citations=citations,
        file=file,
        notes=reader.text("notes", required=False),
    )


def load_rules(
    source: Path | str = RULES_DIR, catalogue: Catalogue | None = None
) -> RuleSet:
    """Read and validate disorder rules from a TOML file or a directory of them (``*.toml``).

    Each file has a ``version`` string and ``[[rule]]`` tables; see docs/evaluation.md.

    Raises
    ------
    CutoffError
        Naming the file and key of the first problem; a disorder may have only one rule.
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
    for file in files:
        try:
            raw = file.read_bytes()
            document = tomllib.loads(raw.decode("utf-8"))
        except OSError as exc:
            raise CutoffError(f"cannot read: {exc.strerror}", file=str(file)) from None
        except UnicodeDecodeError as exc:
            raise CutoffError(f"not UTF-8 ({exc.reason})", file=str(file)) from None
        except tomllib.TOMLDecodeError as exc:
            raise CutoffError(f"not valid TOML: {exc}", file=str(file)) from None
        digest.update(file.name.encode() + b"\0" + raw)
        top = _Reader(str(file), "", document, {"version", "category", "description", "rule"})
        version = top.text("version")
        versions.append(version)
        for i, table in enumerate(top.tables("rule")):
            reader = _Reader(str(file), f"rule[{i}]", table, _RULE_KEYS)
            rule = _rule(reader, catalogue, codes, str(file))
            if rule.code in seen:
                raise CutoffError(
                    f"a second rule for {rule.code} (the first is in {seen[rule.code]})",
                    file=str(file), field=f"rule[{rule.code}].code",
                )
            seen[rule.code] = str(file)
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
