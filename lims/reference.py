"""The laboratory's own rule data (``lims/data/``): card barcode rule, unsatisfactory-specimen
codes and workflow intervals, loaded into typed objects. Bad rows name file, line and field.

Public names: ``BarcodeRule``, ``UnsatisfactoryCode``, ``WorkflowConfig``, ``barcode_rule``,
``unsatisfactory_codes``, ``workflow_config``, ``luhn_check_digit``, ``DATA``.
"""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from lims.errors import InvalidInputError
from lims.models import ROLES

__all__ = [
    "DATA",
    "BarcodeRule",
    "UnsatisfactoryCode",
    "WorkflowConfig",
    "barcode_rule",
    "luhn_check_digit",
    "unsatisfactory_codes",
    "workflow_config",
]

DATA = Path(str(resources.files("lims") / "data"))
_CHECKS = ("luhn", "mod11", "none")


def luhn_check_digit(digits: str) -> int:
    """The Luhn (mod 10) check digit to append to ``digits``."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def _mod11_check_digit(digits: str) -> int:
    total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(digits)))
    return (11 - total % 11) % 11 % 10


@dataclass(frozen=True, slots=True)
class BarcodeRule:
    """A card barcode format (regular expression) and check-digit scheme."""

    version: str
    description: str
    pattern: str
    check_digit: str

    def validate(self, barcode: str, *, field: str = "barcode") -> str:
        """The trimmed barcode, or InvalidInputError saying what is wrong with it."""
        value = barcode.strip()
        if not re.fullmatch(self.pattern, value):
            raise InvalidInputError(
                f"{value!r} does not match the card format {self.pattern} ({self.description})",
                field=field)
        if self.check_digit != "none":
            digits = "".join(ch for ch in value if ch.isdigit())
            body, check = digits[:-1], int(digits[-1])
            expected = (luhn_check_digit(body) if self.check_digit == "luhn"
                        else _mod11_check_digit(body))
            if check != expected:
                raise InvalidInputError(
                    f"{value!r} has check digit {check}, expected {expected} "
                    f"({self.check_digit}); the card number was probably mistyped", field=field)
        return value

    def make(self, body: str) -> str:
        """``body`` with its check digit appended (for simulated cards)."""
        if self.check_digit == "none":
            return body
        check = luhn_check_digit(body) if self.check_digit == "luhn" else _mod11_check_digit(body)
        return f"{body}{check}"


@dataclass(frozen=True, slots=True)
class UnsatisfactoryCode:
    """One reason a card cannot be tested (CLSI NBS01-style)."""

    code: str
    description: str
    category: str
    source: str


@dataclass(frozen=True, slots=True)
class WorkflowConfig:
    """Operational intervals (``workflow.toml``)."""

    version: str
    alert_escalation_minutes: int
    max_transit_days: int
    #: Roles to notify at escalation level 1, 2, ...; levels beyond use the last entry.
    alert_escalation_notify: tuple[tuple[str, ...], ...] = (("reviewer", "follow_up"),)

    def notify_roles(self, level: int) -> tuple[str, ...]:
        """The roles to notify when an alert reaches escalation ``level`` (1, 2, ...)."""
        steps = self.alert_escalation_notify
        return steps[min(max(level, 1), len(steps)) - 1]


def _toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(str(exc), file=str(path)) from None


def _require(data: dict[str, object], key: str, kind: type, path: Path) -> object:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InvalidInputError(f"missing or not a {kind.__name__}", field=key, file=str(path))
    return value


@cache
def barcode_rule(path: Path = DATA / "barcode.toml") -> BarcodeRule:
    """The card barcode rule from ``path``."""
    data = _toml(path)
    rule = BarcodeRule(
        version=str(_require(data, "version", str, path)),
        description=str(data.get("description", "")),
        pattern=str(_require(data, "pattern", str, path)),
        check_digit=str(_require(data, "check_digit", str, path)),
    )
    if rule.check_digit not in _CHECKS:
        raise InvalidInputError(f"one of {', '.join(_CHECKS)}", field="check_digit", file=str(path))
    try:
        re.compile(rule.pattern)
    except re.error as exc:
        raise InvalidInputError(f"bad regular expression: {exc}", field="pattern",
                                file=str(path)) from None
    return rule


@cache
def unsatisfactory_codes(path: Path = DATA / "unsatisfactory_codes.csv") -> dict[
        str, UnsatisfactoryCode]:
    """The unsatisfactory-specimen codes by code."""
    codes: dict[str, UnsatisfactoryCode] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for line, row in enumerate(reader, start=2):
            for field in ("code", "description", "category", "source"):
                if not (row.get(field) or "").strip():
                    raise InvalidInputError("empty", field=field, file=str(path), line=line)
            if row["code"] in codes:
                raise InvalidInputError(f"duplicate code {row['code']}", field="code",
                                        file=str(path), line=line)
            codes[row["code"]] = UnsatisfactoryCode(
                row["code"], row["description"], row["category"], row["source"])
    return codes


def _notify_roles(data: dict[str, object], path: Path) -> tuple[tuple[str, ...], ...]:
    field = "alert_escalation_notify"
    steps = data.get(field, [["reviewer", "follow_up"]])
    if not isinstance(steps, list) or not steps or not all(
            isinstance(step, list) and step and all(isinstance(r, str) for r in step)
            for step in steps):
        raise InvalidInputError("a list of role lists, one per escalation level, e.g. "
                                '[["reviewer", "follow_up"], ["admin"]]', field=field,
                                file=str(path))
    unknown = sorted({r for step in steps for r in step} - set(ROLES))
    if unknown:
        raise InvalidInputError(f"unknown role {', '.join(unknown)}; roles are "
                                f"{', '.join(ROLES)}", field=field, file=str(path))
    return tuple(tuple(step) for step in steps)


@cache
def workflow_config(path: Path = DATA / "workflow.toml") -> WorkflowConfig:
    """The workflow intervals from ``path``."""
    data = _toml(path)
    config = WorkflowConfig(
        version=str(_require(data, "version", str, path)),
        alert_escalation_minutes=int(_require(data, "alert_escalation_minutes", int, path)),  # type: ignore[call-overload]
        max_transit_days=int(_require(data, "max_transit_days", int, path)),  # type: ignore[call-overload]
        alert_escalation_notify=_notify_roles(data, path),
    )
    if config.alert_escalation_minutes <= 0:
        raise InvalidInputError("must be positive", field="alert_escalation_minutes",
                                file=str(path))
    return config
