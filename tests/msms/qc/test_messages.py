"""The findings' messages are phrases: every finding quantitation and plate QC write is worded
by a phrase of ``msms.qc.messages.FINDINGS`` (checked in the source, not on a hand-picked few),
each phrase reads back as itself, and a real plate's reasons read back into their fields."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from pathlib import Path

import msms
from msms.phrases import Phrase, split_outside
from msms.qc.messages import FINDINGS, ITEMS, LISTING, LISTS, STEPS, FindingWords, word_reason
from msms.qc.rules import load_rules
from tests.msms.qc.builders import FINDING_STEPS, every_finding_reason, standard_wells
from tests.msms.qc.test_plate import CODES, qc

PACKAGE = Path(msms.__file__).parent
#: The wording that gives every phrase back in English, as written.
ENGLISH = FindingWords(template=lambda phrase: phrase.template, step=str)


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == name):
                out.append((path, node))
    return out


def _literals(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literals(node.body) | _literals(node.orelse)
    raise AssertionError(f"a finding's phrase is not a literal: {ast.unparse(node)}")


def test_every_finding_of_the_package_is_written_with_a_phrase() -> None:
    direct = [f"{path.name}:{node.lineno}" for path, node in _calls("Finding")
              if path.name != "messages.py"]
    assert direct == [], f"findings written without a phrase: {direct}"
    used: set[str] = set()
    for _path, node in _calls("finding"):
        used |= _literals(node.args[2])
    codes = {p.code for p in FINDINGS}
    assert used <= codes, sorted(used - codes)
    assert used == codes, f"phrases no finding writes: {sorted(codes - used)}"


def test_every_phrase_reads_back_as_itself_with_its_fields() -> None:
    assert {p.code for p in FINDINGS} == set(FINDING_STEPS)
    assert set(FINDING_STEPS.values()) <= set(STEPS)
    for reason, phrase in zip(every_finding_reason(), FINDINGS, strict=True):
        message = reason.split(": ", 1)[1]
        found = FINDINGS.parse(message)
        assert found is not None and found[0] == phrase, (phrase.code, found)
        assert word_reason(reason, ENGLISH) == reason


def _items(reason: str) -> set[str]:
    """The codes of the item phrases inside a reason's list fields."""
    found = FINDINGS.parse(reason.split(": ", 1)[1])
    assert found is not None, reason
    out = set()
    for name, value in found[1].items():
        separator, book = LISTS.get(name, (",", None))
        cut = LISTING.parse(value)
        for item in split_outside(cut[1]["items"] if cut else value, separator):
            hit = ITEMS.parse(item)
            if hit is not None:
                out.add(hit[0].code)
                out |= {ITEMS.parse(v)[0].code for k, v in hit[1].items()  # type: ignore[index]
                        if k in ("why", "standard") and ITEMS.parse(v)}
    return out


def test_the_samples_hold_every_item_phrase() -> None:
    items = set().union(*(_items(r) for r in every_finding_reason()))
    assert items == {p.code for p in ITEMS}


def test_a_real_plates_reasons_read_back_into_their_phrases() -> None:
    wells = standard_wells(8, analytes=CODES, low_shift_sd={"C8": -3.4})
    wells[0].conc = {**wells[0].conc, "Phe": 0.6 * 95.0}       # a contaminated blank
    wells[6].is_factor = {"C8": 0.1, "C10": 0.1}                # a low internal standard
    wells[5].no_is = ["C3"]                                     # and a missing one
    rules = dataclasses.replace(load_rules(), expired_lot_action="warning")
    result = qc(wells, run_date=dt.date(2028, 1, 5), rules=rules)
    reasons = [*result.decision.reasons, *result.decision.warnings]
    codes = set()
    for reason in reasons:
        assert word_reason(reason, ENGLISH) == reason, reason
        found = FINDINGS.parse(reason.split(": ", 1)[1])
        assert isinstance(found, tuple) and isinstance(found[0], Phrase)
        codes.add(found[0].code)
    assert {"blank_high", "westgard_lot", "is_not_reportable", "lot_expired"} <= codes, codes
