"""Plate-QC rules as data: internal-standard, completeness, blank, carryover and control limits
and the action each Westgard rule triggers (``msms/data/qc/plate_rules.toml``).

Public names: ``QCRules``, ``load_rules``, ``default_rules``, ``RULES_TOML``, ``WESTGARD_RULES``,
``ACTIONS``, ``INJECTION_ORDERS``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from msms.errors import DataError
from msms.methods import TomlSource, read_toml

__all__ = [
    "ACTIONS",
    "INJECTION_ORDERS",
    "RULES_TOML",
    "WESTGARD_RULES",
    "QCRules",
    "default_rules",
    "load_rules",
]

RULES_TOML = Path(str(resources.files("msms") / "data" / "qc" / "plate_rules.toml"))
WESTGARD_RULES: tuple[str, ...] = ("1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x")
#: What a rule violation does: nothing (``off``), a warning, or rejection of the plate.
ACTIONS: tuple[str, ...] = ("off", "warning", "reject")
INJECTION_ORDERS: tuple[str, ...] = ("row", "column")


@dataclass(frozen=True)
class QCRules:
    """Validated plate-QC limits (see the TOML file for what each means)."""

    name: str
    version: str
    verified: bool
    notice: str
    is_low_fraction_of_plate_median: float
    is_max_fraction_of_wells_not_reportable: float
    completeness_max_fraction_of_wells_incomplete: float
    blank_min_count: int
    blank_warn_fraction_of_p99: float
    blank_reject_fraction_of_p99: float
    injection_order: str
    carryover_min_preceding_multiple_of_p99: float
    carryover_warn_percent: float
    carryover_reject_percent: float
    required_levels: tuple[str, ...]
    control_levels: Mapping[str, str]
    westgard_history_runs: int
    westgard_actions: Mapping[str, str]
    source_file: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}" + ("" if self.verified else " (unverified)")


class _Reader:
    def __init__(self, src: TomlSource, doc: Mapping[str, Any]) -> None:
        self.src = src
        self.doc = doc

    def table(self, name: str) -> Mapping[str, Any]:
        value = self.doc.get(name)
        if not isinstance(value, dict):
            raise DataError(f"has no [{name}] table", file=self.src.path, field=name)
        return value

    def number(self, table: str, key: str, *, low: float = 0.0, high: float = math.inf,
               integer: bool = False) -> float:
        data = self.table(table)
        if key not in data:
            raise self.src.error(f"missing {key!r}", table)
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                integer and not isinstance(value, int)):
            kind = "an integer" if integer else "a number"
            raise self.src.error(f"{key} must be {kind}, got {value!r}", table, key)
        if not (math.isfinite(value) and low <= value <= high):
            raise self.src.error(f"{key} must lie in [{low:g}, {high:g}], got {value!r}",
                                 table, key)
        return value

    def text(self, table: str, key: str, *, choices: tuple[str, ...] | None = None,
             required: bool = True) -> str:
        data = self.table(table)
        value = data.get(key, None if required else "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.src.error(f"{key} must be a non-empty string, got {value!r}", table, key)
        if choices is not None and value not in choices:
            raise self.src.error(f"{key} must be one of {', '.join(choices)}, got {value!r}",
                                 table, key)
        return value

    def flag(self, table: str, key: str) -> bool:
        value = self.table(table).get(key, False)
        if not isinstance(value, bool):
            raise self.src.error(f"{key} must be true or false, got {value!r}", table, key)
        return value


def _parse(src: TomlSource, doc: Mapping[str, Any]) -> QCRules:
    r = _Reader(src, doc)
    blank_warn = r.number("blanks", "warn_fraction_of_p99")
    blank_reject = r.number("blanks", "reject_fraction_of_p99", low=blank_warn)
    carry_warn = r.number("carryover", "warn_percent", high=100)
    carry_reject = r.number("carryover", "reject_percent", low=carry_warn, high=100)

    controls = r.table("controls")
    levels_raw = controls.get("levels")
    if not isinstance(levels_raw, dict) or not levels_raw or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in levels_raw.items()):
        raise src.error("levels must map sample types to level names", "controls", "levels")
    required = controls.get("required_levels", [])
    if not isinstance(required, list) or not all(isinstance(x, str) for x in required):
        raise src.error("required_levels must be a list of level names", "controls",
                        "required_levels")
    unknown = [x for x in required if x not in levels_raw.values()]
    if unknown:
        raise src.error(f"required level {unknown[0]!r} is not a value of levels", "controls",
                        "required_levels")

    westgard = r.table("westgard")
    actions_raw = westgard.get("actions")
    if not isinstance(actions_raw, dict):
        raise DataError("has no [westgard.actions] table", file=src.path,
                        field="westgard.actions")
    for rule, action in actions_raw.items():
        if rule not in WESTGARD_RULES:
            raise src.error(f"unknown Westgard rule {rule!r} (known: {', '.join(WESTGARD_RULES)})",
                            "westgard.actions", f'"{rule}"')
        if action not in ACTIONS:
            raise src.error(f"action must be one of {', '.join(ACTIONS)}, got {action!r}",
                            "westgard.actions", f'"{rule}"')
    actions = {rule: actions_raw.get(rule, "off") for rule in WESTGARD_RULES}

    return QCRules(
        name=r.text("rules", "name"),
        version=r.text("rules", "version"),
        verified=r.flag("rules", "verified"),
        notice=r.text("rules", "notice", required=False),
        is_low_fraction_of_plate_median=r.number(
            "internal_standard", "low_fraction_of_plate_median", high=1.0),
        is_max_fraction_of_wells_not_reportable=r.number(
            "internal_standard", "max_fraction_of_wells_not_reportable", high=1.0),
        completeness_max_fraction_of_wells_incomplete=r.number(
            "completeness", "max_fraction_of_wells_incomplete", high=1.0),
        blank_min_count=int(r.number("blanks", "min_count", integer=True)),
        blank_warn_fraction_of_p99=blank_warn,
        blank_reject_fraction_of_p99=blank_reject,
        injection_order=r.text("carryover", "injection_order", choices=INJECTION_ORDERS),
        carryover_min_preceding_multiple_of_p99=r.number(
            "carryover", "min_preceding_multiple_of_p99"),
        carryover_warn_percent=carry_warn,
        carryover_reject_percent=carry_reject,
        required_levels=tuple(required),
        control_levels=MappingProxyType(dict(levels_raw)),
        westgard_history_runs=int(r.number("westgard", "history_runs", low=0, integer=True)),
        westgard_actions=MappingProxyType(actions),
        source_file=src.path,
    )


def load_rules(path: str | Path = RULES_TOML) -> QCRules:
    """Read and validate plate-QC rules; a problem raises DataError naming file, line and key."""
    src, doc = read_toml(Path(path))
    return _parse(src, doc)


@cache
def default_rules() -> QCRules:
    """The packaged plate-QC rules (loaded once)."""
    return load_rules()
