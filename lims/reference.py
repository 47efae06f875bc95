"""The laboratory's own rule data: card barcode rule, unsatisfactory-specimen codes and
workflow intervals, loaded into typed objects and validated (a bad value names the file, line and
field).

The packaged files in ``lims/data/`` are the defaults; a laboratory names its own with
``NBS_BARCODE_RULE``, ``NBS_UNSATISFACTORY_CODES`` and ``NBS_WORKFLOW`` (``lims.settings``
loads and checks them at start-up with ``load_rules`` and makes them the active rules with
``use_rules``). ``barcode_rule()``, ``unsatisfactory_codes()`` and ``workflow_config()`` return
the active rules (the packaged ones until ``use_rules`` is called); given a path they load that
file instead.

The two TOML files are read through :mod:`msms.datafiles` (schemas ``BarcodeRuleFile`` and
``WorkflowFile``).

Public names: ``BARCODE_REFUSALS``, ``BarcodeRule``, ``UnsatisfactoryCode``, ``WorkflowConfig``,
``LabRules``, ``BarcodeRuleFile``, ``WorkflowFile``,
``load_rules``, ``use_rules``, ``active_rules``, ``barcode_rule``, ``unsatisfactory_codes``,
``workflow_config``, ``load_barcode_rule``, ``load_unsatisfactory_codes``,
``load_workflow_config``, ``luhn_check_digit``, ``DATA``, ``BARCODE_TOML``,
``UNSATISFACTORY_CSV``, ``WORKFLOW_TOML``.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field

from lims.errors import InvalidInputError
from lims.serial_screening import SerialScreening, SerialScreeningFile
from lims.vocabulary import Role
from msms.datafiles import Count, OneOf, Range, Schema, Text, load_toml, read_toml
from msms.phrases import Phrasebook

__all__ = [
    "BARCODE_REFUSALS",
    "BARCODE_TOML",
    "DATA",
    "UNSATISFACTORY_CSV",
    "WORKFLOW_TOML",
    "BarcodeRule",
    "BarcodeRuleFile",
    "LabRules",
    "UnsatisfactoryCode",
    "WorkflowConfig",
    "WorkflowFile",
    "active_rules",
    "barcode_rule",
    "load_barcode_rule",
    "load_rules",
    "load_unsatisfactory_codes",
    "load_workflow_config",
    "luhn_check_digit",
    "unsatisfactory_codes",
    "use_rules",
    "workflow_config",
]

DATA = Path(__file__).resolve().parent / "data"
BARCODE_TOML = DATA / "barcode.toml"
UNSATISFACTORY_CSV = DATA / "unsatisfactory_codes.csv"
WORKFLOW_TOML = DATA / "workflow.toml"
_CHECKS = ("luhn", "mod11", "none")
#: The longest unsatisfactory code a specimen can store (``Specimen.unsatisfactory_code``).
_MAX_CODE = 16
_CODE_COLUMNS = ("code", "description", "category", "source")


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


#: Why a card number is refused (English, read back as phrases by the pages).
BARCODE_REFUSALS = Phrasebook((
    ("format", "{value} does not match the card format {pattern} ({description})"),
    ("no_digits", "{value} has no digits to carry a check digit ({scheme})"),
    ("check_digit", "{value} has check digit {check}, expected {expected} ({scheme}); the "
                    "card number was probably mistyped"),
), fields={"value": r"'[^']*'", "check": r"\d", "expected": r"\d", "scheme": r"\w+"})


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
            raise InvalidInputError(BARCODE_REFUSALS.text(
                "format", value=repr(value), pattern=self.pattern,
                description=self.description), field=field)
        if self.check_digit != "none":
            digits = "".join(ch for ch in value if ch.isdigit())
            if len(digits) < 2:
                raise InvalidInputError(BARCODE_REFUSALS.text(
                    "no_digits", value=repr(value), scheme=self.check_digit), field=field)
            body, check = digits[:-1], int(digits[-1])
            expected = (luhn_check_digit(body) if self.check_digit == "luhn"
                        else _mod11_check_digit(body))
            if check != expected:
                raise InvalidInputError(BARCODE_REFUSALS.text(
                    "check_digit", value=repr(value), check=check, expected=expected,
                    scheme=self.check_digit), field=field)
        return value

    def make(self, body: str) -> str:
        """``body`` with its check digit appended (for simulated cards)."""
        if self.check_digit == "none":
            return body
        digits = "".join(ch for ch in body if ch.isdigit())  # as ``validate`` reads them
        check = (luhn_check_digit(digits) if self.check_digit == "luhn"
                 else _mod11_check_digit(digits))
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
    #: The unsatisfactory code given to a card that took longer than ``max_transit_days``.
    late_arrival_code: str = "U09"
    #: How far in the future a collection or receipt time may be (the clocks of the
    #: submitter's and the laboratory's computers differ a little).
    max_clock_skew_minutes: int = 5
    #: Further cards for small and preterm babies (None: the laboratory asks for none).
    serial_screening: SerialScreening | None = None

    def notify_roles(self, level: int) -> tuple[str, ...]:
        """The roles to notify when an alert reaches escalation ``level`` (1, 2, ...)."""
        steps = self.alert_escalation_notify
        return steps[min(max(level, 1), len(steps)) - 1]


@dataclass(frozen=True, slots=True)
class LabRules:
    """The rule data in force: barcode rule, unsatisfactory codes, workflow intervals."""

    barcode: BarcodeRule
    unsatisfactory_codes: dict[str, UnsatisfactoryCode]
    workflow: WorkflowConfig


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError("no such file", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot be read: {exc}", file=str(path)) from None


class BarcodeRuleFile(Schema):
    """The layout of a barcode rule file (``lims/data/barcode.toml``)."""

    version: Text
    description: str = ""
    pattern: Text
    check_digit: Annotated[str, OneOf(_CHECKS)]


class WorkflowFile(Schema):
    """The layout of a workflow file (``lims/data/workflow.toml``)."""

    version: Text
    alert_escalation_minutes: Annotated[int, Range(1, math.inf)]
    max_transit_days: Annotated[int, Range(1, math.inf)]
    alert_escalation_notify: Annotated[
        list[Annotated[list[str], Field(min_length=1)]], Field(min_length=1)
    ] = [["reviewer", "follow_up"]]
    late_arrival_code: Text = "U09"
    max_clock_skew_minutes: Count = 5
    serial_screening: SerialScreeningFile | None = None


@cache
def load_barcode_rule(path: Path = BARCODE_TOML) -> BarcodeRule:
    """The card barcode rule in ``path`` (TOML: version, description, pattern, check_digit)."""
    doc, file = load_toml(path, BarcodeRuleFile, error=InvalidInputError)
    try:
        re.compile(doc.pattern)
    except re.error as exc:
        raise file.error(f"bad regular expression: {exc}", "pattern") from None
    return BarcodeRule(doc.version, doc.description, doc.pattern, doc.check_digit)


@cache
def load_unsatisfactory_codes(path: Path = UNSATISFACTORY_CSV) -> dict[
        str, UnsatisfactoryCode]:
    """The unsatisfactory-specimen codes in ``path`` (CSV: code, description, category,
    source), by code."""
    rows = csv.DictReader(_text(path).splitlines())
    missing = [c for c in _CODE_COLUMNS if c not in (rows.fieldnames or [])]
    if missing:
        raise InvalidInputError(f"the header lacks {', '.join(missing)}; it needs "
                                f"{', '.join(_CODE_COLUMNS)}", field=missing[0],
                                file=str(path), line=1)
    codes: dict[str, UnsatisfactoryCode] = {}
    for line, row in enumerate(rows, start=2):
        values = {c: (row.get(c) or "").strip() for c in _CODE_COLUMNS}
        for field in _CODE_COLUMNS:
            if not values[field]:
                raise InvalidInputError("empty", field=field, file=str(path), line=line)
        code = values["code"]
        if len(code) > _MAX_CODE:
            raise InvalidInputError(f"{code!r} is longer than {_MAX_CODE} characters",
                                    field="code", file=str(path), line=line)
        if code in codes:
            raise InvalidInputError(f"duplicate code {code}", field="code", file=str(path),
                                    line=line)
        codes[code] = UnsatisfactoryCode(code, values["description"], values["category"],
                                         values["source"])
    if not codes:
        raise InvalidInputError("no codes", file=str(path), line=2)
    return codes


@cache
def load_workflow_config(path: Path = WORKFLOW_TOML) -> WorkflowConfig:
    """The workflow intervals in ``path`` (TOML)."""
    doc, file = load_toml(path, WorkflowFile, error=InvalidInputError)
    roles = tuple(Role)  # the roles a user can hold, without loading the database models
    unknown = sorted({r for step in doc.alert_escalation_notify for r in step} - set(roles))
    if unknown:
        raise file.error(f"unknown role {', '.join(unknown)}; roles are {', '.join(roles)}",
                         "alert_escalation_notify")
    return WorkflowConfig(
        version=doc.version,
        alert_escalation_minutes=doc.alert_escalation_minutes,
        max_transit_days=doc.max_transit_days,
        alert_escalation_notify=tuple(tuple(step) for step in doc.alert_escalation_notify),
        late_arrival_code=doc.late_arrival_code,
        max_clock_skew_minutes=doc.max_clock_skew_minutes,
        serial_screening=(SerialScreening.of(doc.serial_screening)
                          if doc.serial_screening is not None else None),
    )


def load_rules(barcode: Path = BARCODE_TOML, unsatisfactory: Path = UNSATISFACTORY_CSV,
               workflow: Path = WORKFLOW_TOML) -> LabRules:
    """Load and check the three files, and what one refers to in another (the workflow's
    ``late_arrival_code`` must be one of the unsatisfactory codes)."""
    rules = LabRules(load_barcode_rule(Path(barcode)),
                     load_unsatisfactory_codes(Path(unsatisfactory)),
                     load_workflow_config(Path(workflow)))
    if rules.workflow.late_arrival_code not in rules.unsatisfactory_codes:
        raise read_toml(workflow, error=InvalidInputError).error(
            f"{rules.workflow.late_arrival_code!r} is not one of the unsatisfactory codes in "
            f"{unsatisfactory}", "late_arrival_code")
    return rules


_active: LabRules | None = None


def use_rules(rules: LabRules | None) -> None:
    """Make ``rules`` the rules in force for this process (None: the packaged ones)."""
    global _active
    _active = rules


def active_rules() -> LabRules:
    """The rules in force (``use_rules``), else the packaged ones."""
    global _active
    if _active is None:
        _active = load_rules()
    return _active


def barcode_rule(path: Path | None = None) -> BarcodeRule:
    """The card barcode rule in force (or the one in ``path``)."""
    return active_rules().barcode if path is None else load_barcode_rule(Path(path))


def unsatisfactory_codes(path: Path | None = None) -> dict[str, UnsatisfactoryCode]:
    """The unsatisfactory-specimen codes in force (or those in ``path``), by code."""
    return (active_rules().unsatisfactory_codes if path is None
            else load_unsatisfactory_codes(Path(path)))


def workflow_config(path: Path | None = None) -> WorkflowConfig:
    """The workflow intervals in force (or those in ``path``)."""
    return active_rules().workflow if path is None else load_workflow_config(Path(path))
