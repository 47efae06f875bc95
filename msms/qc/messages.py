"""The messages of the plate-QC findings: every finding that quantitation and plate QC write
(``msms.quantify``, ``msms.qc.*``) is worded by a phrase of ``FINDINGS`` (a code and an
English template with named fields, ``msms.phrases``), so that whoever shows a stored
message in another language reads it back into its code and fields and words it again. The
stored text stays the English one (it is what the audit trail and the run record keep).

A run stores the reasons of its decision as ``<step>: <message>`` (``msms.qc.decision``).
:func:`word_reason` words such a text with a language's templates (``FindingWords``): the
step by its name, the message by its phrase, and the fields that are themselves lists of
phrases (``LISTS``: the values of a blank, the carryover estimates, the internal-standard
causes, ...) item by item. Analyte codes, wells, lots, sample ids and numbers are kept as
written. A text no phrase wrote is returned as written.

- ``FINDINGS``: one phrase per message (a finding code may have more than one: the two ways
  carryover is not estimated).
- ``ITEMS``: the items of the list fields, and ``LISTING`` (a list cut short: ``... and 3
  more``).
- ``STEPS``: the steps whose findings a run's reasons hold.

Public names: ``FINDINGS``, ``ITEMS``, ``LISTING``, ``LISTS``, ``STEPS``, ``VOCABULARIES``,
``FindingWords``, ``finding``, ``listing``, ``word_reason``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from msms.phrases import Phrase, Phrasebook, split_outside
from msms.qc.report import Finding
from msms.tables import SAMPLE_TYPES

__all__ = ["FINDINGS", "ITEMS", "LISTING", "LISTS", "STEPS", "VOCABULARIES", "FindingWords",
           "finding", "listing", "word_reason"]

_COUNT = r"\d+"
_PERCENT = r"[-+0-9.eE]+%"
_TOKEN = r"\S+"
_FIELDS = {
    "n": _COUNT, "n_blanks": _COUNT, "minimum": _COUNT, "more": _COUNT, "absent": _COUNT,
    "total": _COUNT, "n_wells": _COUNT, "n_missing": _COUNT, "n_checked": _COUNT,
    "fraction": _PERCENT, "limit_percent": _PERCENT, "percent": _PERCENT,
    "limit": r"[-+0-9.eE]+", "value": r"[-+0-9.eE]+|nan|inf|-inf",
    "well": _TOKEN, "analyte": _TOKEN, "sample_type": _TOKEN, "level": _TOKEN, "lot": _TOKEN,
    "rule": _TOKEN, "preceding": _TOKEN, "blank": _TOKEN,
    "expires": r"\d{4}-\d{2}-\d{2}", "causes": r".+ -> .+",
}

#: The fields whose values are words of a vocabulary (a well's sample type, a control's
#: level), worded by the language as such.
VOCABULARIES: Mapping[str, tuple[str, ...]] = {"sample_type": tuple(SAMPLE_TYPES),
                                               "level": ("low", "high", "other")}

#: The steps whose findings a run's reasons hold (``<step>: <message>``).
STEPS: tuple[str, ...] = ("validate", "intensities", "internal_standard", "concentrations",
                          "completeness", "profiles", "method_coverage", "blanks", "carryover",
                          "controls", "westgard")

FINDINGS = Phrasebook((
    # msms.quantify
    ("response_not_used", "{n} 'response' values are not used: the method needs intensities "
                          "with internal standards, or vendor concentrations"),
    ("analyte_not_in_method", "method {method} has no entry for {analytes}: their intensities "
                              "are not quantified"),
    ("vendor_differs_from_method", "vendor concentrations differ from the method's by a median "
                                   "of more than 5% for {differences}"),
    ("replicates_averaged", "specimen {specimen} is in wells {wells}: the profile holds the "
                            "mean of its reportable values"),
    ("card_columns_absent", "{source} lacks card column(s) {columns}: those covariates are "
                            "left empty"),
    ("no_card_data", "{n} specimen(s) have no card data (covariates left empty): {specimens}"),
    # msms.qc.completeness, msms.qc.internal_standard (a well not reportable: the first is
    # the more specific)
    ("well_incomplete", "well {well} ({sample_type} {sample_id}): not reportable: {analytes} "
                        "not measured"),
    ("is_not_reportable", "well {well} ({sample_type} {sample_id}): not reportable: {causes}"),
    ("is_plate_failure", "{analyte}: internal standard low or missing in {fraction} of wells "
                         "(limit {limit_percent})"),
    ("analyte_missing_in_wells", "{analyte} not measured in {n_missing} of {n_checked} patient "
                                 "and control wells ({fraction}, limit {limit_percent}): "
                                 "{wells}"),
    ("file_truncated", "the last well of the file, {well}, lacks {lacking}: the file looks cut "
                       "short; export it again"),
    ("analytes_not_measured", "{absent} of the {total} analytes of method {method} not measured "
                              "in all {n_wells} patient and control wells ({wells}): "
                              "{analytes}; the file is incomplete (cut short?) or was exported "
                              "for another method"),
    ("analytes_not_measured_no_wells", "{absent} of the {total} analytes of method {method} not "
                                       "measured in any well (the plate has no patient or "
                                       "control well): {analytes}; the file is incomplete (cut "
                                       "short?) or was exported for another method"),
    # msms.qc.blanks
    ("blank_missing", "{n_blanks} blank well(s) on the plate, at least {minimum} expected: "
                      "contamination and carryover are not checked"),
    ("blank_high", "blank {well}: {values} (limit {limit_percent} of p99)"),
    ("carryover_no_pair", "no blank follows a sample well in injection order: carryover not "
                          "estimated"),
    ("carryover_no_high_well", "no blank follows a well with values above the p99: carryover "
                               "not estimated"),
    ("carryover_high", "carryover above {limit}%: {estimates}"),
    # msms.qc.controls
    ("qc_other_not_evaluated", "wells {wells} hold other QC material; not evaluated"),
    ("lot_level_mismatch", "well {well} is {sample_type} but lot {lot} is a {level} control"),
    ("lot_unknown", "well {well} ({sample_type}, sample id {sample_id}): no such lot, and the "
                    "in-use {level} lots are {lots}"),
    ("lot_assumed", "well {well}: sample id {sample_id} names no lot; took the in-use {level} "
                    "lot {lot}"),
    ("lot_expired", "well {well}: lot {lot} expired on {expires}"),
    ("control_level_missing", "no usable {level} control on the plate"),
    ("control_value_missing", "no usable {level} control value for {analytes}"),
    ("westgard_lot", "{analyte} {rule} (lot {lot}): z = {z}"),
    ("westgard_across", "{analyte} {rule} (across materials): z = {z}"),
), fields=_FIELDS)

#: The items of the list fields (``LISTS``), and why an internal standard failed (``why``).
ITEMS = Phrasebook((
    ("blank_value", "{analyte} {value} umol/L ({percent} of p99)"),
    ("carryover_estimate", "{analyte} {percent} ({preceding} -> {blank})"),
    ("is_cause", "{standard}: {why} -> {analytes}"),
    ("is_of", "IS of {analyte}"),
    ("is_absent_on_plate", "no internal-standard signal for this analyte on the plate"),
    ("is_missing_in_well", "internal standard missing in this well"),
    ("is_low", "internal standard low ({fraction} of the plate median)"),
    ("internal_standard_of", "the internal standard of {analyte}"),
    ("difference", "{analyte} ({fraction})"),
    ("none", "none"),
), fields=_FIELDS)

#: A list cut short: its first items and how many more.
LISTING = Phrasebook((("more", "{items} and {more} more"),), fields=_FIELDS)

#: The fields that hold lists: the separator between their items (outside parentheses), and
#: the book of their items (None: codes, wells or names, kept as written).
LISTS: Mapping[str, tuple[str, Phrasebook | None]] = {
    "analytes": (",", None), "wells": (",", None), "columns": (",", None),
    "specimens": (",", None), "lots": (",", ITEMS), "values": (",", ITEMS),
    "estimates": (",", ITEMS), "causes": (";", ITEMS), "lacking": (",", ITEMS),
    "differences": (",", ITEMS),
}


def listing(items: list[str], limit: int) -> str:
    """``items`` joined with ``, ``; past ``limit`` the first ones and ``and N more``."""
    head = ", ".join(items[:limit])
    return LISTING.text("more", items=head, more=len(items) - limit) if len(items) > limit \
        else head


def finding(step: str, severity: str, phrase: str, *, code: str | None = None,
            well: str | None = None, analyte: str | None = None,
            detail: Mapping[str, Any] | None = None, **fields: object) -> Finding:
    """A finding whose message is phrase ``phrase`` of ``FINDINGS`` with ``fields`` (and
    ``well`` and ``analyte`` where the phrase names them); its code is ``code`` (default: the
    phrase's)."""
    named = FINDINGS[phrase].fields
    values = {**fields, **{name: value for name, value in (("well", well), ("analyte", analyte))
                           if name in named}}
    return Finding(step=step, severity=severity, code=code or phrase,
                   message=FINDINGS.text(phrase, **values), well=well, analyte=analyte,
                   detail=detail or {})


@dataclass(frozen=True)
class FindingWords:
    """A language's wording of the findings: ``template(phrase)`` is the phrase's template in
    the language (``{field}`` placeholders; None: keep the English), ``step(name)`` a step's
    name, ``value(field, value)`` a word of a field's vocabulary (``VOCABULARIES``),
    ``severity(name)`` an instrument reader's severity (``instruments.issues``);
    ``reason`` a stored reason's template (``{step}`` and ``{message}``),
    ``list_separator`` and ``clause_separator`` (what ``; `` becomes) as the language writes
    them."""

    template: Callable[[Phrase], str | None]
    step: Callable[[str], str]
    value: Callable[[str, str], str] = lambda _field, value: value
    severity: Callable[[str], str] = lambda severity: severity
    reason: str = "{step}: {message}"
    list_separator: str = ", "
    clause_separator: str = "; "

    def phrase(self, book: Phrasebook, text: str) -> str:
        """``text`` in this language if a phrase of ``book`` wrote it; else as written."""
        found = book.parse(text)
        if found is None:
            return text
        phrase, fields = found
        template = self.template(phrase)
        if template is None:
            return text
        return template.format(**{name: self.field(name, value)
                                  for name, value in fields.items()})

    def field(self, name: str, value: str) -> str:
        """A field: a list item by item (a list cut short with its count), why an internal
        standard failed as a phrase, anything else as written."""
        if name == "why" or name == "standard":
            return self.phrase(ITEMS, value)
        if value in VOCABULARIES.get(name, ()):
            return self.value(name, value)
        if name not in LISTS:
            return value
        separator, book = LISTS[name]
        cut = LISTING.parse(value) if separator == "," else None
        if cut is not None:
            template = self.template(cut[0])
            items = self.field(name, cut[1]["items"])
            return value if template is None else template.format(items=items,
                                                                  more=cut[1]["more"])
        joiner = self.list_separator if separator == "," else self.clause_separator
        return joiner.join(item if book is None else self.phrase(book, item)
                           for item in split_outside(value, separator))

    def message(self, text: str) -> str:
        """A finding's message in this language."""
        return self.phrase(FINDINGS, text)


def word_reason(text: str, words: FindingWords) -> str | None:
    """A run's stored reason (``<step>: <message>``) in this language; None when no phrase of
    the findings wrote it."""
    step, sep, message = text.strip().partition(": ")
    if not sep or step not in STEPS or FINDINGS.parse(message) is None:
        return None
    return words.reason.format(step=words.step(step), message=words.message(message))
